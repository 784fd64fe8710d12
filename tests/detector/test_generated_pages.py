"""The result page shows the whole-image (AI generation) score beside the face scores."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from django.core.management import call_command
from django.urls import reverse

from detector import services
from detector.models import Analysis
from ml.verdict.report import GeneratedDetector, GeneratedFrame, GeneratedResult
from tests.fixtures.commfor import synthetic
from tests.support.reports import report_dict
from tests.support.uploads import analysis_upload

pytestmark = pytest.mark.django_db


def _generated(frames: list[GeneratedFrame], score: float) -> dict:
    detector = GeneratedDetector(
        "commfor-vit-s-384", "384-v11", "a" * 64, score, 0.5, frames, "Community Forensics"
    )
    return asdict(GeneratedResult(score=score, detectors=[detector]))


def _page(client, user, make_analysis, report: dict) -> str:
    analysis = make_analysis(user)
    services.analysis_finish(analysis=analysis, report=report)
    return client.get(reverse("detector:analysis-detail", args=[analysis.pk])).content.decode()


def test_an_image_shows_each_view_and_the_threshold(user_client, user, make_analysis):
    frames = [GeneratedFrame(0.0, 0.97, "whole"), GeneratedFrame(0.0, 0.4, "face 1")]
    report = report_dict("fake", 0.1, generated=_generated(frames, 0.97))
    page = _page(user_client, user, make_analysis, report)
    assert 'data-generated-detector="commfor-vit-s-384"' in page
    assert "Community Forensics" in page and "97 %" in page and "50 %" in page
    assert "a square around face 1: 40 %" in page and "the whole image: 97 %" in page


def test_without_a_whole_image_detector_the_panel_is_absent(user_client, user, make_analysis):
    page = _page(user_client, user, make_analysis, report_dict("real", 0.1))
    assert "data-generated" not in page


def test_a_video_names_the_frames_that_drove_the_score(user_client, user, make_analysis):
    frames = [GeneratedFrame(t, s) for t, s in ((0.5, 0.2), (2.5, 0.95), (4.5, 0.9), (6.5, 0.3))]
    report = report_dict("fake", None, generated=_generated(frames, 0.59)) | {"media_type": "video"}
    page = _page(user_client, user, make_analysis, report)
    assert "(mean of 4 frames)" in page
    drove = page.split('class="generated-frames"')[1].split("</ul>")[0]
    assert drove.index("2.5 s: 95 %") < drove.index("4.5 s: 90 %") < drove.index("6.5 s: 30 %")
    assert "0.5 s" not in drove
    assert 'id="timeline-chart"' in page  # the frames join the timeline chart


@pytest.mark.django_db(transaction=True)
def test_a_real_analysis_shows_the_rollout_beside_the_score(
    settings, tmp_path, user, user_client, jpeg_bytes, rq_worker
):
    settings.MODELS_ROOT = tmp_path / "models"
    hub = synthetic.write_hub_folder(tmp_path / "commfor-384", synthetic.small_state_dict(2))
    call_command(
        "install_model",
        str(hub),
        "--format",
        "commfor",
        "--name",
        "cf",
        "--version",
        "1",
        "--activate",
    )
    analysis = analysis_upload(user, "face.jpg", jpeg_bytes)
    assert rq_worker()
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.DONE, analysis.error_message
    (detector,) = analysis.result["generated"]["detectors"]
    assert detector["heatmap"] and detector["heatmap_view"] == "whole"
    page = user_client.get(reverse("detector:analysis-detail", args=[analysis.pk])).content.decode()
    panel = page.split("data-generated>")[1].split("</section>")[0]
    assert f'src="data:image/jpeg;base64,{detector["heatmap"]}"' in panel
    assert 'data-generated-heatmap="cf"' in panel and "on the whole image" in panel


def test_a_video_shows_the_rollout_of_the_frame_that_drove_the_score(
    user_client, user, make_analysis
):
    frames = [GeneratedFrame(0.5, 0.2), GeneratedFrame(2.5, 0.95)]
    generated = _generated(frames, 0.58)
    generated["detectors"][0] |= {"heatmap": "AAAA", "heatmap_time_s": 2.5, "heatmap_view": "whole"}
    report = report_dict("fake", None, generated=generated) | {"media_type": "video"}
    page = _page(user_client, user, make_analysis, report)
    figure = page.split('class="generated-heatmap"')[1].split("</figure>")[0]
    assert 'src="data:image/jpeg;base64,AAAA"' in figure
    assert "on the frame at 2.5 s, its highest score" in figure
