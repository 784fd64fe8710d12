"""A preview of each uploaded video that any browser plays, made once by the analysis job.

Uploads come as AVI, MKV, MOV or MP4 in codecs browsers often cannot play (MJPEG, mp4v), so the
result page would show a dead player. The job transcodes a copy with the ffmpeg that ships with
imageio-ffmpeg: H.264 in MP4 (yuv420p, faststart), at most 1280 x 720, no sound. When ffmpeg
fails, a strip of PREVIEW_STRIP_FRAMES evenly spaced frames as one JPEG stands in. Both live in the
analysis' derived folder, are deleted with it, and are served only to the owner.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from detector.models import Analysis
from detector.services import (
    analysis_derived_dir,
    analysis_media_path,
    file_replace_private,
    media_folder,
)
from ml.errors import MediaError
from ml.media import reader as media

logger = logging.getLogger(__name__)

PREVIEW_VIDEO = "preview.mp4"
PREVIEW_STRIP = "preview-strip.jpg"
PREVIEW_MAX = (1280, 720)
PREVIEW_TIMEOUT_S = 300
PREVIEW_STRIP_FRAMES = 8
PREVIEW_STRIP_HEIGHT = 120

# Fit inside 1280 x 720 without upscaling, then round to even sides (H.264 with yuv420p needs them).
_SCALE = (
    f"scale='min({PREVIEW_MAX[0]},iw)':'min({PREVIEW_MAX[1]},ih)'"
    ":force_original_aspect_ratio=decrease,scale=trunc(iw/2)*2:trunc(ih/2)*2"
)


def analysis_preview_path(analysis: Analysis) -> Path | None:
    """The preview made for this analysis (video, else frame strip), or None."""
    folder = analysis_derived_dir(analysis)
    for name in (PREVIEW_VIDEO, PREVIEW_STRIP):
        if (folder / name).is_file():
            return folder / name
    return None


def analysis_preview_make(*, analysis: Analysis) -> Path | None:
    """Make the preview of a video upload; None for images or when nothing could be made.

    Never raises for bad media: a missing preview only means the page offers the original.
    """
    if analysis.media_type != Analysis.MediaType.VIDEO:
        return None
    source = analysis_media_path(analysis)
    folder = analysis_derived_dir(analysis)
    media_folder(folder)
    target = folder / PREVIEW_VIDEO
    if _transcode(source, target):
        return target
    return _frame_strip(source, folder / PREVIEW_STRIP)


def _transcode(source: Path, target: Path) -> bool:
    partial = target.with_name(f"partial-{target.name}")
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        *("-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(source)),
        *("-vf", _SCALE, "-c:v", "libx264", "-preset", "veryfast", "-crf", "28"),
        *("-pix_fmt", "yuv420p", "-an", "-movflags", "+faststart", "-f", "mp4"),
        str(partial),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=PREVIEW_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        logger.warning("Preview of %s failed: %s", source.name, error)
        partial.unlink(missing_ok=True)
        return False
    if done.returncode != 0 or not partial.is_file() or not partial.stat().st_size:
        logger.warning("Preview of %s failed: %s", source.name, done.stderr.decode()[-500:])
        partial.unlink(missing_ok=True)
        return False
    file_replace_private(partial, target)
    return True


def _frame_strip(source: Path, target: Path) -> Path | None:
    try:
        info = media.sniff(source)
        indices = media.sample_indices(info.frame_count or 0, PREVIEW_STRIP_FRAMES)
        frames = [f.rgb for f in media.iter_frames_at(source, indices)]
    except (MediaError, OSError):
        logger.info("No preview for %s", source.name)
        return None
    if not frames:
        return None
    pictures = [Image.fromarray(rgb) for rgb in frames]
    for picture in pictures:
        picture.thumbnail((4 * PREVIEW_STRIP_HEIGHT, PREVIEW_STRIP_HEIGHT))
    strip = np.hstack([np.asarray(p.resize(pictures[0].size)) for p in pictures])
    partial = target.with_name(f"partial-{target.name}")
    Image.fromarray(strip).save(partial, "JPEG", quality=85)
    file_replace_private(partial, target)
    return target
