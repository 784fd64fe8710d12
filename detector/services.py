"""Every change to an analysis goes through here: create, run, progress, finish, fail, delete.

The Analysis row is the truth about a job; the queue only carries its id. Writes that may race
with a deletion use queryset updates, so a job finishing on a deleted analysis never brings
the row back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import itertools
import logging
import secrets
import shutil
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import django_rq
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone
from PIL import Image
from redis import Redis
from redis.exceptions import RedisError
from rq import Callback

from detector.flags import review_reasons
from detector.models import Analysis, DetectorModel
from detector.queue_state import JobEnd, job_end, queue_connection
from detector.uploads import (
    EXTENSION_FOR_MIME,
    HASH_CHUNK,
    display_filename,
    validate_upload,
)
from detector.webhooks import callback_enqueue
from ml.errors import MediaError
from ml.media import iter_video_frames, load_image

logger = logging.getLogger(__name__)

RUN_ANALYSIS = "detector.jobs.run_analysis"
RUN_ANALYSIS_FAILED = "detector.jobs.run_analysis_failed"
DEFAULT_OPTIONS = {"frames": 32, "scan_fps": 15.0}
# Progress writes at most this often (seconds), so a fast pipeline cannot flood the database.
PROGRESS_MIN_INTERVAL_S = 0.3
THUMBNAIL_SIDE = 160
UNFINISHED = (Analysis.Status.QUEUED, Analysis.Status.RUNNING)
# An analysis whose worker died is queued this many times more, then failed with the cause.
MAX_RETRIES = 1
OUT_OF_MEMORY = "The worker ran out of memory on this file"
OUT_OF_MEMORY_ADVICE = "A shorter or lower-resolution file needs less memory."
WORKER_STOPPED = "The worker stopped while analysing this file"
WORKER_STOPPED_ADVICE = "Please try again later."
THUMBNAIL_SEARCH_FRAMES = 60  # about 4 s at the 15 fps scan rate
THUMBNAIL_MIN_BRIGHTNESS = 16.0  # mean grey level (0-255) below which a frame looks black


# Where files live -------------------------------------------------------------------------


def analysis_media_path(analysis: Analysis) -> Path:
    return Path(settings.MEDIA_ROOT) / analysis.media_file


def analysis_derived_dir(analysis: Analysis) -> Path:
    """Files made from an analysis (thumbnails); removed with it or with its media."""
    return _derived_dir(analysis.pk)


def _derived_dir(analysis_id: Any) -> Path:
    return Path(settings.MEDIA_ROOT) / "derived" / str(analysis_id)


def _store_upload(*, owner: AbstractBaseUser, uploaded_file: UploadedFile, mime: str):
    """Copy the upload to a random name under uploads/<user id>/, hashing while copying."""
    relative = Path("uploads") / str(owner.pk) / (secrets.token_hex(16) + EXTENSION_FOR_MIME[mime])
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest, size = hashlib.sha256(), 0
    uploaded_file.seek(0)
    with open(target, "xb") as out:
        for chunk in uploaded_file.chunks(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    target.chmod(0o600)
    return relative.as_posix(), digest.hexdigest(), size


def _remove_file(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


# Queueing ---------------------------------------------------------------------------------


def analysis_queue_name() -> str:
    """GPU_QUEUE when it is set and an active model's card recommends a GPU, else ANALYSIS_QUEUE."""
    if (
        settings.GPU_QUEUE
        and DetectorModel.objects.filter(active=True, card__compute="gpu_recommended").exists()
    ):
        return settings.GPU_QUEUE
    return settings.ANALYSIS_QUEUE


def _enqueue(analysis_id) -> None:
    """Hand a queued analysis to RQ.

    The row names its job before the job exists, so a worker always finds the id it runs under.
    When Redis is down the analysis simply stays queued, in the outbox (no `enqueued_at`), and
    `analysis_reconcile_orphans` queues it once Redis answers again.
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


def _enqueue_on_commit(analysis: Analysis) -> None:
    analysis_id = analysis.pk
    transaction.on_commit(lambda: _enqueue(analysis_id))


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
    options: dict[str, Any] | None = None,
    callback_url: str = "",
) -> Analysis:
    """Validate and store an upload, record it, and queue its analysis once committed.

    Raises detector.uploads.UploadRejected with a message for the user.
    """
    info = validate_upload(uploaded_file)
    media_file, sha256, size = _store_upload(
        owner=owner, uploaded_file=uploaded_file, mime=info.mime
    )
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
                options={**DEFAULT_OPTIONS, **(options or {})},
                callback_url=callback_url or "",
                stage="Waiting in the queue",
            )
            _enqueue_on_commit(analysis)
    except Exception:
        _remove_file(Path(settings.MEDIA_ROOT) / media_file)
        raise
    return analysis


def analysis_find_duplicate(*, owner: AbstractBaseUser, sha256: str) -> Analysis | None:
    """The owner's latest analysis of the same content, preferring a finished one."""
    # Only one whose file is still kept: otherwise the new upload is stored again.
    earlier = Analysis.objects.filter(owner=owner, sha256=sha256, media_removed_at=None)
    return earlier.filter(status=Analysis.Status.DONE).first() or earlier.first()


class MediaRemoved(Exception):
    """The uploaded file is gone (retention period); `message` is safe to show the user."""

    message = "The uploaded file was removed after the retention period. Upload it again."


def analysis_reanalyse(*, analysis: Analysis) -> Analysis:
    """Queue a fresh analysis of the same stored file; the earlier result stays as it was.

    Both rows share the stored file; `analysis_delete` removes it only with its last user.
    Raises MediaRemoved when the file is no longer kept.
    """
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
            options={**DEFAULT_OPTIONS, **(analysis.options or {})},
            previous=analysis,
            stage="Waiting in the queue",
        )
        _enqueue_on_commit(again)
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
    with transaction.atomic():
        exists = _update(
            analysis,
            status=Analysis.Status.DONE,
            progress=100,
            stage="Done",
            result=report,
            verdict=verdict,
            fake_probability=report.get("fake_probability"),
            code_version=report.get("version", ""),
            finished=timezone.now(),
            flagged=bool(review_reasons(report, reported_by_owner=analysis.reported_by_owner)),
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


# Dead workers and lost jobs ---------------------------------------------------------------


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
            _enqueue_on_commit(analysis)
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
        _enqueue(pk)
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
                _enqueue(pk)
                counts["queued"] += 1
        elif analysis_recover(analysis_id=pk, job_id=job_id, end=end):
            counts["recovered"] += 1
    return counts


def analysis_delete(*, analysis: Analysis) -> None:
    """Delete an analysis; `analysis_files_remove` takes its files once that commits."""
    analysis.delete()


def analysis_files_remove(*, analysis_id: Any, media_file: str) -> None:
    """After a deleted analysis commits: remove its derived files, and its media unless
    another analysis (a re-analysis of the same upload) still uses it.

    Runs for every deletion, also a user's deletion taking their analyses with it
    (`detector.signals`). Files go only after the commit: a rollback must not lose them.
    """

    def remove() -> None:
        shutil.rmtree(_derived_dir(analysis_id), ignore_errors=True)
        if not Analysis.objects.filter(media_file=media_file).exists():
            _remove_file(Path(settings.MEDIA_ROOT) / media_file)

    transaction.on_commit(remove)


def analysis_delete_many(*, analyses) -> int:
    count = 0
    for analysis in analyses:
        analysis_delete(analysis=analysis)
        count += 1
    return count


# Keeping media only as long as needed ----------------------------------------------------


def analysis_media_remove(*, media_file: str) -> int:
    """Delete an uploaded file and everything made from it; the analyses that used it keep
    their results and record when the media was removed. Returns how many analyses used it."""
    with transaction.atomic():
        users = Analysis.objects.filter(media_file=media_file, media_removed_at=None)
        pks = list(users.values_list("pk", flat=True))
        users.update(media_removed_at=timezone.now())

        def remove() -> None:
            _remove_file(Path(settings.MEDIA_ROOT) / media_file)
            for pk in pks:
                shutil.rmtree(_derived_dir(pk), ignore_errors=True)

        transaction.on_commit(remove)
    return len(pks)


def media_retention_apply(*, days: int, now: datetime | None = None) -> int:
    """Remove uploaded files older than `days` (counted from the upload); results stay.

    A file that a queued or running analysis still needs waits for the next run.
    Returns how many files were removed.
    """
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with_media = Analysis.objects.filter(media_removed_at=None).order_by()
    busy = with_media.filter(status__in=UNFINISHED).values("media_file")
    expired = (
        with_media.values("media_file")
        .annotate(uploaded=Min("created"))
        .filter(uploaded__lt=cutoff)
        .exclude(media_file__in=busy)
    )
    files = [row["media_file"] for row in expired]
    for media_file in files:
        analysis_media_remove(media_file=media_file)
    if files:
        logger.info("Media retention (%s days): removed %s files", days, len(files))
    return len(files)


def analysis_thumbnail(*, analysis: Analysis) -> Path | None:
    """A small JPEG for the history, made once and cached: the face that decided the verdict
    once there is a result, else the image or the video's first picture that is not black.

    None when the media cannot be read (the history then shows a placeholder).
    """
    face = _deciding_face_jpeg(analysis.result)
    target = analysis_derived_dir(analysis) / ("face.jpg" if face else "thumbnail.jpg")
    if target.exists():
        return target
    if face:
        _write_atomically(target, face)
        return target
    if not analysis.has_media:
        return None
    try:
        rgb = _first_picture(analysis)
    except (MediaError, OSError):
        logger.info("No thumbnail for analysis %s", analysis.pk)
        return None
    if rgb is None:
        return None
    picture = Image.fromarray(rgb)
    picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    jpeg = io.BytesIO()
    picture.save(jpeg, "JPEG", quality=85)
    _write_atomically(target, jpeg.getvalue())
    return target


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)  # atomic: a concurrent request never reads half a thumbnail


def _deciding_face_jpeg(report: dict[str, Any] | None) -> bytes | None:
    """The thumbnail of the face that decided the verdict, else of the first judged face."""
    faces = [f for f in (report or {}).get("faces") or [] if f.get("thumbnail")]
    decisive = (report or {}).get("decisive_face")
    chosen = next((f for f in faces if f.get("track_id") == decisive), None) or next(
        (f for f in faces if f.get("judged", True)), None
    )
    if chosen is None:
        return None
    try:
        return base64.b64decode(chosen["thumbnail"], validate=True)
    except (binascii.Error, ValueError):
        return None


def _first_picture(analysis: Analysis):
    path = analysis_media_path(analysis)
    if analysis.media_type == Analysis.MediaType.IMAGE:
        return load_image(path)
    # A fade-in would make a black thumbnail: take the first frame with something in it, within
    # the first seconds, else the brightest of them.
    brightest = None
    for frame in itertools.islice(iter_video_frames(path), THUMBNAIL_SEARCH_FRAMES):
        if frame.rgb.mean() >= THUMBNAIL_MIN_BRIGHTNESS:
            return frame.rgb
        if brightest is None or frame.rgb.mean() > brightest.mean():
            brightest = frame.rgb
    return brightest
