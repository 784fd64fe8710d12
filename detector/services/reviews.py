"""Human judgement on results: owners flag a result that looks wrong, reviewers label it.

Every reviewer decision is kept as a `Review` row (label before and after), so the history of
an analysis' label can be audited; the latest decision is copied onto `Analysis.review_label`
so pages and the API can show it without a join.

Once a decision is committed, the owner hears of it: an `analysis.reviewed` callback when the
analysis has a callback URL, and an email when the decision newly contradicts the machine's
verdict (`detector.ground_truth` says what contradicts).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from detector.ground_truth import review_contradicts
from detector.models import Analysis, Review
from detector.services.webhooks import review_callback_enqueue

logger = logging.getLogger(__name__)

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
    if locked.callback_url:
        review_callback_enqueue(review_id=review.pk)
    if _newly_contradicts(review=review, verdict=locked.verdict):
        review_id = review.pk
        # robust: a mail server that fails is logged; the decision stays recorded.
        transaction.on_commit(lambda: review_contradiction_email(review_id=review_id), robust=True)
    return review


def _newly_contradicts(*, review: Review, verdict: str) -> bool:
    # A decision that repeats the current label tells the owner nothing new.
    return review.label_after != review.label_before and review_contradicts(
        verdict=verdict, label=review.label_after
    )


def review_contradiction_email(*, review_id: int) -> int:
    """Tell the owner that a reviewer disagreed with the verdict; returns the emails sent."""
    review = Review.objects.select_related("analysis__owner").filter(pk=review_id).first()
    if review is None:
        return 0  # the analysis was deleted meanwhile
    analysis = review.analysis
    owner = analysis.owner
    if not owner.email:
        logger.info(
            "Review %s contradicts analysis %s; its owner has no email", review.pk, analysis.pk
        )
        return 0
    path = reverse("detector:analysis-detail", args=[analysis.pk])
    context = {
        "analysis": analysis,
        "owner": owner,
        "label": Analysis.ReviewLabel(review.label_after).label,
        "result_url": settings.SITE_URL.rstrip("/") + path,
    }
    subject = render_to_string("detector/email/review_contradicts_subject.txt", context)
    body = render_to_string("detector/email/review_contradicts_body.txt", context)
    return send_mail(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [owner.email])


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
