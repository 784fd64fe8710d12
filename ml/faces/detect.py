"""Find faces, place 68 landmarks and cut aligned face crops (ml/faces/tracking.py follows them).

Detection uses dlib's frontal face detector on a downscaled grey copy of the frame (cheap:
HOG on one channel instead of three); the 68-point landmarks (iBUG 300-W layout) come from
dlib's shape predictor at full resolution (precise). When HOG finds nothing, MediaPipe's
BlazeFace (ml/faces/blazeface.py) looks again: it finds small, dim and downward-looking faces that HOG
misses (docs/face-detectors.md), and the landmarks are placed on its box the same way.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import dlib
import face_recognition_models
import numpy as np

from ml.faces.blazeface import BlazeFace

LEFT_EYE = slice(36, 42)  # the eye on the left of the image (the person's right eye)
RIGHT_EYE = slice(42, 48)

# dlib scores true frontal faces well above zero; weak hits just above zero are mostly textures
# (with upsampling, a patch of the astronaut's suit scores about 0.1).
MIN_DETECTION_SCORE = 0.3

# BlazeFace's box runs from the forehead to below the chin; dlib's predictor expects the tighter
# box of dlib's detector. Measured on the astronaut at 200 px (docs/face-detectors.md): the same
# centre, 3 % lower, 0.79 times the side.
BLAZE_TO_DLIB_SHIFT = 0.03
BLAZE_TO_DLIB_SCALE = 0.79


@dataclass
class Face:
    box: tuple[int, int, int, int]  # x, y, w, h in full-frame pixels
    landmarks: np.ndarray  # (68, 2) float32, full-frame pixels
    # Confidence of the detection this face comes from: dlib's HOG score (0.3 and up), or
    # BlazeFace's probability (0.5 to 1) where HOG found nothing.
    score: float


@functools.cache
def _dlib_models() -> tuple[dlib.fhog_object_detector, dlib.shape_predictor]:
    """Load once per process: the predictor file is about 100 MB."""
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
    return dlib.get_frontal_face_detector(), predictor


@functools.cache
def _blazeface() -> BlazeFace:
    return BlazeFace()


def preload() -> None:
    """Load the face models now. The worker's job process calls this at start, so its first
    job does not wait for them (~3 s) and every later job finds them loaded."""
    _dlib_models()
    _blazeface()


class FaceAnalyzer:
    """Detect faces and place landmarks in RGB uint8 frames."""

    def __init__(
        self,
        detect_max_side: int = 640,
        upsample: int = 1,
        *,
        grey: bool = True,
        fallback: bool = True,
    ) -> None:
        self.detect_max_side = detect_max_side
        # One upsampling lets dlib find faces down to about 40 px in the downscaled copy.
        self.upsample = upsample
        self.grey = grey  # False: HOG over the three colour channels (about 1.3x slower)
        self.fallback = fallback  # False: HOG only, never BlazeFace
        self._detector, self._predictor = _dlib_models()

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """All faces in the frame, largest first."""
        faces = self.detect_hog(rgb)
        if not faces and self.fallback:
            faces = self.detect_blazeface(rgb)
        return faces

    def detect_hog(self, rgb: np.ndarray) -> list[Face]:
        """The faces dlib's HOG detector finds, largest first."""
        rgb = np.ascontiguousarray(rgb)  # dlib reads the buffer directly
        scale = min(1.0, self.detect_max_side / max(rgb.shape[:2]))
        small = rgb if scale == 1.0 else _resize(rgb, scale)
        if self.grey:
            small = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        rects, scores, _ = self._detector.run(small, self.upsample, 0.0)
        faces = []
        for rect, score in zip(rects, scores, strict=True):
            if score < MIN_DETECTION_SCORE:
                continue
            box = clip_box(
                (
                    rect.left() / scale,
                    rect.top() / scale,
                    rect.width() / scale,
                    rect.height() / scale,
                ),
                rgb.shape,
            )
            if box[2] < 8 or box[3] < 8:
                continue
            faces.append(Face(box=box, landmarks=self.landmarks(rgb, box), score=float(score)))
        faces.sort(key=lambda f: f.box[2] * f.box[3], reverse=True)
        return faces

    def detect_blazeface(self, rgb: np.ndarray) -> list[Face]:
        """The faces BlazeFace finds, on boxes shaped like dlib's, largest first."""
        rgb = np.ascontiguousarray(rgb)
        faces = []
        for (x, y, w, h), score in _blazeface().detect(rgb):
            side_w, side_h = w * BLAZE_TO_DLIB_SCALE, h * BLAZE_TO_DLIB_SCALE
            cx, cy = x + w / 2, y + h / 2 + BLAZE_TO_DLIB_SHIFT * h
            box = clip_box((cx - side_w / 2, cy - side_h / 2, side_w, side_h), rgb.shape)
            if box[2] < 8 or box[3] < 8:
                continue
            faces.append(Face(box=box, landmarks=self.landmarks(rgb, box), score=score))
        faces.sort(key=lambda f: f.box[2] * f.box[3], reverse=True)
        return faces

    def landmarks(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """The 68 landmarks of the face inside box, (68, 2) float32 in frame pixels."""
        x, y, w, h = box
        rgb = np.ascontiguousarray(rgb)
        shape = self._predictor(rgb, dlib.rectangle(int(x), int(y), int(x + w), int(y + h)))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def align_crop(
    rgb: np.ndarray, landmarks: np.ndarray, *, size: int, margin: float = 0.3
) -> np.ndarray:
    """A (size, size, 3) uint8 face crop, rotated so the eyes are level.

    The face extent is the landmarks' bounding square; `margin` adds that fraction of it on
    every side (forehead, hair line and some background, which classifiers rely on). Parts
    outside the frame are black.
    """
    points = np.asarray(landmarks, dtype=np.float64)
    left_eye, right_eye = points[LEFT_EYE].mean(axis=0), points[RIGHT_EYE].mean(axis=0)
    angle = math.degrees(math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]))
    # Measure the face in the levelled frame so a tilted head does not inflate the crop.
    centre_guess = points.mean(axis=0)
    rotation = cv2.getRotationMatrix2D((float(centre_guess[0]), float(centre_guess[1])), angle, 1.0)
    levelled = points @ rotation[:, :2].T + rotation[:, 2]
    low, high = levelled.min(axis=0), levelled.max(axis=0)
    side = float(max(high - low)) * (1.0 + 2.0 * margin)
    centre_levelled = (low + high) / 2.0
    return square_crop(rgb, rotation, centre_levelled, side, size, cv2.BORDER_CONSTANT)


def clip_box(
    box: tuple[float, float, float, float], shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    height, width = shape[:2]
    x0, y0 = max(0, round(box[0])), max(0, round(box[1]))
    x1, y1 = min(width, round(box[0] + box[2])), min(height, round(box[1] + box[3]))
    return int(x0), int(y0), int(max(0, x1 - x0)), int(max(0, y1 - y0))


def _resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    height, width = rgb.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def square_crop(
    rgb: np.ndarray,
    rotation: np.ndarray,
    centre_levelled: np.ndarray,
    side: float,
    size: int,
    border: int,
) -> np.ndarray:
    """The levelled square of `side` around `centre_levelled`, resized to `size`; outside the
    frame filled as `border` says (an OpenCV border mode)."""
    scale = size / max(side, 1.0)
    matrix = rotation * scale
    matrix[:, 2] += size / 2.0 - centre_levelled * scale
    return cv2.warpAffine(
        rgb,
        matrix,
        (size, size),
        flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        borderMode=border,
        borderValue=(0, 0, 0),
    )
