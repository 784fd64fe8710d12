"""The astronaut with her head pitched down: a depth-aware warp of the photo.

Each of dlib's 68 landmarks of her face gets a depth from a generic face (nose tip in front,
eye corners and jaw behind), the points are turned about a horizontal axis by the chosen angle,
and the photo is warped piecewise-affinely from the old positions to the new ones, with a fixed
ring of points around the head so the background stays put. The nose then drops over the eyes
and the face shortens, as a camera sees a head bowed to read. Looking down also lowers the upper
lids with the gaze (the eyes stay open), which is what makes the eye aspect ratio of a person
reading notes read "closed"; `lids` sets how far.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from skimage.transform import PiecewiseAffineTransform, warp

from tests.support.astronaut import astronaut_landmarks, close_eyes

# Height of each landmark above the face (towards the camera), in units of a tenth of the span
# between the outer eye corners, after the Anthropometric 3-D face of ISR Coimbra (Martins &
# Batista 2008): eye corners about 4-4.4, nostrils 6.2, inner brows 6.9, chin 4.1.
_JAW = [4.07 - 6.0 * (abs(i - 8) / 8.0) ** 1.5 for i in range(17)]
_BROWS = [4.4, 5.2, 6.0, 6.5, 6.9, 6.9, 6.5, 6.0, 5.2, 4.4]
_NOSE = [5.6, 6.2, 6.8, 7.3, 6.17, 6.5, 6.8, 6.5, 6.17]
_EYES = [3.99, 4.5, 4.5, 4.41, 4.5, 4.5] + [4.41, 4.5, 4.5, 3.99, 4.5, 4.5]
_MOUTH = [5.05, 5.6, 6.0, 6.3, 6.0, 5.6, 5.05, 5.6, 5.9, 6.1, 5.9, 5.6] + [5.8] * 8
HEIGHTS = np.array(_JAW + _BROWS + _NOSE + _EYES + _MOUTH)


def pitched_face(pitch_deg: float, lids: float = 0.0) -> np.ndarray:
    """The astronaut photo with the head pitched down by pitch_deg and the upper lids lowered
    by `lids` (0 open .. 1 shut)."""
    return _pitched(round(float(pitch_deg), 1), round(float(lids), 2))


@functools.cache
def _pitched(pitch_deg: float, lids: float) -> np.ndarray:
    image = close_eyes(lids)
    if pitch_deg == 0:
        return image
    points = astronaut_landmarks().astype(np.float64)
    unit = np.linalg.norm(points[45] - points[36]) / 10.0  # pixels per model unit
    heights = (HEIGHTS - HEIGHTS.mean()) * unit
    centre_y = points[:, 1].mean()
    angle = math.radians(pitch_deg)
    moved = points.copy()
    moved[:, 1] = centre_y + (points[:, 1] - centre_y) * math.cos(angle) + heights * math.sin(angle)
    forehead = _forehead(points, unit)
    fixed = _ring(points, image.shape)
    source = np.vstack([points, forehead, fixed])
    target = np.vstack([moved, _tilt(forehead, centre_y, unit, angle), fixed])
    # warp() maps each output pixel back to where it comes from: estimate target -> source.
    transform = PiecewiseAffineTransform.from_estimate(target, source)
    if not transform:
        raise RuntimeError(f"cannot warp the face: {transform}")
    out = warp(image, transform, order=1, mode="edge", preserve_range=True)
    result = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    result.setflags(write=False)
    return result


def _forehead(points: np.ndarray, unit: float) -> np.ndarray:
    """Points above the brows, so the forehead turns with the face."""
    brows = points[17:27].copy()
    brows[:, 1] -= 2.5 * unit
    return brows


def _tilt(forehead: np.ndarray, centre_y: float, unit: float, angle: float) -> np.ndarray:
    moved = forehead.copy()
    height = (5.0 - HEIGHTS.mean()) * unit
    moved[:, 1] = (
        centre_y + (forehead[:, 1] - centre_y) * math.cos(angle) + height * math.sin(angle)
    )
    return moved


def _ring(points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Fixed points: a ring well outside the face, and the image's corners and edge middles."""
    centre = points.mean(axis=0)
    radius = 1.25 * np.max(np.linalg.norm(points - centre, axis=1))
    turns = np.linspace(0, 2 * math.pi, 16, endpoint=False)
    ring = centre + radius * np.stack([np.cos(turns), np.sin(turns)], axis=1)
    height, width = shape[:2]
    edge = [(x, y) for x in (0, width / 2, width - 1) for y in (0, height / 2, height - 1)]
    return np.vstack([ring, np.array(edge, dtype=np.float64)])
