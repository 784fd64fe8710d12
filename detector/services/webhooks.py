"""Result callbacks: POST to the URL an analysis' owner gave when the analysis ends
(`analysis.finished`) and when a reviewer records a decision on it (`analysis.reviewed`).

Delivery runs as its own RQ job so a slow or failing receiver never holds up an analysis, and
RQ retries it with growing pauses (`WEBHOOK_RETRY_INTERVALS`, seconds) when the receiver is
down or answers with an error.

Signature: each request carries `X-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body
keyed with the owner's webhook secret. The secret is per user (derived from SECRET_KEY and the
user id, so it needs no storage and one user can never forge another user's callbacks); the
owner reads it from `GET /api/v1/webhook-secret/`. docs/api.md shows how to verify it.

Destination: only public internet addresses, checked on input and again on connect (see
detector.callback_guard); redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import django_rq
import requests
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rq import Retry

from detector.callback_guard import callback_host_check, guarded_session
from detector.ground_truth import review_contradicts, review_truth
from detector.models import Analysis, Review
from detector.presenters import analysis_public_dict

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")
TIMEOUT_S = 10
SIGNATURE_HEADER = "X-Signature"
CALLBACK_DELIVER = "detector.queue.jobs.callback_deliver"
REVIEW_CALLBACK_DELIVER = "detector.queue.jobs.review_callback_deliver"
EVENT_FINISHED = "analysis.finished"
EVENT_REVIEWED = "analysis.reviewed"


class CallbackFailed(Exception):
    """The receiver could not be reached or did not accept the callback; RQ retries it."""


def validate_callback_url(value: str) -> None:
    """Absolute http(s) URLs without credentials whose host has only public addresses."""
    parts = urlsplit(value or "")
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not parts.hostname:
        raise ValidationError("The callback URL must be an absolute http:// or https:// URL.")
    if "@" in parts.netloc:
        raise ValidationError("The callback URL must not contain a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise ValidationError("The callback URL has an invalid port.") from None
    callback_host_check(parts.hostname, port)


def webhook_secret_for(*, user: AbstractBaseUser) -> str:
    """The key this user's callbacks are signed with (stable while SECRET_KEY is)."""
    # The salt keeps the name of the module it was born in: changing it would change every secret.
    return salted_hmac("detector.webhooks.secret", str(user.pk), algorithm="sha256").hexdigest()


def webhook_sign(*, secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# The analysis' fields a callback carries, as the API names and writes them.
CALLBACK_FIELDS = (
    "id",
    "status",
    "verdict",
    "fake_probability",
    "answer",
    "review",
    "error",
    "original_filename",
    "sha256",
    "result",
)


# A review callback carries the analysis without its Report (the receiver has it already).
REVIEW_CALLBACK_FIELDS = (
    "id",
    "status",
    "verdict",
    "fake_probability",
    "answer",
    "review_label",
    "original_filename",
    "sha256",
)


def callback_payload(*, analysis: Analysis) -> dict[str, Any]:
    """What the receiver gets: the event, the state of the analysis and its full Report JSON."""
    return {
        "event": EVENT_FINISHED,
        "sent_at": timezone.now().isoformat(),
        **analysis_public_dict(analysis=analysis, fields=CALLBACK_FIELDS),
    }


def review_callback_payload(*, review: Review) -> dict[str, Any]:
    """The `analysis.reviewed` event: the analysis as it stands, and the decision itself."""
    analysis = review.analysis
    return {
        "event": EVENT_REVIEWED,
        "sent_at": timezone.now().isoformat(),
        **analysis_public_dict(analysis=analysis, fields=REVIEW_CALLBACK_FIELDS),
        "review": {
            "id": review.pk,
            "label": review.label_after,
            "label_before": review.label_before,
            "truth": review_truth(review.label_after),
            "contradicts_verdict": review_contradicts(
                verdict=analysis.verdict, label=review.label_after
            ),
            "created": review.created.isoformat(),
        },
    }


def callback_post(*, analysis: Analysis) -> int:
    """POST the `analysis.finished` payload once (the job `detector.queue.jobs.callback_deliver`)."""
    return _post_signed(analysis=analysis, payload=callback_payload(analysis=analysis))


def review_callback_post(*, review: Review) -> int:
    """POST the `analysis.reviewed` payload once (the job `detector.queue.jobs.review_callback_deliver`)."""
    return _post_signed(analysis=review.analysis, payload=review_callback_payload(review=review))


def _post_signed(*, analysis: Analysis, payload: dict[str, Any]) -> int:
    """POST a signed payload to the analysis' callback URL once; raises CallbackFailed so that
    RQ retries on any failure."""
    analysis_id = analysis.pk
    validate_callback_url(analysis.callback_url)
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "deepfake-detector-webhook/1",
        SIGNATURE_HEADER: webhook_sign(secret=webhook_secret_for(user=analysis.owner), body=body),
    }
    try:
        # No redirects: the signed body goes only to the URL the owner registered.
        with guarded_session() as session:
            response = session.post(
                analysis.callback_url,
                data=body,
                headers=headers,
                timeout=TIMEOUT_S,
                allow_redirects=False,
            )
    except requests.RequestException as exc:
        raise CallbackFailed(f"Callback for {analysis_id} not delivered: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise CallbackFailed(f"Callback for {analysis_id} answered HTTP {response.status_code}.")
    logger.info("Callback for %s delivered (HTTP %s).", analysis_id, response.status_code)
    return response.status_code


def callback_enqueue(*, analysis_id: Any) -> None:
    """Queue delivery of the result callback, once the current transaction has committed."""
    _enqueue_on_commit(CALLBACK_DELIVER, str(analysis_id))


def review_callback_enqueue(*, review_id: int) -> None:
    """Queue delivery of one review's `analysis.reviewed` callback, once committed."""
    _enqueue_on_commit(REVIEW_CALLBACK_DELIVER, review_id)


def _enqueue_on_commit(job: str, argument: Any) -> None:
    intervals = list(settings.WEBHOOK_RETRY_INTERVALS)
    queue = django_rq.get_queue("default")

    def enqueue() -> None:
        # By dotted path: the job module imports services, never the other way round.
        queue.enqueue(
            job,
            argument,
            retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
            job_timeout=TIMEOUT_S * 3,
        )

    transaction.on_commit(enqueue)
