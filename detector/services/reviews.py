"""Human judgement on results: owners flag a result that looks wrong, reviewers label it.

Every reviewer decision is kept as a `Review` row (label before and after), so the history of
an analysis' label can be audited; the latest decision is copied onto `Analysis.review_label`
so pages and the API can show it without a join.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from detector.models import Analysis, Review

REVIEW_LABELS = tuple(Analysis.ReviewLabel.values)


@transaction.atomic
def review_record(
    *, analysis: Analysis, reviewer: AbstractBaseUser, label: str, notes: str = ""
) -> Review:
    """Record one reviewer decision and make it the analysis' current label."""
    if label not in REVIEW_LABELS:
        raise ValueError(f"Unknown review label {label!r}.")
    # Lock the row so two reviewers deciding at once each see the other's label as "before".
    locked = Analysis.objects.select_for_update().get(pk=analysis.pk)
    review = Review.objects.create(
        analysis=locked,
        reviewer=reviewer,
        label_before=locked.review_label,
        label_after=label,
        notes=notes.strip(),
    )
    locked.review_label = label
    locked.save(update_fields=["review_label"])
    analysis.review_label = label
    return review


class NoResultToReport(Exception):
    """Only a result can look wrong: the analysis has not finished with one."""

    message = "This analysis has no result yet: report it once it is done."


def analysis_report_wrong(*, analysis: Analysis, note: str = "") -> Analysis:
    """The owner says the result looks wrong: put it in the reviewers' queue.

    Raises NoResultToReport while there is no result (queued, running or failed).
    """
    if analysis.result is None:
        raise NoResultToReport(NoResultToReport.message)
    analysis.flagged = True
    analysis.reported_by_owner = True
    if note.strip():
        analysis.report_note = note.strip()
    analysis.save(update_fields=["flagged", "reported_by_owner", "report_note"])
    return analysis
