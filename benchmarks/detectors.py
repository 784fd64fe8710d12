"""Face detectors on hard 1080p frames: recall and seconds per frame, same run.

Frames come from tests/support/hardfaces.py (the astronaut at 200 px in good light; at 80 px in
good light, dim, looking down, dim and looking down; a dim room without a face). A face counts as
found when a returned box overlaps its landmarks' box by IoU >= 0.3; any other box is a false
alarm. Seconds per frame are medians over the frames of a case, detectors taking turns frame by
frame so all see the same load.

Detectors: dlib HOG as ml.faces.detect runs it (grey copy at 640 px, upsample 1), HOG on the full frame
(upsample 1 and 2), dlib's CNN (MMOD, at 640 px, upsample 1), BlazeFace full-range as
ml/faces/blazeface.py runs it (tiles + verification), the shipped ml.faces.detect.FaceAnalyzer.detect (HOG,
then BlazeFace when HOG finds nothing; its time includes the 68 landmarks), and MTCNN (the
`mtcnn` package) when it is importable (it is not in requirements.txt).

Usage: .venv/bin/python -m benchmarks.detectors [--seeds N] [--slow-seeds N] [--json PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import dlib
import face_recognition_models
import numpy as np

from benchmarks.machine import describe, load_average
from ml.faces.blazeface import BlazeFace
from ml.faces.boxes import iou
from ml.faces.detect import FaceAnalyzer
from tests.support.hardfaces import CASES, hard_frame

Box = tuple[int, int, int, int]
Detector = Callable[[np.ndarray], list[Box]]
MATCH_IOU = 0.3
SLOW = {"hog-full-up2", "dlib-cnn-640"}  # measured on fewer frames (seconds each)


def detectors() -> dict[str, Detector]:
    shipped_hog = FaceAnalyzer(fallback=False)
    full_up1 = FaceAnalyzer(detect_max_side=1 << 20, upsample=1, fallback=False)
    full_up2 = FaceAnalyzer(detect_max_side=1 << 20, upsample=2, fallback=False)
    blaze = BlazeFace()
    shipped = FaceAnalyzer()
    cnn = dlib.cnn_face_detection_model_v1(
        face_recognition_models.cnn_face_detector_model_location()
    )
    found: dict[str, Detector] = {
        "hog-640 (shipped before)": lambda rgb: [f.box for f in shipped_hog.detect_hog(rgb)],
        "hog-full-up1": lambda rgb: [f.box for f in full_up1.detect_hog(rgb)],
        "hog-full-up2": lambda rgb: [f.box for f in full_up2.detect_hog(rgb)],
        "dlib-cnn-640": lambda rgb: _cnn(cnn, rgb),
        "blazeface-tiles": lambda rgb: [_int_box(box) for box, _ in blaze.detect(rgb)],
        "hog+blazeface (shipped now)": lambda rgb: [f.box for f in shipped.detect(rgb)],
    }
    mtcnn = _mtcnn()
    if mtcnn is not None:
        found["mtcnn"] = mtcnn
    return found


def _cnn(model, rgb: np.ndarray) -> list[Box]:
    scale = 640 / max(rgb.shape[:2])
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    boxes = []
    for hit in model(small, 1):
        r = hit.rect
        boxes.append(
            _int_box((r.left() / scale, r.top() / scale, r.width() / scale, r.height() / scale))
        )
    return boxes


def _mtcnn() -> Detector | None:
    try:
        from mtcnn import MTCNN
    except ImportError:
        return None
    model = MTCNN(stages="face_detection_only")

    def detect(rgb: np.ndarray) -> list[Box]:
        return [
            _int_box(face["box"]) for face in model.detect_faces(rgb) if face["confidence"] >= 0.9
        ]

    return detect


def _int_box(box) -> Box:
    return tuple(round(float(v)) for v in box)  # type: ignore[return-value]


def measure(found: dict[str, Detector], seeds: int, slow_seeds: int) -> dict:
    results: dict = {}
    for case in CASES:
        for seed in range(seeds):
            frame = hard_frame(case, seed)
            for name, detect in found.items():
                if name in SLOW and seed >= slow_seeds:
                    continue
                start = time.perf_counter()
                boxes = detect(frame.rgb)
                elapsed = time.perf_counter() - start
                cell = results.setdefault(name, {}).setdefault(
                    case.name, {"found": 0, "present": 0, "false": 0, "seconds": []}
                )
                hits = sum(any(iou(b, t) >= MATCH_IOU for b in boxes) for t in frame.truth)
                matched = sum(any(iou(b, t) >= MATCH_IOU for t in frame.truth) for b in boxes)
                cell["found"] += hits
                cell["present"] += len(frame.truth)
                cell["false"] += len(boxes) - matched
                cell["seconds"].append(elapsed)
    for cases in results.values():
        for cell in cases.values():
            cell["median_s"] = round(statistics.median(cell.pop("seconds")), 3)
    return results


def table(results: dict) -> str:
    names = [case.name for case in CASES]
    lines = [
        "| detector | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for detector, cases in results.items():
        cells = []
        for name in names:
            cell = cases[name]
            recall = f"{cell['found']}/{cell['present']}" if cell["present"] else "-"
            false = f", {cell['false']} false" if cell["false"] else ""
            cells.append(f"{recall}{false}, {cell['median_s']:.3f} s")
        lines.append(f"| {detector} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8, help="frames per case")
    parser.add_argument("--slow-seeds", type=int, default=2, help="frames per case, slow ones")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    print(f"date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {describe()}")
    print(f"load average at the start {load_average()} (shared machine)")
    found = detectors()
    warm = hard_frame(CASES[0], 99).rgb
    for detect in found.values():  # first calls allocate; keep them out of the timing
        detect(warm)
    results = measure(found, args.seeds, args.slow_seeds)
    print(f"load average at the end {load_average()}")
    print("cells: faces found / present, false alarms, median seconds per frame")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
