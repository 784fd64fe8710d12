"""Child side: the naive reference, doing what typical implementations do.

dlib's HOG detector on every frame at full resolution plus 68 landmarks on every face, then
`frames` evenly spaced frames whose faces are each classified alone (one image per call) by
EfficientNet-B7 at 600 px. Only the `faces_per_frame` largest detections of a frame are
classified (the generated clip has two people; full-resolution HOG also fires on background),
so both sides score the same faces. Two more choices favour the reference, so speed-ups against it are not
inflated: no upsampling in the detector (face_recognition's default upsamples once, about 3x
the cost) and `predict_on_batch` instead of an eager call (which needs gigabytes per image).
"""

from __future__ import annotations

import time
from typing import Any

import cv2
import numpy as np

MARGIN = 0.3  # of the box size on each side, as most face-crop pipelines pad


def naive_reference(
    path: str,
    frames: int,
    arch: str,
    input_size: int,
    faces_per_frame: int = 2,
    upsample: int = 0,
) -> dict[str, Any]:
    boxes_by_frame, frame_count, scan = _detect_every_frame(path, upsample)
    picked = set(np.linspace(0, frame_count - 1, frames).round().astype(int).tolist())
    largest = {i: _largest(boxes_by_frame[i], faces_per_frame) for i in picked}
    crops = _crops(path, largest, input_size)
    model, build_s = _build(arch, input_size)
    start = time.perf_counter()
    for crop in crops:
        model.predict_on_batch(crop[None].astype(np.float32))
    classify_s = time.perf_counter() - start
    return {
        **scan,
        "frames": frame_count,
        "classified_crops": len(crops),
        "arch": arch,
        "input_size": input_size,
        "model_build_s": round(build_s, 2),
        "classify_s": round(classify_s, 2),
        "s_per_face": round(classify_s / max(len(crops), 1), 3),
        "total_s": round(scan["detect_landmarks_s"] + classify_s, 2),
    }


def _frames(path: str):
    capture = cv2.VideoCapture(path)
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()


def _detect_every_frame(path: str, upsample: int):
    import dlib
    import face_recognition_models

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
    boxes, faces = [], 0
    start = time.perf_counter()
    for rgb in _frames(path):
        rects = detector(rgb, upsample)
        for rect in rects:
            predictor(rgb, rect)
        boxes.append([(r.left(), r.top(), r.width(), r.height()) for r in rects])
        faces += len(rects)
    seconds = time.perf_counter() - start
    scan = {
        "detect_landmarks_s": round(seconds, 2),
        "detect_landmarks_fps": round(len(boxes) / seconds, 2),
        "faces_found": faces,
        "upsample": upsample,
    }
    return boxes, len(boxes), scan


def _largest(boxes: list, count: int) -> list:
    return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)[:count]


def _crops(path: str, boxes: dict[int, list], size: int) -> list[np.ndarray]:
    crops = []
    for index, rgb in enumerate(_frames(path)):
        for x, y, w, h in boxes.get(index, []):
            pad = int(MARGIN * max(w, h))
            top, left = max(0, y - pad), max(0, x - pad)
            face = rgb[top : y + h + pad, left : x + w + pad]
            crops.append(cv2.resize(face, (size, size), interpolation=cv2.INTER_LINEAR))
    return crops


def _build(arch: str, input_size: int):
    from ml.models.archs import get_arch

    start = time.perf_counter()
    model = get_arch(arch).build(input_size=input_size, init="none")
    return model, time.perf_counter() - start
