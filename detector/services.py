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
from pathlib import Path
from typing import Any

import django_rq
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image
from redis.exceptions import RedisError
from rq import Callback

from detector.flags import review_reasons
from detector.models import Analysis, DetectorModel
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

DEFAULT_OPTIONS = {"frames": 32, "scan_fps": 15.0}
# Progress writes at most this often (seconds), so a fast pipeline cannot flood the database.
PROGRESS_MIN_INTERVAL_S = 0.3
THUMBNAIL_SIDE = 160
THUMBNAIL_SEARCH_FRAMES = 60  # about 4 s at the 15 fps scan rate
THUMBNAIL_MIN_BRIGHTNESS = (
    16.0  # mean grey level (0-255) below which a frame looks black
)


# Where files live -------------------------------------------------------------------------


def analysis_media_path(analysis: Analysis) -> Path:
    return Path(settings.MEDIA_ROOT) / analysis.media_file


def analysis_derived_dir(analysis: Analysis) -> Path:
    """Files made from an analysis (thumbnails, exports); removed with it."""
    return Path(settings.MEDIA_ROOT) / "derived" / str(analysis.pk)


def _store_upload(*, owner: AbstractBaseUser, uploaded_file: UploadedFile, mime: str):
    """Copy the upload to a random name under uploads/<user id>/, hashing while copying."""
    relative = (
        Path("uploads")
        / str(owner.pk)
        / (secrets.token_hex(16) + EXTENSION_FOR_MIME[mime])
    )
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


def _enqueue(analysis_id) -> None:
    from detector.jobs import run_analysis, run_analysis_failed

    try:
        # Already inside on_commit: enqueue now ("auto") to learn the job id.
        queue = django_rq.get_queue(settings.ANALYSIS_QUEUE, commit_mode="auto")
        job = queue.enqueue(
            run_analysis,
            str(analysis_id),
            job_timeout=settings.RQ_JOB_TIMEOUT,
            on_failure=Callback(run_analysis_failed),
        )
    except RedisError:
        logger.exception("Could not queue analysis %s", analysis_id)
        analysis = Analysis.objects.filter(pk=analysis_id).first()
        if analysis is not None:
            analysis_fail(
                analysis=analysis,
                reason="The analysis queue is unavailable right now. Please try again later.",
            )
        return
    Analysis.objects.filter(pk=analysis_id).update(rq_job_id=job.id)


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
    earlier = Analysis.objects.filter(owner=owner, sha256=sha256)
    return earlier.filter(status=Analysis.Status.DONE).first() or earlier.first()


def analysis_reanalyse(*, analysis: Analysis) -> Analysis:
    """Queue a fresh analysis of the same stored file; the earlier result stays as it was.

    Both rows share the stored file; `analysis_delete` removes it only with its last user.
    """
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


def analysis_mark_running(*, analysis: Analysis) -> None:
    _update(
        analysis,
        status=Analysis.Status.RUNNING,
        started=timezone.now(),
        progress=0,
        stage="Starting",
        error_message="",
    )
    analysis._progress_written_at = time.monotonic()


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
            flagged=bool(
                review_reasons(report, reported_by_owner=analysis.reported_by_owner)
            ),
            error_message="",
        )
        if not exists:
            return
        shas = [c["sha256"] for c in report.get("classifiers") or [] if c.get("sha256")]
        analysis.detector_models.set(DetectorModel.objects.filter(sha256__in=shas))
        _callback_on_commit(analysis)


def analysis_fail(*, analysis: Analysis, reason: str) -> None:
    with transaction.atomic():
        if _update(
            analysis,
            status=Analysis.Status.FAILED,
            stage="Failed",
            error_message=reason,
            finished=timezone.now(),
        ):
            _callback_on_commit(analysis)


def analysis_delete(*, analysis: Analysis) -> None:
    """Delete an analysis with its derived files, and its media unless another analysis uses it."""
    media_file = analysis.media_file
    derived = analysis_derived_dir(analysis)
    with transaction.atomic():
        analysis.delete()
        still_used = Analysis.objects.filter(media_file=media_file).exists()

        # Files go only once the deletion is committed: a rollback must not lose them.
        def remove_files() -> None:
            shutil.rmtree(derived, ignore_errors=True)
            if not still_used:
                _remove_file(Path(settings.MEDIA_ROOT) / media_file)

        transaction.on_commit(remove_files)


def analysis_delete_many(*, analyses) -> int:
    count = 0
    for analysis in analyses:
        analysis_delete(analysis=analysis)
        count += 1
    return count


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
