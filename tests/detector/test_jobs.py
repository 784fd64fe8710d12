"""Jobs end to end: upload → commit → real Redis → a real RQ worker → the row ends done or failed."""

from __future__ import annotations

from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from rq import Callback

from detector import services
from detector.models import Analysis
from detector.queue.jobs import run_analysis, run_analysis_failed
from detector.services import model_install
from tests.support.mediagen import write_corrupt_video
from tests.support.networks import save_temporal_spec
from tests.support.uploads import analysis_upload

# transaction=True: analysis_create commits, so on_commit enqueues on the real queue.
pytestmark = pytest.mark.django_db(transaction=True)


def media(analysis: Analysis) -> Path:
    return Path(settings.MEDIA_ROOT) / analysis.media_file


def test_an_uploaded_image_is_analyzed_to_done(user, jpeg_bytes, rq_worker):
    analysis = analysis_upload(user, "face.jpg", jpeg_bytes)
    assert Analysis.objects.get(pk=analysis.pk).rq_job_id

    assert rq_worker() is True
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.DONE, analysis.error_message
    assert analysis.result["media_type"] == "image"
    assert analysis.verdict == "inconclusive"  # no model is installed here
    assert analysis.result["verdict"] == analysis.verdict
    assert analysis.result["faces"], "the astronaut's face should be found"
    assert analysis.progress == 100 and analysis.started and analysis.finished
    assert analysis.code_version


def test_an_uploaded_video_is_analyzed_to_done(user, video_bytes, rq_worker):
    analysis = analysis_upload(user, "clip.avi", video_bytes)
    rq_worker()
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.DONE, analysis.error_message
    assert analysis.media_type == "video"
    assert analysis.result["media_type"] == "video"
    assert analysis.result["frames_decoded"] > 0
    assert analysis.result["blink"] is not None


def test_a_deleted_file_fails_with_a_reason_and_the_worker_runs_the_next_job(
    user, jpeg_bytes, png_bytes, rq_worker
):
    lost = analysis_upload(user, "lost.jpg", jpeg_bytes)
    media(lost).unlink()
    good = analysis_upload(user, "good.png", png_bytes)

    rq_worker()
    lost.refresh_from_db()
    good.refresh_from_db()
    assert lost.status == Analysis.Status.FAILED
    assert "no longer available" in lost.error_message
    assert good.status == Analysis.Status.DONE, good.error_message


def test_a_file_overwritten_with_garbage_fails_with_the_media_message(user, video_bytes, rq_worker):
    analysis = analysis_upload(user, "clip.avi", video_bytes)
    write_corrupt_video(media(analysis))  # overwritten after the upload was accepted
    rq_worker()
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.FAILED
    assert "damaged" in analysis.error_message.lower()


def test_an_unexpected_error_is_logged_and_shown_with_a_reference(
    user, jpeg_bytes, rq_worker, monkeypatch, caplog
):
    # Fault injection: no real input makes the pipeline raise a plain bug on demand.
    def broken(path, options=None, progress=None, *, models=None):
        raise RuntimeError("boom")

    monkeypatch.setattr("ml.analyze", broken)
    analysis = analysis_upload(user, "face.jpg", jpeg_bytes)
    rq_worker()
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.FAILED
    assert "internal error (reference " in analysis.error_message
    reference = analysis.error_message.split("reference ")[1].rstrip(").")
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)


def enqueue_broken_job(analysis: Analysis, job_id: str) -> None:
    # A job RQ itself fails (wrong arguments): only the failure callback can settle the row.
    django_rq.get_queue("default", commit_mode="auto").enqueue(
        run_analysis,
        str(analysis.pk),
        "unexpected",
        job_id=job_id,
        on_failure=Callback(run_analysis_failed),
    )


def test_a_job_that_dies_in_rq_is_marked_failed(user, jpeg_bytes, rq_worker):
    analysis = analysis_upload(user, "face.jpg", jpeg_bytes)
    django_rq.get_queue("default").empty()
    enqueue_broken_job(analysis, Analysis.objects.get(pk=analysis.pk).rq_job_id)
    rq_worker()
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.FAILED
    assert "stopped unexpectedly" in analysis.error_message


def test_a_stale_duplicate_job_neither_runs_nor_fails_the_analysis(user, jpeg_bytes, rq_worker):
    analysis = analysis_upload(user, "face.jpg", jpeg_bytes)
    own_job = Analysis.objects.get(pk=analysis.pk).rq_job_id
    django_rq.get_queue("default").empty()
    enqueue_broken_job(analysis, "stale-duplicate")
    run_analysis_stale = django_rq.get_queue("default", commit_mode="auto").enqueue(
        run_analysis, str(analysis.pk), job_id="stale-runner"
    )
    rq_worker()
    analysis.refresh_from_db()
    assert run_analysis_stale.get_status() == "finished"
    assert analysis.status == Analysis.Status.QUEUED  # still waiting for its own job
    assert analysis.rq_job_id == own_job and analysis.started is None


def test_a_job_for_a_deleted_analysis_does_nothing(user, jpeg_bytes, rq_worker):
    analysis = analysis_upload(user, "face.jpg", jpeg_bytes)
    pk, job_id = analysis.pk, Analysis.objects.get(pk=analysis.pk).rq_job_id
    Analysis.objects.filter(pk=pk).delete()
    rq_worker()
    assert not Analysis.objects.filter(pk=pk).exists()
    assert django_rq.get_queue("default").fetch_job(job_id).get_status() == "finished"


def test_a_finished_analysis_is_not_run_twice(user, jpeg_bytes):
    analysis = analysis_upload(user, "face.jpg", jpeg_bytes)
    services.analysis_fail(analysis=analysis, reason="stopped by hand")
    run_analysis(str(analysis.pk))
    analysis.refresh_from_db()
    assert analysis.error_message == "stopped by hand"


def test_an_active_temporal_model_scores_videos_and_is_recorded(
    user, video_bytes, tmp_path, settings, rq_worker
):
    settings.MODELS_ROOT = tmp_path / "models"
    spec = save_temporal_spec(tmp_path, "track", logit=5.0)
    installed = model_install(source=spec.path, activate=True)
    assert installed.kind == "temporal" and installed.active

    analysis = analysis_upload(user, "clip.avi", video_bytes)
    rq_worker()
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.DONE, analysis.error_message
    assert list(analysis.detector_models.all()) == [installed]
    assert analysis.verdict == "fake"
    assert any(r.startswith("temporal model: 0.99") for r in analysis.result["reasons"])
