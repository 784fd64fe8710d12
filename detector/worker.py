"""The analysis worker: RQ's forking worker that never leaves an analysis "running" for ever.

`manage.py rqworker` uses it (settings.RQ["WORKER_CLASS"]). On top of RQ's worker it
- settles the analysis at once when a work-horse dies (killed, or out of memory), which RQ
  records in its failed registry without running any failure callback;
- sweeps when it starts and every SWEEP_INTERVAL_S while idle (`sweep`): the outbox of
  analyses that waited for Redis, jobs Redis lost, jobs of workers that died, and once a day
  the media retention;
- loads the face models once, before it forks, so that work-horses do not load them per job;
- closes database connections around every job, and holds none while it forks a work-horse,
  so a restarted PostgreSQL costs no job.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.db import close_old_connections, connections
from redis import Redis
from rq import Worker
from rq.job import Job

from detector.queue_state import PID_NAMESPACE_FIELD, JobEnd, pid_namespace
from detector.services import (
    analysis_reconcile_orphans,
    analysis_recover,
    media_retention_apply,
)
from ml import faces

RUN_ANALYSIS = "detector.jobs.run_analysis"
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


class AnalysisWorker(Worker):
    def __init__(self, *args, **kwargs) -> None:
        # RQ's maintenance (registry cleanup, scheduler restart) runs as often as the sweep.
        kwargs.setdefault("maintenance_interval", settings.SWEEP_INTERVAL_S)
        super().__init__(*args, **kwargs)
        self._swept_once = False

    def register_birth(self) -> None:
        super().register_birth()
        # Lets a worker restarted on this machine tell that this one died (queue_state).
        self.connection.hset(self.key, PID_NAMESPACE_FIELD, pid_namespace())

    def work(self, *args, **kwargs) -> bool:
        # Every job runs in a forked work-horse, which inherits what is loaded here.
        faces.preload()
        return super().work(*args, **kwargs)

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
            connections.close_all()  # a work-horse forked later must not share a connection

    def handle_work_horse_killed(self, job: Job, retpid, ret_val, rusage) -> None:
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        if job.func_name != RUN_ANALYSIS or not job.args:
            return
        signal = os.WTERMSIG(ret_val) if ret_val and os.WIFSIGNALED(ret_val) else None
        peak_mb = rusage.ru_maxrss // 1024 if rusage else None
        self.log.warning(
            "Worker %s: analysis %s lost its work-horse (signal %s, peak memory %s MB)",
            self.name,
            job.args[0],
            signal,
            peak_mb,
        )
        try:
            analysis_recover(analysis_id=job.args[0], job_id=job.id, end=JobEnd(signal=signal))
        except Exception:  # the database is down: the sweep settles it later
            self.log.exception("Worker %s: could not settle analysis %s", self.name, job.args[0])
        finally:
            connections.close_all()

    def perform_job(self, job: Job, queue, execution) -> bool:
        # Runs in the work-horse: drop a connection a restarted database broke, and leave
        # none behind.
        close_old_connections()
        try:
            return super().perform_job(job, queue, execution)
        finally:
            connections.close_all()
