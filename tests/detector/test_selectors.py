"""History reads: only the user's own analyses, filtered, searched and sorted."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.http import Http404
from django.utils import timezone

from detector import services
from detector.models import Analysis
from detector.selectors import (
    analysis_find_duplicate,
    analysis_find_upload_duplicate,
    analysis_get_for,
    analysis_list_for,
    analysis_pick_for,
)
from tests.support.reports import report_dict
from tests.support.uploads import as_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(user, other_user, make_analysis, png_bytes, video_bytes):
    """Three analyses of the user's, one of someone else's, on different days."""
    cat = make_analysis(user, name="cat.jpg")
    beach = make_analysis(user, name="Beach party.png", content=png_bytes)
    clip = make_analysis(user, name="interview.avi", content=video_bytes)
    foreign = make_analysis(other_user, name="cat-of-bob.jpg")
    services.analysis_finish(analysis=cat, report=report_dict("fake", 0.9))
    services.analysis_finish(analysis=beach, report=report_dict("real", 0.2))
    now = timezone.now()
    for analysis, days_ago in ((cat, 10), (beach, 5), (clip, 0), (foreign, 1)):
        Analysis.objects.filter(pk=analysis.pk).update(created=now - dt.timedelta(days=days_ago))
    return {"cat": cat, "beach": beach, "clip": clip, "foreign": foreign}


def names(queryset) -> list[str]:
    return [a.original_filename for a in queryset]


def test_newest_first_and_only_the_users_own(user, history):
    assert names(analysis_list_for(user=user, filters={})) == [
        "interview.avi",
        "Beach party.png",
        "cat.jpg",
    ]


def test_search_by_filename_ignores_case(user, history):
    assert names(analysis_list_for(user=user, filters={"q": "BEACH"})) == ["Beach party.png"]
    assert names(analysis_list_for(user=user, filters={"q": "cat"})) == ["cat.jpg"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "done"}, ["Beach party.png", "cat.jpg"]),
        ({"status": "queued"}, ["interview.avi"]),
        ({"verdict": "fake"}, ["cat.jpg"]),
        ({"media_type": "video"}, ["interview.avi"]),
        ({"media_type": "image", "verdict": "real"}, ["Beach party.png"]),
    ],
)
def test_filters(user, history, filters, expected):
    assert names(analysis_list_for(user=user, filters=filters)) == expected


def test_date_range_is_inclusive(user, history):
    today = timezone.now().date()
    filters = {
        "date_from": today - dt.timedelta(days=5),
        "date_to": today - dt.timedelta(days=1),
    }
    assert names(analysis_list_for(user=user, filters=filters)) == ["Beach party.png"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("oldest", ["cat.jpg", "Beach party.png", "interview.avi"]),
        ("name", ["Beach party.png", "cat.jpg", "interview.avi"]),
        ("probability", ["cat.jpg", "Beach party.png", "interview.avi"]),
        ("nonsense", ["interview.avi", "Beach party.png", "cat.jpg"]),
    ],
)
def test_sorting(user, history, sort, expected):
    assert names(analysis_list_for(user=user, filters={"sort": sort})) == expected


def test_get_for_gives_404_for_someone_elses_analysis(user, other_user, history):
    assert analysis_get_for(user=user, pk=history["cat"].pk) == history["cat"]
    with pytest.raises(Http404):
        analysis_get_for(user=user, pk=history["foreign"].pk)
    with pytest.raises(Http404):
        analysis_get_for(user=other_user, pk=history["cat"].pk)


def test_staff_see_only_their_own_here(staff_user, history):
    assert not analysis_list_for(user=staff_user, filters={}).exists()
    with pytest.raises(Http404):
        analysis_get_for(user=staff_user, pk=history["cat"].pk)


def test_pick_for_drops_other_peoples_ids(user, history):
    picked = analysis_pick_for(user=user, pks=[history["cat"].pk, history["foreign"].pk])
    assert list(picked) == [history["cat"]]


def test_find_duplicate_looks_only_at_the_owners_analyses(
    user, other_user, make_analysis, jpeg_bytes, png_bytes
):
    sha = hashlib.sha256(jpeg_bytes).hexdigest()
    assert analysis_find_duplicate(owner=user, sha256=sha) is None
    mine = make_analysis(user)
    make_analysis(user, name="other.png", content=png_bytes)
    assert analysis_find_duplicate(owner=user, sha256=sha) == mine
    assert analysis_find_duplicate(owner=other_user, sha256=sha) is None


def test_an_upload_of_content_seen_before_finds_the_earlier_analysis(
    user, make_analysis, jpeg_bytes, png_bytes
):
    upload = as_upload("renamed.jpg", jpeg_bytes)
    assert analysis_find_upload_duplicate(owner=user, uploaded_file=upload) is None
    earlier = make_analysis(user)
    assert analysis_find_upload_duplicate(owner=user, uploaded_file=upload) == earlier
    assert upload.read() == jpeg_bytes  # the upload can still be stored afterwards
    other = as_upload("other.png", png_bytes)
    assert analysis_find_upload_duplicate(owner=user, uploaded_file=other) is None
