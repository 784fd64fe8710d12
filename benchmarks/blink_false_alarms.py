"""How often each blink rule fires on real people, and on generated clips with known blinks.

Real footage: the GRID clips in /work/shared/realfaces/grid (CC BY 4.0, Cooke et al. 2006; 3 s
each, 25 fps, real people speaking). The platform's upload check refuses .mpg, so the clips go
straight through the scan, people and blink functions. A 3-second clip is below every rate
window, so each clip is judged with the minimum measured time lowered to 2 s (the long-closure
rule then runs; the rate rules need 20 s and cannot fire); the pooled rate over all clips is
printed too.

    .venv/bin/python -m benchmarks.blink_false_alarms [--generated]
"""

from __future__ import annotations

import argparse
import glob
import tempfile
from pathlib import Path

import cv2

from ml.faces import people, scan
from ml.media import reader as media
from ml.signals import blink as blinks
from ml.verdict import policy

GRID = "/work/shared/realfaces/grid/*.mpg"


def _info(path: str) -> media.MediaInfo:
    capture = cv2.VideoCapture(path)
    try:
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(capture.get(cv2.CAP_PROP_FPS)) or 25.0
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    finally:
        capture.release()
    return media.MediaInfo("video", "video/mpeg", width, height, fps, count)


def measure(path: str) -> list[dict]:
    """Per person: the blink result with and without the head-pose gate."""
    scanned = scan.scan(
        path, _info(path), frames=8, scan_fps=25, specs=[], progress=lambda *_: None
    )
    rows = []
    for person in people.people(scanned, "video", 8):
        times, ears, facing = people._ear_series(person, scanned.times)
        gated = blinks.detect_blinks(times, ears, facing)
        plain = blinks.detect_blinks(times, ears)
        unmeasured = sum(1 for f in facing if not f) / max(1, len(facing))
        rows.append(
            {
                "clip": Path(path).name,
                "person": person.track_id,
                "seconds": round(times[-1] - times[0], 2),
                "gated": (gated.code, gated.count),
                "plain": (plain.code, plain.count),
                "unmeasured_share": round(unmeasured, 3),
            }
        )
    return rows


def _generated(folder: Path) -> list[str]:
    from tests.support import mediagen

    return [
        str(
            mediagen.write_face_video(
                folder / "reading.avi",
                seconds=12,
                fps=30,
                blinks_at_s=(1.0, 2.5, 9.0, 11.0),
                blink_ms=150,
                look_down=[(4.0, 7.5)],
            )
        ),
        str(
            mediagen.write_face_video(
                folder / "talking.avi", seconds=8, fps=25, blinks_at_s=(1.0, 3.0, 5.2, 7.0)
            )
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", action="store_true", help="also the generated clips")
    args = parser.parse_args()
    # 3-second clips: let the judgement run (the rate rules still need 20 s).
    policy.BLINK_MIN_OBSERVED_S, policy.BLINK_MIN_USABLE_FRAMES = 2.0, 40
    paths = sorted(glob.glob(GRID))
    with tempfile.TemporaryDirectory() as tmp:
        if args.generated:
            paths += _generated(Path(tmp))
        rows = [row for path in paths for row in measure(path)]
    fired = {"gated": {}, "plain": {}}
    for row in rows:
        print(row)
        for key, codes in fired.items():
            codes[row[key][0]] = codes.get(row[key][0], 0) + 1
    grid = [r for r in rows if r["clip"].endswith(".mpg")]
    total_s = sum(r["seconds"] for r in grid)
    total = sum(r["gated"][1] for r in grid)
    print(f"GRID: {len(grid)} people, {total} blinks in {total_s:.0f} s", end=" ")
    print(f"({60 * total / max(total_s, 1e-9):.1f} per minute pooled)")
    for key, codes in fired.items():
        print(key, dict(sorted(codes.items())))


if __name__ == "__main__":
    main()
