"""Reads of RQ's own records: did the job of an analysis end without settling its row?

Redis is transport, the row is the truth; this module only tells the services what RQ knows
about one job, so that an analysis whose worker died can be queued again or failed.
"""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass

import django_rq
import psutil
from django.conf import settings
from redis import Redis
from rq import Worker
from rq.job import Job, JobStatus

WAITING = {JobStatus.CREATED, JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
# RQ's record of a dead work-horse:
# "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); ".
HORSE_SIGNAL = re.compile(r"Work-horse terminated unexpectedly;.*\(signal (\d+)\)")
# Stored by detector.queue.worker in RQ's worker record, so that pids are compared only where they
# mean the same process.
PID_NAMESPACE_FIELD = "pid_namespace"
# A process started this long after a worker registered is not that worker (its pid was reused).
PID_REUSE_SLACK_S = 5.0


@dataclass(frozen=True)
class JobEnd:
    """A job that is neither waiting nor running any more."""

    # Redis no longer knows the job (flushed, or restarted without data).
    lost: bool = False
    # The signal that killed its work-horse, when RQ recorded one.
    signal: int | None = None

    @property
    def out_of_memory(self) -> bool:
        # The kernel's OOM killer ends a process with SIGKILL.
        return self.signal == signal.SIGKILL


def queue_connection() -> Redis:
    """The Redis that holds the analysis queues (every queue shares REDIS_URL)."""
    return django_rq.get_connection(settings.ANALYSIS_QUEUE)


def job_end(*, job_id: str, connection: Redis) -> JobEnd | None:
    """How the job ended, or None while it waits in a queue or runs on a live worker."""
    job = Job.fetch_many([job_id], connection=connection)[0]
    if job is None:
        return JobEnd(lost=True)
    status = job.get_status(refresh=False)
    if status in WAITING:
        return None
    if status == JobStatus.STARTED:
        return None if worker_alive(name=job.worker_name, connection=connection) else JobEnd()
    result = job.latest_result()
    return JobEnd(signal=horse_signal(result.exc_string if result else ""))


def horse_signal(exc_string: str | None) -> int | None:
    match = HORSE_SIGNAL.search(exc_string or "")
    return int(match.group(1)) if match else None


def worker_alive(*, name: str | None, connection: Redis) -> bool:
    """False when the worker is known to be gone.

    A worker that stopped heartbeating is dropped by RQ itself (its key expires, and the
    started-job registry hands its job to the failure callback); a worker whose process is
    visible from here (same PID namespace) and no longer exists is found dead at once, so a
    restarted worker need not wait for its heartbeat to expire.
    """
    if not name:
        return False
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=connection)
    if worker is None or worker.death_date is not None:
        return False
    namespace = connection.hget(worker.key, PID_NAMESPACE_FIELD)
    here = pid_namespace()
    if not here or namespace is None or namespace.decode() != here:
        return True  # another machine or container: trust its heartbeat
    if not worker.pid or not worker.birth_date:
        return True
    return _process_alive(worker.pid, born=worker.birth_date.timestamp())


def pid_namespace() -> str:
    """This process's PID namespace ("pid:[4026531836]"): pids mean the same only within it."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _process_alive(pid: int, *, born: float) -> bool:
    try:
        started = psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return False
    return started <= born + PID_REUSE_SLACK_S
