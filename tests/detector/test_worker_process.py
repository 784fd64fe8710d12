"""A real `manage.py rqworker` process on a Redis of its own: models loaded once per process,
job processes and workers that die.

The job process is found as the worker's child in a process group of its own and killed with a
real signal while it analyses a long generated video.
"""

from __future__ import annotations

import re
import signal

import psutil
import pytest
from django.core.management import call_command
from django.db import connection

from detector import services
from detector.models import Analysis, DetectorModel
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


@pytest.fixture(autouse=True)
def models_root(settings, tmp_path):
    settings.MODELS_ROOT = tmp_path / "models"


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
        start.log = tmp_path / "worker.log"
        worker = django_process(["rqworker", "default", "gpu"], env=env, log=start.log)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        stop_process(worker)


def face_video(tmp_path, seconds: float) -> bytes:
    from tests.support.mediagen import write_face_video

    return write_face_video(tmp_path / "clip.avi", seconds=seconds, fps=10).read_bytes()


@pytest.fixture(scope="module")
def long_video(tmp_path_factory) -> bytes:
    """Long enough (600 frames to track) that the analysis is still running when the test kills
    it or its timeout passes, even on a quiet machine."""
    return face_video(tmp_path_factory.mktemp("long"), 60)


def row(analysis: Analysis) -> Analysis:
    return Analysis.objects.get(pk=analysis.pk)


def running_horse(worker, analysis: Analysis, *, retries: int):
    """Wait until the analysis runs (after `retries` retries) and return its job process."""

    def running() -> bool:
        current = row(analysis)  # one read: status and retries of the same moment
        return current.status == Analysis.Status.RUNNING and current.retries == retries

    wait_for(
        running,
        timeout=START_S,
        what=f"the analysis to run (retries={retries})",
    )
    return wait_for(lambda: work_horse(worker), timeout=10, what="the job process")


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
    # A crash, not the OOM killer's SIGKILL. (SIGTERM is RQ's warm shutdown: the job ends.)
    running_horse(worker, analysis, retries=0).send_signal(signal.SIGABRT)
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


# --- load once ---------------------------------------------------------------------------------

LOADED = re.compile(
    r"Loaded detector models: (\S+) (\S+) in [\d.]+ s \(load (\d+) of process (\d+)\)"
)


def model_loads(log) -> list[tuple[str, int, int]]:
    """(model name, load number, process id) of every model load the worker logged."""
    return [(m[1], int(m[3]), int(m[4])) for m in LOADED.finditer(log.read_text())]


def train_tiny_model(photos, tmp_path) -> DetectorModel:
    """A real Meso-4, trained for one epoch on generated photos, installed and active."""
    call_command(
        "train_model",
        *("--arch", "meso4", "--data", str(photos), "--pseudo-fakes", "sbi"),
        *("--epochs", "1", "--batch", "4", "--input-size", "64", "--frames", "1"),
        *("--name", "tiny", "--model-version", "1", "--out", str(tmp_path / "out")),
        *("--init", "none", "--install", "--activate"),
    )
    return DetectorModel.objects.get(name="tiny", version="1")


def analyse(user, jpeg_bytes) -> Analysis:
    analysis = analysis_upload(user, "face.jpg", jpeg_bytes)
    wait_for(lambda: row(analysis).is_finished, timeout=START_S, what="the analysis to end")
    done = row(analysis)
    assert done.status == Analysis.Status.DONE, done.error_message
    return done


def test_a_worker_loads_each_model_once_and_again_only_when_the_active_set_changes(
    user, photos, tmp_path, jpeg_bytes, start_worker
):
    first_model = train_tiny_model(photos, tmp_path)
    worker = start_worker()
    first = analyse(user, jpeg_bytes)
    job_process = work_horse(worker)
    second = analyse(user, jpeg_bytes)
    assert work_horse(worker).pid == job_process.pid, "both jobs ran in one job process"
    for analysis in (first, second):
        assert analysis.result["classifier"]["sha256"] == first_model.sha256
        assert "load_models" in analysis.result["timings_s"]
    assert model_loads(start_worker.log) == [("tiny", 1, job_process.pid)]

    # Another model becomes the active one: the next job loads it, in the same process.
    other = services.model_install(source=first_model.file_path, name="tiny-b", activate=True)
    services.model_deactivate(model=first_model)
    third = analyse(user, jpeg_bytes)
    assert third.result["classifier"]["name"] == "tiny-b"
    assert model_loads(start_worker.log) == [
        ("tiny", 1, job_process.pid),
        ("tiny-b", 2, job_process.pid),
    ]
    assert other.active and work_horse(worker).pid == job_process.pid


def job_process_of(worker) -> psutil.Process:
    return wait_for(lambda: work_horse(worker), timeout=START_S, what="the job process")


def test_the_job_process_dies_with_its_worker(start_worker):
    worker = start_worker()
    job_process = job_process_of(worker)
    worker.send_signal(signal.SIGKILL)  # no chance to clean up: the kernel ends its child
    worker.wait(timeout=10)
    wait_for(
        lambda: not job_process.is_running() or job_process.status() == psutil.STATUS_ZOMBIE,
        timeout=SETTLE_S,
        what="the job process to end with its worker",
    )


def test_a_stopped_worker_stops_its_job_process_and_does_not_restart_it(start_worker):
    worker = start_worker()
    job_process = job_process_of(worker)
    worker.send_signal(signal.SIGTERM)  # RQ's warm shutdown, passed on to the job process
    assert worker.wait(timeout=SETTLE_S) == 0
    assert not job_process.is_running() or job_process.status() == psutil.STATUS_ZOMBIE


def test_a_job_past_its_timeout_is_stopped_in_the_job_process_which_lives_on(
    user, long_video, jpeg_bytes, start_worker, settings
):
    settings.RQ_JOB_TIMEOUT = 1  # the job's timeout, set when it is queued
    worker = start_worker()
    analysis = analysis_upload(user, "long.avi", long_video)
    job_process = running_horse(worker, analysis, retries=0)
    wait_for(lambda: row(analysis).is_finished, timeout=START_S, what="the timeout")
    assert row(analysis).status == Analysis.Status.FAILED
    assert row(analysis).error_message.startswith("The analysis took longer than allowed")
    settings.RQ_JOB_TIMEOUT = 600
    analyse(user, jpeg_bytes)
    assert work_horse(worker).pid == job_process.pid, (
        "RQ's SIGALRM stopped the job, not the process"
    )
