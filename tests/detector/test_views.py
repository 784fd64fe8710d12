"""The web pages: upload (with every kind of bad file), history, detail, media, bulk delete."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.urls import reverse

from detector import services
from detector.models import Analysis
from tests.detector.conftest import report_dict

pytestmark = pytest.mark.django_db

CREATE = reverse("detector:analysis-create")
LIST = reverse("detector:analysis-list")


def url(name: str, analysis) -> str:
    return reverse(f"detector:{name}", args=[analysis.pk])


def post_file(client, name: str, content: bytes, **fields):
    return client.post(CREATE, {"file": SimpleUploadedFile(name, content), **fields})


def stored_files() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


# Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["analysis-list", "analysis-create"])
def test_pages_need_a_login(client, name):
    response = client.get(reverse(f"detector:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_analysis_pages_need_a_login(client, user, make_analysis):
    analysis = make_analysis(user)
    for name in (
        "analysis-detail",
        "analysis-status",
        "analysis-media",
        "analysis-thumbnail",
        "analysis-preview",
    ):
        response = client.get(url(name, analysis))
        assert response.status_code == 302, name


# Uploads ----------------------------------------------------------------------------------


def test_upload_an_image_and_land_on_its_page(user_client, user, jpeg_bytes):
    response = post_file(user_client, "My face.jpg", jpeg_bytes, frames=16)
    analysis = Analysis.objects.get(owner=user)
    assert response.status_code == 302
    assert response["Location"] == url("analysis-detail", analysis)
    assert analysis.original_filename == "My face.jpg"
    assert analysis.options["frames"] == 16
    page = user_client.get(response["Location"])
    assert b"My face.jpg" in page.content and b"live-status" in page.content


def test_uploads_stream_to_a_temporary_file_not_memory(user_client, jpeg_bytes):
    response = post_file(user_client, "face.jpg", jpeg_bytes)
    assert isinstance(response.wsgi_request.FILES["file"], TemporaryUploadedFile)


def test_upload_a_video(user_client, user, video_bytes):
    assert post_file(user_client, "clip.avi", video_bytes).status_code == 302
    assert Analysis.objects.get(owner=user).media_type == "video"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"plain text, not media\n" * 20, "not supported"),
        ("fake.jpg", b"plain text named like a photo\n" * 20, "not supported"),
        ("empty.jpg", b"", "empty"),
        ("broken.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 10, "damaged"),
    ],
)
def test_bad_uploads_are_rejected_with_a_specific_message(
    user_client, user, name, content, message
):
    response = post_file(user_client, name, content)
    assert response.status_code == 400
    assert message in response.content.decode().lower()
    assert not Analysis.objects.exists()
    assert stored_files() == []


def test_an_upload_over_the_limit_is_stopped(user_client, settings):
    settings.MAX_UPLOAD_MB = 1
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (1024 * 1024 + 10)
    response = post_file(user_client, "big.jpg", big)
    assert response.status_code == 400
    assert "larger than the 1 MB upload limit" in response.content.decode()
    assert not Analysis.objects.exists() and stored_files() == []


def test_an_extension_that_lies_does_not_matter(user_client, user, png_bytes):
    post_file(user_client, "clip.mp4", png_bytes)
    analysis = Analysis.objects.get(owner=user)
    assert (analysis.media_type, analysis.mime_type) == ("image", "image/png")
    assert analysis.media_file.endswith(".png")


def test_a_path_traversal_name_stays_a_label(user_client, user, jpeg_bytes):
    post_file(user_client, "../../../etc/passwd", jpeg_bytes)
    analysis = Analysis.objects.get(owner=user)
    assert analysis.original_filename == "passwd"
    (only,) = stored_files()
    assert only.parent == Path(settings.MEDIA_ROOT) / "uploads" / str(user.pk)
    assert only.read_bytes() == jpeg_bytes


def test_the_same_content_again_offers_the_existing_result(user_client, user, jpeg_bytes):
    post_file(user_client, "first.jpg", jpeg_bytes)
    existing = Analysis.objects.get(owner=user)
    services.analysis_finish(analysis=existing, report=report_dict("real"))

    response = post_file(user_client, "renamed copy.jpg", jpeg_bytes)
    assert response.status_code == 200
    assert Analysis.objects.filter(owner=user).count() == 1
    page = response.content.decode()
    assert "View existing result" in page and url("analysis-detail", existing) in page
    assert "Analyse again" in page and url("analysis-reanalyze", existing) in page
    assert len(stored_files()) == 1


def test_someone_elses_copy_is_not_offered(user_client, other_user, make_analysis, jpeg_bytes):
    make_analysis(other_user)
    response = post_file(user_client, "face.jpg", jpeg_bytes)
    assert response.status_code == 302
    assert Analysis.objects.count() == 2


# One analysis -----------------------------------------------------------------------------


def test_status_json(user_client, user, make_analysis):
    analysis = make_analysis(user)
    services.analysis_mark_running(analysis=analysis)
    data = user_client.get(url("analysis-status", analysis)).json()
    assert data["status"] == "running" and data["finished"] is False
    assert data["stage"] == "Starting"
    services.analysis_fail(analysis=analysis, reason="The video is damaged.")
    data = user_client.get(url("analysis-status", analysis)).json()
    assert data["finished"] is True and data["error_message"] == "The video is damaged."


def test_detail_shows_the_failure_reason(user_client, user, make_analysis):
    analysis = make_analysis(user)
    services.analysis_fail(analysis=analysis, reason="The video is damaged.")
    page = user_client.get(url("analysis-detail", analysis)).content.decode()
    assert "The analysis failed" in page and "The video is damaged." in page
    assert "live-status" not in page


def test_detail_shows_the_result_when_done(user_client, user, make_analysis):
    analysis = make_analysis(user)
    services.analysis_finish(analysis=analysis, report=report_dict("fake", 0.87))
    page = user_client.get(url("analysis-detail", analysis)).content.decode()
    assert "Test verdict fake." in page  # a reason from the Report, via _result.html
    assert "live-status" not in page


def test_media_streams_the_original_to_its_owner(user_client, user, make_analysis, jpeg_bytes):
    analysis = make_analysis(user)
    response = user_client.get(url("analysis-media", analysis))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == jpeg_bytes


def test_thumbnail(user_client, user, make_analysis):
    response = user_client.get(url("analysis-thumbnail", make_analysis(user)))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"


def test_reanalyze_keeps_both(user_client, user, make_analysis):
    first = make_analysis(user)
    services.analysis_finish(analysis=first, report=report_dict("real"))
    response = user_client.post(url("analysis-reanalyze", first))
    again = Analysis.objects.exclude(pk=first.pk).get()
    assert response["Location"] == url("analysis-detail", again)
    assert again.previous == first
    first.refresh_from_db()
    assert first.verdict == "real" and first.result is not None
    assert (
        "Later analyses of this file"
        in user_client.get(url("analysis-detail", first)).content.decode()
    )


def test_the_old_reanalyse_address_redirects_keeping_the_post(user_client, user, make_analysis):
    analysis = make_analysis(user)
    moved = user_client.post(f"/analyses/{analysis.pk}/reanalyse/")
    assert moved.status_code == 308
    assert moved["Location"] == url("analysis-reanalyze", analysis)
    assert Analysis.objects.count() == 1


def test_reanalyze_needs_post(user_client, user, make_analysis):
    assert user_client.get(url("analysis-reanalyze", make_analysis(user))).status_code == 405


# Isolation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "analysis-detail",
        "analysis-status",
        "analysis-media",
        "analysis-thumbnail",
        "analysis-preview",
    ],
)
def test_other_users_get_404(other_client, user, make_analysis, name):
    assert other_client.get(url(name, make_analysis(user))).status_code == 404


def test_other_users_cannot_reanalyze(other_client, user, make_analysis):
    analysis = make_analysis(user)
    assert other_client.post(url("analysis-reanalyze", analysis)).status_code == 404
    assert Analysis.objects.count() == 1


def test_staff_cannot_open_others_analyses_on_these_pages(client, staff_user, user, make_analysis):
    client.force_login(staff_user)
    assert client.get(url("analysis-detail", make_analysis(user))).status_code == 404


def test_history_lists_only_my_analyses(user_client, user, other_user, make_analysis, png_bytes):
    make_analysis(user, name="mine.jpg")
    make_analysis(other_user, name="theirs.png", content=png_bytes)
    page = user_client.get(LIST).content.decode()
    assert "mine.jpg" in page and "theirs.png" not in page


def test_history_filters_and_pages(user_client, user, make_analysis, png_bytes):
    for index in range(26):
        make_analysis(user, name=f"photo-{index:02}.jpg")
    make_analysis(user, name="odd.png", content=png_bytes)
    first = user_client.get(LIST).context["page"]
    assert len(first.object_list) == 25 and first.paginator.count == 27
    found = user_client.get(LIST, {"q": "odd"}).context["page"]
    assert [a.original_filename for a in found.object_list] == ["odd.png"]
    page_two = user_client.get(LIST, {"sort": "name", "page": 2})
    names = [a.original_filename for a in page_two.context["page"].object_list]
    assert names == ["photo-24.jpg", "photo-25.jpg"]
    assert "sort=name&amp;page=1" in page_two.content.decode()  # paging keeps the filters


# Bulk delete ------------------------------------------------------------------------------


def test_bulk_delete_asks_first_then_removes_rows_and_files(
    user_client,
    user,
    other_user,
    make_analysis,
    png_bytes,
    django_capture_on_commit_callbacks,
):
    keep = make_analysis(user, name="keep.jpg")
    doomed = [
        make_analysis(user, name="a.png", content=png_bytes),
        make_analysis(other_user),
    ]
    ids = [str(a.pk) for a in doomed]
    files = [Path(settings.MEDIA_ROOT) / a.media_file for a in doomed]

    confirm = user_client.post(reverse("detector:analysis-bulk-delete"), {"ids": ids})
    assert confirm.status_code == 200 and "a.png" in confirm.content.decode()
    assert Analysis.objects.count() == 3

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            reverse("detector:analysis-bulk-delete"), {"ids": ids, "confirm": "yes"}
        )
    assert response.status_code == 302
    assert set(Analysis.objects.values_list("pk", flat=True)) == {keep.pk, doomed[1].pk}
    assert not files[0].exists()
    assert (Path(settings.MEDIA_ROOT) / keep.media_file).exists()
    assert files[1].exists()  # someone else's analysis is untouched
    assert hashlib.sha256(files[1].read_bytes()).hexdigest() == doomed[1].sha256


def test_bulk_delete_with_nothing_chosen_deletes_nothing(user_client, user, make_analysis):
    make_analysis(user)
    response = user_client.post(
        reverse("detector:analysis-bulk-delete"),
        {"ids": ["not-a-uuid"], "confirm": "yes"},
    )
    assert response.status_code == 302
    assert Analysis.objects.count() == 1
