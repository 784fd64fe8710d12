"""How a model wants its face cut out of the frame: the framing its card declares.

Detectors are trained on one framing and score worse on another (the MesoNet authors' two sample
fakes score P(fake) 0.89 and 0.84 cut their authors' way, 0.11 and 0.35 cut as an eye-aligned
landmark square with a 17 % margin), so the framing is part of the model, read from its card,
never assumed:

- ``aligned``: eyes levelled, the landmarks' bounding square plus ``margin`` of its side on each
  side; the platform's own models (margin 0.3);
- ``eyes_mouth``: eyes levelled, a square centred on the nose whose side is ``scale`` times the
  larger of the eye-to-eye and eyes-to-mouth distances: the MesoNet authors' own cut
  (``pipeline.py``: 2.2 × 1.3 = 2.86);
- ``box``: the detector box plus ``margin`` of its width and height on each side, clipped to the
  frame, resized isotropically and zero-padded to a square; the DFDC winner's framing (margin 1/3).
  ``detector`` says whose box: ``dlib`` (the tracker's own, the default) or ``mtcnn`` (the
  boxes the DFDC winner trained on: found after the scan, on the sampled frames only, by
  ml/faces/mtcnn_boxes.py).

Where a square reaches past the frame's edge, ``pad`` says what fills it, as the model's
training saw it: ``zero`` (black: the platform's own training crops, and the DFDC winner's
square padding) or ``reflect`` (the frame mirrored at its edge: the MesoNet authors' code pads
this way, so a face filling a tight crop is not framed by black bars the model never saw).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ml.errors import ModelError
from ml.faces.detect import LEFT_EYE, RIGHT_EYE, Face, square_crop

KINDS = ("aligned", "eyes_mouth", "box")
DETECTORS = ("dlib", "mtcnn")  # whose box a ``box`` framing grows
PADS = {"zero": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT_101}
NOSE_BRIDGE, NOSE_TIP, MOUTH = slice(27, 31), slice(31, 36), slice(48, 68)
# The MesoNet authors' face side: 2.2 × the larger eye distance, × 1.3 "fine-tuning the zoom".
MESONET_SCALE = 2.86


@dataclass(frozen=True)
class Framing:
    kind: str = "aligned"
    margin: float = 0.3  # aligned and box
    pad: str = "zero"  # aligned and eyes_mouth; box always pads its square with zeros
    scale: float = MESONET_SCALE  # eyes_mouth
    detector: str = "dlib"  # box

    @property
    def deferred(self) -> bool:
        """Cut after the scan, once the boxes of another detector are known (mtcnn_boxes.py)."""
        return self.detector != "dlib"

    @classmethod
    def from_card(cls, card: dict[str, Any]) -> Framing:
        """The card's framing; cards written before framings existed mean the default."""
        framing = card.get("framing")
        if framing is None:
            return cls()
        if not isinstance(framing, dict) or framing.get("kind") not in KINDS:
            raise ModelError(
                f"The model card's framing must be an object with kind {', '.join(KINDS)}."
            )
        margin = framing.get("margin", cls.margin)
        if not _number_in(margin, 0.0, 1.0):
            raise ModelError("The model card's framing margin must lie between 0 and 1.")
        scale = framing.get("scale", cls.scale)
        if not _number_in(scale, 1.0, 6.0):
            raise ModelError("The model card's framing scale must lie between 1 and 6.")
        pad = framing.get("pad", cls.pad)
        if pad not in PADS:
            raise ModelError(f"The model card's framing pad must be {' or '.join(PADS)}.")
        detector = framing.get("detector", cls.detector)
        if detector not in DETECTORS or (detector != "dlib" and framing["kind"] != "box"):
            raise ModelError(
                f"The model card's framing detector must be {' or '.join(DETECTORS)}, "
                "and only a box framing names one."
            )
        return cls(framing["kind"], float(margin), pad, float(scale), detector)

    def crop(self, rgb: np.ndarray, face: Face, size: int) -> np.ndarray:
        """A (size, size, 3) uint8 crop of `face` from the RGB frame."""
        return self.cut(rgb, face, size).pixels

    def cut(self, rgb: np.ndarray, face: Face, size: int) -> Crop:
        """The crop of `face` and the rectangle of the frame it was cut from. A deferred
        framing's box comes from its own detector (mtcnn_boxes.py), never from `face`."""
        if self.deferred:
            raise ModelError(f"The {self.detector} framing is cut once its boxes are known.")
        if self.kind == "box":
            return box_cut(rgb, face.box, size=size, margin=self.margin)
        points = np.asarray(face.landmarks, dtype=np.float64)
        rotation = _levelling(points)
        if self.kind == "eyes_mouth":
            centre, side = _eyes_mouth_square(points, self.scale)
            centre = rotation[:, :2] @ centre + rotation[:, 2]
        else:
            levelled = points @ rotation[:, :2].T + rotation[:, 2]
            low, high = levelled.min(axis=0), levelled.max(axis=0)
            centre, side = (low + high) / 2.0, float(max(high - low)) * (1.0 + 2.0 * self.margin)
        pixels = square_crop(rgb, rotation, centre, side, size, PADS[self.pad])
        return Crop(pixels, _square_rectangle(rotation, centre, side, rgb.shape))

    def describe(self) -> str:
        padding = "" if self.pad == "zero" else f", {self.pad} padding"
        if self.kind == "box":
            return f"{self.detector} box + {self.margin:.0%} each side, padded square"
        if self.kind == "eyes_mouth":
            return f"nose-centred square, {self.scale:g} × the eye/mouth span{padding}"
        return f"eye-aligned landmark square + {self.margin:.0%} each side{padding}"


def _number_in(value: Any, low: float, high: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def _square_rectangle(
    rotation: np.ndarray, centre: np.ndarray, side: float, shape: tuple[int, ...]
) -> Rectangle:
    """The frame rectangle a levelled square covers: its corners turned back into the frame,
    their bounds clipped to it (parts outside were padded, not cut)."""
    half = side / 2.0
    corners = centre + np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
    back = cv2.invertAffineTransform(rotation)
    points = corners @ back[:, :2].T + back[:, 2]
    height, width = shape[:2]
    x1, y1 = np.clip(np.floor(points.min(axis=0)), 0, (width, height))
    x2, y2 = np.clip(np.ceil(points.max(axis=0)), 0, (width, height))
    return int(x1), int(y1), int(x2), int(y2)


def _levelling(points: np.ndarray) -> np.ndarray:
    """The 2x3 rotation about the landmarks' mean that levels the eyes."""
    left_eye, right_eye = points[LEFT_EYE].mean(axis=0), points[RIGHT_EYE].mean(axis=0)
    angle = math.degrees(math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]))
    centre = points.mean(axis=0)
    return cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, 1.0)


def _eyes_mouth_square(points: np.ndarray, scale: float) -> tuple[np.ndarray, float]:
    """The MesoNet authors' face square: centre between nose bridge and nose tip, side `scale`
    times the larger of the eye-to-eye and eyes-to-mouth distances (frame pixels)."""
    left_eye, right_eye = points[LEFT_EYE].mean(axis=0), points[RIGHT_EYE].mean(axis=0)
    eyes, mouth = (left_eye + right_eye) / 2.0, points[MOUTH].mean(axis=0)
    nose = (points[NOSE_BRIDGE].mean(axis=0) + points[NOSE_TIP].mean(axis=0)) / 2.0
    span = max(np.linalg.norm(right_eye - left_eye), np.linalg.norm(mouth - eyes))
    return nose, float(span) * scale


def crop_from_landmarks(
    framing: Framing, rgb: np.ndarray, landmarks: np.ndarray, *, size: int
) -> np.ndarray:
    """A model's input crop of a face known by its landmarks only (training's face cache).

    Cut by the same code as an analysis's crops; box framings need the detector's box, which
    the cache does not keep, so they are refused rather than approximated.
    """
    if framing.kind == "box":
        raise ModelError(
            f"Models framed by the detector box ({framing.describe()}) cannot be trained or "
            "measured on cached faces, which keep landmarks only."
        )
    points = np.asarray(landmarks, dtype=np.float32)
    x, y = points.min(axis=0)
    w, h = points.max(axis=0) - (x, y)
    box = (int(x), int(y), int(w), int(h))  # not used by a landmark framing
    return framing.crop(rgb, Face(box=box, landmarks=points, score=1.0), size)


Rectangle = tuple[int, int, int, int]  # x1, y1, x2, y2 in frame pixels


@dataclass(frozen=True)
class Crop:
    """A model's input crop and the rectangle of the frame it was cut from (after margins and
    clipping, before resizing and padding)."""

    pixels: np.ndarray  # (size, size, 3) uint8 RGB
    box: Rectangle
    # The framing's detector missed this face, so its box was estimated (mtcnn_boxes.py).
    approximate: bool = False


@dataclass(frozen=True)
class CropSpec:
    """One kind of crop the analysis cuts at every sampled moment: a framing at a size."""

    framing: Framing
    size: int


def box_crop(
    rgb: np.ndarray, box: tuple[int, int, int, int], *, size: int, margin: float
) -> np.ndarray:
    """The pixels of `box_cut`."""
    return box_cut(rgb, box, size=size, margin=margin).pixels


def box_rectangle(
    box: tuple[int, int, int, int], margin: float, shape: tuple[int, ...]
) -> Rectangle:
    """The (x, y, w, h) box grown by `margin` of its width and height on each side, clipped
    to the frame."""
    x, y, w, h = box
    # floor, as the DFDC code's h // 3; the epsilon keeps 300 * (1/3) from flooring to 99
    dx, dy = int(w * margin + 1e-6), int(h * margin + 1e-6)
    height, width = shape[:2]
    x1, y1 = min(width, max(0, x - dx)), min(height, max(0, y - dy))
    return x1, y1, max(x1, min(width, x + w + dx)), max(y1, min(height, y + h + dy))


def box_cut(rgb: np.ndarray, box: tuple[int, int, int, int], *, size: int, margin: float) -> Crop:
    """The box grown by `margin` on each side (clipped to the frame), its longer side resized to
    `size` (area when shrinking, cubic when enlarging, as the DFDC winner did) and zero-padded
    to the centre of a square."""
    rectangle = box_rectangle(box, margin, rgb.shape)
    x1, y1, x2, y2 = rectangle
    return Crop(_isotropic_square(rgb[y1:y2, x1:x2], size), rectangle)


def _isotropic_square(patch: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, size, 3), dtype=np.uint8)
    if patch.size == 0:
        return out
    scale = size / max(patch.shape[:2])
    new_w = max(1, min(size, int(patch.shape[1] * scale)))
    new_h = max(1, min(size, int(patch.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(patch, (new_w, new_h), interpolation=interpolation)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    out[top : top + new_h, left : left + new_w] = resized
    return out
