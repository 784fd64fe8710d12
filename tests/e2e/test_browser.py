"""The whole product in a real browser: sign up, upload a video, follow it to the result,
see the charts drawn; then a reviewer confirms the flagged result and the owner sees it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from detector.models import Analysis
from tests.support.accounts import PASSWORD, browser_sign_up
from tests.support.mediagen import write_face_video

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

# Counts the canvas pixels a chart painted: a canvas that exists but stayed blank gives 0.
PAINTED_PIXELS = """id => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  return painted;
}"""


def assert_chart_drawn(page, canvas_id: str) -> None:
    # Charts draw without animation, so the pixels are final once the canvas is marked drawn.
    page.wait_for_selector(f"#{canvas_id}[data-drawn=true]")
    assert page.evaluate(PAINTED_PIXELS, canvas_id) > 500, canvas_id


def assert_timeline_click_seeks_the_video(page, frame_scores) -> None:
    index = len(frame_scores) // 2
    page.locator("#timeline-chart").scroll_into_view_if_needed()
    x, y = page.evaluate(
        """index => {
          const point = Chart.getChart("timeline-chart").getDatasetMeta(0).data[index];
          const box = document.getElementById("timeline-chart").getBoundingClientRect();
          return [box.left + point.x, box.top + point.y];
        }""",
        index,
    )
    page.mouse.click(x, y)
    page.wait_for_function("() => document.querySelector('video').currentTime > 0")
    seconds = page.evaluate("() => document.querySelector('video').currentTime")
    assert abs(seconds - frame_scores[index][0]) < 0.5


def assert_preview_plays(page, seconds: float) -> None:
    """The browser decodes the H.264 preview made from the upload (browsers play no AVI)."""
    page.wait_for_function("() => document.querySelector('video[data-preview]').readyState >= 2")
    duration = page.evaluate("() => document.querySelector('video[data-preview]').duration")
    assert abs(duration - seconds) < 0.5


def sign_up(page, base_url: str) -> None:
    browser_sign_up(page, base_url)


def upload(page, base_url: str, video) -> Analysis:
    page.goto(f"{base_url}/analyses/new/")
    page.set_input_files("input[name=file]", str(video))
    page.click("button:has-text('Upload and analyse')")
    page.wait_for_url("**/analyses/*-*-*-*-*/")
    return Analysis.objects.get()


def test_upload_follow_progress_and_review(
    live_server, new_page, screenshot, rq_worker, tiny_frame_model, tmp_path
):
    video = write_face_video(
        tmp_path / "interview.avi", seconds=3.0, fps=15, blinks_at_s=[1.0, 2.2]
    )
    owner_page = new_page()
    sign_up(owner_page, live_server.url)
    analysis = upload(owner_page, live_server.url, video)

    # Queued: the page shows live progress while the job waits and runs.
    assert owner_page.is_visible("#live-status")
    screenshot(owner_page, "e2e-1-queued")
    assert rq_worker()  # a real RQ worker, in burst mode, runs the analysis now
    analysis.refresh_from_db()
    assert analysis.status == "done", analysis.error_message

    # The page notices by itself (it polls), reloads, and shows the result with its charts.
    owner_page.wait_for_selector("[data-result]")
    assert not owner_page.is_visible("#live-status")
    assert owner_page.inner_text("[data-verdict]").strip().lower() == analysis.verdict
    assert_chart_drawn(owner_page, "timeline-chart")
    assert_chart_drawn(owner_page, "blink-chart-1")  # one chart per person
    assert owner_page.locator("[data-face] img").count() >= 1
    assert_timeline_click_seeks_the_video(owner_page, analysis.result["frame_scores"])
    assert_preview_plays(owner_page, seconds=3.0)
    screenshot(owner_page, "e2e-2-result")

    # The owner thinks the result is wrong and says so.
    owner_page.fill("#report-note", "I recorded this interview myself.")
    owner_page.click("button:has-text('Report this result')")
    owner_page.wait_for_selector("text=You reported this result as wrong")

    # A reviewer opens the queue in the admin and confirms the flagged item.
    reviewer = get_user_model().objects.create_user("reviewer", password=PASSWORD, is_staff=True)
    reviewer.user_permissions.add(Permission.objects.get(codename="review_analysis"))
    review_page = new_page()
    review_page.goto(f"{live_server.url}/admin/login/?next=/admin/detector/analysis/")
    review_page.fill("input[name=username]", "reviewer")
    review_page.fill("input[name=password]", PASSWORD)
    review_page.click("input[type=submit]")
    review_page.goto(f"{live_server.url}/admin/detector/analysis/?flagged__exact=1")
    review_page.click(f"a[href*='/admin/detector/analysis/{analysis.pk}/change/']")
    review_page.wait_for_selector("select[name=decision]")
    assert "I recorded this interview myself." in review_page.inner_text("body")
    assert_chart_drawn(review_page, "timeline-chart")
    review_page.select_option("select[name=decision]", "confirmed_real")
    review_page.fill("textarea[name=review_notes]", "Source verified with the journalist.")
    screenshot(review_page, "e2e-3-review")
    review_page.click("input[name=_save]")
    review_page.wait_for_selector(".messagelist")

    owner_page.reload()
    assert "Confirmed real" in owner_page.inner_text("[data-review-label]")
    screenshot(owner_page, "e2e-4-reviewed")
    analysis.refresh_from_db()
    assert analysis.review_label == "confirmed_real"
    assert analysis.reviews.get().notes == "Source verified with the journalist."
