"""Every page works under the Content-Security-Policy, and none logs a violation: sign-up, the
upload form, a finished result with its charts, its print view, the profile's confirmation, the
API docs (Swagger UI) and the admin."""

from __future__ import annotations

import pytest

from detector.models import Analysis
from tests.support.accounts import browser_sign_up
from tests.support.mediagen import write_face_video

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def watch_for_violations(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def test_no_page_logs_a_csp_violation(live_server, new_page, rq_worker, tiny_frame_model, tmp_path):
    base = live_server.url
    page = new_page()
    violations = watch_for_violations(page)
    browser_sign_up(page, base)

    video = write_face_video(tmp_path / "clip.avi", seconds=2.0, fps=10, blinks_at_s=[1.0])
    page.set_input_files("input[name=file]", str(video))
    page.click("button:has-text('Upload and analyse')")
    page.wait_for_url("**/analyses/*-*-*-*-*/")
    assert rq_worker()
    analysis = Analysis.objects.get()
    page.wait_for_selector("[data-result]")
    page.wait_for_function("() => document.getElementById('timeline-chart') !== null")

    page.goto(f"{base}/analyses/{analysis.pk}/print/")
    page.goto(f"{base}/accounts/profile/")
    before = page.inner_text("#api-token")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Replace')")
    page.wait_for_selector("text=Your API token was replaced")
    assert page.inner_text("#api-token") != before  # the confirmation ran from static/js/actions.js

    page.goto(f"{base}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info")  # Swagger UI started: its set-up script ran
    page.goto(f"{base}/admin/login/")
    assert violations == []
