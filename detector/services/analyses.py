"""An analysis' lifecycle: create, queue, run, progress, finish, fail, delete.

The Analysis row is the truth about a job; the queue only carries its id. Writes that may race
with a deletion use queryset updates, so a job finishing on a deleted analysis never brings
the row back.
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

import django_rq
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Callback

from detector.flags import review_reasons
from detector.models import Analysis, DetectorModel
from detector.selectors import CHOSEN_MODELS, analysis_file_review
from detector.services.files import file_remove, media_store
from detector.services.webhooks import callback_enqueue
from detector.uploads import (
    display_filename,
    validate_upload,
)
from ml.options import AnalysisOptions

logger = logging.getLogger(__name__)

RUN_ANALYSIS = "detector.queue.jobs.run_analysis"
RUN_ANALYSIS_FAILED = "detector.queue.jobs.run_analysis_failed"
# Progress writes at most this often (seconds), so a fast pipeline cannot flood the database.
PROGRESS_MIN_INTERVAL_S = 0.3
UNFINISHED = (Analysis.Status.QUEUED, Analysis.Status.RUNNING)


# Queueing ---------------------------------------------------------------------------------


def analysis_queue_name() -> str:
    """GPU_QUEUE when it is set and an active model's card recommends a GPU, else ANALYSIS_QUEUE."""
    if (
        settings.GPU_QUEUE
        and DetectorModel.objects.filter(active=True, card__compute="gpu_recommended").exists()
    ):
        return settings.GPU_QUEUE
    return settings.ANALYSIS_QUEUE


def analysis_enqueue(*, analysis_id: Any) -> None:
    """Hand a queued analysis to RQ.

    The row names its job before the job exists, so a worker always finds the id it runs under.
    When Redis is down the analysis simply stays queued, in the outbox (no `enqueued_at`), and
    `analysis_reconcile_orphans` (services.recovery) queues it once Redis answers again.
    """
    job_id = uuid.uuid4().hex
    waiting = Analysis.objects.filter(
        pk=analysis_id, status=Analysis.Status.QUEUED, enqueued_at=None
    )
    if not waiting.update(rq_job_id=job_id):
        return  # deleted, or already handed over by someone else
    try:
        # Already inside on_commit: enqueue now ("auto").
        queue = django_rq.get_queue(analysis_queue_name(), commit_mode="auto")
        # By dotted path: the job module imports services, never the other way round.
        queue.enqueue(
            RUN_ANALYSIS,
            str(analysis_id),
            job_id=job_id,
            job_timeout=settings.RQ_JOB_TIMEOUT,
            on_failure=Callback(RUN_ANALYSIS_FAILED),
        )
    except RedisError as error:
        logger.warning("Analysis %s waits for the queue to come back: %s", analysis_id, error)
        return
    Analysis.objects.filter(pk=analysis_id, rq_job_id=job_id).update(enqueued_at=timezone.now())


def analysis_enqueue_on_commit(*, analysis: Analysis) -> None:
    analysis_id = analysis.pk
    transaction.on_commit(lambda: analysis_enqueue(analysis_id=analysis_id))


def _callback_on_commit(analysis: Analysis) -> None:
    # callback_enqueue itself waits for the commit.
    if analysis.callback_url:
        callback_enqueue(analysis_id=analysis.pk)


def _update(analysis: Analysis, **values: Any) -> bool:
    """Write fields to the row if it still exists and mirror them on the instance."""
    updated = Analysis.objects.filter(pk=analysis.pk).update(**values)
    for name, value in values.items():
        setattr(analysis, name, value)
    return bool(updated)


# The lifecycle ----------------------------------------------------------------------------


def analysis_create(
    *,
    owner: AbstractBaseUser,
    uploaded_file: UploadedFile,
    options: AnalysisOptions | None = None,
    callback_url: str = "",
    previous: Analysis | None = None,
) -> Analysis:
    """Validate and store an upload, record it, and queue its analysis once committed.

    `previous` is the owner's earlier analysis of the same content, when the caller found one
    (`selectors.analysis_find_upload_duplicate`): the new row points at it as a re-analysis does.

    Raises detector.uploads.UploadRejected with a message for the user.
    """
    info = validate_upload(uploaded_file)
    media_file, sha256, size = media_store(owner=owner, uploaded_file=uploaded_file, mime=info.mime)
    try:
        with transaction.atomic():
            analysis = Analysis.objects.create(
                owner=owner,
                original_filename=display_filename(uploaded_file.name),
                media_file=media_file,
                media_type=info.media_type,
                mime_type=info.mime,
                sha256=sha256,
                size_bytes=size,
                options=(options or AnalysisOptions()).to_dict(),
                callback_url=callback_url or "",
                previous=previous if previous and previous.owner_id == owner.pk else None,
                stage="Waiting in the queue",
            )
            analysis_enqueue_on_commit(analysis=analysis)
    except Exception:
        file_remove(Path(settings.MEDIA_ROOT) / media_file)
        raise
    return analysis


class MediaRemoved(Exception):
    """The uploaded file is gone (retention period); `message` is safe to show the user."""

    message = "The uploaded file was removed after the retention period. Upload it again."


def analysis_reanalyze(
    *,
    analysis: Analysis,
    options: AnalysisOptions | None = None,
    models: list[DetectorModel] | None = None,
) -> Analysis:
    """Queue a fresh analysis of the same stored file; the earlier result stays as it was.

    `options` replace the earlier run's (frames, scan rate); `models` restrict the run to some of
    the active models (`selectors.models_chosen` reads the choice back), else all active score.
    Both rows share the stored file; `analysis_delete` removes it only with its last user.
    Raises MediaRemoved when the file is no longer kept.
    """
    stored = (options or AnalysisOptions.from_dict(analysis.options)).to_dict()
    if models:
        stored[CHOSEN_MODELS] = sorted(m.sha256 for m in models)
    if not analysis.has_media:
        raise MediaRemoved(MediaRemoved.message)
    with transaction.atomic():
        again = Analysis.objects.create(
            owner=analysis.owner,
            original_filename=analysis.original_filename,
            media_file=analysis.media_file,
            media_type=analysis.media_type,
            mime_type=analysis.mime_type,
            sha256=analysis.sha256,
            size_bytes=analysis.size_bytes,
            # Stored the same way as a first upload's; rows without some option take its default.
            options=stored,
            previous=analysis,
            stage="Waiting in the queue",
        )
        analysis_enqueue_on_commit(analysis=again)
    return again


def analysis_mark_running(*, analysis: Analysis, job_id: str | None = None) -> bool:
    """Claim a queued analysis for the job `job_id` (any job when None).

    False when the analysis is not queued, or is queued under another job: a stale duplicate
    job (left by a Redis outage or a retry) then does nothing.
    """
    claim = Analysis.objects.filter(pk=analysis.pk, status=Analysis.Status.QUEUED)
    if job_id is not None:
        claim = claim.filter(rq_job_id=job_id)
    values = {
        "status": Analysis.Status.RUNNING,
        "started": timezone.now(),
        "progress": 0,
        "stage": "Starting",
        "error_message": "",
    }
    if not claim.update(**values):
        return False
    for name, value in values.items():
        setattr(analysis, name, value)
    analysis._progress_written_at = time.monotonic()
    return True


def analysis_set_progress(*, analysis: Analysis, percent: int, stage: str) -> None:
    """Record progress: never backwards, and at most a few writes per second."""
    percent = max(analysis.progress, min(int(percent), 99))
    now = time.monotonic()
    if now - getattr(analysis, "_progress_written_at", 0.0) < PROGRESS_MIN_INTERVAL_S:
        return
    if percent == analysis.progress and stage == analysis.stage:
        return
    analysis._progress_written_at = now
    Analysis.objects.filter(pk=analysis.pk, status=Analysis.Status.RUNNING).update(
        progress=percent, stage=stage[:200]
    )
    analysis.progress, analysis.stage = percent, stage[:200]


def analysis_finish(*, analysis: Analysis, report: dict[str, Any]) -> None:
    """Store a finished Report, link the models that produced it, and flag what needs a look."""
    verdict = report.get("verdict") or ""
    carried = analysis_file_review(analysis=analysis)
    earlier_review = carried.review_label if carried and carried.pk != analysis.pk else ""
    reasons = review_reasons(
        report, reported_by_owner=analysis.reported_by_owner, earlier_review=earlier_review
    )
    with transaction.atomic():
        exists = _update(
            analysis,
            status=Analysis.Status.DONE,
            progress=100,
            stage="Done",
            result=report,
            verdict=verdict,
            fake_probability=report.get("fake_probability"),
            generated_score=(report.get("generated") or {}).get("score"),
            code_version=report.get("version", ""),
            finished=timezone.now(),
            flagged=bool(reasons),
            error_message="",
        )
        if not exists:
            return
        shas = [c["sha256"] for c in report.get("classifiers") or [] if c.get("sha256")]
        analysis.detector_models.set(DetectorModel.objects.filter(sha256__in=shas))
        _callback_on_commit(analysis)


def analysis_fail(*, analysis: Analysis, reason: str, job_id: str | None = None) -> None:
    """Record a failure; with `job_id`, only while the analysis still belongs to that job."""
    row = Analysis.objects.filter(pk=analysis.pk)
    if job_id is not None:
        row = row.filter(rq_job_id=job_id, status__in=UNFINISHED)
    values = {
        "status": Analysis.Status.FAILED,
        "stage": "Failed",
        "error_message": reason,
        "finished": timezone.now(),
    }
    with transaction.atomic():
        if row.update(**values):
            for name, value in values.items():
                setattr(analysis, name, value)
            _callback_on_commit(analysis)


def analysis_delete(*, analysis: Analysis) -> None:
    """Delete an analysis; `analysis_files_remove` takes its files once that commits."""
    analysis.delete()


def analysis_delete_many(*, analyses) -> int:
    count = 0
    for analysis in analyses:
        analysis_delete(analysis=analysis)
        count += 1
    return count
