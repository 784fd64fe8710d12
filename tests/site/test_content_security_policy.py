"""Injected script cannot run: every HTML page carries a Content-Security-Policy without
'unsafe-inline' scripts, and no template holds inline script or event handlers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


@pytest.mark.parametrize(
    ("url", "signed_in"),
    [("/accounts/login/", False), ("/accounts/signup/", False), ("/api/v1/docs/", True)],
)
@pytest.mark.django_db
def test_injected_inline_script_is_refused_by_the_policy_on_html_pages(
    client, user, url, signed_in
):
    if signed_in:
        client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
    assert script_src == "script-src 'self'"
    assert "frame-ancestors 'none'" in policy


def test_no_template_holds_inline_script_or_event_handlers():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        if INLINE_SCRIPT.search(text) or EVENT_HANDLER.search(text):
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []
