"""Videos whose container headers lie: made by patching the atoms of a generated MP4.

`write_crafted_duration_mp4` sets the movie, media and track durations (`mvhd`, `mdhd`,
`tkhd`) to 0xFFFFFFFF and the timescales to 1, as an attacker would to make a player (or a
detector) believe the clip lasts 136 years and runs at a fraction of a frame per second.
"""

from __future__ import annotations

import struct
from pathlib import Path

from tests.support.mediagen import write_face_video

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"}
HUGE = 0xFFFFFFFF


def write_crafted_duration_mp4(path: str | Path, *, seconds: float = 3.0, fps: float = 10) -> Path:
    """A real `seconds`-long clip at `fps` whose headers claim duration 0xFFFFFFFF at timescale 1."""
    path = Path(path)
    write_face_video(path, seconds=seconds, fps=fps)
    data = bytearray(path.read_bytes())
    patched = _patch(data, 0, len(data))
    if not {b"mvhd", b"mdhd", b"tkhd"} <= patched:
        raise RuntimeError(f"the generated MP4 lacks atoms to patch: found {sorted(patched)}")
    path.write_bytes(bytes(data))
    return path


def _patch(data: bytearray, start: int, end: int) -> set[bytes]:
    """Walk the atoms in data[start:end], patching headers; the names of those patched."""
    patched: set[bytes] = set()
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header:
            break
        body = offset + header
        if kind in CONTAINERS:
            patched |= _patch(data, body, offset + size)
        elif kind in (b"mvhd", b"mdhd", b"tkhd"):
            _patch_header(data, kind, body)
            patched.add(kind)
        offset += size
    return patched


def _patch_header(data: bytearray, kind: bytes, body: int) -> None:
    version = data[body]
    if version != 0:
        raise RuntimeError(f"{kind.decode()} version {version}: only version 0 is patched")
    # version/flags (4), creation (4), modification (4), then:
    #   mvhd, mdhd: timescale (4), duration (4); tkhd: track id (4), reserved (4), duration (4)
    fields = body + 12
    if kind == b"tkhd":
        struct.pack_into(">I", data, fields + 8, HUGE)
    else:
        struct.pack_into(">II", data, fields, 1, HUGE)
