"""Sign-ups per address: SIGNUP_RATE ("5/hour") accounts asked for from one client address.

Each account comes with its own upload budget, so unlimited sign-ups would be unlimited
uploads. The address is the one the trusted proxies vouch for (accounts/client_address.py);
the count is an atomic increment per clock window in the shared cache, as the upload budget's.
With the cache down the limit is skipped, with a warning: sign-up is not lost to an outage.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from accounts.client_address import client_address

log = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class SignUpLimited(Exception):
    """Too many sign-ups from this address; `message` is safe to show as it is."""

    def __init__(self, *, wait_s: int):
        self.wait_s = wait_s
        minutes = max(1, math.ceil(wait_s / 60))
        self.message = (
            "Too many accounts were asked for from this address. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        super().__init__(self.message)


def signup_rate() -> tuple[int, int]:
    """SIGNUP_RATE as (sign-ups, window seconds): "5/hour" -> (5, 3600)."""
    count, _, period = settings.SIGNUP_RATE.partition("/")
    try:
        return int(count), PERIODS[period.strip()[:1].lower()]
    except (KeyError, ValueError) as exc:
        raise ValueError(
            f"SIGNUP_RATE must look like 5/hour, not {settings.SIGNUP_RATE!r}."
        ) from exc


def signup_allowance_spend(request: HttpRequest) -> None:
    """Count one sign-up from the request's address; raise SignUpLimited past the rate."""
    limit, period = signup_rate()
    now = time.time()
    window = int(now // period)
    key = f"signup:{client_address(request)}:{period}:{window}"
    try:
        cache.add(key, 0, timeout=period + 60)
        used = cache.incr(key)
    except Exception:  # noqa: BLE001  (the cache's client raises its own connection errors)
        log.warning("sign-up not counted: the shared cache is unreachable")
        return
    if used > limit:
        raise SignUpLimited(wait_s=max(1, math.ceil((window + 1) * period - now)))
