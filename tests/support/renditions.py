"""One face rendered as the web delivers video: 480p, 720p or 1080p, encoded with H.264.

The astronaut (tests/support/astronaut.py) is rendered from the photo at each size, as a camera
at that resolution would see her (her face about 165 px tall at 1080p, 110 at 720p, 73 at 480p),
with a slight sway so that the encoder codes motion, optionally blurred by a Gaussian of
`blur_sigma` pixels at that size, then encoded by the bundled ffmpeg (libx264, yuv420p) at a
bitrate typical of the size.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

from tests.support.astronaut import astronaut_readonly

# Frame height -> (width, a typical H.264 bitrate in kbit/s for streamed talking heads).
SIZES = {480: (854, 1200), 720: (1280, 2500), 1080: (1920, 5000)}
# The photo's side at 1080p: 1.5 x its 512 px, so the face is about 165 px tall.
SIDE_AT_1080 = 768


def write_h264_face_video(
    path: str | Path,
    *,
    height: int,
    bitrate_kbps: int | None = None,
    blur_sigma: float = 0.0,
    contrast: float = 1.0,
    seconds: float = 1.6,
    fps: float = 25,
) -> Path:
    """An H.264 .mp4 of the astronaut at `height` (480, 720 or 1080). `contrast` < 1 flattens
    the picture towards mid-grey, as dim, flat footage looks."""
    width, typical = SIZES[height]
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps),
        "-i", "-",
        "-c:v", "libx264", "-preset", "medium", "-pix_fmt", "yuv420p",
        "-b:v", f"{bitrate_kbps or typical}k", "-maxrate", f"{bitrate_kbps or typical}k",
        "-bufsize", f"{2 * (bitrate_kbps or typical)}k",
        str(path),
    ]  # fmt: skip
    frames = (
        _frame(index, width, height, blur_sigma, contrast) for index in range(round(seconds * fps))
    )
    with subprocess.Popen(command, stdin=subprocess.PIPE) as encoder:
        assert encoder.stdin is not None
        for frame in frames:
            encoder.stdin.write(frame.tobytes())
        encoder.stdin.close()
        if encoder.wait() != 0:
            raise RuntimeError(f"ffmpeg could not encode {path}")
    return Path(path)


def _frame(index: int, width: int, height: int, blur_sigma: float, contrast: float) -> np.ndarray:
    photo = astronaut_readonly()
    scale = SIDE_AT_1080 * height / 1080 / photo.shape[0]
    dx, dy = 4.0 * math.sin(index / 5.0), 3.0 * math.cos(index / 7.0)
    matrix = np.array(
        [
            [scale, 0.0, width / 2.0 - scale * photo.shape[1] / 2.0 + dx],
            [0.0, scale, height / 2.0 - scale * photo.shape[0] / 2.0 + dy],
        ]
    )
    frame = cv2.warpAffine(
        photo,
        matrix,
        (width, height),
        flags=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(60, 60, 60),
    )
    if blur_sigma:
        frame = cv2.GaussianBlur(frame, (0, 0), blur_sigma)
    if contrast != 1.0:
        frame = np.clip(128 + (frame.astype(np.float32) - 128) * contrast, 0, 255)
    return np.ascontiguousarray(frame, dtype=np.uint8)
