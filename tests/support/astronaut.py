"""The public-domain astronaut photo (scikit-image) every test medium is made from: the photo,
dlib's landmarks of its face, and the face with its eyes closed by a chosen amount.

Blinks are synthesised by squashing each eye vertically around its mid-line, guided by the
landmarks, so the eye aspect ratio that the product measures really drops.
"""

from __future__ import annotations

import functools
import math

import cv2
import dlib
import face_recognition_models
import numpy as np
import skimage.data


@functools.cache
def astronaut_readonly() -> np.ndarray:
    """The photo itself, shared and read-only (cached)."""
    image = skimage.data.astronaut()
    image.setflags(write=False)
    return image


def astronaut_rgb() -> np.ndarray:
    """The 512 x 512 RGB astronaut photo (one frontal face), a fresh writable copy."""
    return astronaut_readonly().copy()


@functools.cache
def astronaut_landmarks() -> np.ndarray:
    """dlib's 68 landmarks of the astronaut's face, (68, 2) float32 (computed once)."""
    image = astronaut_readonly()
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
    rect = detector(image, 0)[0]
    shape = predictor(image, rect)
    points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
    points.setflags(write=False)
    return points


def two_face_rgb() -> np.ndarray:
    """Two astronaut faces side by side, the second mirrored (1024 x 512)."""
    return np.ascontiguousarray(np.hstack([astronaut_readonly(), astronaut_readonly()[:, ::-1]]))


def close_eyes(closure: float) -> np.ndarray:
    """The astronaut with both eyes closed by `closure` (0 open .. 1 shut)."""
    return _closed_face(round(float(np.clip(closure, 0.0, 1.0)), 2))


@functools.cache
def _closed_face(closure: float) -> np.ndarray:
    image = astronaut_readonly().copy()
    points = astronaut_landmarks()
    for eye in (slice(36, 42), slice(42, 48)):
        _squash_eye(image, points[eye], closure)
    image.setflags(write=False)
    return image


def _squash_eye(image: np.ndarray, eye: np.ndarray, closure: float) -> None:
    """Shrink the eye opening vertically around its mid-line, stretching the lid and cheek skin
    above and below to fill the space, then blend the patch in with soft edges."""
    x0, y0 = eye.min(axis=0)
    x1, y1 = eye.max(axis=0)
    eye_height = max(2.0, float(y1 - y0))
    mid = float(y0 + y1) / 2.0
    half_open = eye_height / 2.0 + 1.0
    reach = 2.5 * eye_height  # how far above and below the eye the skin is stretched
    top, bottom = int(mid - reach), math.ceil(mid + reach)
    left, right = int(x0 - 0.4 * (x1 - x0)), math.ceil(x1 + 0.4 * (x1 - x0))
    rows = np.arange(top, bottom + 1, dtype=np.float32)
    kept = max(0.02, 1.0 - closure) * half_open  # remaining half opening
    # Piecewise-linear map from output row to source row: |d| <= kept samples the eye
    # (compressed), beyond it the skin from half_open..reach is stretched over kept..reach.
    offset = rows - mid
    distance = np.abs(offset)
    inside = distance <= kept
    source = np.where(
        inside,
        distance * (half_open / kept),
        half_open + (distance - kept) * (reach - half_open) / (reach - kept),
    )
    map_y = (mid + np.sign(offset) * source).astype(np.float32)
    cols = np.arange(left, right + 1, dtype=np.float32)
    grid_x, grid_y = np.meshgrid(cols, map_y)
    patch = cv2.remap(image, grid_x, grid_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if closure > 0.5:
        # The lash line where the lids meet.
        line = np.abs(offset) <= max(1.0, kept)
        shade = 1.0 - 0.45 * (closure - 0.5) * 2
        span = (cols >= x0) & (cols <= x1)
        patch[np.ix_(line, span)] = (patch[np.ix_(line, span)] * shade).astype(np.uint8)
    weight = _feather(len(rows), len(cols))
    region = image[top : bottom + 1, left : right + 1]
    blended = weight[..., None] * patch + (1.0 - weight[..., None]) * region
    region[...] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def _feather(height: int, width: int) -> np.ndarray:
    """1 in the middle, falling to 0 at the edges of the patch."""
    ramp_y = np.minimum(np.arange(height), np.arange(height)[::-1]) / max(1.0, height * 0.2)
    ramp_x = np.minimum(np.arange(width), np.arange(width)[::-1]) / max(1.0, width * 0.15)
    return np.clip(np.minimum.outer(ramp_y, ramp_x), 0.0, 1.0).astype(np.float32)
