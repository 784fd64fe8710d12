"""Dead workers and lost jobs: every unfinished analysis is made to match what the queue knows."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from redis import Redis

from detector.models import Analysis
from detector.queue.state import JobEnd, job_end, queue_connection
from detector.services.analyses import (
    UNFINISHED,
    analysis_enqueue,
    analysis_enqueue_on_commit,
    analysis_fail,
)

logger = logging.getLogger(__name__)

# An analysis whose worker died is queued this many times more, then failed with the cause.
MAX_RETRIES = 1
OUT_OF_MEMORY = "The worker ran out of memory on this file"
OUT_OF_MEMORY_ADVICE = "A shorter or lower-resolution file needs less memory."
WORKER_STOPPED = "The worker stopped while analysing this file"
WORKER_STOPPED_ADVICE = "Please try again later."


def analysis_recover(*, analysis_id: Any, job_id: str, end: JobEnd) -> bool:
    """The job `job_id` of this analysis ended without settling it (its worker died).

    The analysis is queued once more; a second death fails it with what happened. Nothing
    changes if the analysis finished meanwhile or belongs to a newer job. True if it changed.
    """
    analysis = Analysis.objects.filter(
        pk=analysis_id, rq_job_id=job_id, status__in=UNFINISHED
    ).first()
    if analysis is None:
        return False
    cause = OUT_OF_MEMORY if end.out_of_memory else WORKER_STOPPED
    logger.warning(
        "Analysis %s: job %s ended without a result (%s, signal %s, retries so far %s)",
        analysis.pk,
        job_id,
        cause,
        end.signal,
        analysis.retries,
    )
    if analysis.retries >= MAX_RETRIES:
        advice = OUT_OF_MEMORY_ADVICE if end.out_of_memory else WORKER_STOPPED_ADVICE
        tries = analysis.retries + 1
        analysis_fail(
            analysis=analysis,
            reason=f"{cause} (tried {tries} times). {advice}",
            job_id=job_id,
        )
        return True
    with transaction.atomic():
        requeued = Analysis.objects.filter(
            pk=analysis.pk,
            rq_job_id=job_id,
            retries=analysis.retries,
            status__in=UNFINISHED,
        ).update(
            status=Analysis.Status.QUEUED,
            retries=F("retries") + 1,
            enqueued_at=None,
            started=None,
            progress=0,
            stage=f"Queued again: {cause[0].lower()}{cause[1:]}",
        )
        if requeued:
            analysis_enqueue_on_commit(analysis=analysis)
    return bool(requeued)


def analysis_reconcile_orphans(*, connection: Redis | None = None) -> dict[str, int]:
    """Make every unfinished analysis match what the queue knows; safe to run at any time.

    - queued analyses still in the outbox (Redis was down) are queued now;
    - queued analyses whose job Redis lost (it restarted empty) are queued again;
    - analyses whose job ended without settling them (the work-horse or the whole worker
      died) are queued once more or failed, through `analysis_recover`.
    Returns how many analyses were queued and recovered; raises RedisError while Redis is down.
    """
    connection = connection or queue_connection()
    connection.ping()  # Redis down: change nothing (raises RedisError)
    counts = {"queued": 0, "recovered": 0}
    outbox = Analysis.objects.filter(status=Analysis.Status.QUEUED, enqueued_at=None)
    for pk in outbox.values_list("pk", flat=True):
        analysis_enqueue(analysis_id=pk)
        counts["queued"] += Analysis.objects.filter(pk=pk).exclude(enqueued_at=None).exists()
    in_queue = Analysis.objects.filter(status__in=UNFINISHED).exclude(enqueued_at=None)
    for pk, status, job_id in in_queue.values_list("pk", "status", "rq_job_id"):
        end = job_end(job_id=job_id, connection=connection)
        if end is None:
            continue
        if end.lost and status == Analysis.Status.QUEUED:
            # It never started: back to the outbox, not counted as a retry.
            if Analysis.objects.filter(pk=pk, rq_job_id=job_id, status=status).update(
                enqueued_at=None
            ):
                analysis_enqueue(analysis_id=pk)
                counts["queued"] += 1
        elif analysis_recover(analysis_id=pk, job_id=job_id, end=end):
            counts["recovered"] += 1
    return counts
