"""API v1: authentication, reading, actions and the error contract, with ownership checks
(uploads, their validation and throttling: test_api_uploads.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from detector import services
from detector.models import Analysis
from detector.services import webhook_secret_for
from ml.verdict.report import Report
from tests.support.accounts import PASSWORD
from tests.support.api import LIST_URL, api_client_for, detail_url
from tests.support.detector_models import detector_model_create
from tests.support.reports import report_dict

pytestmark = pytest.mark.django_db


def finished(analysis: Analysis, *, verdict: str) -> Analysis:
    services.analysis_finish(analysis=analysis, report=report_dict(verdict, None))
    analysis.refresh_from_db()
    return analysis


# --- authentication ----------------------------------------------------------------------


def test_token_for_good_credentials_authenticates_later_requests(alice):
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=alice).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(LIST_URL).status_code == 200


def test_token_refused_for_wrong_password(alice):
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "nope"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Unable to log in with provided credentials.",
        "code": "invalid",
        "fields": {"non_field_errors": ["Unable to log in with provided credentials."]},
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", LIST_URL),
        ("post", LIST_URL),
        ("get", "/api/v1/models/"),
        ("get", "/api/v1/webhook-secret/"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Token not-a-real-token"])
def test_missing_or_bad_token_is_401(method, path, authorization):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}


def test_detail_endpoints_need_a_token(alice, make_analysis):
    analysis = make_analysis(alice)
    client = APIClient()
    for method, path in [
        ("get", detail_url(analysis)),
        ("delete", detail_url(analysis)),
        ("post", detail_url(analysis) + "reanalyze/"),
        ("post", detail_url(analysis) + "report/"),
    ]:
        assert getattr(client, method)(path).status_code == 401, path
    assert Analysis.objects.filter(pk=analysis.pk, flagged=False).exists()


# --- reading -----------------------------------------------------------------------------


def test_list_shows_only_own_analyses_with_filters(api, alice, bob, make_analysis):
    mine_real = finished(make_analysis(alice, name="real.jpg"), verdict="real")
    mine_fake = finished(make_analysis(alice, name="fake.jpg"), verdict="fake")
    make_analysis(bob, name="bobs.jpg")

    body = api.get(LIST_URL).json()
    assert body["count"] == 2
    assert {row["id"] for row in body["results"]} == {
        str(mine_real.pk),
        str(mine_fake.pk),
    }
    assert "result" not in body["results"][0]  # the list stays light

    fakes = api.get(LIST_URL, {"verdict": "fake"}).json()
    assert [row["id"] for row in fakes["results"]] == [str(mine_fake.pk)]
    searched = api.get(LIST_URL, {"q": "real"}).json()
    assert [row["id"] for row in searched["results"]] == [str(mine_real.pk)]
    assert api.get(LIST_URL, {"status": "queued"}).json()["count"] == 0
    today = mine_real.created.date().isoformat()
    assert api.get(LIST_URL, {"date_from": today, "date_to": today}).json()["count"] == 2
    assert api.get(LIST_URL, {"date_to": "2000-01-01"}).json()["count"] == 0


def test_list_is_paginated(api, alice, make_analysis):
    for index in range(3):
        make_analysis(alice, name=f"{index}.jpg")
    first_page = api.get(LIST_URL, {"page": 1}).json()
    assert first_page["count"] == 3 and first_page["next"] is None
    assert api.get(LIST_URL, {"page": 2}).status_code == 404


def test_bad_filter_is_400(api):
    response = api.get(LIST_URL, {"date_from": "yesterday-ish", "status": "exploded"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"date_from", "status"}


def test_detail_has_status_progress_and_the_report(api, alice, make_analysis):
    analysis = finished(make_analysis(alice), verdict="inconclusive")
    body = api.get(detail_url(analysis)).json()
    assert body["status"] == "done" and body["progress"] == 100
    assert body["verdict"] == "inconclusive"
    assert body["error"] == ""
    assert Report.from_dict(body["result"]).to_dict() == analysis.result


def test_failed_analysis_shows_its_error(api, alice, make_analysis):
    analysis = make_analysis(alice)
    services.analysis_fail(analysis=analysis, reason="The video could not be decoded.")
    body = api.get(detail_url(analysis)).json()
    assert body["status"] == "failed"
    assert body["error"] == "The video could not be decoded."


def test_other_users_analysis_is_404_everywhere(api, bob, make_analysis):
    theirs = make_analysis(bob)
    assert api.get(detail_url(theirs)).status_code == 404
    assert api.delete(detail_url(theirs)).status_code == 404
    assert api.post(detail_url(theirs) + "reanalyze/").status_code == 404
    assert api.post(detail_url(theirs) + "report/", {"note": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert not theirs.flagged
    assert Analysis.objects.filter(owner=bob).count() == 1
    assert api.get(f"{LIST_URL}not-a-uuid/").status_code == 404
    assert api.get(f"{LIST_URL}{'-' * 36}/").status_code == 404


# --- actions -----------------------------------------------------------------------------


def test_delete_removes_the_analysis_and_its_file(
    api, alice, django_capture_on_commit_callbacks, make_analysis
):
    analysis = make_analysis(alice)
    media = Path(settings.MEDIA_ROOT) / analysis.media_file
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(detail_url(analysis))
    assert response.status_code == 204
    assert not Analysis.objects.filter(pk=analysis.pk).exists()
    assert not media.exists()


def test_reanalyze_queues_a_new_analysis_linked_to_the_old(api, alice, make_analysis):
    first = finished(make_analysis(alice), verdict="real")
    response = api.post(detail_url(first) + "reanalyze/")
    assert response.status_code == 202
    again = Analysis.objects.get(pk=response.json()["id"])
    assert again.pk != first.pk
    assert again.previous_id == first.pk
    assert response.json()["previous"] == str(first.pk)
    assert again.status == "queued"
    first.refresh_from_db()
    assert first.verdict == "real"  # the earlier result stays


def test_the_old_reanalyse_address_redirects_keeping_the_post(api, alice, make_analysis):
    first = finished(make_analysis(alice), verdict="real")
    moved = api.post(detail_url(first) + "reanalyse/")
    assert moved.status_code == 308  # 308: the client repeats the POST, body and all
    assert moved["Location"] == detail_url(first) + "reanalyze/"
    assert Analysis.objects.count() == 1  # the redirect itself queued nothing
    assert api.post(moved["Location"]).status_code == 202


def test_owner_reports_a_result_as_wrong(api, alice, make_analysis):
    analysis = finished(make_analysis(alice), verdict="real")
    response = api.post(detail_url(analysis) + "report/", {"note": "This is a face swap."})
    assert response.status_code == 200
    assert response.json()["flagged"] is True
    analysis.refresh_from_db()
    assert analysis.flagged and analysis.reported_by_owner
    assert analysis.report_note == "This is a face swap."


def test_report_note_too_long_is_400(api, alice, make_analysis):
    analysis = make_analysis(alice)
    response = api.post(detail_url(analysis) + "report/", {"note": "x" * 2001})
    assert response.status_code == 400
    assert response.json()["fields"]["note"]
    analysis.refresh_from_db()
    assert not analysis.flagged


def test_models_lists_installed_models_with_their_cards(api):
    card = {
        "name": "effnet",
        "version": "2",
        "arch": "efficientnet_b7",
        "kind": "frame",
        "input_size": 380,
        "preprocessing": "raw255",
        "threshold": 0.6,
        "metrics": {"auc": 0.9},
    }
    detector_model_create(version="2", sha256="a" * 64, card=card, active=True)
    detector_model_create(
        version="1",
        file_path="/models/old.keras",
        sha256="b" * 64,
        card={**card, "version": "1"},
        active=False,
    )
    rows = api.get("/api/v1/models/").json()["results"]
    assert [(row["version"], row["active"]) for row in rows] == [
        ("2", True),
        ("1", False),
    ]
    assert rows[0]["card"] == card
    assert "file_path" not in rows[0]  # where files live on the server is not the client's business


def test_webhook_secret_is_per_user(api, alice, bob):
    body = api.get("/api/v1/webhook-secret/").json()
    assert body["secret"] == webhook_secret_for(user=alice)
    assert body["signature_header"] == "X-Signature"
    assert api_client_for(bob).get("/api/v1/webhook-secret/").json()["secret"] != body["secret"]


def test_upload_runs_on_a_real_worker_and_the_result_is_served(
    api, rq_worker, django_capture_on_commit_callbacks, jpeg_upload
):
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(LIST_URL, {"file": jpeg_upload()}, format="multipart")
    assert created.status_code == 202
    # A real worker: dlib finds the astronaut's face; no classifier is installed here.
    assert rq_worker()
    body = api.get(created["Location"]).json()
    assert body["status"] == "done", body["error"]
    assert body["progress"] == 100
    report = Report.from_dict(body["result"])
    assert report.media_type == "image"
    assert len(report.faces) == 1
    assert report.classifier is None and body["fake_probability"] is None
    assert body["verdict"] == report.verdict
    assert any("classifier" in reason.lower() for reason in report.reasons)


# --- the error contract ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/analyses/not-a-uuid/",
        "/api/v1/analyses/not-a-uuid/report/",
        "/api/v1/nothing-here/",
        "/api/v2/analyses/",
        "/api/v1/analyses",  # no trailing slash
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_api_addresses_are_json_404(api, path, method):
    response = getattr(api, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    assert "end with a slash" in response.json()["detail"]


def test_an_unknown_analysis_is_a_json_404(api):
    response = api.get(f"{LIST_URL}{uuid.uuid4()}/")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "No Analysis matches the given query.",
        "code": "not_found",
    }


def test_report_refuses_an_analysis_without_a_result(api, alice, make_analysis):
    queued = make_analysis(alice)
    failed = make_analysis(alice, name="broken.jpg")
    services.analysis_fail(analysis=failed, reason="The image is damaged.")
    for analysis in (queued, failed):
        response = api.post(detail_url(analysis) + "report/", {"note": "Wrong!"})
        assert response.status_code == 409
        assert response.json() == {
            "detail": "This analysis has no result yet: report it once it is done.",
            "code": "not_finished",
        }
        analysis.refresh_from_db()
        assert not analysis.flagged and not analysis.reported_by_owner
        assert analysis.report_note == ""


def test_token_endpoint_ignores_a_stale_authorization_header(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token no-longer-valid")
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=alice).key}
