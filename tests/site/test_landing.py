"""The front door: signed-out visitors learn what the product is; users go to their history."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_signed_out_visitors_get_the_landing_page(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    for heading in ("What it does", "What it cannot do", "What happens to your uploads"):
        assert heading in html
    assert 'rel="icon"' in html


def test_the_landing_page_states_the_retention_in_force(client, settings):
    settings.MEDIA_RETENTION_DAYS = 30
    assert "deleted 30 days after upload" in client.get("/").content.decode()
    settings.MEDIA_RETENTION_DAYS = 0
    assert "keeps uploaded files until you delete them" in client.get("/").content.decode()


def test_signed_in_users_go_to_their_history(user_client):
    response = user_client.get("/")
    assert response.status_code == 302 and response.url == "/analyses/"


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.redirect_chain and response.redirect_chain[0][0].endswith("favicon.svg")
