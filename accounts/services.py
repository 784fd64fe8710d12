"""Accounts: signing up, and API tokens (one per user, shown on the profile page, replaced on
request)."""

from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework.authtoken.models import Token


def token_get_or_create(*, user: AbstractBaseUser) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_rotate(*, user: AbstractBaseUser) -> Token:
    """Replace the user's token; the old one stops working at once."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def user_sign_up(*, form: BaseUserCreationForm) -> AbstractBaseUser:
    """Create the account a valid sign-up form describes."""
    return form.save()
