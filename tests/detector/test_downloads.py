"""Every download names its file the RFC 6266 way: an ASCII fallback and the exact UTF-8 name."""

from __future__ import annotations

from email.message import Message
from email.utils import collapse_rfc2231_value

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from detector import services
from detector.downloads import content_disposition
from tests.detector.conftest import report_dict

pytestmark = pytest.mark.django_db

NAME = 'my "best" café 東京.jpg'
FALLBACK = 'my "best" cafe __.jpg'


def parsed(header: str) -> tuple[str, str, str]:
    """(disposition, ASCII fallback, exact name), read by Python's RFC 2231 parser."""
    message = Message()
    message["Content-Disposition"] = header
    (disposition, _), *params = message.get_params(header="content-disposition")
    [fallback] = [v for k, v in params if k == "filename" and isinstance(v, str)]
    [exact] = [v for k, v in params if k == "filename" and isinstance(v, tuple)]
    return disposition, fallback, collapse_rfc2231_value(exact)


def test_header_has_an_escaped_ascii_fallback_and_the_exact_utf8_name():
    header = content_disposition('a "b" \\ c — café 東京.mp4', attachment=True)
    assert header == (
        'attachment; filename="a \\"b\\" \\\\ c _ cafe __.mp4"; '
        "filename*=UTF-8''a%20%22b%22%20%5C%20c%20%E2%80%94%20caf%C3%A9%20"
        "%E6%9D%B1%E4%BA%AC.mp4"
    )
    assert parsed(header) == (
        "attachment",
        'a "b" \\ c _ cafe __.mp4',
        'a "b" \\ c — café 東京.mp4',
    )


def test_control_characters_never_reach_the_header():
    header = content_disposition("evil\r\nSet-Cookie: x=1.jpg", attachment=False)
    assert "\r" not in header and "\n" not in header
    assert parsed(header) == ("inline", *["evilSet-Cookie: x=1.jpg"] * 2)


def test_an_empty_name_still_names_the_file():
    header = content_disposition("", attachment=True)
    assert parsed(header) == ("attachment", "download", "download")


@pytest.fixture
def done(make_analysis, user):
    analysis = make_analysis(user, name=NAME)
    services.analysis_finish(analysis=analysis, report=report_dict("real"))
    return analysis


@pytest.mark.parametrize(
    ("path", "disposition", "suffix"),
    [
        ("media/", "inline", ".jpg"),
        ("media/?download=1", "attachment", ".jpg"),
        ("report.json", "attachment", ".report.json"),
        ("print/", "inline", ".report.html"),
    ],
)
def test_owner_downloads_carry_the_exact_name(user_client, done, path, disposition, suffix):
    response = user_client.get(f"/analyses/{done.pk}/{path}")
    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert header.isascii()
    stem, fallback_stem = NAME.removesuffix(".jpg"), FALLBACK.removesuffix(".jpg")
    assert parsed(header) == (disposition, fallback_stem + suffix, stem + suffix)


def test_media_is_private_and_sandboxed_for_owner_and_reviewer(
    user_client, staff_user, done, jpeg_bytes
):
    staff_user.user_permissions.add(Permission.objects.get(codename="review_analysis"))
    reviewer = Client()
    reviewer.force_login(staff_user)
    admin_url = reverse("admin:detector_analysis_media", args=[done.pk])
    for response in (
        user_client.get(f"/analyses/{done.pk}/media/"),
        reviewer.get(admin_url),
    ):
        assert response.status_code == 200
        # Never in a shared cache.
        assert response["Cache-Control"].startswith("private, max-age=")
        assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert parsed(response["Content-Disposition"]) == ("inline", FALLBACK, NAME)
        assert b"".join(response.streaming_content) == jpeg_bytes


def test_the_admin_serves_media_with_the_owners_headers(user_client, staff_user, done):
    staff_user.user_permissions.add(Permission.objects.get(codename="review_analysis"))
    reviewer = Client()
    reviewer.force_login(staff_user)
    owner = user_client.get(f"/analyses/{done.pk}/media/", HTTP_RANGE="bytes=0-9")
    admin = reviewer.get(
        reverse("admin:detector_analysis_media", args=[done.pk]), HTTP_RANGE="bytes=0-9"
    )
    assert owner.status_code == admin.status_code == 206
    assert dict(admin.headers) == dict(owner.headers)


@pytest.mark.parametrize(
    ("header", "status", "span"),
    [
        ("bytes=10-19", 206, (10, 19)),
        ("bytes=100-", 206, (100, None)),
        ("bytes=-7", 206, (-7, None)),
        ("bytes=5-999999999", 206, (5, None)),
        ("", 200, (0, None)),
        ("items=1-2", 200, (0, None)),  # not a byte range: the whole file
    ],
)
def test_media_honours_a_byte_range_so_browsers_can_seek(
    user_client, done, jpeg_bytes, header, status, span
):
    extra = {"HTTP_RANGE": header} if header else {}
    response = user_client.get(f"/analyses/{done.pk}/media/", **extra)
    assert response.status_code == status
    assert response["Accept-Ranges"] == "bytes"
    body = b"".join(response.streaming_content)
    first, last = span
    expected = jpeg_bytes[first : None if last is None else last + 1]
    assert body == expected
    if status == 206:
        start = first % len(jpeg_bytes)
        end = start + len(expected) - 1
        assert response["Content-Range"] == f"bytes {start}-{end}/{len(jpeg_bytes)}"
        assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_a_range_past_the_end_is_unsatisfiable(user_client, done, jpeg_bytes):
    response = user_client.get(
        f"/analyses/{done.pk}/media/", HTTP_RANGE=f"bytes={len(jpeg_bytes)}-"
    )
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(jpeg_bytes)}"
