"""Sign-in helpers: the test users' password and an API client holding a user's token."""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

PASSWORD = "correct-Horse-battery-42"


def api_client_for(user) -> APIClient:
    """An API client that sends `user`'s token (made if the user has none yet)."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
