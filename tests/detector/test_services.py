"""The analysis lifecycle: store, queue, progress, finish, fail, re-analyse, delete."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import django_rq
import numpy as np
import pytest
from django.conf import settings

from detector import services
from detector.models import Analysis
from detector.queue.jobs import run_analysis_failed
from detector.services import analyses
from detector.uploads import UploadRejected
from ml.options import AnalysisOptions
from ml.verdict.report import FaceResult
from tests.support.detector_models import detector_model_create
from tests.support.reports import report_dict
from tests.support.uploads import as_upload

pytestmark = pytest.mark.django_db


def stored_path(analysis) -> Path:
    return Path(settings.MEDIA_ROOT) / analysis.media_file


def test_create_stores_a_private_copy_under_a_random_name(user, jpeg_bytes):
    analysis = services.analysis_create(
        owner=user, uploaded_file=as_upload("../../etc/passwd", jpeg_bytes)
    )
    path = stored_path(analysis)
    assert path.read_bytes() == jpeg_bytes
    assert path.parent == Path(settings.MEDIA_ROOT) / "uploads" / str(user.pk)
    assert path.suffix == ".jpg" and "passwd" not in path.name
    assert path.stat().st_mode & 0o777 == 0o600
    assert analysis.original_filename == "passwd"
    assert analysis.sha256 == hashlib.sha256(jpeg_bytes).hexdigest()
    assert analysis.size_bytes == len(jpeg_bytes)
    assert (analysis.media_type, analysis.mime_type) == ("image", "image/jpeg")
    assert analysis.status == Analysis.Status.QUEUED
    assert analysis.options["frames"] == 32


def test_two_uploads_of_one_name_never_share_a_file(user, jpeg_bytes):
    first = services.analysis_create(owner=user, uploaded_file=as_upload("a.jpg", jpeg_bytes))
    second = services.analysis_create(owner=user, uploaded_file=as_upload("a.jpg", jpeg_bytes))
    assert first.media_file != second.media_file


def test_create_queues_the_job_once_committed(
    user, jpeg_bytes, rq_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        analysis = services.analysis_create(
            owner=user,
            uploaded_file=as_upload("a.jpg", jpeg_bytes),
            options=AnalysisOptions(frames=8),
        )
    analysis.refresh_from_db()
    job = django_rq.get_queue("default").fetch_job(analysis.rq_job_id)
    assert job is not None
    assert job.func_name == "detector.queue.jobs.run_analysis"
    assert job.failure_callback is run_analysis_failed  # the dotted path resolves
    assert list(job.args) == [str(analysis.pk)]
    assert analysis.options["frames"] == 8


def test_create_uses_the_configured_queue(
    user, jpeg_bytes, rq_worker, settings, django_capture_on_commit_callbacks
):
    settings.ANALYSIS_QUEUE = "gpu"
    with django_capture_on_commit_callbacks(execute=True):
        analysis = services.analysis_create(
            owner=user, uploaded_file=as_upload("a.jpg", jpeg_bytes)
        )
    analysis.refresh_from_db()
    assert analysis.rq_job_id in django_rq.get_queue("gpu").job_ids
    assert analysis.rq_job_id not in django_rq.get_queue("default").job_ids


def test_a_rejected_upload_stores_nothing(user):
    with pytest.raises(UploadRejected):
        services.analysis_create(owner=user, uploaded_file=as_upload("x.jpg", b"not an image"))
    assert not Analysis.objects.exists()
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.*"))


def running(analysis):
    services.analysis_mark_running(analysis=analysis)
    return analysis


def test_progress_never_goes_backwards(user, make_analysis, monkeypatch):
    monkeypatch.setattr(analyses, "PROGRESS_MIN_INTERVAL_S", 0)
    analysis = running(make_analysis(user))
    services.analysis_set_progress(analysis=analysis, percent=50, stage="Finding faces")
    services.analysis_set_progress(analysis=analysis, percent=30, stage="Scoring faces")
    analysis.refresh_from_db()
    assert (analysis.progress, analysis.stage) == (50, "Scoring faces")


def test_progress_writes_are_throttled(user, make_analysis, django_assert_max_num_queries):
    analysis = running(make_analysis(user))
    analysis._progress_written_at = 0.0  # as if the last write was long ago
    with django_assert_max_num_queries(1):
        for percent in range(1, 60):
            services.analysis_set_progress(analysis=analysis, percent=percent, stage="Decoding")
    analysis.refresh_from_db()
    assert analysis.progress == 1


def test_finish_records_the_result_and_the_models(user, make_analysis, classifier_info):
    model = detector_model_create(sha256=classifier_info.sha256, active=True)
    detector_model_create(name="other", arch="meso4", file_path="/m/o.keras", sha256="cd" * 32)
    analysis = running(make_analysis(user))
    report = report_dict("fake", 0.93, classifiers=[classifier_info])
    services.analysis_finish(analysis=analysis, report=report)

    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.DONE
    assert (analysis.verdict, analysis.fake_probability) == ("fake", 0.93)
    assert analysis.result == report
    assert analysis.progress == 100 and analysis.finished is not None
    assert analysis.code_version == "test-1"
    assert analysis.flagged is True
    assert list(analysis.detector_models.all()) == [model]


@pytest.mark.parametrize(
    ("verdict", "probability", "flagged"),
    [
        ("real", 0.1, False),
        ("fake", 0.9, True),
        ("inconclusive", 0.52, True),  # borderline score
        ("inconclusive", None, False),  # no classifier ran: nothing for a reviewer to settle
    ],
)
def test_finish_flags_what_needs_a_human_look(user, make_analysis, verdict, probability, flagged):
    analysis = running(make_analysis(user))
    services.analysis_finish(analysis=analysis, report=report_dict(verdict, probability))
    analysis.refresh_from_db()
    assert analysis.flagged is flagged


def test_fail_records_the_reason(user, make_analysis):
    analysis = running(make_analysis(user))
    services.analysis_fail(analysis=analysis, reason="The video is damaged.")
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.FAILED
    assert analysis.error_message == "The video is damaged."
    assert analysis.finished is not None


def test_finishing_a_deleted_analysis_does_not_bring_it_back(user, make_analysis):
    analysis = running(make_analysis(user))
    Analysis.objects.filter(pk=analysis.pk).delete()
    services.analysis_finish(analysis=analysis, report=report_dict("real"))
    services.analysis_fail(analysis=analysis, reason="late")
    assert not Analysis.objects.filter(pk=analysis.pk).exists()


def test_finish_and_fail_queue_the_callback_when_asked(
    user, make_analysis, rq_worker, django_capture_on_commit_callbacks
):
    with_url = make_analysis(user, callback_url="https://example.org/hook")
    without = make_analysis(user)
    with django_capture_on_commit_callbacks(execute=True):
        services.analysis_finish(analysis=with_url, report=report_dict("real"))
        services.analysis_fail(analysis=without, reason="x")
    jobs = django_rq.get_queue("default").get_jobs()
    deliveries = [job for job in jobs if job.func_name == "detector.queue.jobs.callback_deliver"]
    assert [list(job.args) for job in deliveries] == [[str(with_url.pk)]]


def test_reanalyze_keeps_the_earlier_result(
    user, make_analysis, django_capture_on_commit_callbacks, rq_worker
):
    first = make_analysis(user)
    services.analysis_finish(analysis=first, report=report_dict("real"))
    with django_capture_on_commit_callbacks(execute=True):
        again = services.analysis_reanalyze(analysis=first)
    first.refresh_from_db()
    again.refresh_from_db()
    assert again.pk != first.pk and again.previous == first
    assert again.status == Analysis.Status.QUEUED and again.rq_job_id
    assert again.media_file == first.media_file and again.sha256 == first.sha256
    assert first.status == Analysis.Status.DONE and first.verdict == "real"


def test_delete_keeps_a_file_another_analysis_uses(
    user, make_analysis, django_capture_on_commit_callbacks
):
    first = make_analysis(user)
    again = services.analysis_reanalyze(analysis=first)
    derived = services.analysis_derived_dir(first)
    derived.mkdir(parents=True)
    (derived / "thumbnail.jpg").write_bytes(b"x")
    path = stored_path(first)

    with django_capture_on_commit_callbacks(execute=True):
        services.analysis_delete(analysis=first)
    assert path.exists() and not derived.exists()
    assert not Analysis.objects.filter(pk=first.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.analysis_delete(analysis=again)
    assert not path.exists()


def test_thumbnail_of_an_image_is_small_and_cached(user, make_analysis):
    from PIL import Image

    analysis = make_analysis(user)
    path = services.analysis_thumbnail(analysis=analysis)
    with Image.open(path) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == services.THUMBNAIL_SIDE
    assert services.analysis_thumbnail(analysis=analysis) == path


def test_thumbnail_of_a_video_is_its_first_frame(user, make_analysis, video_bytes):
    from PIL import Image

    analysis = make_analysis(user, name="clip.avi", content=video_bytes)
    with Image.open(services.analysis_thumbnail(analysis=analysis)) as thumb:
        assert thumb.size == (services.THUMBNAIL_SIDE, services.THUMBNAIL_SIDE)


def test_thumbnail_skips_a_black_fade_in(user, make_analysis, tmp_path):
    from PIL import Image

    from tests.support.mediagen import write_face_video

    video = write_face_video(tmp_path / "fade.avi", seconds=2.0, fps=10, black_until_s=0.5)
    analysis = make_analysis(user, name="fade.avi", content=video.read_bytes())
    with Image.open(services.analysis_thumbnail(analysis=analysis)) as thumb:
        grey = np.asarray(thumb.convert("L"), dtype=np.float32)
    assert grey.mean() > 50  # the astronaut, not the black first frame


def test_thumbnail_of_a_finished_analysis_is_the_deciding_face(
    user, make_analysis, video_bytes, jpeg_bytes
):
    from PIL import Image

    analysis = make_analysis(user, name="clip.avi", content=video_bytes)
    first_frame = services.analysis_thumbnail(analysis=analysis)
    blurred = Image.new("RGB", (96, 96), (10, 200, 10))
    deciding = Image.new("RGB", (96, 96), (200, 10, 10))
    faces = []
    for track_id, picture, judged in [(1, blurred, False), (2, deciding, True)]:
        jpeg = io.BytesIO()
        picture.save(jpeg, "JPEG")
        faces.append(
            FaceResult(
                track_id=track_id,
                frames=20,
                score=None if not judged else 0.9,
                thumbnail=base64.b64encode(jpeg.getvalue()).decode(),
                judged=judged,
            )
        )
    report = report_dict("fake", 0.9, faces=faces, decisive_face=2)
    services.analysis_finish(analysis=analysis, report=report)
    analysis.refresh_from_db()
    path = services.analysis_thumbnail(analysis=analysis)
    assert path != first_frame
    with Image.open(path) as thumb:
        red, green, _ = np.asarray(thumb.convert("RGB"), dtype=np.float32).mean(axis=(0, 1))
    assert red > 150 and green < 60


def test_no_thumbnail_for_a_missing_file(user, make_analysis):
    analysis = make_analysis(user)
    stored_path(analysis).unlink()
    assert services.analysis_thumbnail(analysis=analysis) is None
