"""Repeated failed sign-ins lock out, per username at one address and per address.

django-axes counts the failures of every `authenticate()` call in the shared cache (the web
login, the admin login and the API token endpoint alike; accounts/lockout_handler.py keeps the
counts). After LOGIN_FAILURE_LIMIT failures for a username from one address, that username is
refused there, the right password too, until LOGIN_COOLOFF_MINUTES pass without another failure;
after LOGIN_ADDRESS_FAILURE_LIMIT failures from one address, whatever the usernames, the address
is refused for LOGIN_COOLOFF_MINUTES. A successful sign-in resets its own username's count.
`manage.py unlock` releases locks early. This module says so to people: a form error on the
web, a 429 in the API.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.contrib.auth import user_logged_in
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def login_cooloff_seconds() -> int:
    cool_off = get_cool_off()
    return math.ceil(cool_off.total_seconds()) if cool_off else 0


def login_locked_out_message() -> str:
    minutes = max(1, math.ceil(login_cooloff_seconds() / 60))
    return (
        "Too many failed sign-in attempts for this account or from this address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


def login_is_locked_out(request) -> bool:
    """Whether the last authenticate() on this request was refused by the lockout."""
    return bool(getattr(request, "axes_locked_out", False))


def login_succeeded(*, request, user: AbstractBaseUser) -> None:
    """A sign-in without a session (the API token): reset the failure counts as a login does."""
    user_logged_in.send(sender=user.__class__, request=request, user=user)


def login_locked_out_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page again, saying why and for how long (429)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    response = render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": login_locked_out_message()},
        status=429,
    )
    response["Retry-After"] = str(max(1, login_cooloff_seconds()))
    return response
