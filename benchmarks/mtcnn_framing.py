"""What MTCNN framing adds to an analysis: the second decode of the sampled frames and MTCNN on
them (ml/faces/mtcnn_boxes.py), on the 10 s 720p two-person benchmark clip. No classifier
runs: the cost does not depend on the model.

    .venv/bin/python -m benchmarks.mtcnn_framing [--seconds 10] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from benchmarks.clips import two_person_clip
from ml.faces import mtcnn_boxes, people, scan
from ml.faces.framing import CropSpec, Framing
from ml.media import reader as media
from ml.options import DEFAULT_FRAMES, DEFAULT_SCAN_FPS

SPEC = CropSpec(Framing("box", 1 / 3, detector="mtcnn"), 380)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        clip = str(two_person_clip(Path(folder), seconds=args.seconds, size=size, name="clip"))
        info = media.sniff(clip)
        start = time.perf_counter()
        scanned = scan.scan(
            clip,
            info,
            frames=DEFAULT_FRAMES,
            scan_fps=DEFAULT_SCAN_FPS,
            specs=[SPEC],
            progress=lambda *_: None,
        )
        judged = [p for p in people.people(scanned, "video", DEFAULT_FRAMES) if not p.not_judged]
        scan_s = time.perf_counter() - start
        start = time.perf_counter()
        mtcnn_boxes._mtcnn()
        load_s = time.perf_counter() - start
        warnings: list[str] = []
        start = time.perf_counter()
        mtcnn_boxes.cut_deferred(clip, "video", judged, [SPEC], warnings)
        framing_s = time.perf_counter() - start
    samples = [s for p in judged for s in p.samples]
    frames = len({s.frame_index for s in samples})
    approximate = sum(s.crops[SPEC].approximate for s in samples)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.seconds:g} s {size[0]}x{size[1]} clip, {len(judged)} people: scan and people "
        f"{scan_s:.1f} s; MTCNN load {load_s:.1f} s; framing {framing_s:.1f} s for "
        f"{len(samples)} crops on {frames} frames ({framing_s / max(frames, 1):.3f} s a frame), "
        f"{approximate} approximate; peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
