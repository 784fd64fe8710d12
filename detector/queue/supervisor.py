"""The worker's parent process: it runs no job itself, it keeps one job process alive.

`manage.py rqworker` starts here (detector.queue.worker.AnalysisWorker). The parent starts the same
command again as its child, the job process, which registers with RQ and runs every job in
itself, one after another, so TensorFlow and the detector models are loaded once per process
rather than once per job. The parent
- restarts the job process when it dies (the kernel's OOM killer, a crash, `kill -9`), and
  settles the analysis it was running first: queued once more, then failed with the cause,
  as `services.analysis_recover` decides from the signal;
- passes SIGINT and SIGTERM on, so RQ's warm and cold shutdown work as before;
- takes the job process with it when it dies itself (the kernel sends it SIGKILL).
Models are never loaded here: TensorFlow in a parent that forks makes its children hang.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import resource
import signal
import subprocess
import sys
import time

from django.db import connections
from redis import Redis
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job

from detector import services
from detector.queue.state import JobEnd

# Set in the job process's environment: that process runs jobs instead of supervising.
JOB_PROCESS_ENV = "DETECTOR_JOB_PROCESS"
RUN_ANALYSIS = "detector.queue.jobs.run_analysis"
# A job process that ran this long was healthy: the next restart is immediate again.
HEALTHY_RUN_S = 60
MAX_RESTART_DELAY_S = 30
PR_SET_PDEATHSIG = 1

log = logging.getLogger("rq.worker")


def is_job_process() -> bool:
    return os.environ.get(JOB_PROCESS_ENV) == "1"


def supervise(*, connection: Redis) -> bool:
    """Run the job process until it stops by itself or on a signal; restart it when it dies.

    True if it ended normally (a warm shutdown, or --max-jobs reached).
    """
    child: subprocess.Popen | None = None
    stopping = False

    def pass_on(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, pass_on)
    signal.signal(signal.SIGTERM, pass_on)
    delay = 0
    while not stopping:
        started = time.monotonic()
        child = start_job_process()
        if stopping:  # the signal came while the job process started
            child.send_signal(signal.SIGTERM)
        log.info("Worker parent %s: job process %s started", os.getpid(), child.pid)
        code = child.wait()
        # Whatever the job process started (RQ's scheduler, a decoder) ends with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        if code != 0:
            settle_dead_job_process(pid=child.pid, returncode=code, connection=connection)
        if code == 0 or stopping:
            return code == 0
        healthy = time.monotonic() - started >= HEALTHY_RUN_S
        delay = 0 if healthy else min(MAX_RESTART_DELAY_S, max(1, delay * 2))
        log.warning(
            "Worker parent %s: job process %s ended (%s); restarting in %s s",
            os.getpid(),
            child.pid,
            _describe(code),
            delay,
        )
        time.sleep(delay)
    return True


def start_job_process() -> subprocess.Popen:
    """This very command (`manage.py rqworker …`) again, as the job process.

    In a process group of its own, like RQ's work-horse: a terminal's Ctrl-C reaches the parent
    only, which passes it on once.
    """
    parent = os.getpid()

    def die_with_parent() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return subprocess.Popen(
        [sys.executable, *sys.orig_argv[1:]],
        env={**os.environ, JOB_PROCESS_ENV: "1"},
        process_group=0,
        preexec_fn=die_with_parent,  # noqa: PLW1509  (the parent runs no threads of its own)
    )


def settle_dead_job_process(*, pid: int, returncode: int, connection: Redis) -> None:
    """The job process `pid` ended badly: record its death with RQ and settle its analysis."""
    try:
        worker = next((w for w in Worker.all(connection=connection) if w.pid == pid), None)
        if worker is None:
            return  # it died before it registered: no job ran
        job_id = worker.get_current_job_id()
        worker.register_death()
        if job_id is not None:
            _settle_job(job_id=job_id, returncode=returncode, connection=connection)
    except Exception:  # Redis or the database is down: the next sweep settles it
        log.exception("Worker parent %s: could not settle job process %s", os.getpid(), pid)
    finally:
        connections.close_all()


def _settle_job(*, job_id: str, returncode: int, connection: Redis) -> None:
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return
    if job.func_name != RUN_ANALYSIS or not job.args:
        return
    signum = -returncode if returncode < 0 else None
    # The largest child this parent has waited for: the job process that just died, or one
    # before it that used more.
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    log.warning(
        "Worker parent %s: analysis %s lost its job process (%s, peak memory %s MB)",
        os.getpid(),
        job.args[0],
        _describe(returncode),
        peak_mb,
    )
    services.analysis_recover(analysis_id=job.args[0], job_id=job.id, end=JobEnd(signal=signum))


def _describe(returncode: int) -> str:
    if returncode < 0:
        return f"signal {-returncode}"
    return f"exit status {returncode}"
