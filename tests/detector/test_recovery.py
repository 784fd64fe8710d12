"""What the queue loses is found again: Redis down at upload, Redis restarted empty, a worker
that vanished with its job. Each test runs its own redis-server and stops it for real."""

from __future__ import annotations

import time
from io import StringIO
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from rq import SimpleWorker
from rq.registry import StartedJobRegistry

from detector import services
from detector.models import Analysis
from detector.queue.state import JobEnd
from tests.support.uploads import as_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def create(user, jpeg_bytes, django_capture_on_commit_callbacks):
    def create_committed() -> Analysis:
        with django_capture_on_commit_callbacks(execute=True):
            analysis = services.analysis_create(
                owner=user, uploaded_file=as_upload("face.jpg", jpeg_bytes)
            )
        analysis.refresh_from_db()
        return analysis

    return create_committed


def test_an_upload_while_redis_is_down_waits_queued_and_runs_once_it_is_back(
    own_redis, rq_worker, create
):
    own_redis.stop()
    analysis = create()
    assert analysis.status == Analysis.Status.QUEUED  # not failed
    assert analysis.enqueued_at is None and analysis.error_message == ""
    assert (Path(settings.MEDIA_ROOT) / analysis.media_file).is_file()

    with pytest.raises(CommandError, match="Redis does not answer"):
        call_command("sweep_analyses")
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.QUEUED and analysis.enqueued_at is None

    own_redis.start()
    out = StringIO()
    call_command("sweep_analyses", stdout=out)
    assert out.getvalue().startswith("1 analyses queued, 0 recovered")
    analysis.refresh_from_db()
    assert analysis.enqueued_at is not None
    assert analysis.rq_job_id in django_rq.get_queue("default").job_ids

    rq_worker()
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.DONE, analysis.error_message
    assert analysis.retries == 0


def test_a_job_lost_by_a_redis_restart_is_queued_again(own_redis, rq_worker, create):
    analysis = create()
    lost_job = analysis.rq_job_id
    own_redis.stop()
    own_redis.start()  # no persistence: the queue comes back empty

    assert services.analysis_reconcile_orphans() == {"queued": 1, "recovered": 0}
    analysis.refresh_from_db()
    assert analysis.rq_job_id != lost_job and analysis.retries == 0
    assert services.analysis_reconcile_orphans() == {"queued": 0, "recovered": 0}

    rq_worker()
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.DONE, analysis.error_message


def abandon(analysis: Analysis) -> None:
    """A worker takes the job and vanishes; RQ's registry cleanup then finds it abandoned."""
    queue = django_rq.get_queue("default")
    job = queue.fetch_job(analysis.rq_job_id)
    worker = SimpleWorker([queue], connection=queue.connection)
    worker.register_birth()
    worker.prepare_execution(job)
    worker.prepare_job_execution(job)
    assert job.get_status() == "started"
    # Cleaning as if a day had passed: the job's heartbeat (at most its timeout) has expired.
    StartedJobRegistry("default", connection=queue.connection).cleanup(
        timestamp=time.time() + 86400
    )


def test_an_abandoned_job_is_queued_once_more_then_failed_with_the_cause(
    own_redis, rq_worker, create
):
    analysis = create()
    abandon(analysis)
    analysis.refresh_from_db()
    assert (analysis.status, analysis.retries) == (Analysis.Status.QUEUED, 1)
    assert analysis.stage.startswith("Queued again: the worker stopped")
    assert analysis.rq_job_id in django_rq.get_queue("default").job_ids

    abandon(analysis)
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.FAILED
    assert analysis.error_message == (
        "The worker stopped while analysing this file (tried 2 times). Please try again later."
    )


def test_recovery_leaves_a_settled_or_reassigned_analysis_alone(own_redis, create):
    analysis = create()
    old_job = analysis.rq_job_id
    assert not services.analysis_recover(
        analysis_id=analysis.pk, job_id="another-job", end=JobEnd()
    )
    services.analysis_fail(analysis=analysis, reason="stopped by hand")
    assert not services.analysis_recover(
        analysis_id=analysis.pk, job_id=old_job, end=JobEnd(signal=9)
    )
    analysis.refresh_from_db()
    assert analysis.error_message == "stopped by hand" and analysis.retries == 0


def test_a_horse_death_the_worker_could_not_record_is_settled_by_the_sweep(own_redis, create):
    # The worker's own hook failed (say the database was down at that moment): RQ still
    # moved the job to its failed registry with its usual record of the signal.
    analysis = create()
    Analysis.objects.filter(pk=analysis.pk).update(status=Analysis.Status.RUNNING, retries=1)
    queue = django_rq.get_queue("default")
    job = queue.fetch_job(analysis.rq_job_id)
    worker = SimpleWorker([queue], connection=queue.connection)
    worker.prepare_job_execution(job)
    worker.handle_job_failure(
        job,
        queue,
        exc_string="Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); ",
    )
    assert job.get_status() == "failed"

    assert services.analysis_reconcile_orphans() == {"queued": 0, "recovered": 1}
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.FAILED
    assert analysis.error_message == (
        "The worker ran out of memory on this file (tried 2 times). "
        "A shorter or lower-resolution file needs less memory."
    )
