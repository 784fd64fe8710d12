"""Reads: analyses for the pages, installed detector models for analyses and the CLI.

Reads of analyses are always limited to the user's own analyses. Staff see everyone's
analyses in the admin only; these selectors never widen the owner filter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db.models import F, Max, Q, QuerySet
from django.db.models.fields.json import KT
from django.shortcuts import get_object_or_404

from detector.ground_truth import TRUTH_LABELS
from detector.models import Analysis, DetectorModel, Review
from detector.uploads import upload_sha256
from ml.models.cards import ModelSpec
from ml.models.catalog import CatalogEntry
from ml.verdict.policy_card import PolicyCard

# The sort keys the history accepts, mapped to their ordering.
SORTS = {
    "newest": ("-created",),
    "oldest": ("created",),
    "name": ("original_filename", "-created"),
    "probability": (F("fake_probability").desc(nulls_last=True), "-created"),
    "status": ("status", "-created"),
    "generated": (F("generated_score").desc(nulls_last=True), "-created"),
}
DEFAULT_SORT = "newest"

# The provenance filter of the history, the API and the admin: value → (label, condition on the
# stored Report's `provenance` block, docs/report.md "Provenance"). Reports made before the
# block existed have none and match no value.
C2PA_PRESENT = ("valid", "trusted", "invalid", "unverifiable")
PROVENANCE_FILTERS = {
    "credentials": (
        "Has Content Credentials",
        Q(result__provenance__c2pa__state__in=C2PA_PRESENT),
    ),
    "ai-declared": (
        "AI generation declared",
        Q(result__provenance__ai_generation__in=("declared", "declared-composite")),
    ),
    "invalid": ("Content Credentials invalid", Q(result__provenance__c2pa__state="invalid")),
}

# The whole-image (AI generation) filter of the history and the API: value → (label, condition).
# "detected": a whole-image detector found the image generated (the evidence the verdict read,
# docs/verdict.md section 11); "scored": any whole-image detector ran.
GENERATED_FILTERS = {
    "detected": (
        "Looks AI-generated",
        Q(
            generated_score__isnull=False,
            result__evidence__contains=[{"code": "generated.detected"}],
        ),
    ),
    "not-detected": (
        "Scored, not found AI-generated",
        Q(generated_score__isnull=False)
        & ~Q(result__evidence__contains=[{"code": "generated.detected"}]),
    ),
}


def analysis_list_for(*, user: AbstractBaseUser, filters: dict[str, Any] | None = None) -> QuerySet:
    """The user's analyses, filtered and sorted. Unknown or empty filters are ignored.

    filters: q (filename contains), status, verdict, media_type, date_from, date_to
    (dates, inclusive), provenance (one of PROVENANCE_FILTERS), generated (one of
    GENERATED_FILTERS), generated_min (P(generated) at least, 0..1) and sort (one of SORTS).
    Each analysis carries `provenance_state` and `provenance_ai` (its badge in the history).
    """
    filters = filters or {}
    analyses = analysis_provenance_filter(
        Analysis.objects.filter(owner=user), filters.get("provenance")
    ).annotate(
        provenance_state=KT("result__provenance__c2pa__state"),
        provenance_ai=KT("result__provenance__ai_generation"),
    )
    if filters.get("q"):
        analyses = analyses.filter(original_filename__icontains=filters["q"])
    for field in ("status", "verdict", "media_type"):
        if filters.get(field):
            analyses = analyses.filter(**{field: filters[field]})
    if filters.get("date_from"):
        analyses = analyses.filter(created__date__gte=filters["date_from"])
    if filters.get("date_to"):
        analyses = analyses.filter(created__date__lte=filters["date_to"])
    analyses = analysis_generated_filter(analyses, filters.get("generated"))
    if filters.get("generated_min") is not None:
        analyses = analyses.filter(generated_score__gte=filters["generated_min"])
    return analyses.order_by(*SORTS.get(filters.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT]))


def analysis_provenance_filter(queryset: QuerySet, value: str | None) -> QuerySet:
    """`queryset` narrowed to one of PROVENANCE_FILTERS; unknown or empty values leave it."""
    if value not in PROVENANCE_FILTERS:
        return queryset
    return queryset.filter(PROVENANCE_FILTERS[value][1])


def analysis_generated_filter(queryset: QuerySet, value: str | None) -> QuerySet:
    """`queryset` narrowed to one of GENERATED_FILTERS; unknown or empty values leave it."""
    if value not in GENERATED_FILTERS:
        return queryset
    return queryset.filter(GENERATED_FILTERS[value][1])


def analysis_find_duplicate(*, owner: AbstractBaseUser, sha256: str) -> Analysis | None:
    """The owner's latest analysis of the same content, preferring a finished one."""
    # Only one whose file is still kept: otherwise the new upload is stored again.
    earlier = Analysis.objects.filter(owner=owner, sha256=sha256, media_removed_at=None)
    return earlier.filter(status=Analysis.Status.DONE).first() or earlier.first()


def analysis_find_upload_duplicate(
    *, owner: AbstractBaseUser, uploaded_file: UploadedFile
) -> Analysis | None:
    """The owner's earlier analysis of the content just uploaded (as `analysis_find_duplicate`),
    so that every way of uploading can offer it instead of storing and analysing it again."""
    return analysis_find_duplicate(owner=owner, sha256=upload_sha256(uploaded_file))


def analysis_file_review(*, analysis: Analysis) -> Analysis | None:
    """The analysis whose review speaks for this file: its own, when a reviewer decided on it;
    else the latest confirmed decision on another of the owner's analyses of the same content (a
    re-analysis carries the review forward). Never another owner's: reviews stay private."""
    if analysis.review_label:
        return analysis
    if hasattr(analysis, FILE_REVIEW):
        return getattr(analysis, FILE_REVIEW)
    return (
        Analysis.objects.filter(
            owner_id=analysis.owner_id, sha256=analysis.sha256, review_label__in=TRUTH_LABELS
        )
        .exclude(pk=analysis.pk)
        .order_by("-created")
        .first()
    )


# Attributes a page's analyses carry once `analyses_prefetch_reviews` looked their reviews up.
FILE_REVIEW = "_file_review"
LATEST_REVIEW = "_latest_review"


def analyses_prefetch_reviews(analyses: Sequence[Analysis]) -> None:
    """Look up, in two queries for a whole page, what `analysis_file_review` and
    `review_latest_time` give each analysis, instead of one or two queries a row."""
    unreviewed = [a for a in analyses if not a.review_label]
    by_file: dict[tuple, Analysis] = {}
    if unreviewed:
        others = Analysis.objects.filter(
            owner_id__in={a.owner_id for a in unreviewed},
            sha256__in={a.sha256 for a in unreviewed},
            review_label__in=TRUTH_LABELS,
        ).order_by("created")
        by_file = {(o.owner_id, o.sha256): o for o in others}  # the latest wins
    for analysis in unreviewed:
        setattr(analysis, FILE_REVIEW, by_file.get((analysis.owner_id, analysis.sha256)))
    sources = [a for a in analyses if a.review_label] + list(by_file.values())
    latest = dict(
        Review.objects.filter(analysis__in=sources)
        .values("analysis")
        .annotate(last=Max("created"))
        .values_list("analysis", "last")
    )
    for source in sources:
        setattr(source, LATEST_REVIEW, latest.get(source.pk))


def review_latest_time(*, analysis: Analysis) -> datetime | None:
    """When a reviewer last decided on this analysis; None if never."""
    if hasattr(analysis, LATEST_REVIEW):
        return getattr(analysis, LATEST_REVIEW)
    latest = analysis.reviews.order_by("-created").first()
    return latest.created if latest else None


# Flagged analyses nobody has decided on yet, or marked for more review: the reviewers' queue.
REVIEW_OPEN_LABELS = ("", Analysis.ReviewLabel.NEEDS_MORE_REVIEW)


def analysis_review_queue() -> QuerySet:
    """Every owner's analyses waiting for a reviewer (admin only: never shown to owners)."""
    return Analysis.objects.filter(flagged=True, review_label__in=REVIEW_OPEN_LABELS)


def analysis_get_for(*, user: AbstractBaseUser, pk) -> Analysis:
    """The user's own analysis; Http404 for anyone else's, so others' ids reveal nothing."""
    return get_object_or_404(Analysis, pk=pk, owner=user)


def analysis_manifest(analysis: Analysis) -> dict | None:
    """The raw Content Credentials manifest store kept in the analysis' Report, if any (absent
    credentials, a store over the size bound, or a result made before it was kept: None)."""
    provenance = (analysis.result or {}).get("provenance") or {}
    return (provenance.get("c2pa") or {}).get("manifest")


def analysis_pick_for(*, user: AbstractBaseUser, pks: list) -> QuerySet:
    """The user's analyses among the given ids (for bulk actions); others' ids drop out."""
    return Analysis.objects.filter(owner=user, pk__in=pks)


# Installed detector models ----------------------------------------------------------------


def model_spec(model: DetectorModel) -> ModelSpec:
    return ModelSpec(
        name=model.name,
        version=model.version,
        sha256=model.sha256,
        path=model.file_path,
        card=model.card,
        weight=model.ensemble_weight,
    )


def model_options(models: list[DetectorModel] | None = None) -> dict[str, list[dict]]:
    """The "models", "temporal_models" and "image_models" options of ml.analyze: the given models sorted by
    kind, or else the active ones. The worker and the analyze command both use this, so the
    command line scores with exactly what the platform would."""
    if models is None:
        models = list(DetectorModel.objects.filter(active=True))
    by_kind = {
        "models": DetectorModel.Kind.FRAME,
        "temporal_models": DetectorModel.Kind.TEMPORAL,
        "image_models": DetectorModel.Kind.IMAGE,
    }
    return {
        option: [asdict(model_spec(m)) for m in models if m.kind == kind]
        for option, kind in by_kind.items()
    }


# The key of `Analysis.options` naming the models one run chose (by sha256): a re-analysis with
# one of the active models instead of all of them.
CHOSEN_MODELS = "model_sha256s"


def models_chosen(options: dict[str, Any] | None) -> list[DetectorModel] | None:
    """The still-active models a run chose; None (every active model) when it chose none, or
    when none of its choice is active any more."""
    shas = (options or {}).get(CHOSEN_MODELS) or []
    chosen = list(DetectorModel.objects.filter(active=True, sha256__in=shas)) if shas else []
    return chosen or None


def models_active() -> QuerySet:
    return DetectorModel.objects.filter(active=True).order_by("kind", "name", "-created")


def model_dir(model: DetectorModel) -> Path:
    return Path(model.file_path).parent


def published_model_state(entry: CatalogEntry) -> str:
    """ "active", "installed" or "not installed" (an ensemble counts when all its files are)."""
    names = [f.model_name for f in entry.files]
    rows = DetectorModel.objects.filter(name__in=names, version=entry.version)
    if rows.count() < len(names):
        return "not installed"
    return "active" if all(m.active for m in rows) else "installed"


def frame_model_installed() -> bool:
    return DetectorModel.objects.filter(kind=DetectorModel.Kind.FRAME).exists()


# --- policy cards: MODELS_ROOT/policies/policy-N.json, one file per version, never rewritten --

POLICY_NAME = re.compile(r"^policy-(\d+)\.json$")


def policy_dir() -> Path:
    return Path(settings.MODELS_ROOT) / "policies"


def policy_card_versions() -> list[int]:
    folder = policy_dir()
    if not folder.is_dir():
        return []
    found = (POLICY_NAME.match(p.name) for p in folder.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


def policy_card_read(version: str) -> dict[str, Any] | None:
    if not str(version).isdigit():
        return None
    path = policy_dir() / f"policy-{int(version)}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def policy_card_active() -> PolicyCard | None:
    """The newest policy card (the job passes it to `ml.analyze(policy=...)`), or None: the
    default policy judges."""
    versions = policy_card_versions()
    if not versions:
        return None
    return PolicyCard.from_dict(policy_card_read(str(versions[-1])))


def policy_card_visible(*, user: AbstractBaseUser, version: int) -> bool:
    """Staff see every card; owners the cards their results were judged under."""
    judged = Analysis.objects.filter(owner=user, result__policy_version=str(version))
    return user.is_staff or judged.exists()
