"""The analysis worker: RQ's worker that loads models once and never leaves an analysis
"running" for ever.

`manage.py rqworker` uses it (settings.RQ["WORKER_CLASS"]). Its process only supervises
(`detector.queue.supervisor`): it starts one long-lived job process, which runs every job
in itself like RQ's SimpleWorker, without a fork per job, so TensorFlow, the face models and
the detector models are loaded once per process (ml.models.classify keeps them while they are active).
A job's timeout is RQ's SIGALRM in that process's main thread. The job process
- sweeps when it starts and every SWEEP_INTERVAL_S while idle (`sweep`): the outbox of
  analyses that waited for Redis, jobs Redis lost, jobs of workers that died, and once a day
  the media retention;
- closes database connections around every job, so a restarted PostgreSQL costs no job.
When the job process dies (killed, or out of memory) the parent settles its analysis and
starts a new one. A burst worker (`--burst`, and tests) runs its jobs in its own process.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.db import close_old_connections, connections
from redis import Redis
from rq import SimpleWorker

from detector.queue.state import PID_NAMESPACE_FIELD, pid_namespace
from detector.queue.supervisor import is_job_process, supervise
from detector.services import analysis_reconcile_orphans, media_retention_apply
from ml.faces import detect as faces
from ml.models import accelerator

SWEEP_LOCK = "detector:sweep"
RETENTION_LOCK = "detector:media-retention"
RETENTION_EVERY_S = 24 * 3600


def sweep(*, connection: Redis, force: bool = False) -> dict[str, int]:
    """One sweep across all workers per interval (`force` skips that lock), plus the daily
    media retention when MEDIA_RETENTION_DAYS is set."""
    interval = max(1, settings.SWEEP_INTERVAL_S - 1)
    if not force and not connection.set(SWEEP_LOCK, os.getpid(), nx=True, ex=interval):
        return {}
    counts = analysis_reconcile_orphans(connection=connection)
    days = settings.MEDIA_RETENTION_DAYS
    if days and connection.set(RETENTION_LOCK, os.getpid(), nx=True, ex=RETENTION_EVERY_S):
        try:
            counts["media_removed"] = media_retention_apply(days=days)
        except Exception:
            connection.delete(RETENTION_LOCK)  # not done today: the next sweep tries again
            raise
    return counts


class AnalysisWorker(SimpleWorker):
    def __init__(self, *args, **kwargs) -> None:
        # RQ's maintenance (registry cleanup, scheduler restart) runs as often as the sweep.
        kwargs.setdefault("maintenance_interval", settings.SWEEP_INTERVAL_S)
        super().__init__(*args, **kwargs)
        self._swept_once = False

    def register_birth(self) -> None:
        super().register_birth()
        # Lets a worker restarted on this machine tell that this one died (detector/queue/state.py).
        self.connection.hset(self.key, PID_NAMESPACE_FIELD, pid_namespace())

    def work(self, burst: bool = False, **kwargs) -> bool:
        if not burst and not is_job_process():
            return supervise(connection=self.connection)
        # Every job runs in this process: the face models serve all of them.
        faces.preload()
        self.log.info("Worker %s: %s", self.name, accelerator.summary())
        return super().work(burst=burst, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        # Wake up while idle, so the sweep runs even when no job arrives.
        return max(1, min(super().dequeue_timeout, settings.SWEEP_INTERVAL_S))

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            # The first sweep, at start, always runs: it fixes what broke while no worker ran.
            counts = sweep(connection=self.connection, force=not self._swept_once)
            self._swept_once = True
            if any(counts.values()):
                self.log.info("Worker %s: sweep %s", self.name, counts)
        except Exception:  # a database or Redis outage: the next sweep retries
            self.log.exception("Worker %s: sweep failed", self.name)
        finally:
            connections.close_all()  # hold none while idle: PostgreSQL may restart meanwhile

    def perform_job(self, job, queue, execution) -> bool:
        # Drop a connection a restarted database broke, and leave none behind.
        close_old_connections()
        try:
            return super().perform_job(job, queue, execution)
        finally:
            connections.close_all()
