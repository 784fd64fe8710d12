"""The small findings of the hostile-user probe, each as the attack that showed it: a file
name too long for the multipart headers, the models list naming server paths, derived files
other accounts could read, a forged Host answered in HTML under /api/, a cacheable token page,
429s without Retry-After, and refused uploads that spent the upload budget."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from detector import services
from detector.models import Analysis
from detector.uploads import FILENAME_TOO_LONG
from tests.support.api import LIST_URL, api_client_for
from tests.support.detector_models import detector_model_create

pytestmark = pytest.mark.django_db

BOUNDARY = "----attack"


def raw_multipart(filename: str, content: bytes) -> tuple[bytes, str]:
    """A body as a browser sends it: Django's test client would cut the name to 255."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{BOUNDARY}--\r\n".encode(), (
        f"multipart/form-data; boundary={BOUNDARY}"
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_thousand_character_filename_gets_a_specific_message(user_client, user, jpeg_bytes):
    body, content_type = raw_multipart("a" * 996 + ".jpg", jpeg_bytes)
    page = user_client.generic("POST", "/analyses/new/", body, content_type=content_type)
    assert page.status_code == 400
    assert "The file name is too long" in page.content.decode()
    api = api_client_for(user)
    answer = api.generic("POST", LIST_URL, body, content_type=content_type)
    assert answer.status_code == 400
    assert answer.json()["fields"] == {"file": [FILENAME_TOO_LONG]}
    assert not Analysis.objects.exists()


def test_the_models_list_does_not_show_users_the_servers_install_path(user):
    card = {"name": "effnet", "installed": {"source": "/srv/secret/weights.h5", "at": "2025"}}
    detector_model_create(card=card)
    answer = api_client_for(user).get("/api/v1/models/")
    assert answer.status_code == 200
    assert "/srv/secret" not in answer.content.decode()
    assert answer.json()["results"][0]["card"]["installed"] == {"at": "2025"}


def test_other_accounts_on_the_server_cannot_read_stored_or_derived_files(
    user, media_root, jpeg_bytes
):
    assert mode(media_root) == 0o755  # as an operator's mkdir leaves it
    analysis = services.analysis_create(
        owner=user, uploaded_file=SimpleUploadedFile("a.jpg", jpeg_bytes, "image/jpeg")
    )
    thumbnail = services.analysis_thumbnail(analysis=analysis)
    stored = services.analysis_media_path(analysis)
    for folder in (media_root, media_root / "uploads", stored.parent, media_root / "derived"):
        assert mode(folder) == 0o700, folder
    assert mode(thumbnail.parent) == 0o700
    assert mode(stored) == 0o600 and mode(thumbnail) == 0o600


def test_a_forged_host_under_the_api_gets_a_json_400(client):
    answer = client.get("/api/v1/models/", HTTP_HOST="evil.example")
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "bad_request"
    page = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


def test_the_token_page_is_never_stored_by_a_cache(user_client):
    answer = user_client.get(reverse("profile"))
    assert "no-store" in answer["Cache-Control"]


def test_a_locked_out_sign_in_page_says_when_to_retry(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(3):
        page = client.post(reverse("login"), {"username": "alice", "password": "wrong-1"})
    assert page.status_code == 429
    assert int(page["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()


def test_refused_uploads_do_not_spend_the_upload_budget(
    settings, user_client, user, jpeg_bytes, png_bytes
):
    settings.UPLOAD_RATE = "2/hour"
    junk = b"MZ\x90\x00 not a picture" * 100
    web = reverse("detector:analysis-create")
    api = api_client_for(user)
    for n in range(5):
        page = user_client.post(web, {"file": SimpleUploadedFile(f"{n}.jpg", junk)})
        assert page.status_code == 400
        answer = api.post(LIST_URL, {"file": SimpleUploadedFile(f"{n}.jpg", junk)})
        assert answer.status_code == 400
        too_long, content_type = raw_multipart("b" * 1000, jpeg_bytes)
        assert api.generic("POST", LIST_URL, too_long, content_type=content_type).status_code == 400
    assert (
        user_client.post(web, {"file": SimpleUploadedFile("a.jpg", jpeg_bytes)}).status_code == 302
    )
    assert api.post(LIST_URL, {"file": SimpleUploadedFile("b.png", png_bytes)}).status_code == 202
    assert api.post(LIST_URL, {"file": SimpleUploadedFile("c.png", png_bytes)}).status_code == 429
