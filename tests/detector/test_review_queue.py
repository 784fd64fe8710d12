"""A review queue people can find: the admin home counts what waits, the review page plays the
browser-playable preview, says why the item was flagged, and shows an owner's report only when
there is one."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission

from detector import previews, services
from detector.models import Analysis
from tests.support.reports import report_dict

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/detector/analysis/"


def finished(analysis: Analysis, verdict: str, probability: float | None) -> Analysis:
    services.analysis_finish(analysis=analysis, report=report_dict(verdict, probability))
    return Analysis.objects.get(pk=analysis.pk)


@pytest.fixture
def reviewer_client(client, staff_user):
    staff_user.user_permissions.add(Permission.objects.get(codename="review_analysis"))
    client.force_login(staff_user)
    return client


def queue_count(client) -> int:
    html = client.get("/admin/").content.decode()
    found = re.search(r"Review queue \((\d+) waiting\)", html)
    assert found, "no review queue on the admin home"
    # First thing on the page's content: before the apps and the metrics link.
    assert html.index("Review queue") < html.index("Review metrics") < html.index("app-detector")
    return int(found.group(1))


def test_the_admin_home_counts_the_flagged_unreviewed(
    reviewer_client, staff_user, user, other_user, make_analysis
):
    assert queue_count(reviewer_client) == 0
    fakes = [finished(make_analysis(u), "fake", 0.9) for u in (user, other_user, user)]
    finished(make_analysis(user), "real", 0.02)  # not flagged
    assert queue_count(reviewer_client) == 3
    services.review_record(analysis=fakes[0], reviewer=staff_user, label="confirmed_fake")
    services.review_record(analysis=fakes[1], reviewer=staff_user, label="needs_more_review")
    assert queue_count(reviewer_client) == 2  # "needs more review" still waits
    # The link opens exactly those.
    listing = reviewer_client.get(f"{CHANGELIST}?awaiting=yes").content.decode()
    assert "2 analyses" in listing


def test_the_queue_lists_few_short_columns(reviewer_client, user, make_analysis):
    finished(make_analysis(user), "fake", 0.93)
    html = reviewer_client.get(f"{CHANGELIST}?awaiting=yes").content.decode()
    headers = re.findall(r'<th scope="col"[^>]*class="[^"]*column-(\w+)', html)
    assert headers == [
        "original_filename",
        "owner",
        "machine_verdict",
        "flag_reason",
        "review_label",
        "created",
    ]
    assert "Fake 93 %" in html and "fake verdict" in html


def test_why_flagged_shows_the_reasons_without_an_empty_owners_report(
    reviewer_client, user, make_analysis
):
    analysis = finished(make_analysis(user), "fake", 0.93)
    html = reviewer_client.get(f"{CHANGELIST}{analysis.pk}/change/").content.decode()
    assert "Why flagged" in html and "fake verdict" in html
    assert "Owner&#x27;s report" not in html and "Owner's report" not in html
    assert "js/review_keys.js" in html  # the F / R / M shortcuts


def test_the_owners_report_shows_when_there_is_one(reviewer_client, user, make_analysis):
    analysis = finished(make_analysis(user), "real", 0.02)
    services.analysis_report_wrong(analysis=analysis, note="This is my own photo, edited.")
    html = reviewer_client.get(f"{CHANGELIST}{analysis.pk}/change/").content.decode()
    assert "Owner&#x27;s report" in html or "Owner's report" in html
    assert "This is my own photo, edited." in html
    assert "reported as wrong by the owner" in html


def test_the_review_page_plays_the_h264_preview(reviewer_client, user, make_analysis, video_bytes):
    analysis = make_analysis(user, name="clip.avi", content=video_bytes)
    previews.analysis_preview_make(analysis=analysis)
    finished(analysis, "fake", 0.9)
    html = reviewer_client.get(f"{CHANGELIST}{analysis.pk}/change/").content.decode()
    preview_url = f"{CHANGELIST}{analysis.pk}/preview/"
    assert f'src="{preview_url}"' in html
    response = reviewer_client.get(preview_url)
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    assert b"ftyp" in b"".join(response.streaming_content)[:64]
