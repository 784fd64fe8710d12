"""The django-axes handler behind the sign-in limits (AXES_HANDLER): two counters in the cache.

- per username at one address: LOGIN_FAILURE_LIMIT failures lock that pair, and only that pair,
  for LOGIN_COOLOFF_MINUTES after the last failure; the same user elsewhere, and everyone else at
  that address, still sign in;
- per address, whatever the username: LOGIN_ADDRESS_FAILURE_LIMIT failures (set well above the
  first, since an office or a proxy shares one address) lock the address for a fixed window of
  LOGIN_COOLOFF_MINUTES from its first failure, against guessing across many accounts.

Keys carry generation numbers (global, per address, per username) so that `manage.py unlock` can
release everything, one address or one user on any cache backend, without listing keys.

When the cache cannot be reached the limits are skipped, with an error in the log: sign-in falls
back to Django's own password checks rather than failing for everyone.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from axes.conf import settings
from axes.handlers.base import AbstractAxesHandler, AxesBaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.signals import user_locked_out
from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CACHE_ERRORS = (RedisError, OSError)
PREFIX = "signin"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _generation_key(scope: str, value: str = "") -> str:
    return f"{PREFIX}:gen:{scope}:{_digest(value)}"


def _generations(*, username: str | None, address: str) -> tuple[str, str, str]:
    keys = [
        _generation_key("all"),
        _generation_key("address", address),
        _generation_key("user", username or ""),
    ]
    found = cache.get_many(keys)
    return tuple(str(found.get(key, 0)) for key in keys)


def counter_keys(*, username: str | None, address: str) -> tuple[str, str]:
    """The cache keys of the (username, address) counter and the address counter."""
    every, at_address, of_user = _generations(username=username, address=address)
    pair = f"{PREFIX}:pair:{every}.{at_address}.{of_user}:{_digest(f'{username}|{address}')}"
    return pair, f"{PREFIX}:address:{every}.{at_address}:{_digest(address)}"


def bump_generation(scope: str, value: str = "") -> None:
    """Orphan every counter in a scope ("all", "address" or "user"); orphans expire on their own."""
    key = _generation_key(scope, value)
    if not cache.add(key, 1, timeout=None):
        cache.incr(key)


def cooloff_seconds() -> int:
    cool_off = get_cool_off()
    return max(1, int(cool_off.total_seconds())) if cool_off else 1


def address_failure_limit() -> int:
    return int(getattr(settings, "LOGIN_ADDRESS_FAILURE_LIMIT", 100))


def _fail_open(action: str, default):
    def wrap(method: Callable) -> Callable:
        def guarded(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except CACHE_ERRORS as error:
                logger.error(
                    "Sign-in limits skipped (%s): the cache is unreachable (%s); "
                    "passwords are still checked.",
                    action,
                    error,
                )
                return default

        return guarded

    return wrap


class LoginLimitsHandler(AbstractAxesHandler, AxesBaseHandler):
    def _keys(self, request, credentials) -> tuple[str, str]:
        username = get_client_username(request, credentials)
        return counter_keys(username=username, address=request.axes_ip_address or "")

    @_fail_open("checking", default=0)
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The larger count, relative to its limit: axes compares it with AXES_FAILURE_LIMIT."""
        pair_key, address_key = self._keys(request, credentials)
        counts = cache.get_many([pair_key, address_key])
        pair, address = counts.get(pair_key, 0), counts.get(address_key, 0)
        if address >= address_failure_limit():
            return max(pair, settings.AXES_FAILURE_LIMIT)
        return pair

    @_fail_open("counting a failure", default=None)
    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None or getattr(request, "axes_locked_out", False):
            return  # refused by the lock itself: not a new guess, and no renewal of the lock
        if self.is_whitelisted(request, credentials):
            return
        pair_key, address_key = self._keys(request, credentials)
        timeout = cooloff_seconds()
        pair = 1 if cache.add(pair_key, 1, timeout) else cache.incr(pair_key)
        cache.touch(pair_key, timeout)
        address = 1 if cache.add(address_key, 1, timeout) else cache.incr(address_key)
        if pair >= settings.AXES_FAILURE_LIMIT or address >= address_failure_limit():
            username = get_client_username(request, credentials)
            logger.warning(
                "Sign-in locked: %d failures for this username at %s, %d from the address.",
                pair,
                request.axes_ip_address,
                address,
            )
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes", request=request, username=username, ip_address=request.axes_ip_address
            )

    @_fail_open("resetting after a sign-in", default=None)
    def user_logged_in(self, sender, request, user, **kwargs):
        """A successful sign-in clears its own pair; the address count stays (no reset by a
        guesser who owns one account)."""
        if settings.AXES_RESET_ON_SUCCESS:
            credentials = {settings.AXES_USERNAME_FORM_FIELD: user.get_username()}
            cache.delete(self._keys(request, credentials)[0])

    def user_logged_out(self, sender, request, user, **kwargs):
        return None

    @_fail_open("unlocking", default=0)
    def reset_attempts(
        self,
        *,
        ip_address: str | None = None,
        username: str | None = None,
        ip_or_username: bool = False,
    ) -> int:
        if ip_address is None and username is None:
            bump_generation("all")
        if ip_address is not None:
            bump_generation("address", ip_address)
        if username is not None:
            bump_generation("user", username)
        return 1
