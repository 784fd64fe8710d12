"""Fit the dlib-landmarks-to-MTCNN box mapping of ml/faces/mtcnn_boxes.py on real faces.

Faces: the astronaut photo (skimage.data.astronaut()) scaled and placed on a grey canvas at
several sizes and positions, and every 5th frame of the GRID clips in shared/realfaces. On
each, dlib's detector and landmarks and MTCNN (as ml/faces/mtcnn_boxes.py runs it) look for
the face; where both find it, the MTCNN box is written relative to the landmarks' bounding box.
The medians are the mapping's coefficients. Prints them, the dlib-to-MTCNN overlap (which
sets MIN_MATCH_IOU) and how close the mapped box comes to MTCNN's.

    .venv/bin/python -m benchmarks.fit_mtcnn_mapping [--realfaces ../shared/realfaces/grid]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from ml.faces.boxes import iou
from ml.faces.detect import FaceAnalyzer
from ml.faces.mtcnn_boxes import detect, mapped_box, match
from ml.media import reader as media

ASTRONAUT_WIDTHS = (320, 400, 512, 600)  # the photo's width on the canvas; its face ~1/3 of it
CANVAS = (720, 1280)


def astronaut_frames() -> list[np.ndarray]:
    photo = data.astronaut()
    frames = []
    for width in ASTRONAUT_WIDTHS:
        scaled = cv2.resize(photo, (width, width), interpolation=cv2.INTER_AREA)
        for left, top in ((40, 30), (500, 60), (CANVAS[1] - width - 20, CANVAS[0] - width - 10)):
            canvas = np.full((*CANVAS, 3), 128, np.uint8)
            canvas[top : top + width, left : left + width] = scaled
            frames.append(canvas)
    return frames


def clip_frames(folder: Path, every: int) -> list[np.ndarray]:
    frames = []
    for clip in sorted(folder.glob("*.mpg")):
        frames += [f.rgb for f in media.iter_frames_at(clip, range(0, 75, every))]
    return frames


def pairs(frames: list[np.ndarray]) -> list[tuple[object, tuple[int, int, int, int]]]:
    analyzer = FaceAnalyzer()
    found = []
    for rgb in frames:
        boxes = detect([rgb])[0]
        for face in analyzer.detect_hog(rgb):
            box = match(face.box, boxes)
            if box is not None:
                found.append((face, box))
    return found


def relative(face, box) -> tuple[float, float, float, float]:
    (x1, y1), (x2, y2) = face.landmarks.min(axis=0), face.landmarks.max(axis=0)
    lw, lh = x2 - x1, y2 - y1
    x, y, w, h = box
    return (
        (x + w / 2 - (x1 + x2) / 2) / lw,
        (y + h / 2 - (y1 + y2) / 2) / lh,
        w / lw,
        h / lh,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "realfaces" / "grid"
    parser.add_argument("--realfaces", type=Path, default=default)
    parser.add_argument("--every", type=int, default=5, help="every n-th frame of each clip")
    args = parser.parse_args()
    sets = {"astronaut": astronaut_frames(), "realfaces": clip_frames(args.realfaces, args.every)}
    everything = []
    for name, frames in sets.items():
        found = pairs(frames)
        everything += found
        overlap = [iou(face.box, box) for face, box in found]
        print(
            f"{name}: {len(found)} faces found by both in {len(frames)} frames; dlib-MTCNN IoU "
            f"min {min(overlap):.2f} median {np.median(overlap):.2f} max {max(overlap):.2f}"
        )
    coefficients = np.median([relative(face, box) for face, box in everything], axis=0)
    print(
        "X_SHIFT = {:.4f}\nY_SHIFT = {:.4f}\nWIDTH = {:.4f}\nHEIGHT = {:.4f}".format(*coefficients)
    )
    print("(paste these into ml/faces/mtcnn_boxes.py, then run again to measure the mapping)")
    for name, frames in sets.items():
        found = pairs(frames)
        fit = [iou(mapped_box(face), box) for face, box in found]
        corners = [
            np.abs(np.subtract(_corners(mapped_box(face)), _corners(box))).max() / box[2]
            for face, box in found
        ]
        print(
            f"{name}: mapped vs MTCNN box IoU mean {np.mean(fit):.3f} min {min(fit):.3f}; "
            f"worst corner off by {np.median(corners):.1%} of the box width (median)"
        )


def _corners(box) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return x, y, x + w, y + h


if __name__ == "__main__":
    main()
