"""What the upload type check (`ml.media.reader.sniff`) costs, on junk and on large real images.

Junk files are 200 MB (sparse: a header, then zeros) behind a JPEG, PNG, WebP, MP4, MKV or AVI
header; real ones are 8000 x 8000 images (64 MP, the largest accepted). Prints a Markdown table
of thread CPU time and wall time per file.

Usage: .venv/bin/python benchmarks/sniff.py [--without-budgets]
  --without-budgets  reads the files directly, with no CPU budget and no video timeout, as the
                     check did before it was bounded (slow: the JPEG junk alone takes over
                     half a minute)
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ml.errors import MediaError
from ml.media import reader as media

JUNK_SIZE = 200 * 1024 * 1024
JUNK_HEADERS = {
    "junk.jpg": b"\xff\xd8\xff",
    "junk.png": b"\x89PNG\r\n\x1a\n",
    "junk.webp": b"RIFF\xf0\xff\xff\x0bWEBPVP8 ",
    "junk.mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
    "junk.mkv": b"\x1a\x45\xdf\xa3",
    "junk.avi": b"RIFF\xf0\xff\xff\x0bAVI LIST",
}
REAL_SIDE = 8000


def make_files(folder: Path) -> list[Path]:
    paths = []
    for name, head in JUNK_HEADERS.items():
        path = folder / name
        with open(path, "wb") as out:
            out.write(head)
            out.truncate(JUNK_SIZE)
        paths.append(path)
    # Smooth noise: compresses like a photo, not like a flat colour.
    noise = np.random.default_rng(0).integers(0, 256, (500, 500, 3), dtype=np.uint8)
    picture = Image.fromarray(noise).resize((REAL_SIDE, REAL_SIDE), Image.BILINEAR)
    for name, options in (
        ("real.jpg", {"quality": 92}),
        ("real.png", {"compress_level": 1}),
        ("real.webp", {"quality": 80}),
    ):
        picture.save(folder / name, **options)
        paths.append(folder / name)
    return paths


class DirectReader:
    """Stands in for the budgeted reader: the file's own methods, no clock read per call."""

    spent = False

    def __init__(self, raw, budget_s: float):
        self.read, self.readline = raw.read, raw.readline
        self.seek, self.tell = raw.seek, raw.tell

    def restart(self, budget_s: float) -> None:
        pass


def measure(path: Path) -> tuple[float, float, str]:
    cpu, wall = time.thread_time(), time.perf_counter()
    try:
        info = media.sniff(path)
        outcome = f"accepted ({info.width} x {info.height})"
    except MediaError as error:
        outcome = f"rejected: {str(error).split(':')[0].split('.')[0]}"
    return time.thread_time() - cpu, time.perf_counter() - wall, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--without-budgets", action="store_true")
    args = parser.parse_args()
    if args.without_budgets:
        media._BudgetedReader = DirectReader
        media.SNIFF_WEBP_DECODE_PIXELS = math.inf
        media.SNIFF_VIDEO_TIMEOUT_MS = 0
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_files(Path(tmp))
        print("| file | size | CPU (s) | wall (s) | outcome |")
        print("|---|---|---|---|---|")
        for path in paths:
            cpu, wall, outcome = measure(path)
            size = path.stat().st_size / 1e6
            print(f"| {path.name} | {size:.0f} MB | {cpu:.2f} | {wall:.2f} | {outcome} |")


if __name__ == "__main__":
    main()
