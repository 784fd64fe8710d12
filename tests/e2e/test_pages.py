"""The answer first, in a real browser: the landing page signed out; a two-person clip and a
photo analysed by the real pipeline; the clip reviewed from the admin's review queue (its AVI
played through the H.264 preview, the decision made with a key); the owner then sees the
reviewer's answer as the headline of the result and of the history.

Screenshots of the result, the history and the review page at 1280 px and 390 px go to
test-artifacts/."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from detector.models import Analysis
from tests.support.accounts import PASSWORD
from tests.support.mediagen import write_face_video, write_image

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

WIDTHS = (1280, 390)


def screenshots(page, screenshot, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"pages-{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def log_in(page, base_url: str, username: str, *, admin: bool = False) -> None:
    page.goto(f"{base_url}/{'admin' if admin else 'accounts'}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]" if admin else "button[type=submit]")
    page.wait_for_load_state()


def upload(page, base_url: str, path) -> Analysis:
    page.goto(f"{base_url}/analyses/new/")
    page.set_input_files("input[name=file]", str(path))
    page.click("button:has-text('Upload and analyse')")
    page.wait_for_url("**/analyses/*-*-*-*-*/")
    return Analysis.objects.get(pk=page.url.rstrip("/").rsplit("/", 1)[-1])


def test_landing_page_signed_out(live_server, new_page):
    page = new_page()
    response = page.goto(f"{live_server.url}/")
    assert response.status == 200
    text = page.inner_text("[data-landing]") + page.inner_text("main")
    assert "What it cannot do" in text and "What happens to your uploads" in text
    assert page.is_visible("a[href='/accounts/signup/']")
    favicon = page.request.get(f"{live_server.url}/favicon.ico")
    assert favicon.status == 200 and "svg" in favicon.headers["content-type"]


def test_results_review_queue_and_headline(
    live_server, new_page, screenshot, rq_worker, tiny_frame_model, tmp_path
):
    users = get_user_model().objects
    users.create_user("journalist", password=PASSWORD)
    reviewer = users.create_user("reviewer", password=PASSWORD, is_staff=True)
    reviewer.user_permissions.add(Permission.objects.get(codename="review_analysis"))

    owner = new_page()
    log_in(owner, live_server.url, "journalist")
    clip = upload(
        owner,
        live_server.url,
        write_face_video(tmp_path / "two people.avi", seconds=3.0, fps=15, two_faces=True),
    )
    photo = upload(owner, live_server.url, write_image(tmp_path / "portrait.jpg"))
    assert rq_worker()
    clip.refresh_from_db()
    photo.refresh_from_db()
    assert clip.status == photo.status == "done", (clip.error_message, photo.error_message)

    # A still image: no timeline at all.
    owner.goto(f"{live_server.url}/analyses/{photo.pk}/")
    owner.wait_for_selector("[data-result]")
    assert owner.locator("#timeline-chart").count() == 0
    assert "Click a point" not in owner.inner_text("main")

    # The two-person clip: one named series per judged person on the timeline.
    owner.goto(f"{live_server.url}/analyses/{clip.pk}/")
    owner.wait_for_selector("#timeline-chart[data-drawn=true]")
    judged = [f["track_id"] for f in clip.result["faces"] if f.get("judged", True)]
    assert len(judged) == 2, clip.result["faces"]
    series = owner.get_attribute("#timeline-chart", "data-series").split("|")
    assert [re.match(r"Face (\d+)", name).group(1) for name in series] == [
        str(clip.result["decisive_face"]),
        *(str(t) for t in judged if t != clip.result["decisive_face"]),
    ]
    assert owner.locator("[data-face][data-decisive]").count() == 1
    # The owner disputes the result, so it waits in the review queue.
    owner.click("button:has-text('Report this result')")
    owner.wait_for_selector("text=You reported this result as wrong")

    # The reviewer finds the queue first on the admin home and opens the clip.
    review = new_page()
    log_in(review, live_server.url, "reviewer", admin=True)
    waiting = Analysis.objects.filter(flagged=True, review_label="").count()
    queue_link = review.locator("[data-review-queue]")
    assert queue_link.inner_text() == f"Review queue ({waiting} waiting)"
    queue_link.click()
    review.click(f"a[href*='/admin/detector/analysis/{clip.pk}/change/']")
    review.wait_for_selector("select[name=decision]")  # the change page, not the list
    # The AVI plays through its H.264 preview.
    review.wait_for_function("() => document.querySelector('.media-preview video').readyState >= 2")
    assert "/preview/" in review.get_attribute(".media-preview video", "src")
    assert "reported as wrong by the owner" in review.inner_text("body")
    # A key chooses the decision: the opposite of the machine, so the headlines must change.
    key, label, answer = (
        ("r", "confirmed_real", "Real")
        if clip.verdict == "fake"
        else ("f", "confirmed_fake", "Fake")
    )
    review.locator("h1").click()  # focus on the page, not a field
    review.keyboard.press(key)
    assert review.input_value("select[name=decision]") == label
    screenshots(review, screenshot, "review")
    review.keyboard.press("Enter")
    review.wait_for_selector(".messagelist")
    clip.refresh_from_db()
    assert clip.review_label == label

    # The owner's result and history now lead with the reviewer's answer.
    owner.goto(f"{live_server.url}/analyses/{clip.pk}/")
    assert owner.inner_text("[data-headline]").startswith("Reviewed:")
    assert owner.inner_text("[data-headline] [data-answer]").strip() == answer
    assert "Machine:" in owner.inner_text("[data-headline]")
    screenshots(owner, screenshot, "result")
    owner.goto(f"{live_server.url}/analyses/")
    row = owner.locator(f"tr[data-row='{clip.pk}']")
    assert row.locator("[data-answer]").inner_text().strip() == answer
    assert "reviewed" in row.inner_text()
    screenshots(owner, screenshot, "history")
