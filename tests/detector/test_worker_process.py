"""A real `manage.py rqworker` process on a Redis of its own: work-horses and workers that die.

The work-horse is found as the worker's child in a process group of its own (RQ's fork) and
killed with a real signal while it analyses a long generated video.
"""

from __future__ import annotations

import signal

import pytest
from django.db import connection

from detector.models import Analysis
from tests.support.servers import (
    django_process,
    stop_process,
    wait_for,
    work_horse,
)
from tests.support.uploads import analysis_upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Bounds for the waits below, generous for a loaded machine; they are limits, not measurements.
START_S = 120
SETTLE_S = 60


@pytest.fixture
def start_worker(own_redis, media_root, settings, tmp_path):
    env = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/" + connection.settings_dict["NAME"],
        "REDIS_URL": own_redis.url,
        "CACHE_URL": "locmem://",
        "MEDIA_ROOT": str(media_root),
        "MODELS_ROOT": str(settings.MODELS_ROOT),
        "SWEEP_INTERVAL_S": "2",
    }
    workers = []

    def start():
        worker = django_process(
            ["rqworker", "default", "gpu"], env=env, log=tmp_path / "worker.log"
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        stop_process(worker)


def face_video(tmp_path, seconds: float) -> bytes:
    from tests.support.mediagen import write_face_video

    return write_face_video(tmp_path / "clip.avi", seconds=seconds, fps=10).read_bytes()


@pytest.fixture
def long_video(tmp_path) -> bytes:
    """Long enough that the analysis is still running when the test kills it."""
    return face_video(tmp_path, 20)


def row(analysis: Analysis) -> Analysis:
    return Analysis.objects.get(pk=analysis.pk)


def running_horse(worker, analysis: Analysis, *, retries: int):
    """Wait until the analysis runs (after `retries` retries) and return its work-horse."""
    wait_for(
        lambda: (
            row(analysis).status == Analysis.Status.RUNNING and row(analysis).retries == retries
        ),
        timeout=START_S,
        what=f"the analysis to run (retries={retries})",
    )
    return wait_for(lambda: work_horse(worker), timeout=10, what="the work-horse")


def test_a_killed_work_horse_is_retried_once_then_failed_and_the_worker_lives_on(
    user, long_video, jpeg_bytes, start_worker
):
    worker = start_worker()
    analysis = analysis_upload(user, "long.avi", long_video)
    first_job = row(analysis).rq_job_id

    running_horse(worker, analysis, retries=0).send_signal(signal.SIGKILL)
    horse = running_horse(worker, analysis, retries=1)
    assert row(analysis).rq_job_id != first_job  # queued again under a new job
    horse.send_signal(signal.SIGKILL)

    wait_for(lambda: row(analysis).is_finished, timeout=SETTLE_S, what="the analysis to fail")
    failed = row(analysis)
    assert failed.status == Analysis.Status.FAILED
    assert failed.error_message.startswith("The worker ran out of memory on this file")
    assert "tried 2 times" in failed.error_message
    assert failed.retries == 1

    assert worker.poll() is None, "the worker itself keeps running"
    image = analysis_upload(user, "face.jpg", jpeg_bytes)
    wait_for(lambda: row(image).is_finished, timeout=START_S, what="the next job")
    assert row(image).status == Analysis.Status.DONE, row(image).error_message


def test_a_horse_stopped_otherwise_says_the_worker_stopped(user, long_video, start_worker):
    worker = start_worker()
    analysis = analysis_upload(user, "long.avi", long_video)
    running_horse(worker, analysis, retries=0).send_signal(signal.SIGTERM)
    running_horse(worker, analysis, retries=1).send_signal(signal.SIGABRT)
    wait_for(lambda: row(analysis).is_finished, timeout=SETTLE_S, what="the analysis to fail")
    assert row(analysis).error_message.startswith("The worker stopped while analysing this file")


def test_a_restarted_worker_recovers_the_analysis_its_dead_predecessor_held(
    user, tmp_path, start_worker
):
    worker = start_worker()
    # Short enough to finish on the retry, long enough to be caught while it runs.
    analysis = analysis_upload(user, "clip.avi", face_video(tmp_path, 6))
    horse = running_horse(worker, analysis, retries=0)
    # The whole worker dies with its horse (a machine or container going down).
    stop_process(worker)
    horse.wait(timeout=10)
    assert row(analysis).status == Analysis.Status.RUNNING  # nobody left to settle it

    start_worker()  # its sweep at start finds the dead worker's job and queues it again
    wait_for(lambda: row(analysis).is_finished, timeout=START_S, what="the analysis to end")
    done = row(analysis)
    assert done.status == Analysis.Status.DONE, done.error_message
    assert done.retries == 1
