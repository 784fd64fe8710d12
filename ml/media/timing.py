"""A video's timing when its container headers cannot be believed.

MP4/MOV keep time in header fields (`mvhd`, `mdhd`, `tkhd` durations and timescales, the edit
list) that an attacker can set to anything without touching a single frame: with the timescale
set to 1, every frame "lasts" over a thousand seconds, the edit list then cuts the clip to its
first few frames, and a detector reading only those never sees the rest. When the container's
frame rate is implausible, frames are therefore read ignoring edit lists (everything that
decodes), and times come from the video stream itself where the codec records a rate (MPEG-4
Part 2's VOL header), otherwise from frame order alone.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# FourCCs of MPEG-4 Part 2, whose VOL header states the frame rate.
MPEG4_PART2 = {"FMP4", "MP4V", "XVID", "DIVX", "DX50"}
# The VOL header comes with the first frame (or the sample description): near the start of
# the file, or at the end when the index is written last.
_SCAN_BYTES = 1 << 20
_OPTIONS_VARIABLE = "OPENCV_FFMPEG_CAPTURE_OPTIONS"


def implausible_timing_warning(claimed_fps: float, stream_fps: float | None) -> str:
    source = (
        f"the video stream's own rate ({stream_fps:g} frames per second)"
        if stream_fps
        else "frame order alone (the video states no usable rate)"
    )
    return (
        f"The video's header claims an implausible timing ({claimed_fps:.4g} frames per "
        "second), which would hide most frames: every frame that decodes was examined, and "
        f"times were taken from {source}."
    )


@contextmanager
def ignoring_edit_lists() -> Iterator[None]:
    """OpenCV opens videos inside this block with FFmpeg's `ignore_editlist` option."""
    previous = os.environ.get(_OPTIONS_VARIABLE)
    os.environ[_OPTIONS_VARIABLE] = "ignore_editlist;1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(_OPTIONS_VARIABLE, None)
        else:
            os.environ[_OPTIONS_VARIABLE] = previous


def stream_fps(path: str | Path, fourcc: str) -> float | None:
    """The frame rate the codec bitstream's own timestamps give, or None (other codecs)."""
    if fourcc.upper() not in MPEG4_PART2:
        return None
    size = Path(path).stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(_SCAN_BYTES)
        handle.seek(max(len(head), size - _SCAN_BYTES))
        tail = handle.read()
    vol = _vol_clock(head) or _vol_clock(tail)
    if vol is None:
        return None
    times = _vop_times(head, *vol)
    # The median step between neighbours: a group-of-VOPs header restarting the clock (a step
    # back) or a reordered B-VOP does not move it.
    steps = sorted(b - a for a, b in itertools.pairwise(times) if b > a)
    if not steps:
        return None
    return round(1.0 / steps[len(steps) // 2], 3)


def _start_codes(data: bytes, low: int, high: int) -> Iterator[int]:
    """Offsets just past each start code 00 00 01 xx with low <= xx <= high."""
    start = 0
    while (start := data.find(b"\x00\x00\x01", start)) >= 0 and start + 3 < len(data):
        start += 3
        if low <= data[start] <= high:
            yield start + 1


def _vol_clock(data: bytes) -> tuple[int, int] | None:
    """(ticks per second, bits of a VOP's time increment) from the first VOL header in data."""
    for offset in _start_codes(data, 0x20, 0x2F):
        try:
            return _parse_vol(_Bits(data[offset : offset + 64]))
        except IndexError:
            return None
    return None


def _parse_vol(bits: _Bits) -> tuple[int, int] | None:
    """ISO/IEC 14496-2 6.2.3, up to vop_time_increment_resolution."""
    bits.read(1 + 8)  # random_accessible_vol, video_object_type_indication
    verid = 1
    if bits.read(1):  # is_object_layer_identifier
        verid = bits.read(4)
        bits.read(3)
    if bits.read(4) == 0xF:  # aspect_ratio_info: extended PAR
        bits.read(16)
    if bits.read(1):  # vol_control_parameters
        bits.read(3)  # chroma_format, low_delay
        if bits.read(1):  # vbv_parameters
            bits.read(15 + 1 + 15 + 1 + 15 + 1 + 3 + 11 + 1 + 15 + 1)
    shape = bits.read(2)
    if shape == 3 and verid != 1:
        bits.read(4)
    bits.read(1)  # marker
    resolution = bits.read(16)
    if not resolution:
        return None
    return resolution, max(1, (resolution - 1).bit_length())


def _vop_times(data: bytes, resolution: int, increment_bits: int, limit: int = 64) -> list[float]:
    """The display times (s) of the first VOPs in data, from their own time stamps."""
    times: list[float] = []
    seconds = 0
    for offset in _start_codes(data, 0xB6, 0xB6):
        bits = _Bits(data[offset : offset + 16])
        try:
            coding_type = bits.read(2)
            elapsed = 0
            while bits.read(1):  # modulo_time_base: whole seconds since the last reference
                elapsed += 1
            bits.read(1)  # marker
            increment = bits.read(increment_bits)
        except IndexError:
            break
        times.append(seconds + elapsed + increment / resolution)
        if coding_type != 2:  # B-VOPs do not move the reference second
            seconds += elapsed
        if len(times) >= limit:
            break
    return times


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def read(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self.data[self.position >> 3]
            value = (value << 1) | ((byte >> (7 - (self.position & 7))) & 1)
            self.position += 1
        return value
