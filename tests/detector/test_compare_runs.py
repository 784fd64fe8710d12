"""History and comparison: re-analyses grouped under their first run, re-analysis with a chosen
model and frame count, and two runs of one file side by side."""

from __future__ import annotations

import pytest
from django.urls import reverse

from detector import services
from detector.models import Analysis
from detector.selectors import models_chosen
from ml.verdict.report import ClassifierInfo, FaceResult
from tests.support.detector_models import detector_model_create
from tests.support.reports import report_dict

pytestmark = pytest.mark.django_db


def finish(analysis: Analysis, verdict: str, probability: float, model=None) -> Analysis:
    services.analysis_mark_running(analysis=analysis)
    extra = {}
    if model is not None:
        info = ClassifierInfo(
            name=model.name, version=model.version, sha256=model.sha256, arch=model.arch
        )
        extra = {"classifier": info, "classifiers": [info]}
    face = FaceResult(track_id=1, frames=1, score=probability)
    report = report_dict(verdict, probability, faces=[face], decisive_face=1, **extra)
    services.analysis_finish(analysis=analysis, report=report)
    return Analysis.objects.get(pk=analysis.pk)


@pytest.fixture
def models():
    return [
        detector_model_create(name="effnet", sha256="a1" * 32, active=True),
        detector_model_create(name="meso", sha256="b2" * 32, active=True),
    ]


def test_reanalyse_with_one_chosen_model_and_frames(user_client, user, make_analysis, models):
    first = finish(make_analysis(user), "real", 0.1)
    response = user_client.post(
        reverse("detector:analysis-reanalyze", args=[first.pk]),
        {"model": str(models[1].pk), "frames": "48"},
    )
    again = Analysis.objects.exclude(pk=first.pk).get()
    assert response.status_code == 302 and again.previous == first
    assert again.options["frames"] == 48
    # The job scores with exactly the chosen model while it is active...
    assert models_chosen(again.options) == [models[1]]
    # ...and with every active model once the choice is no longer active.
    models[1].active = False
    models[1].save()
    assert models_chosen(again.options) is None


def test_reanalyse_without_a_choice_keeps_all_active_models(user_client, user, make_analysis):
    first = finish(make_analysis(user), "real", 0.1)
    user_client.post(reverse("detector:analysis-reanalyze", args=[first.pk]))
    again = Analysis.objects.exclude(pk=first.pk).get()
    assert models_chosen(again.options) is None
    assert again.options["frames"] == first.options["frames"]


def test_reanalyse_refuses_a_model_that_is_not_active(user_client, user, make_analysis, models):
    first = finish(make_analysis(user), "real", 0.1)
    inactive = detector_model_create(name="old", sha256="c3" * 32, active=False)
    user_client.post(
        reverse("detector:analysis-reanalyze", args=[first.pk]), {"model": str(inactive.pk)}
    )
    assert Analysis.objects.count() == 1


def test_compare_two_runs_side_by_side(user_client, user, make_analysis, models):
    first = finish(make_analysis(user), "real", 0.1, models[0])
    again = finish(services.analysis_reanalyze(analysis=first), "fake", 0.9, models[1])
    detail = user_client.get(reverse("detector:analysis-detail", args=[first.pk])).content
    compare_url = reverse("detector:analysis-compare", args=[first.pk, again.pk])
    assert compare_url in detail.decode()
    html = user_client.get(compare_url).content.decode()
    for value in ("effnet 1", "meso 1", "Real", "Fake", "10 %", "90 %"):
        assert value in html, value
    assert 'class="differs" data-fact="Model"' in html
    assert 'class="differs" data-fact="Face 1"' in html
    assert '<tr data-fact="Policy">' in html  # the same in both runs
    assert '<tr data-fact="P(generated)">' in html  # no whole-image detector in either


def test_compare_refuses_other_files_and_other_users(
    user_client, user, other_user, make_analysis, jpeg_bytes, png_bytes
):
    mine = finish(make_analysis(user, content=jpeg_bytes), "real", 0.1)
    other_file = finish(make_analysis(user, name="x.png", content=png_bytes), "real", 0.1)
    theirs = finish(make_analysis(other_user, content=jpeg_bytes), "real", 0.1)
    for other in (other_file, theirs, mine):
        url = reverse("detector:analysis-compare", args=[mine.pk, other.pk])
        assert user_client.get(url).status_code == 404


def test_the_history_groups_reanalyses_under_their_first_run(user_client, user, make_analysis):
    first = finish(make_analysis(user, name="a.jpg"), "real", 0.1)
    finish(make_analysis(user, name="b.jpg"), "real", 0.1)  # later upload, another file
    again = finish(services.analysis_reanalyze(analysis=first), "real", 0.2)
    html = user_client.get(reverse("detector:analysis-list")).content.decode()
    rows = [html.index(f'data-row="{pk}"') for pk in (first.pk, again.pk)]
    other = html.index("b.jpg")
    # Newest first otherwise, but the re-run sits right under its first run.
    assert other < rows[0] < rows[1]
    assert 'class="rerun" data-row="' + str(again.pk) in html
