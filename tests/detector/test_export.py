"""Exports identify the file and the run (docs/report.md, "Export"), and an API upload of content
the owner analysed before names that analysis as `previous`, never another user's."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from detector import services
from detector.models import Analysis
from tests.support.api import LIST_URL, api_client_for
from tests.support.detector_models import detector_model_create
from tests.support.reports import report_dict

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs"
SHA = "cd" * 32


def export_validator() -> jsonschema.Draft202012Validator:
    report = json.loads((DOCS / "report.schema.json").read_text())
    export = json.loads((DOCS / "export.schema.json").read_text())
    registry = Registry().with_resource(report["$id"], Resource.from_contents(report))
    return jsonschema.Draft202012Validator(
        export, registry=registry, format_checker=jsonschema.FormatChecker()
    )


@pytest.fixture
def reviewed(user, staff_user, make_analysis, classifier_info) -> Analysis:
    detector_model_create(name="effnet", sha256=SHA, active=True)
    classifier_info.sha256 = SHA
    analysis = make_analysis(user, name="swap photo.jpg")
    services.analysis_mark_running(analysis=analysis)
    report = report_dict("real", 0.02, classifiers=[classifier_info], classifier=classifier_info)
    report["policy_version"] = "3"
    services.analysis_finish(analysis=analysis, report=report)
    services.review_record(analysis=analysis, reviewer=staff_user, label="confirmed_fake")
    return Analysis.objects.get(pk=analysis.pk)


def test_the_json_export_identifies_the_file_and_run_and_validates(user_client, reviewed):
    response = user_client.get(f"/analyses/{reviewed.pk}/report.json")
    data = json.loads(response.content)
    export_validator().validate(data)
    identity = data["analysis"]
    assert identity["id"] == str(reviewed.pk)
    assert identity["file"]["name"] == "swap photo.jpg"
    assert identity["file"]["sha256"] == reviewed.sha256
    assert identity["models"] == [
        {"name": "effnet", "version": "1", "arch": "efficientnet_b7", "sha256": SHA}
    ]
    assert identity["policy_version"] == "3"
    assert identity["verdict"] == "real" and identity["answer"] == "fake"
    assert identity["review"]["label"] == "confirmed_fake"
    # The Report itself is unchanged around the identity block.
    assert {k: v for k, v in data.items() if k != "analysis"} == reviewed.result


def test_the_schema_refuses_an_export_without_identity(user_client, reviewed):
    data = json.loads(user_client.get(f"/analyses/{reviewed.pk}/report.json").content)
    validator = export_validator()
    for broken in ({"analysis": None}, {"analysis": {**data["analysis"], "file": {}}}):
        assert not validator.is_valid({**data, **broken})
    assert not validator.is_valid({k: v for k, v in data.items() if k != "analysis"})


def test_an_unreviewed_export_without_classifier_validates(user_client, user, make_analysis):
    analysis = make_analysis(user)
    services.analysis_mark_running(analysis=analysis)
    services.analysis_finish(analysis=analysis, report=report_dict("inconclusive", None))
    data = json.loads(user_client.get(f"/analyses/{analysis.pk}/report.json").content)
    export_validator().validate(data)
    assert data["analysis"]["review"] is None and data["analysis"]["models"] == []
    assert data["analysis"]["policy_version"] == "default"


def test_the_printable_report_identifies_the_file_and_run(user_client, reviewed):
    html = user_client.get(f"/analyses/{reviewed.pk}/print/").content.decode()
    assert str(reviewed.pk) in html and reviewed.sha256 in html
    assert f"effnet 1 · <code>{SHA}</code>" in html
    assert "data-policy>3<" in html
    assert "confirmed_fake on " in html


def test_an_api_reupload_names_the_earlier_analysis(alice, jpeg_upload):
    api = api_client_for(alice)
    first = api.post(LIST_URL, {"file": jpeg_upload()}, format="multipart").json()
    assert first["previous"] is None
    again = api.post(LIST_URL, {"file": jpeg_upload("renamed.jpg")}, format="multipart").json()
    assert again["previous"] == first["id"]


def test_another_users_identical_upload_never_reveals_the_first(alice, bob, jpeg_upload):
    first = api_client_for(alice).post(LIST_URL, {"file": jpeg_upload()}, format="multipart")
    theirs = api_client_for(bob).post(LIST_URL, {"file": jpeg_upload()}, format="multipart")
    assert theirs.status_code == 202
    body = theirs.json()
    assert body["previous"] is None and body["review"] is None
    assert first.json()["id"] not in theirs.content.decode()
