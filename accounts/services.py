"""Accounts: signing up (by e-mail confirmation), and API tokens (one per user, shown on the
profile page, replaced on request).

Sign-up never says whether an address is registered: every accepted form gets the same page,
and what happens next arrives by e-mail, to the address's owner only. A new address gets a
link that activates the account; a registered one gets a note that it already has an account
(and how to reset its password). An account nobody activated yet is replaced by the newer
sign-up, so nobody can hold an address they do not read.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework.authtoken.models import Token


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """Valid until PASSWORD_RESET_TIMEOUT, and only while the account is still inactive."""

    key_salt = "accounts.services.ActivationTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


activation_tokens = ActivationTokenGenerator()


def token_get_or_create(*, user: AbstractBaseUser) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_rotate(*, user: AbstractBaseUser) -> Token:
    """Replace the user's token; the old one stops working at once."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def user_sign_up(*, form: BaseUserCreationForm, site_url: str) -> None:
    """Act on a valid sign-up form, telling the address's owner by e-mail (see the module)."""
    email = form.cleaned_data["email"]
    users = get_user_model().objects
    with transaction.atomic():
        existing = users.select_for_update().filter(email__iexact=email).first()
        if existing is not None and (existing.is_active or existing.last_login):
            # The same password hashing as a new account: the answer takes as long either way.
            make_password(form.cleaned_data["password1"])
            _mail(existing, "already_registered", site_url, reset=reverse("password_reset"))
            return
        if existing is not None:  # never activated: the newer sign-up replaces it
            existing.delete()
        user = form.save(commit=False)
        user.is_active = False
        user.save()
    _mail(user, "activate", site_url, link=user_activation_path(user=user))


def user_activation_path(*, user: AbstractBaseUser) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("signup-activate", args=[uid, activation_tokens.make_token(user)])


def user_pending_activation(*, uidb64: str, token: str) -> AbstractBaseUser | None:
    """The inactive account a link names, if its token is still good."""
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        user = get_user_model().objects.get(pk=pk, is_active=False)
    except (ValueError, OverflowError, get_user_model().DoesNotExist):
        return None
    return user if activation_tokens.check_token(user, token) else None


def user_activate(*, user: AbstractBaseUser) -> None:
    user.is_active = True
    user.save(update_fields=["is_active"])


def _mail(user: AbstractBaseUser, kind: str, site_url: str, **links: str) -> None:
    context = {"user": user, "site_url": site_url.rstrip("/"), **links}
    subject = render_to_string(f"accounts/email/{kind}_subject.txt", context)
    body = render_to_string(f"accounts/email/{kind}.txt", context)
    send_mail(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [user.email])
