"""The public shape of an analysis, built in one place.

The API (`detector.api.serializers`), the result callbacks (`services.webhooks`) and the JSON the
detail page polls (`views.analysis_status`) all take their values from `analysis_public_dict`,
so one analysis reads the same wherever it is shown. Each consumer picks the fields it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse as django_reverse
from rest_framework import serializers
from rest_framework.reverse import reverse

from detector import selectors
from detector.ground_truth import review_contradicts, review_truth
from detector.models import Analysis, DetectorModel

# The API's list representation, in its order; the detail adds "result".
PUBLIC_FIELDS = (
    "id",
    "url",
    "original_filename",
    "media_type",
    "mime_type",
    "sha256",
    "size_bytes",
    "status",
    "progress",
    "stage",
    "error",
    "created",
    "started",
    "finished",
    "media_removed_at",
    "verdict",
    "fake_probability",
    "generated_score",
    "answer",
    "review",
    "review_label",
    "flagged",
    "reported_by_owner",
    "callback_url",
    "options",
    "previous",
    "models",
    "code_version",
)
DETAIL_FIELDS = (*PUBLIC_FIELDS, "result")

# Times are written as the API has always written them (ISO 8601 in the current time zone).
_DATETIME = serializers.DateTimeField()


def _text(name: str) -> Callable[[Analysis], str]:
    return lambda analysis: str(getattr(analysis, name))


def _time(name: str) -> Callable[[Analysis], str | None]:
    return lambda analysis: _DATETIME.to_representation(getattr(analysis, name))


def _probability(analysis: Analysis, name: str = "fake_probability") -> float | None:
    value = getattr(analysis, name)
    return None if value is None else float(value)


def _previous(analysis: Analysis) -> str | None:
    return None if analysis.previous_id is None else str(analysis.previous_id)


# The fields that need nothing but the row.
_FROM_ROW: dict[str, Callable[[Analysis], Any]] = {
    "id": lambda analysis: str(analysis.pk),
    **{
        name: _text(name)
        for name in (
            "original_filename",
            "media_type",
            "mime_type",
            "sha256",
            "status",
            "stage",
            "verdict",
            "review_label",
            "callback_url",
            "code_version",
        )
    },
    "error": lambda analysis: str(analysis.error_message),
    "size_bytes": lambda analysis: int(analysis.size_bytes),
    "progress": lambda analysis: int(analysis.progress),
    **{name: _time(name) for name in ("created", "started", "finished", "media_removed_at")},
    "fake_probability": _probability,
    "generated_score": lambda analysis: _probability(analysis, "generated_score"),
    "flagged": lambda analysis: bool(analysis.flagged),
    "reported_by_owner": lambda analysis: bool(analysis.reported_by_owner),
    "options": lambda analysis: analysis.options,
    "previous": _previous,
    "result": lambda analysis: analysis.result,
}


def analysis_public_dict(
    *,
    analysis: Analysis,
    request: HttpRequest | None = None,
    fields: Iterable[str] = PUBLIC_FIELDS,
    url_format: str | None = None,
) -> dict[str, Any]:
    """An analysis as the outside world sees it (JSON-ready), limited to `fields`.

    With a request, links are absolute; `url_format` is the format suffix the request used
    (".json"), which the analysis' own link keeps, as the API's links always have.
    """
    values = {}
    review = _Lazy(lambda: analysis_review_dict(analysis=analysis))
    for name in fields:
        if name == "review":
            values[name] = review.value
        elif name == "answer":
            values[name] = _answer(analysis, review.value)
        elif name == "url":
            values[name] = analysis_url(analysis=analysis, request=request, url_format=url_format)
        elif name == "models":
            values[name] = [
                model_ref_dict(model=m, request=request) for m in analysis.detector_models.all()
            ]
        else:
            values[name] = _FROM_ROW[name](analysis)
    return values


class _Lazy:
    """A value computed on first use, so fields sharing a query run it once."""

    def __init__(self, compute: Callable[[], Any]):
        self._compute = compute

    @property
    def value(self) -> Any:
        if self._compute is not None:
            self._value, self._compute = self._compute(), None
        return self._value


def _answer(analysis: Analysis, review: dict[str, Any] | None) -> str:
    return (review or {}).get("truth") or str(analysis.verdict)


def analysis_review_dict(*, analysis: Analysis) -> dict[str, Any] | None:
    """The reviewer's decision that speaks for this file (`selectors.analysis_file_review`):
    on this analysis, or carried forward from another of the owner's analyses of the same
    content; None when nobody reviewed the file."""
    source = selectors.analysis_file_review(analysis=analysis)
    if source is None:
        return None
    label = str(source.review_label)
    return {
        "label": label,
        "truth": review_truth(label),
        "contradicts_verdict": review_contradicts(verdict=analysis.verdict, label=label),
        "reviewed": _DATETIME.to_representation(selectors.review_latest_time(analysis=source)),
        "analysis": str(source.pk),
        "carried_forward": source.pk != analysis.pk,
    }


def analysis_headline(*, analysis: Analysis) -> dict[str, Any]:
    """The one answer pages lead with: a reviewer's, where one decided the file, with the
    machine's verdict kept beside it; else the machine's verdict."""
    review = analysis_review_dict(analysis=analysis)
    answer = _answer(analysis, review)
    return {
        "answer": answer,
        "answer_display": Analysis.Verdict(answer).label if answer else "",
        "reviewed": bool(review and review["truth"]),
        "review": review,
        "review_label_display": Analysis.ReviewLabel(review["label"]).label if review else "",
        "verdict": str(analysis.verdict),
        "verdict_display": analysis.get_verdict_display(),
        "fake_probability": analysis.fake_probability,
    }


def analysis_export_dict(*, analysis: Analysis) -> dict[str, Any]:
    """The downloadable report: the stored Report as it is, plus an `analysis` block that says
    which file and which run it is about (docs/report.md, "Export"; docs/export.schema.json)."""
    report = analysis.result or {}
    review = analysis_review_dict(analysis=analysis)
    identity = {
        "id": str(analysis.pk),
        "file": {
            "name": analysis.original_filename,
            "sha256": analysis.sha256,
            "size_bytes": int(analysis.size_bytes),
            "media_type": analysis.media_type,
            "mime_type": analysis.mime_type,
        },
        "uploaded": _DATETIME.to_representation(analysis.created),
        "started": _DATETIME.to_representation(analysis.started),
        "finished": _DATETIME.to_representation(analysis.finished),
        "models": [
            {key: model.get(key) for key in ("name", "version", "arch", "sha256")}
            for model in report.get("classifiers") or []
        ],
        "policy_version": str(report.get("policy_version") or "default"),
        "code_version": str(report.get("version") or analysis.code_version),
        "verdict": str(analysis.verdict),
        "fake_probability": _probability(analysis),
        "answer": _answer(analysis, review),
        "review": review,
        "previous": _previous(analysis),
    }
    return {**report, "analysis": identity}


def analysis_url(
    *, analysis: Analysis, request: HttpRequest | None = None, url_format: str | None = None
) -> str:
    """The analysis in the API."""
    return reverse(
        "api:analysis-detail", kwargs={"pk": analysis.pk}, request=request, format=url_format
    )


def model_ref_dict(*, model: DetectorModel, request: HttpRequest | None = None) -> dict[str, Any]:
    """Which model produced a result, and where its card is."""
    return {
        "name": model.name,
        "version": model.version,
        "arch": model.arch,
        "sha256": model.sha256,
        "card": model_card_url(model=model, request=request),
    }


def model_card_url(*, model: DetectorModel, request: HttpRequest | None = None) -> str:
    """The models list filtered to this model, where its card is."""
    query = urlencode({"name": model.name, "version": model.version})
    url = f"{django_reverse('api:model-list')}?{query}"
    return request.build_absolute_uri(url) if request else url


def analysis_status_dict(*, analysis: Analysis) -> dict[str, Any]:
    """The small JSON the detail page polls while an analysis runs (static/js/progress.js)."""
    public = analysis_public_dict(
        analysis=analysis, fields=("id", "status", "progress", "stage", "verdict", "error")
    )
    return {
        "id": public["id"],
        "status": public["status"],
        "status_display": analysis.get_status_display(),
        "progress": public["progress"],
        "stage": public["stage"],
        # The page asks whether the analysis has ended, not when.
        "finished": analysis.is_finished,
        "verdict": public["verdict"],
        "error_message": public["error"],
    }


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _run_facts(analysis: Analysis) -> dict[str, str]:
    """One run of a file, as the compare page lists it: label → value in words."""
    report = analysis.result or {}
    head = analysis_headline(analysis=analysis)
    models = [f"{c['name']} {c['version']}" for c in report.get("classifiers") or []]
    facts = {
        "Model": ", ".join(models) or "none",
        "Policy": str(report.get("policy_version") or "default"),
        "Frames scored": str((report.get("options") or {}).get("frames", "—")),
        "Code version": str(report.get("version") or analysis.code_version or "—"),
        "Verdict": head["verdict_display"] or "—",
        "Fake probability": _percent(analysis.fake_probability),
        "P(generated)": _percent(analysis.generated_score),
        "Review": head["review_label_display"] or "not reviewed",
    }
    decisive = report.get("decisive_face")
    for face in report.get("faces") or []:
        judged = face.get("judged", True)
        score = _percent(face.get("score")) if judged else "not judged"
        mark = " (decided)" if face.get("track_id") == decisive else ""
        facts[f"Face {face.get('track_id')}"] = score + mark
    return facts


def analyses_compare_rows(*, earlier: Analysis, later: Analysis) -> list[dict[str, Any]]:
    """Two runs of one file side by side: each fact with both values, and whether they differ.
    People are matched by their number in each report (the order they appeared in)."""
    first, second = _run_facts(earlier), _run_facts(later)
    labels = list(dict.fromkeys([*first, *second]))
    return [
        {
            "label": label,
            "values": (first.get(label, "—"), second.get(label, "—")),
            "differs": first.get(label) != second.get(label),
        }
        for label in labels
    ]
