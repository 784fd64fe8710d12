"""/healthz answers load balancers: PostgreSQL and Redis, each "ok" or "unavailable"."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthy_with_the_real_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_503_names_redis_when_nothing_listens_there(client, settings, free_port):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "unavailable"}


def test_no_login_and_no_https_redirect_for_the_probe(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301  # everything else: HTTPS
