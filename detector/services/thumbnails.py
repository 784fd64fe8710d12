"""Thumbnails for the history: the deciding face once there is a result, else the media itself."""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import logging
from pathlib import Path
from typing import Any

from PIL import Image

from detector.models import Analysis
from detector.services.files import (
    analysis_derived_dir,
    analysis_media_path,
    file_replace_private,
    media_folder,
)
from ml.errors import MediaError
from ml.media.reader import iter_video_frames, load_image

logger = logging.getLogger(__name__)

THUMBNAIL_SIDE = 160
THUMBNAIL_SEARCH_FRAMES = 60  # about 4 s at the 15 fps scan rate
THUMBNAIL_MIN_BRIGHTNESS = 16.0  # mean grey level (0-255) below which a frame looks black


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
    media_folder(target.parent)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    file_replace_private(partial, target)  # atomic: a concurrent request never reads half


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
