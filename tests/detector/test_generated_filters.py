"""The whole-image (AI generation) score in the history and the API: stored as a column when
the result is saved, filtered (`generated`, `generated_min`), sorted and listed. Reports come
from real analyses with a tiny whole-image detector."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Permission
from django.urls import reverse

from detector import services
from detector.models import Analysis
from detector.templatetags.result_tags import percent
from ml import analyze
from ml.options import ModelSpecs
from tests.support import mediagen, networks
from tests.support.api import LIST_URL, api_client_for, detail_url
from tests.support.reports import report_dict
from tests.support.uploads import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    """Reports of one face-free picture: found generated (P about 0.75 against 0.2) and
    not found (P about 0.2 against 0.5), by the tiny brightness detector."""
    folder = tmp_path_factory.mktemp("generated")
    ys, xs = np.mgrid[0:240, 0:320]
    rgb = np.stack([xs % 256, (ys * 2) % 256, np.full_like(xs, 128)], axis=-1).astype(np.uint8)
    scene = mediagen.write_image(folder / "scene.png", fmt="PNG", rgb=rgb)
    found = networks.save_image_spec(folder, "found", threshold=0.2)
    unfound = networks.save_image_spec(folder, "unfound", threshold=0.5, centre=0.9)
    return {
        name: analyze(scene, models=ModelSpecs(image=[spec])).to_dict()
        for name, spec in (("made.png", found), ("photo.png", unfound))
    }


@pytest.fixture
def history(user, other_user, make_analysis, reports, tmp_path) -> dict[str, Analysis]:
    def finished(owner, name: str, report: dict, side: int) -> Analysis:
        analysis = make_analysis(owner, name=name, content=image_bytes(tmp_path, side=side))
        services.analysis_finish(analysis=analysis, report=report)
        return Analysis.objects.get(pk=analysis.pk)

    finished(other_user, "theirs.png", reports["made.png"], 200)  # never in the user's list
    rows = {
        name: finished(user, name, report, 210 + i)
        for i, (name, report) in enumerate(reports.items())
    }
    rows["old.jpg"] = finished(user, "old.jpg", report_dict("real", 0.1), 230)
    return rows


def test_the_score_is_stored_with_the_result(history, reports):
    made, photo = history["made.png"], history["photo.png"]
    assert (
        made.generated_score
        == reports["made.png"]["generated"]["score"]
        == pytest.approx(0.75, abs=0.05)
    )
    assert photo.generated_score == pytest.approx(0.2, abs=0.05)
    assert history["old.jpg"].generated_score is None


def _listed(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["original_filename"] for item in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"generated": "detected"}, {"made.png"}),
        ({"generated": "not-detected"}, {"photo.png"}),
        ({"generated_min": "0.5"}, {"made.png"}),
        ({"generated_min": "0"}, {"made.png", "photo.png"}),
        ({"generated_min": "0.1", "q": "photo"}, {"photo.png"}),
        ({}, {"made.png", "photo.png", "old.jpg"}),
    ],
)
def test_the_api_and_the_history_filter_on_it(user, user_client, history, query, expected):
    assert _listed(api_client_for(user).get(LIST_URL, query)) == expected
    page = user_client.get(reverse("detector:analysis-list"), query).content.decode()
    assert {name for name in history if f">{name}</a>" in page} == expected


def test_the_api_lists_the_score_and_sorts_by_it(user, history):
    api = api_client_for(user)
    listed = api.get(LIST_URL, {"sort": "generated"}).json()["results"]
    assert [(a["original_filename"], a["generated_score"]) for a in listed] == [
        ("made.png", history["made.png"].generated_score),
        ("photo.png", history["photo.png"].generated_score),
        ("old.jpg", None),
    ]
    detail = api.get(detail_url(history["made.png"])).json()
    assert detail["generated_score"] == detail["result"]["generated"]["score"]
    assert detail["result"]["generated"]["detectors"][0]["name"] == "found"


@pytest.mark.parametrize("value", ["1.5", "-0.1", "likely"])
def test_the_api_refuses_a_bound_outside_0_to_1(user, history, value):
    refused = api_client_for(user).get(LIST_URL, {"generated_min": value})
    assert refused.status_code == 400 and "generated_min" in refused.content.decode()


def test_the_history_shows_the_score_column(user_client, history):
    page = user_client.get(reverse("detector:analysis-list")).content.decode()
    cells = page.split("data-generated-cell>")[1:]
    assert len(cells) == 3
    shown = {c.split("</td>")[0] for c in cells}
    assert {percent(history[n].generated_score) for n in ("made.png", "photo.png")} < shown


def test_the_migration_fills_the_column_from_results_stored_before_it(history):
    migration = importlib.import_module("detector.migrations.0005_analysis_generated_score")
    Analysis.objects.update(generated_score=None)
    migration.fill_from_results(django_apps, None)
    made = Analysis.objects.get(pk=history["made.png"].pk)
    assert made.generated_score == made.result["generated"]["score"]
    assert Analysis.objects.get(pk=history["old.jpg"].pk).generated_score is None


def test_the_admin_filters_on_it_across_owners(client, staff_user, history):
    staff_user.user_permissions.add(Permission.objects.get(codename="review_analysis"))
    client.force_login(staff_user)
    changelist = "/admin/detector/analysis/"
    assert "?generated=detected" in client.get(changelist).content.decode()

    def shown(value: str) -> list[str]:
        result = client.get(changelist, {"generated": value}).context["cl"].result_list
        return sorted(a.original_filename for a in result)

    assert shown("detected") == ["made.png", "theirs.png"]
    assert shown("not-detected") == ["photo.png"]
