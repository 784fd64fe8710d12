"""One upload budget per user: web uploads, web re-analyses, API uploads and API re-analyses
all spend it, because each one queues minutes of face tracking and classification.

The rate is UPLOAD_RATE ("60/hour", from the API_UPLOAD_RATE environment variable), counted
per clock window (second, minute, hour or day) in the shared cache, so every web process
counts together. The count is an atomic increment: concurrent requests cannot both take the
last upload of a window. An upload that is refused (its type, size or name) gives its count back.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache

log = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PERIOD_WORDS = {1: "a second", 60: "a minute", 3600: "an hour", 86400: "a day"}


class UploadBudgetSpent(Exception):
    """The user has used this window's uploads; `message` is safe to show as it is."""

    def __init__(self, *, limit: int, period_s: int, wait_s: int):
        self.wait_s = wait_s
        self.message = (
            f"You have reached the limit of {limit} uploads and re-analyses "
            f"{PERIOD_WORDS[period_s]}. Try again in {_duration(wait_s)}."
        )
        super().__init__(self.message)


def upload_rate() -> tuple[int, int]:
    """UPLOAD_RATE as (uploads, window seconds): "60/hour" -> (60, 3600)."""
    count, _, period = settings.UPLOAD_RATE.partition("/")
    try:
        return int(count), PERIODS[period.strip()[:1].lower()]
    except (KeyError, ValueError) as exc:
        raise ValueError(
            f"UPLOAD_RATE must look like 60/hour, not {settings.UPLOAD_RATE!r}."
        ) from exc


def _key(user: AbstractBaseUser, period: int, window: int) -> str:
    return f"upload-budget:{user.pk}:{period}:{window}"


def upload_budget_spend(*, user: AbstractBaseUser) -> None:
    """Count one upload or re-analysis; raise UploadBudgetSpent when the window is used up."""
    limit, period = upload_rate()
    now = time.time()
    window = int(now // period)
    key = _key(user, period, window)
    try:
        cache.add(key, 0, timeout=period + 60)  # outlives its window a little, then goes
        used = cache.incr(key)
    except Exception:  # noqa: BLE001  (the cache's client raises its own connection errors)
        # A cache outage must not lose uploads: the budget is a guard, the upload is the work.
        log.warning("upload budget not counted: the shared cache is unreachable")
        return
    if used > limit:
        raise UploadBudgetSpent(
            limit=limit, period_s=period, wait_s=math.ceil((window + 1) * period - now)
        )


def upload_budget_refund(*, user: AbstractBaseUser) -> None:
    """Give back the upload just counted: it was refused (its type, its size, its name), so it
    queued nothing. A window that ended meanwhile has nothing to give back."""
    _, period = upload_rate()
    key = _key(user, period, int(time.time() // period))
    try:
        if cache.get(key, 0) > 0:
            cache.decr(key)
    except Exception:  # noqa: BLE001  (as above: the cache's own connection errors)
        log.warning("upload budget not refunded: the shared cache is unreachable")


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"
