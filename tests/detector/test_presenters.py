"""One public shape of an analysis: the API, the result callbacks and the detail page's status
JSON take their values from detector.presenters and agree wherever they show the same field."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from detector import services
from detector.api.serializers import AnalysisDetailSerializer, AnalysisSerializer
from detector.models import Analysis
from detector.presenters import DETAIL_FIELDS, PUBLIC_FIELDS
from detector.services.webhooks import CALLBACK_FIELDS, callback_payload
from ml.verdict.report import ClassifierInfo
from tests.support.api import api_client_for, detail_url
from tests.support.detector_models import detector_model_create
from tests.support.reports import report_dict

pytestmark = pytest.mark.django_db

SHA = "ab" * 32


def as_json(data) -> dict:
    return json.loads(JSONRenderer().render(data))


@pytest.fixture
def done(user, make_analysis) -> Analysis:
    """A finished re-analysis, scored by an installed model, its file since removed: every
    field of the public shape holds a value."""
    detector_model_create(name="effnet", sha256=SHA, active=True)
    first = make_analysis(user, callback_url="https://example.org/hook")
    again = services.analysis_reanalyze(analysis=first)
    services.analysis_mark_running(analysis=again)
    info = ClassifierInfo(name="effnet", version="1", sha256=SHA, arch="efficientnet_b7")
    report = report_dict("fake", 0.91, classifiers=[info])
    services.analysis_finish(analysis=again, report=report)
    Analysis.objects.filter(pk=again.pk).update(media_removed_at=timezone.now())
    return Analysis.objects.get(pk=again.pk)


@pytest.fixture
def failed(user, make_analysis) -> Analysis:
    analysis = make_analysis(user)
    services.analysis_fail(analysis=analysis, reason="The video is damaged.")
    return Analysis.objects.get(pk=analysis.pk)


@pytest.mark.parametrize("serializer_class", [AnalysisSerializer, AnalysisDetailSerializer])
@pytest.mark.parametrize("url_format", [None, "json"])
def test_the_api_writes_exactly_what_its_declared_fields_describe(
    done, serializer_class, url_format
):
    request = Request(APIRequestFactory().get("/api/v1/analyses/"))
    context = {"request": request, "format": url_format}
    serializer = serializer_class(done, context=context)
    # What DRF itself would write from the fields declared for the schema.
    declared = serializers.ModelSerializer.to_representation(serializer, done)
    assert as_json(serializer.data) == as_json(declared)
    assert list(serializer.data) == list(declared)


def test_the_detail_adds_only_the_result():
    assert DETAIL_FIELDS == (*PUBLIC_FIELDS, "result")
    assert AnalysisSerializer.Meta.fields == PUBLIC_FIELDS


def test_every_field_is_filled_for_a_finished_reanalysis(user, done):
    data = api_client_for(user).get(detail_url(done)).json()
    assert data["previous"] == str(done.previous_id)
    assert data["models"][0]["sha256"] == SHA
    assert data["models"][0]["card"].startswith("http://testserver/api/v1/models/?name=effnet")
    assert data["url"] == f"http://testserver{detail_url(done)}"
    assert data["media_removed_at"].endswith("Z") and data["finished"].endswith("Z")
    assert data["fake_probability"] == 0.91 and data["verdict"] == "fake"


@pytest.mark.parametrize("which", ["done", "failed"])
def test_api_callback_and_status_page_agree_on_what_they_share(request, which, user, user_client):
    analysis = request.getfixturevalue(which)
    api = api_client_for(user).get(detail_url(analysis)).json()
    callback = json.loads(json.dumps(callback_payload(analysis=analysis)))
    status_url = reverse("detector:analysis-status", args=[analysis.pk])
    status = user_client.get(status_url).json()

    assert callback["event"] == "analysis.finished"
    assert {name: callback[name] for name in CALLBACK_FIELDS} == {
        name: api[name] for name in CALLBACK_FIELDS
    }
    shared = ("id", "status", "progress", "stage", "verdict")
    assert {name: status[name] for name in shared} == {name: api[name] for name in shared}
    assert status["error_message"] == api["error"] == callback["error"]
    assert status["finished"] is True and status["status_display"] == which.capitalize()
    if which == "failed":
        assert api["error"] == "The video is damaged." and api["verdict"] == ""
