"""Test media made on the spot from one public-domain photo (tests/support/astronaut.py).

Plain functions, no pytest: any test (ml, platform, browser) or benchmark can call them. Videos
are written by OpenCV with the codec chosen by the file extension: MJPG in .avi and .mkv, mp4v
in .mp4 and .mov, VP8 in .webm.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import cv2
import numpy as np
from PIL import Image

from tests.support.astronaut import (
    astronaut_readonly,
    astronaut_rgb,
    close_eyes,
    two_face_rgb,
)
from tests.support.headpose import pitched_face

# The shared blink clip of the ml tests (tests/ml/conftest.py): three 200 ms blinks in a
# 6-second, 25 fps video.
BLINK_TIMES_S = (1.5, 3.0, 4.5)
BLINK_VIDEO_FPS = 25
# How far the upper lids follow the gaze when the head is pitched down by look_down_deg: the
# eyes stay open but the eye aspect ratio falls to about 0.7 of its open level, as it does for a
# person reading notes.
LOOK_DOWN_LIDS = 0.4
LOOK_DOWN_RAMP_S = 0.2  # how long the head takes to go down or come back up

_FOURCC = {
    ".avi": "MJPG",
    ".mp4": "mp4v",
    ".mov": "mp4v",
    ".mkv": "MJPG",
    ".webm": "VP80",
}


def write_image(
    path: str | Path,
    *,
    fmt: str = "JPEG",
    size: tuple[int, int] | None = None,
    mode: str | None = None,
    exif_orientation: int | None = None,
    rgb: np.ndarray | None = None,
) -> Path:
    """Write the astronaut (or `rgb`) as fmt ("JPEG", "PNG", "WEBP"), resized to size=(w, h).

    mode converts before saving: "P" (palette with a transparent colour), "RGBA", "LA", "CMYK"
    (JPEG), "I;16" (16-bit greyscale PNG). exif_orientation stores the pixels turned so that a
    viewer applying that EXIF orientation shows the photo upright (JPEG only).
    """
    path = Path(path)
    image = Image.fromarray(astronaut_rgb() if rgb is None else rgb)
    if size is not None:
        image = image.resize(size, Image.Resampling.LANCZOS)
    image, extra = _convert(image, mode)
    if exif_orientation is not None:
        image = image.transpose(_STORE_FOR_ORIENTATION[exif_orientation])
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        extra["exif"] = exif
    image.save(path, format=fmt, **extra)
    return path


# Transpose that stores an upright image such that applying the EXIF orientation restores it.
_STORE_FOR_ORIENTATION = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,  # shown after a 90 degree clockwise turn
    8: Image.Transpose.ROTATE_270,
}


def _convert(image: Image.Image, mode: str | None) -> tuple[Image.Image, dict]:
    if mode is None:
        return image, {}
    if mode == "P":
        # Palette image whose first palette entry is transparent, and top-left block uses it.
        palette = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=255)
        pixels = np.array(palette)
        pixels[:32, :32] = 255
        result = Image.fromarray(pixels, mode="P")
        result.putpalette(palette.getpalette()[: 255 * 3] + [0, 255, 0])
        return result, {"transparency": 255}
    if mode == "I;16":
        grey = np.asarray(image.convert("L"), dtype=np.uint16) * 257
        return Image.fromarray(grey), {}
    return image.convert(mode), {}


def write_two_face_image(path: str | Path, *, fmt: str = "JPEG") -> Path:
    """Two astronaut faces side by side (1024 x 512)."""
    return write_image(path, fmt=fmt, rgb=two_face_rgb())


def write_huge_png(path: str | Path, *, width: int = 20000, height: int = 20000) -> Path:
    """A small real PNG whose header claims width x height pixels (a decompression bomb's
    signature): the IHDR chunk is patched and its CRC recomputed, the data stays tiny."""
    path = Path(path)
    Image.new("RGB", (16, 16), (200, 180, 160)).save(path, format="PNG")
    data = bytearray(path.read_bytes())
    # Signature (8) + length (4) + b"IHDR" (4), then width and height as big-endian uint32.
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


# --- videos ------------------------------------------------------------------------------


def write_face_video(
    path: str | Path,
    *,
    seconds: float = 4.0,
    fps: float = 25,
    blinks_at_s: Sequence[float] = (),
    blink_ms: float = 200,
    size: tuple[int, int] | None = None,
    two_faces: bool = False,
    closed_from_s: float | None = None,
    absent: Sequence[tuple[float, float]] = (),
    black_until_s: float = 0.0,
    swap_from_s: float | None = None,
    look_down: Sequence[tuple[float, float]] = (),
    look_down_deg: float = 25.0,
    shut: Sequence[tuple[float, float]] = (),
) -> Path:
    """A talking-head-like video of the astronaut: slight sway and zoom every frame.

    Each time in blinks_at_s is the middle of a blink lasting blink_ms: the eyes close over the
    first quarter, stay shut for the middle half and reopen over the last quarter. With
    closed_from_s the eyes close at that time and stay closed to the end. two_faces puts a
    mirrored second astronaut beside the first. size defaults to 320 x 320 (640 x 320 for two).
    Each (start_s, end_s) in absent is a cut-away: frames in [start, end) show no face.
    Frames before black_until_s are black (a fade-in). With two_faces and swap_from_s, the
    two faces change places from that time on. During each (start_s, end_s) in look_down the
    head pitches down by look_down_deg (reached over LOOK_DOWN_RAMP_S) with the eyes open,
    their upper lids lowered with the gaze (tests/support/headpose.py). During each
    (start_s, end_s) in shut the eyes are closed (a closure longer than a blink).
    """
    size = size or ((640, 320) if two_faces else (320, 320))
    frames = round(seconds * fps)
    with _VideoWriter(path, fps, size) as writer:
        for index in range(frames):
            t = index / fps
            if t < black_until_s:
                writer.write(np.zeros((size[1], size[0], 3), np.uint8))
                continue
            if any(start <= t < end for start, end in absent):
                writer.write(_cutaway(size, index))
                continue
            closure = _closure(t, blinks_at_s, blink_ms / 1000.0)
            if closed_from_s is not None and t >= closed_from_s:
                closure = 1.0
            if any(start <= t < end for start, end in shut):
                closure = 1.0
            face = close_eyes(closure) if closure > 0 else astronaut_readonly()
            pitch = _pitch(t, look_down, look_down_deg)
            if pitch > 0:
                face = pitched_face(pitch, LOOK_DOWN_LIDS * pitch / look_down_deg)
            if two_faces and swap_from_s is not None and t >= swap_from_s:
                face = np.hstack([face[:, ::-1], face])
            elif two_faces:
                face = np.hstack([face, face[:, ::-1]])
            writer.write(_sway(face, index, size))
    return Path(path)


def _pitch(t: float, look_down: Sequence[tuple[float, float]], degrees: float) -> float:
    """The head's downward pitch at time t, in steps of 5 degrees (each step is one warp)."""
    for start, end in look_down:
        if start <= t < end:
            share = min(1.0, (t - start) / LOOK_DOWN_RAMP_S, (end - t) / LOOK_DOWN_RAMP_S)
            return 5.0 * round(degrees * share / 5.0)
    return 0.0


def _cutaway(size: tuple[int, int], index: int) -> np.ndarray:
    """A faceless frame: a slowly shifting colour gradient."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width]
    frame = np.empty((height, width, 3), np.uint8)
    frame[..., 0] = (xs // 2 + index) % 256
    frame[..., 1] = (ys // 2) % 256
    frame[..., 2] = 90
    return frame


def _tile(side: int, blur_sigma: float = 0.0) -> np.ndarray:
    """The astronaut photo resized to side x side, optionally Gaussian-blurred."""
    tile = cv2.resize(astronaut_readonly(), (side, side), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(tile, (0, 0), blur_sigma) if blur_sigma else tile


def write_sharp_and_blurred_video(
    path: str | Path, *, seconds: float = 3.0, fps: float = 15
) -> Path:
    """640 x 360: the astronaut sharp on the right (face about 64 px) and, in the background
    top left, a small copy blurred with a Gaussian of sigma 1 px (face about 44 px)."""
    sharp, blurred = _tile(360), _tile(240, blur_sigma=1.0)
    with _VideoWriter(path, fps, (640, 360)) as writer:
        for index in range(round(seconds * fps)):
            frame = np.full((360, 640, 3), 70, np.uint8)
            frame[:240, :240] = blurred
            dx = round(3 * math.sin(index / 5.0))
            frame[:, 270 + dx : 630 + dx] = sharp
            writer.write(frame)
    return Path(path)


def write_crossing_video(path: str | Path, *, seconds: float = 4.0, fps: float = 15) -> Path:
    """720 x 400: the astronaut moves left to right along the top while her mirror image moves
    right to left lower down; their paths cross half way (faces about 53 px, never covered)."""
    side, width, height = 280, 720, 400
    first, second = _tile(side), _tile(side)[:, ::-1]
    frames = round(seconds * fps)
    with _VideoWriter(path, fps, (width, height)) as writer:
        for index in range(frames):
            x = round((width - side) * index / max(1, frames - 1))
            frame = np.full((height, width, 3), 60, np.uint8)
            frame[:side, x : x + side] = first
            frame[height - side :, width - side - x : width - x] = second
            writer.write(frame)
    return Path(path)


def write_vfr_video(
    path: str | Path,
    frame_times_s: Sequence[float],
    *,
    blinks_at_s: Sequence[float] = (),
    blink_ms: float = 300,
) -> Path:
    """A Matroska video whose frames carry the given timestamps (variable frame rate), written
    with the ffmpeg of imageio-ffmpeg from a concat list of per-frame durations."""
    import subprocess
    import tempfile

    import imageio_ffmpeg

    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        lines = []
        for index, t in enumerate(frame_times_s):
            closure = _closure(t, blinks_at_s, blink_ms / 1000.0)
            face = close_eyes(closure) if closure > 0 else astronaut_readonly()
            frame_path = Path(tmp) / f"{index:05d}.png"
            Image.fromarray(_sway(face, index, (320, 320))).save(frame_path)
            following = frame_times_s[index + 1] if index + 1 < len(frame_times_s) else t + 0.04
            lines += [f"file '{frame_path}'", f"duration {following - t:.6f}"]
        lines.append(f"file '{Path(tmp) / f'{len(frame_times_s) - 1:05d}.png'}'")
        listing = Path(tmp) / "frames.txt"
        listing.write_text("\n".join(lines) + "\n")
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                *("-loglevel", "error", "-y", "-f", "concat", "-safe", "0"),
                *("-i", str(listing), "-fps_mode", "vfr", "-c:v", "mjpeg"),
                *("-q:v", "3", "-pix_fmt", "yuvj420p", str(path)),
            ],
            check=True,
        )
    return path


def write_noface_video(
    path: str | Path,
    *,
    seconds: float = 2.0,
    fps: float = 25,
    size: tuple[int, int] = (320, 240),
) -> Path:
    """A moving colour gradient with a bouncing disc: motion, but no face."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width]
    with _VideoWriter(path, fps, size) as writer:
        for index in range(round(seconds * fps)):
            frame = np.empty((height, width, 3), np.uint8)
            frame[..., 0] = (xs + 3 * index) % 256
            frame[..., 1] = (ys * 2 + index) % 256
            frame[..., 2] = 128
            centre = (int(width / 2 + width / 3 * math.sin(index / 7)), height // 2)
            cv2.circle(frame, centre, height // 6, (240, 240, 240), -1)
            writer.write(frame)
    return Path(path)


def write_corrupt_video(path: str | Path) -> Path:
    """A file that starts like a real AVI but whose data is garbage."""
    path = Path(path)
    write_noface_video(path, seconds=1.0)
    head = path.read_bytes()[:512]
    garbage = np.random.default_rng(7).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    path.write_bytes(head + garbage)
    return path


def _closure(t: float, blinks_at_s: Sequence[float], duration_s: float) -> float:
    half = duration_s / 2.0
    ramp = duration_s / 4.0
    return max(
        (float(np.clip((half - abs(t - b)) / ramp, 0.0, 1.0)) for b in blinks_at_s),
        default=0.0,
    )


def _sway(image: np.ndarray, index: int, size: tuple[int, int]) -> np.ndarray:
    """Resize to size=(w, h) with a slow sway of a few pixels and a 2 % breathing zoom, so
    consecutive frames differ as in a real video."""
    height, width = image.shape[:2]
    out_w, out_h = size
    scale = min(out_w / width, out_h / height) * (1.0 + 0.02 * math.sin(index / 9.0))
    dx = 3.0 * math.sin(index / 5.0)
    dy = 2.0 * math.cos(index / 7.0)
    matrix = np.array(
        [
            [scale, 0.0, out_w / 2.0 - scale * width / 2.0 + dx],
            [0.0, scale, out_h / 2.0 - scale * height / 2.0 + dy],
        ]
    )
    return cv2.warpAffine(
        image,
        matrix,
        (out_w, out_h),
        flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_REFLECT,
    )


class _VideoWriter:
    """cv2.VideoWriter taking RGB frames, with the codec chosen from the extension."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]) -> None:
        suffix = Path(path).suffix.lower()
        if suffix not in _FOURCC:
            raise ValueError(f"Unsupported video extension {suffix!r}")
        self._writer = cv2.VideoWriter(
            str(path), cv2.VideoWriter_fourcc(*_FOURCC[suffix]), fps, size
        )
        if not self._writer.isOpened():
            raise RuntimeError(f"OpenCV cannot write {path}")

    def write(self, rgb: np.ndarray) -> None:
        self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._writer.release()
