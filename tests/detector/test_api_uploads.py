"""API v1 uploads: what is accepted and queued, what is refused and why, and throttling."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from detector.models import Analysis
from tests.support.api import LIST_URL, api_client_for, detail_url

pytestmark = pytest.mark.django_db


def test_upload_is_accepted_and_queued(api, alice, jpeg_upload, jpeg_bytes):
    response = api.post(
        LIST_URL,
        {
            "file": jpeg_upload(),
            "frames": "16",
            "callback_url": "https://93.184.215.14/hook",
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    analysis = Analysis.objects.get(pk=body["id"])
    assert analysis.owner == alice
    assert body["status"] == "queued"
    assert body["media_type"] == "image"
    assert body["result"] is None
    # A plain str: WSGI servers refuse any other header type (the test client does not).
    assert type(response["Location"]) is str
    assert response["Location"].endswith(detail_url(analysis))
    assert analysis.options["frames"] == 16
    assert analysis.callback_url == "https://93.184.215.14/hook"
    assert (Path(settings.MEDIA_ROOT) / analysis.media_file).read_bytes() == jpeg_bytes


def test_upload_without_file_is_400(api):
    response = api.post(LIST_URL, {"frames": "16"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["fields"]["file"]
    assert not Analysis.objects.exists()


def test_empty_file_is_400_with_its_own_message(api):
    empty = SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg")
    response = api.post(LIST_URL, {"file": empty}, format="multipart")
    assert response.status_code == 400
    assert "empty" in response.json()["fields"]["file"][0].lower()
    assert not Analysis.objects.exists()


def test_wrong_type_is_400_with_the_upload_rejection_message(api):
    text = SimpleUploadedFile("clip.mp4", b"just some text, not a video\n" * 50)
    response = api.post(LIST_URL, {"file": text}, format="multipart")
    assert response.status_code == 400
    message = response.json()["fields"]["file"][0]
    assert message and "file" in message.lower()
    assert not Analysis.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).glob("uploads/**/*.*"))


def test_too_large_file_is_400_and_says_so(api, settings, jpeg_bytes):
    settings.MAX_UPLOAD_MB = 1
    padded = jpeg_bytes + b"\0" * (1024 * 1024)
    big = SimpleUploadedFile("big.jpg", padded, content_type="image/jpeg")
    response = api.post(LIST_URL, {"file": big}, format="multipart")
    assert response.status_code == 400
    assert response.json()["fields"]["file"] == ["The file is larger than the 1 MB upload limit."]
    assert not Analysis.objects.exists()


@pytest.mark.parametrize(
    "callback_url",
    [
        "ftp://example.org/hook",
        "javascript:alert(1)",
        "not a url",
        "file:///etc/passwd",
    ],
)
def test_bad_callback_url_is_400(api, callback_url, jpeg_upload):
    response = api.post(
        LIST_URL,
        {"file": jpeg_upload(), "callback_url": callback_url},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["callback_url"]
    assert not Analysis.objects.exists()


@pytest.mark.parametrize("frames", ["0", "3", "129", "many", "-5"])
def test_bad_frames_is_400(api, frames, jpeg_upload):
    response = api.post(LIST_URL, {"file": jpeg_upload(), "frames": frames}, format="multipart")
    assert response.status_code == 400
    assert response.json()["fields"]["frames"]
    assert not Analysis.objects.exists()


def test_uploads_are_throttled_per_user(api, bob, settings, jpeg_upload):
    settings.UPLOAD_RATE = "2/hour"
    for _ in range(2):
        assert api.post(LIST_URL, {"file": jpeg_upload()}, format="multipart").status_code == 202
    refused = api.post(LIST_URL, {"file": jpeg_upload()}, format="multipart")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert "limit of 2 uploads and re-analyses an hour" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert Analysis.objects.count() == 2
    # Another user has a budget of their own; reading is never throttled.
    assert (
        api_client_for(bob).post(LIST_URL, {"file": jpeg_upload()}, format="multipart").status_code
        == 202
    )
    assert api.get(LIST_URL).status_code == 200
