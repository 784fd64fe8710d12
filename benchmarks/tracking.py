"""Face tracking at 720p: the schedule before (dlib HOG on the colour image every 5 frames,
frame by frame) against the shipped one (`FaceTracker.track`: HOG on a grey copy every 30
frames, new faces followed back, frames decoded in a read-ahead thread), in the same run, with
a what-if: the shipped schedule detecting every 15 frames.

Speed: frames per second over the headline clip (two people, 1280 x 720, 30 fps, scanned at
15 fps as the pipeline does), decoding included and tracking alone (frames decoded beforehand),
median of `--repeats` runs, the schedules alternating so that all see the same load; tracking
alone is also given per CPU second (process time), which the machine's load hardly changes.
Recall: (frame, face) pairs found over those that exist, on generated 720p clips whose truth is
known: faces present all along, a face entering after a black start and coming back after a
cut-away, a small face (about 90 px wide, near the detector's limit).

Usage: .venv/bin/python -m benchmarks.tracking [--repeats N] [--seconds S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from benchmarks.clips import two_person_clip
from benchmarks.machine import describe, load_average
from ml.faces.detect import Face, FaceAnalyzer
from ml.faces.tracking import FaceTracker
from ml.media import reader as media
from ml.media.reader import Frame
from tests.support import astronaut, mediagen

SIZE = (1280, 720)
SCAN_FPS = 15.0
CLIP_FPS = 30

Schedule = Callable[[Iterable[Frame]], Iterator[tuple[Frame, list[tuple[int, Face]]]]]


def old_schedule(frames: Iterable[Frame]) -> Iterator[tuple[Frame, list[tuple[int, Face]]]]:
    """Before: colour HOG every 5 frames, each frame answered at once, decoding in turn."""
    tracker = FaceTracker(FaceAnalyzer(grey=False), detect_every=5, follow_back=0)
    for frame in frames:
        yield frame, tracker.update(frame)


def new_schedule(frames: Iterable[Frame]) -> Iterator[tuple[Frame, list[tuple[int, Face]]]]:
    """Shipped: what ml/pipeline.py runs."""
    return FaceTracker(FaceAnalyzer()).track(frames)


def every_15(frames: Iterable[Frame]) -> Iterator[tuple[Frame, list[tuple[int, Face]]]]:
    """What-if: the shipped schedule with detection twice as often."""
    return FaceTracker(FaceAnalyzer(), detect_every=15, follow_back=14).track(frames)


SCHEDULES: dict[str, Schedule] = {
    "before": old_schedule,
    "shipped": new_schedule,
    "every 15 (what-if)": every_15,
}


def _scan(path: Path) -> Iterator[Frame]:
    return media.iter_video_frames(path, target_fps=SCAN_FPS)


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def speed(path: Path, repeats: int) -> dict:
    start = time.perf_counter()
    decoded = list(_scan(path))
    decode_fps = _rate(len(decoded), time.perf_counter() - start)
    times: dict[str, dict[str, list[float]]] = {
        n: {"with": [], "alone": [], "alone_cpu": []} for n in SCHEDULES
    }
    for _ in range(repeats):
        for name, schedule in SCHEDULES.items():
            start = time.perf_counter()
            count = sum(1 for _ in schedule(_scan(path)))
            times[name]["with"].append(time.perf_counter() - start)
            assert count == len(decoded)
            start, cpu = time.perf_counter(), time.process_time()
            sum(1 for _ in schedule(decoded))
            times[name]["alone"].append(time.perf_counter() - start)
            times[name]["alone_cpu"].append(time.process_time() - cpu)
    rates = {
        name: {
            "decode_and_track_fps": _rate(len(decoded), statistics.median(t["with"])),
            "track_only_fps": _rate(len(decoded), statistics.median(t["alone"])),
            # Frames per second of this process's CPU time: what one free core would do.
            "track_only_fps_per_cpu_s": _rate(len(decoded), statistics.median(t["alone_cpu"])),
        }
        for name, t in times.items()
    }
    return {"frames": len(decoded), "decode_only_fps": decode_fps, "schedules": rates}


def recall(path: Path, truth: Callable[[int], int]) -> dict:
    """truth(frame index) is how many faces the frame holds."""
    result = {}
    for name, schedule in SCHEDULES.items():
        found = wanted = extra = 0
        first = None
        for frame, seen in schedule(_scan(path)):
            expected = truth(frame.index)
            found += min(expected, len(seen))
            wanted += expected
            extra += max(0, len(seen) - expected)
            if seen and expected and first is None:
                first = frame.index
        result[name] = {
            "recall": round(found / wanted, 4),
            "extra_faces": extra,
            "first_found_frame": first,
        }
    return result


def small_face_clip(path: Path, *, seconds: float, face_px: int = 90) -> Path:
    """The astronaut shrunk so that her face is about face_px wide, drifting on a gradient."""
    side = round(512 * face_px / 95)  # her face is about 95 px wide in the 512 px photo
    tile = cv2.resize(astronaut.astronaut_rgb(), (side, side), interpolation=cv2.INTER_AREA)
    width, height = SIZE
    ys, xs = np.mgrid[0:height, 0:width]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), CLIP_FPS, SIZE)
    for index in range(round(seconds * CLIP_FPS)):
        rgb = np.dstack([(xs // 2 + index) % 256, (ys // 2) % 256, np.full_like(xs, 90)])
        rgb = rgb.astype(np.uint8)
        x = 200 + round(2 * index) % 600
        rgb[100 : 100 + side, x : x + side] = tile
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the speed clip")
    args = parser.parse_args()
    print(f"date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {describe()}")
    print(f"load average at the start {load_average()} (shared machine)")
    folder = Path(tempfile.mkdtemp(prefix="tracking-bench-"))
    headline = two_person_clip(folder, seconds=args.seconds, size=SIZE, name="two-person")
    FaceAnalyzer()  # load the models before timing
    print("speed", speed(headline, args.repeats))
    print("load average after speed", load_average())

    print("recall, two faces all along", recall(headline, lambda _i: 2))
    black, away = 1.45, (4.1, 5.5)  # seconds; the face comes back between detections of both
    entering = mediagen.write_face_video(
        folder / "entering.avi",
        seconds=8.0,
        fps=CLIP_FPS,
        size=SIZE,
        black_until_s=black,
        absent=[away],
    )

    def present(index: int) -> int:
        t = index / CLIP_FPS
        return int(t >= black and not away[0] <= t < away[1])

    print("recall, face entering at 1.45 s and back at 5.5 s", recall(entering, present))
    small = small_face_clip(folder / "small.avi", seconds=6.0)
    print("recall, small face (~90 px)", recall(small, lambda _i: 1))
    print(f"load average at the end {load_average()}")


if __name__ == "__main__":
    main()
