"""Content Credentials in a real browser: an OpenAI image with its signed "made by AI"
declaration, uploaded through the form and analysed by the real worker, shows the Provenance
panel with its signer and actions, opens the raw manifest, and carries its badge and filter in
the history. The file is from shared/provenance (attributed in its LICENSES.md)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from detector.models import Analysis
from tests.support import provenance as files
from tests.support.accounts import PASSWORD

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

DALLE = "ai-generated__openai-dalle-cloud_surfing_puppy.webp"


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_load_state()


def test_provenance_panel_for_a_declared_ai_image(live_server, new_page, screenshot, rq_worker):
    get_user_model().objects.create_user("editor", password=PASSWORD)
    page = new_page()
    log_in(page, live_server.url, "editor")
    page.goto(f"{live_server.url}/analyses/new/")
    page.set_input_files("input[name=file]", str(files.provenance_folder() / DALLE))
    page.click("button:has-text('Upload and analyse')")
    page.wait_for_url("**/analyses/*-*-*-*-*/")
    assert rq_worker()  # the real worker: no classifier is installed, provenance decides
    analysis = Analysis.objects.get()
    assert analysis.status == "done", analysis.error_message

    page.wait_for_selector("[data-result]")
    panel = page.locator("section.provenance")
    panel.scroll_into_view_if_needed()
    assert panel.get_attribute("data-c2pa-state") == "valid"
    assert panel.get_attribute("data-ai-generation") == "declared"
    assert panel.locator(".badge").inner_text() == "Content Credentials: valid"
    assert panel.locator(".provenance-issuer").inner_text().startswith("OpenAI")
    assert "Created with DALL·E" in panel.locator(".provenance-actions").inner_text()
    assert "trainedAlgorithmicMedia" in panel.inner_text()
    assert page.inner_text("[data-verdict]").strip().lower() == "fake"
    assert (
        page.locator(".reasons li")
        .first.inner_text()
        .startswith("Content Credentials signed by OpenAI")
    )
    screenshot(page, "e2e-provenance-panel")

    # The owner opens the raw manifest from the panel.
    with page.expect_navigation():
        panel.locator("[data-manifest-link]").click()
    manifest = json.loads(page.locator("body").inner_text())
    assert manifest["validation_state"] == "Valid"
    assert "OpenAI" in {m["signature_info"]["issuer"] for m in manifest["manifests"].values()}

    # The history carries the badge, and the filter keeps it.
    page.goto(f"{live_server.url}/analyses/")
    page.select_option("select[name=provenance]", "ai-declared")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**provenance=ai-declared**")
    assert page.locator("[data-provenance=ai-declared]").inner_text() == "AI declared"
    screenshot(page, "e2e-provenance-history")
    page.select_option("select[name=provenance]", "invalid")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**provenance=invalid**")
    assert page.locator("[data-provenance]").count() == 0
