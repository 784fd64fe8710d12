"""The result page partial, the JSON download, the printable report and "looks wrong"."""

from __future__ import annotations

import base64
import json

import pytest

from detector import services
from detector.models import Analysis
from detector.services import review_record
from ml.verdict.report import BlinkResult, ClassifierInfo, FaceResult, FragmentSpan, Report

pytestmark = pytest.mark.django_db


def video_report(*, classifier: ClassifierInfo | None, thumbnail: str = "") -> dict:
    return Report(
        media_type="video",
        verdict="fake" if classifier else "inconclusive",
        fake_probability=0.87 if classifier else None,
        reasons=["Face 1 scores 0.87 on 30 frames.", "Blink rate is low."],
        duration_s=3.0,
        fps=10.0,
        width=256,
        height=256,
        frames_sampled=3,
        frames_decoded=30,
        faces=[
            FaceResult(
                track_id=1,
                frames=30,
                score=0.87 if classifier else None,
                thumbnail=thumbnail,
            )
        ],
        frame_scores=[[0.0, 0.8], [1.0, 0.9], [2.0, 0.91]] if classifier else [],
        blink=BlinkResult(
            status="abnormal",
            count=1,
            rate_per_minute=20.0,
            timestamps_s=[1.5],
            ear_series=[[0.0, 0.3], [1.5, 0.05], [2.9, 0.31]],
            usable_frames=30,
            threshold=0.2,
            message="One blink in three seconds.",
        ),
        classifier=classifier,
        classifiers=[classifier] if classifier else [],
        timings_s={"faces": 1.25, "classify": 0.5},
        version="test-1",
    ).to_dict()


@pytest.fixture
def effnet() -> ClassifierInfo:
    return ClassifierInfo(
        name="effnet",
        version="3",
        sha256="ab" * 32,
        arch="efficientnet_b7",
        input_size=380,
    )


@pytest.fixture
def done(make_analysis, user, video_bytes, jpeg_bytes, effnet) -> Analysis:
    analysis = make_analysis(user, name="clip.avi", content=video_bytes)
    thumbnail = base64.b64encode(jpeg_bytes).decode()
    services.analysis_finish(
        analysis=analysis, report=video_report(classifier=effnet, thumbnail=thumbnail)
    )
    analysis.refresh_from_db()
    return analysis


def url(analysis: Analysis, tail: str) -> str:
    return f"/analyses/{analysis.pk}/{tail}"


def test_detail_page_renders_charts_faces_blinks_and_provenance(user_client, done):
    html = user_client.get(url(done, "")).content.decode()
    assert "data-verdict>Fake<" in html and "87 %" in html
    assert "Face 1 scores 0.87 on 30 frames." in html
    assert 'id="timeline-chart"' in html and 'id="blink-chart"' in html
    assert html.count('src="data:image/jpeg;base64,') == 1
    assert "seen in 30 frames" in html
    assert "20.0 per minute" in html and "17 at rest" in html
    assert "effnet" in html and "efficientnet_b7" in html and "1.25 s" in html
    assert "data-no-classifier" not in html
    embedded = html.split('<script id="report-data" type="application/json">')[1].split(
        "</script>"
    )[0]
    assert json.loads(embedded) == done.result
    assert "/static/vendor/chartjs/chart.umd.min.js" in html and "/static/js/result.js" in html


def test_without_a_classifier_the_page_says_so(user_client, make_analysis, user, video_bytes):
    analysis = make_analysis(user, name="clip.avi", content=video_bytes)
    services.analysis_finish(analysis=analysis, report=video_report(classifier=None))
    html = user_client.get(url(analysis, "")).content.decode()
    assert "data-no-classifier" in html and "No trained classifier ran" in html
    assert 'id="timeline-chart"' not in html  # nothing to plot
    assert "not scored" in html


def test_heatmaps_show_when_the_report_has_them(user_client, done, png_bytes):
    heatmap = base64.b64encode(png_bytes).decode()
    done.result["faces"][0]["heatmap"] = heatmap
    Analysis.objects.filter(pk=done.pk).update(result=done.result)
    html = user_client.get(url(done, "")).content.decode()
    assert f'class="heatmap" src="data:image/jpeg;base64,{heatmap}"' in html


def test_a_face_framed_approximately_says_so(user_client, done):
    html = user_client.get(url(done, "")).content.decode()
    assert "data-approximate-framing" not in html
    done.result["faces"][0]["approximate_framing"] = [3, 9]
    Analysis.objects.filter(pk=done.pk).update(result=done.result)
    html = user_client.get(url(done, "")).content.decode()
    assert "approximate framing on 2 frames" in html


def test_owner_sees_the_reviewers_label(user_client, done, staff_user):
    review_record(analysis=done, reviewer=staff_user, label="confirmed_real", notes="")
    html = user_client.get(url(done, "")).content.decode()
    assert "data-review-label" in html and "Confirmed real" in html


def test_json_download_is_the_stored_report_with_its_identity(user_client, done):
    response = user_client.get(url(done, "report.json"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        "attachment; filename=\"clip.report.json\"; filename*=UTF-8''clip.report.json"
    )
    data = json.loads(response.content)
    assert data.pop("analysis")["id"] == str(done.pk)  # docs/report.md, "Export"
    assert data == done.result


def people_report() -> dict:
    """Two people: one judged with blinks over two fragments, one too blurred to judge."""
    report = Report.from_dict(video_report(classifier=None))
    blink = BlinkResult(
        status="ok",
        count=2,
        rate_per_minute=24.0,
        timestamps_s=[0.5, 2.5],
        ear_series=[[0.0, 0.3], [0.5, 0.05], [1.0, 0.3], [2.0, 0.3], [2.5, 0.06]],
        usable_frames=40,
        threshold=0.22,
        message="2 blinks in 5 s (24.0 per minute)",
    )
    report.faces = [
        FaceResult(
            track_id=1,
            frames=40,
            score=None,
            fragments=[
                FragmentSpan(0, 15, 0.0, 1.0, 16),
                FragmentSpan(30, 54, 2.0, 3.0, 24),
            ],
            quality={
                "face_px": 64.0,
                "sharpness": 56.0,
                "frontalness": 0.98,
                "detection_score": 1.1,
                "frames": 40,
                "seen_s": 2.0,
            },
            blink=blink,
        ),
        FaceResult(
            track_id=2,
            frames=30,
            score=None,
            judged=False,
            not_judged_reason="too blurred (sharpness 7.2; at least 15 is needed)",
            blink=BlinkResult(status="insufficient_evidence", message="too short"),
        ),
    ]
    report.blink = blink
    return report.to_dict()


def test_detail_page_shows_each_person_and_why_one_was_not_judged(
    user_client, make_analysis, user, video_bytes
):
    analysis = make_analysis(user, name="two.avi", content=video_bytes)
    services.analysis_finish(analysis=analysis, report=people_report())
    html = user_client.get(url(analysis, "")).content.decode()
    assert "Not judged: too blurred (sharpness 7.2; at least 15 is needed)" in html
    assert html.count("data-not-judged") == 1
    assert "in 2 stretches" in html and "64 px · sharpness 56" in html
    # One blink chart per person with an EAR series; none for the old single chart.
    assert 'id="blink-chart-1"' in html and 'id="blink-chart-2"' not in html
    assert 'id="blink-chart"' not in html
    assert 'data-person-blinks="2"' in html and "(not judged)" in html
    assert "2 blinks in 5 s (24.0 per minute)" in html


def test_printable_report_has_charts_and_faces(user_client, done):
    response = user_client.get(url(done, "print/"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<body class="print">' in html
    assert done.sha256 in html and "clip.avi" in html
    assert 'id="timeline-chart"' in html and 'id="blink-chart"' in html
    assert 'src="data:image/jpeg;base64,' in html
    assert "report-wrong" not in html  # no controls on paper


def test_owner_reports_a_wrong_result(user_client, done):
    response = user_client.post(url(done, "report-wrong/"), {"note": "My own video, not a fake."})
    assert response.status_code == 302 and response["Location"] == url(done, "")
    done.refresh_from_db()
    assert done.flagged and done.reported_by_owner
    assert done.report_note == "My own video, not a fake."
    assert "You reported this result as wrong" in user_client.get(url(done, "")).content.decode()
    assert user_client.get(url(done, "report-wrong/")).status_code == 405


@pytest.mark.parametrize("tail", ["report.json", "print/"])
def test_others_and_strangers_get_nothing(other_client, client, done, tail):
    assert other_client.get(url(done, tail)).status_code == 404
    anonymous = client.get(url(done, tail))
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


def test_others_cannot_flag(other_client, done):
    Analysis.objects.filter(pk=done.pk).update(flagged=False)
    assert other_client.post(url(done, "report-wrong/"), {"note": "x"}).status_code == 404
    done.refresh_from_db()
    assert not done.flagged and not done.reported_by_owner


def test_unfinished_analysis_has_no_downloads(user_client, make_analysis, user):
    queued = make_analysis(user)
    assert user_client.get(url(queued, "report.json")).status_code == 404
    assert user_client.get(url(queued, "print/")).status_code == 404


def test_long_closures_are_a_small_table(user_client, done):
    done.result["blink"]["long_closures"] = [[1.1, 0.8], [3.2, 2.3]]
    Analysis.objects.filter(pk=done.pk).update(result=done.result)
    html = user_client.get(url(done, "")).content.decode()
    table = html[
        html.index("data-long-closures") : html.index("</table>", html.index("data-long-closures"))
    ]
    assert "<td>1.1 s</td><td>0.8 s</td>" in table and "<td>3.2 s</td><td>2.3 s</td>" in table
