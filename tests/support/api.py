"""API v1 addresses and a client that signs in with a user's token."""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

LIST_URL = "/api/v1/analyses/"


def detail_url(analysis) -> str:
    return f"{LIST_URL}{analysis.pk}/"


def api_client_for(user) -> APIClient:
    """An API client that sends `user`'s token (made if the user has none yet)."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
