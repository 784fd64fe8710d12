"""Opening videos with OpenCV (FFmpeg), and the clock their frames are timed by.

A container's frame rate is used only when it is plausible. When it is not, the header is not
believed at all (ml/media/timing.py): the video is reopened ignoring edit lists, so every frame
that decodes is read, and frames are timed by the stream's own rate, else by a common one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2

from ml.errors import MediaError
from ml.media import timing

# Containers sometimes report nonsense frame rates (0, NaN, 90000); outside this range we
# treat the rate as unknown.
FPS_RANGE = (1.0, 240.0)
# Timestamps need a rate; when neither container nor stream gives one we assume a common one.
FALLBACK_FPS = 25.0

DAMAGED_VIDEO_MESSAGE = (
    "The video cannot be decoded: the file is damaged, incomplete or uses an unsupported codec."
)


def open_video(
    path: str | Path, *, timeout_ms: int | None = None, whole: bool = False
) -> cv2.VideoCapture:
    """whole: ignore the container's edit lists (every frame that decodes)."""
    params = (
        [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        if timeout_ms
        else []
    )
    if whole:
        with timing.ignoring_edit_lists():
            capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)
    else:
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)
    if not capture.isOpened():
        capture.release()
        raise MediaError(DAMAGED_VIDEO_MESSAGE)
    return capture


def valid_fps(value: float) -> float | None:
    if math.isfinite(value) and FPS_RANGE[0] <= value <= FPS_RANGE[1]:
        return float(value)
    return None


def fourcc(capture: cv2.VideoCapture) -> str:
    code = int(capture.get(cv2.CAP_PROP_FOURCC)) & 0xFFFFFFFF
    return code.to_bytes(4, "little").decode("latin-1")


@dataclass
class Clock:
    fps: float | None  # the rate frames are timed by; None: unknown (timed at FALLBACK_FPS)
    container_times: bool  # the decoder's timestamps can be believed (variable frame rates)

    @property
    def rate(self) -> float:
        return self.fps or FALLBACK_FPS


def open_for_frames(path: str | Path) -> tuple[cv2.VideoCapture, Clock]:
    """A capture positioned at the first frame, and the clock to time its frames by."""
    capture = open_video(path)
    fps = valid_fps(capture.get(cv2.CAP_PROP_FPS))
    if fps is not None:
        return capture, Clock(fps, container_times=True)
    capture.release()
    capture = open_video(path, whole=True)
    return capture, Clock(timing.stream_fps(path, fourcc(capture)), container_times=False)
