"""One upload budget per user: web uploads, web re-analyses and the API's spend it together."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from detector.models import Analysis
from detector.upload_budget import upload_budget_spend, upload_rate
from tests.support.api import LIST_URL, api_client_for
from tests.support.uploads import image_bytes

pytestmark = pytest.mark.django_db

LIMIT_MESSAGE = "You have reached the limit of 3 uploads and re-analyses an hour."


@pytest.fixture(autouse=True)
def three_an_hour(settings):
    settings.UPLOAD_RATE = "3/hour"


def api_upload(api: APIClient, content: bytes):
    upload = SimpleUploadedFile("api.jpg", content, content_type="image/jpeg")
    return api.post(LIST_URL, {"file": upload}, format="multipart")


def web_upload(client, content: bytes):
    upload = SimpleUploadedFile("web.png", content, content_type="image/png")
    return client.post(reverse("detector:analysis-create"), {"file": upload})


def web_reanalyze(client, analysis: Analysis):
    return client.post(reverse("detector:analysis-reanalyze", args=[analysis.pk]))


def test_web_and_api_spend_one_budget(
    user_client, user, other_user, jpeg_bytes, png_bytes, tmp_path
):
    api = api_client_for(user)
    assert api_upload(api, jpeg_bytes).status_code == 202
    assert web_upload(user_client, png_bytes).status_code == 302
    first = Analysis.objects.get(original_filename="web.png")
    assert web_reanalyze(user_client, first).status_code == 302
    assert Analysis.objects.filter(owner=user).count() == 3

    # The budget is spent: every way in is refused, and nothing is stored or queued.
    refused = api_upload(api, jpeg_bytes)
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert refused.json()["detail"].startswith(LIMIT_MESSAGE)
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert api.post(f"/api/v1/analyses/{first.pk}/reanalyze/").status_code == 429

    page = web_upload(user_client, image_bytes(tmp_path, "PNG", side=200))  # new content
    assert page.status_code == 429
    assert 0 < int(page["Retry-After"]) <= 3600
    assert LIMIT_MESSAGE in page.content.decode()

    response = web_reanalyze(user_client, first)
    assert response["Location"] == reverse("detector:analysis-detail", args=[first.pk])
    shown = user_client.get(response["Location"]).content.decode()
    assert LIMIT_MESSAGE in shown
    assert Analysis.objects.filter(owner=user).count() == 3

    # Another user's budget is their own.
    assert api_upload(api_client_for(other_user), jpeg_bytes).status_code == 202


def test_the_budget_counts_per_window(user, settings):
    settings.UPLOAD_RATE = "2/day"
    assert upload_rate() == (2, 86400)
    upload_budget_spend(user=user)
    upload_budget_spend(user=user)
    with pytest.raises(Exception, match="limit of 2 uploads and re-analyses a day"):
        upload_budget_spend(user=user)


def test_a_malformed_rate_says_what_it_should_look_like(settings):
    settings.UPLOAD_RATE = "sixty an hour"
    with pytest.raises(ValueError, match="UPLOAD_RATE must look like 60/hour"):
        upload_rate()


def test_a_cache_outage_does_not_refuse_uploads(settings, user, caplog):
    from django.core.cache import caches

    dead = "redis://127.0.0.1:9/0"  # the discard port: nothing answers there
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead,
        }
    }
    caches.close_all()
    for _ in range(5):  # over the 3/hour limit: nothing counted, nothing refused
        upload_budget_spend(user=user)
    assert "shared cache is unreachable" in caplog.text
