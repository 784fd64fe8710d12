"""Open, probe and sample images and videos.

The type of a file is decided by its content (magic bytes plus a real decode of the first image
or frame), never by its name. Images go through Pillow, videos through OpenCV. Video frames are
streamed one at a time so memory stays bounded whatever the length of the video.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ml.errors import MediaError
from ml.media import timing
from ml.media.capture import DAMAGED_VIDEO_MESSAGE, fourcc, open_for_frames, valid_fps
from ml.media.capture import open_video as _open_video
from ml.media.pixels import exif_orientation, to_rgb_array
from ml.options import DEFAULT_SCAN_FPS

# Largest image we decode: about 8000 x 8000. Checked from the header, before any pixel is
# decoded, so a decompression bomb (a tiny file declaring a huge image) never reaches memory.
MAX_IMAGE_PIXELS = 64_000_000
# Largest video frame we decode (8K UHD).
MAX_VIDEO_PIXELS = 7680 * 4320
# `sniff` runs inside the upload request, so its work is bounded whatever the file holds.
# Finding an image's header takes milliseconds; junk after a JPEG marker would otherwise be
# skipped one byte at a time (about 0.2 s per MB).
SNIFF_HEADER_CPU_S = 0.25
# The trial decode stops after this much CPU time; damage not met by then is left to the
# analysis itself, which decodes everything and fails with the same message.
SNIFF_DECODE_CPU_S = 1.0
# WebP decodes in one uninterruptible call (about 0.04 s per megapixel): larger ones are
# checked by their container structure only.
SNIFF_WEBP_DECODE_PIXELS = 16_000_000
# FFmpeg gives up opening, or reading the first frame, after this long (wall clock): junk in
# an AVI container otherwise costs seconds of scanning.
SNIFF_VIDEO_TIMEOUT_MS = 1500

UNSUPPORTED_MESSAGE = (
    "This file type is not supported. Upload a JPEG, PNG or WebP image, "
    "or an MP4, MOV, AVI, MKV or WebM video."
)
DAMAGED_IMAGE_MESSAGE = "The image is damaged or incomplete and cannot be decoded."


@dataclass
class MediaInfo:
    media_type: str  # "image" | "video"
    mime: str
    width: int
    height: int
    fps: float | None = None
    frame_count: int | None = None
    duration_s: float | None = None
    # What the analysis should say about the file itself (an implausible header, for one).
    warnings: list[str] = field(default_factory=list)


@dataclass
class Frame:
    index: int  # position in the source video, counting every decoded frame
    t_s: float
    rgb: np.ndarray  # HxWx3 uint8


def sniff(path: str | Path) -> MediaInfo:
    """Decide what a file is from its content and check that it decodes.

    Runs in the upload request, so its work is bounded whatever the file holds: the header
    must be found within SNIFF_HEADER_CPU_S of CPU time (or the file is damaged), the trial
    decode stops after SNIFF_DECODE_CPU_S (accepted if intact so far: the analysis decodes
    the rest), and FFmpeg gives up on a video after SNIFF_VIDEO_TIMEOUT_MS.

    For videos, frame_count and duration_s are the container's claims, when plausible;
    `probe` counts them. A container frame rate out of range is not believed: the rate is the
    video stream's own (ml/media/timing.py), and a warning says so.
    """
    path = Path(path)
    mime = _mime_from_content(path)
    if mime.startswith("image/"):
        return _sniff_image(path, mime)
    return _sniff_video(path, mime)


def probe(path: str | Path) -> MediaInfo:
    """Like `sniff`, but for videos count the frames that actually decode (streaming)."""
    info = sniff(path)
    if info.media_type == "image":
        return info
    capture, _clock = open_for_frames(path)
    try:
        count = 0
        while capture.grab():
            count += 1
    finally:
        capture.release()
    if count == 0:
        raise MediaError(DAMAGED_VIDEO_MESSAGE)
    info.frame_count = count
    info.duration_s = count / info.fps if info.fps else None
    return info


def load_image(path: str | Path) -> np.ndarray:
    """Decode an image to HxWx3 uint8 RGB, upright as its EXIF orientation says."""
    path = Path(path)
    mime = _mime_from_content(path)
    if not mime.startswith("image/"):
        raise MediaError("This file is a video, not an image.")
    with _open_pil(path, mime) as image:
        try:
            image.seek(0)  # animated WebP/PNG: the first frame
            upright = ImageOps.exif_transpose(image)
            return to_rgb_array(upright)
        except (OSError, ValueError, SyntaxError) as exc:
            raise MediaError(DAMAGED_IMAGE_MESSAGE) from exc


def iter_video_frames(path: str | Path, *, target_fps: float = DEFAULT_SCAN_FPS) -> Iterator[Frame]:
    """Yield every k-th frame so that the kept rate stays >= target_fps (all frames when the
    source is slower). Frames in between are grabbed but never converted, which is cheap."""
    capture, clock = open_for_frames(path)
    try:
        step = max(1, int(clock.fps // target_fps)) if clock.fps else 1
        index, last_t = 0, -1.0
        while capture.grab():
            if index % step == 0:
                ok, bgr = capture.retrieve()
                if not ok:
                    break
                if clock.container_times:
                    last_t = _frame_time(capture, index, clock.rate, last_t)
                else:
                    last_t = index / clock.rate
                yield Frame(index=index, t_s=last_t, rgb=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            index += 1
    finally:
        capture.release()


def _frame_time(capture: cv2.VideoCapture, index: int, rate: float, previous: float) -> float:
    """The decoder's timestamp of the frame just grabbed (true times for variable-frame-rate
    videos); index / rate when the container gives none or it does not move forward."""
    t = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
    if not math.isfinite(t) or t < 0 or t <= previous:
        return max(index / rate, previous + 1e-3) if previous >= 0 else index / rate
    return t


def iter_frames_at(path: str | Path, indices: Iterable[int]) -> Iterator[Frame]:
    """Yield the frames at the given indices (any order in, ascending out), streaming.

    Decodes sequentially instead of seeking: seeking is inexact in many containers.
    """
    wanted = sorted(set(indices))
    if not wanted:
        return
    capture, clock = open_for_frames(path)
    rate = clock.rate
    try:
        position = 0
        for index in wanted:
            while position < index and capture.grab():
                position += 1
            if position < index:
                return
            ok, bgr = capture.read()
            if not ok:
                return
            position += 1
            yield Frame(index=index, t_s=index / rate, rgb=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()


def sample_indices(total: int, n: int) -> list[int]:
    """n evenly spaced frame indices out of total, each the centre of an equal share.

    Centring avoids the very first and last frames, which are often black fades.
    """
    if total <= 0 or n <= 0:
        return []
    if n >= total:
        return list(range(total))
    return [int((i + 0.5) * total / n) for i in range(n)]


# --- content sniffing --------------------------------------------------------------------


def _mime_from_content(path: Path) -> str:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(64)
    except FileNotFoundError as exc:
        raise MediaError("The file does not exist.") from exc
    if size == 0:
        raise MediaError("The file is empty.")
    mime = _mime_from_magic(head)
    if mime is None:
        raise MediaError(UNSUPPORTED_MESSAGE)
    return mime


def _mime_from_magic(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):  # QuickTime files without ftyp
        return "video/quicktime"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska or WebM, named in the DocType
        return "video/webm" if b"webm" in head else "video/x-matroska"
    return None


# --- images ------------------------------------------------------------------------------

_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class _BudgetedReader:
    """A file whose reads come back empty, as at its end, once the reading thread has spent
    its CPU budget.

    Pillow's parsers and decoders pull the file through read() (a byte at a time over junk,
    64 KB at a time when decoding), so this bounds their work whatever the content.
    """

    def __init__(self, raw, budget_s: float):
        self._raw = raw
        self.restart(budget_s)

    def restart(self, budget_s: float) -> None:
        self._deadline = time.thread_time() + budget_s
        self.spent = False

    def read(self, size: int = -1) -> bytes:
        return b"" if self._over_budget() else self._raw.read(size)

    def readline(self, size: int = -1) -> bytes:
        return b"" if self._over_budget() else self._raw.readline(size)

    def _over_budget(self) -> bool:
        self.spent = self.spent or time.thread_time() > self._deadline
        return self.spent

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


def _sniff_image(path: Path, mime: str) -> MediaInfo:
    # Pillow imports its format plugins on first use: about 0.1 s of CPU in a fresh process,
    # more on a loaded machine. Done inside the budget below, it could use up the header's
    # budget and make an intact first file of a new worker process read as damaged.
    Image.init()
    with path.open("rb") as raw:
        reader = _BudgetedReader(raw, SNIFF_HEADER_CPU_S)
        with _open_pil(reader, mime) as image:
            width, height = image.size
            if exif_orientation(image) in (5, 6, 7, 8):  # rotated by 90 degrees when shown
                width, height = height, width
            reader.restart(SNIFF_DECODE_CPU_S)
            _trial_decode(image, mime, reader)
    return MediaInfo(media_type="image", mime=mime, width=width, height=height)


def _trial_decode(image: Image.Image, mime: str, reader: _BudgetedReader) -> None:
    """Decode enough of the image to show its data is intact, within the CPU budget."""
    width, height = image.size
    if mime == "image/webp" and width * height > SNIFF_WEBP_DECODE_PIXELS:
        return
    try:
        # JPEG can decode at 1/8 scale: enough to prove the data is intact, much cheaper.
        image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        if reader.spent:
            return  # intact as far as the budget reached
        raise MediaError(DAMAGED_IMAGE_MESSAGE) from exc


def _open_pil(source, mime: str) -> Image.Image:
    """Open lazily (header only) and refuse images too large to decode safely.

    source: a path, or a file object (a _BudgetedReader when sniffing). Only the parser of
    the type the magic bytes named is tried.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source, formats=[_PIL_FORMATS[mime]])
    except Image.DecompressionBombError as exc:
        raise MediaError(_too_large_message()) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise MediaError(DAMAGED_IMAGE_MESSAGE) from exc
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        image.close()
        raise MediaError(_too_large_message(width, height))
    if width == 0 or height == 0:
        image.close()
        raise MediaError(DAMAGED_IMAGE_MESSAGE)
    return image


def _too_large_message(width: int | None = None, height: int | None = None) -> str:
    limit = f"the limit is {MAX_IMAGE_PIXELS // 1_000_000} megapixels"
    if width is None:
        return f"The image is too large to analyse ({limit})."
    return f"The image is too large to analyse ({width} x {height} pixels; {limit})."


# --- videos ------------------------------------------------------------------------------


def _sniff_video(path: Path, mime: str) -> MediaInfo:
    capture = _open_video(path, timeout_ms=SNIFF_VIDEO_TIMEOUT_MS)
    try:
        declared = capture.get(cv2.CAP_PROP_FRAME_WIDTH) * capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
        if declared > MAX_VIDEO_PIXELS:
            raise MediaError(_video_too_large_message())
        ok, bgr = capture.read()
        if not ok or bgr is None or bgr.size == 0:
            raise MediaError(DAMAGED_VIDEO_MESSAGE)
        height, width = bgr.shape[:2]
        if width * height > MAX_VIDEO_PIXELS:
            raise MediaError(_video_too_large_message())
        claimed_fps = capture.get(cv2.CAP_PROP_FPS)
        claimed = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        codec = fourcc(capture)
    finally:
        capture.release()
    fps, warnings = valid_fps(claimed_fps), []
    if fps is None:
        fps = timing.stream_fps(path, codec)
        warnings.append(timing.implausible_timing_warning(claimed_fps, fps))
    # A frame takes at least a byte: a larger count is a header's invention.
    plausible = math.isfinite(claimed) and 0 < claimed <= path.stat().st_size
    frame_count = int(claimed) if plausible else None
    duration = frame_count / fps if frame_count and fps else None
    return MediaInfo(
        media_type="video",
        mime=mime,
        width=width,
        height=height,
        fps=fps,
        frame_count=frame_count,
        duration_s=duration,
        warnings=warnings,
    )


def _video_too_large_message() -> str:
    return "The video's frames are too large to analyse (the limit is 7680 x 4320 pixels)."
