"""Reads: how well the verdicts held up against staff reviews (the admin's Metrics page).

A reviewed analysis is a finished one whose current review label is ground truth
(`detector.ground_truth`: confirmed fake or confirmed real). For the verdict as a whole every
reviewed analysis counts; for each active detector model, those it took part in. Its score is
the analysis' `fake_probability`, which is the ensemble's where several models scored together:
the Report keeps no per-model score.

- false-positive rate: confirmed real called fake ÷ confirmed real;
- false-negative rate: confirmed fake called real ÷ confirmed fake;
- inconclusive rate: inconclusive ÷ all reviewed (inconclusive is neither a false positive nor a
  false negative, as in docs/verdict.md);
- AUC of `fake_probability` against the truth, over the scored analyses, once both a confirmed
  fake and a confirmed real are among them;
- calibration: the scores in ten equal-width bins, each bin's mean score against the share of
  confirmed fakes in it (only bins that hold analyses).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet

from detector.ground_truth import FAKE, REAL, TRUTH_LABELS, review_truth
from detector.models import Analysis, DetectorModel

ALL_VERDICTS = "All verdicts"
CALIBRATION_BINS = 10
INCONCLUSIVE = Analysis.Verdict.INCONCLUSIVE.value


@dataclass(frozen=True)
class ReviewedRow:
    """One reviewed analysis, as the metrics and the CSV export see it."""

    id: str
    models: str  # "name version" of each model that produced it, joined by "+"
    model_ids: frozenset[int]
    verdict: str
    fake_probability: float | None
    review_label: str
    truth: str


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_probability: float
    fraction_fake: float


@dataclass
class GroupMetrics:
    """The metrics of one group of reviewed analyses (all of them, or one model's)."""

    name: str
    count: int = 0
    fakes: int = 0
    reals: int = 0
    scored: int = 0
    real_called_fake: int = 0
    fake_called_real: int = 0
    inconclusive: int = 0
    auc: float | None = None
    calibration: list[CalibrationBin] = field(default_factory=list)

    @property
    def false_positive_rate(self) -> float | None:
        return _share(self.real_called_fake, self.reals)

    @property
    def false_negative_rate(self) -> float | None:
        return _share(self.fake_called_real, self.fakes)

    @property
    def inconclusive_rate(self) -> float | None:
        return _share(self.inconclusive, self.count)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def reviewed_analyses() -> QuerySet:
    """Finished analyses whose current review label is ground truth, newest first."""
    return (
        Analysis.objects.filter(status=Analysis.Status.DONE, review_label__in=TRUTH_LABELS)
        .exclude(verdict="")
        .prefetch_related("detector_models")
        .order_by("-created")
    )


def reviewed_rows() -> list[ReviewedRow]:
    """Every reviewed analysis, with its models, verdict, score, label and truth."""
    rows = []
    for analysis in reviewed_analyses():
        models = sorted(analysis.detector_models.all(), key=lambda m: (m.name, m.version))
        rows.append(
            ReviewedRow(
                id=str(analysis.pk),
                models="+".join(f"{m.name} {m.version}" for m in models),
                model_ids=frozenset(m.pk for m in models),
                verdict=analysis.verdict,
                fake_probability=analysis.fake_probability,
                review_label=analysis.review_label,
                truth=review_truth(analysis.review_label) or "",
            )
        )
    return rows


def group_metrics(*, name: str, rows: Iterable[ReviewedRow]) -> GroupMetrics:
    """Counts, error rates, AUC and calibration of the given reviewed analyses."""
    rows = list(rows)
    metrics = GroupMetrics(name=name, count=len(rows))
    for row in rows:
        metrics.fakes += row.truth == FAKE
        metrics.reals += row.truth == REAL
        metrics.real_called_fake += row.truth == REAL and row.verdict == FAKE
        metrics.fake_called_real += row.truth == FAKE and row.verdict == REAL
        metrics.inconclusive += row.verdict == INCONCLUSIVE
    scored = [(row.fake_probability, row.truth == FAKE) for row in rows]
    scored = [(p, is_fake) for p, is_fake in scored if p is not None]
    metrics.scored = len(scored)
    if len({is_fake for _, is_fake in scored}) == 2:
        # Imported here: scikit-learn is slow to load, and only this page needs it.
        from sklearn.metrics import roc_auc_score

        probabilities, truths = zip(*scored, strict=True)
        metrics.auc = float(roc_auc_score(truths, probabilities))
    metrics.calibration = calibration_bins(scored)
    return metrics


def calibration_bins(scored: list[tuple[float, bool]]) -> list[CalibrationBin]:
    """Mean score and share of fakes in each equal-width score bin that holds analyses."""
    bins = []
    for index in range(CALIBRATION_BINS):
        low, high = index / CALIBRATION_BINS, (index + 1) / CALIBRATION_BINS
        last = index == CALIBRATION_BINS - 1  # the top bin holds 1.0 too
        inside = [(p, f) for p, f in scored if low <= p < high or (last and p == high)]
        if inside:
            bins.append(
                CalibrationBin(
                    low=low,
                    high=high,
                    count=len(inside),
                    mean_probability=sum(p for p, _ in inside) / len(inside),
                    fraction_fake=sum(f for _, f in inside) / len(inside),
                )
            )
    return bins


def review_metrics(rows: list[ReviewedRow] | None = None) -> list[GroupMetrics]:
    """The verdict as a whole first, then each active detector model."""
    rows = reviewed_rows() if rows is None else rows
    groups = [group_metrics(name=ALL_VERDICTS, rows=rows)]
    for model in DetectorModel.objects.filter(active=True).order_by("name", "version"):
        mine = [row for row in rows if model.pk in row.model_ids]
        groups.append(group_metrics(name=f"{model.name} {model.version}", rows=mine))
    return groups
