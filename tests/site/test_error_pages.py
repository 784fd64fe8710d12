"""Friendly error pages, rendered as they are with DEBUG off."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_test_settings_run_with_debug_off(settings):
    assert settings.DEBUG is False


def test_a_missing_page_is_the_friendly_404(user_client):
    response = user_client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert "Log out (alice)" in html  # the site's own layout, with the user's menu
    assert "Traceback" not in html


@pytest.mark.parametrize(
    ("name", "heading"),
    [("400.html", "Bad request"), ("403.html", "Not allowed")],
)
def test_400_and_403_pages_render(rf, name, heading):
    request = rf.get("/")
    html = render_to_string(name, request=request)
    assert f"<h1>{heading}</h1>" in html


def test_500_page_needs_no_request():
    html = render_to_string("500.html")  # Django renders it without a request context
    assert "<h1>Something went wrong</h1>" in html


def test_a_form_without_its_csrf_token_gets_the_friendly_403(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post("/analyses/new/", {})
    assert response.status_code == 403
    assert "<h1>Form expired</h1>" in response.content.decode()
