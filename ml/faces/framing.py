"""How a model wants its face cut out of the frame: the framing its card declares.

Detectors are trained on one framing and score worse on another (a MesoNet face cut with a 30 %
margin instead of its authors' tighter crop moves a fake probability from 0.32 to 0.0015), so
the framing is part of the model, read from its card, never assumed:

- ``aligned``: eyes levelled, the landmarks' bounding square plus ``margin`` of its side on each
  side (``ml.faces.detect.align_crop``); the platform's own models and MesoNet (margin 0.17);
- ``box``: the detector box plus ``margin`` of its width and height on each side, clipped to the
  frame, resized isotropically and zero-padded to a square; the DFDC winner's framing (margin 1/3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ml.errors import ModelError
from ml.faces.detect import Face, align_crop

KINDS = ("aligned", "box")


@dataclass(frozen=True)
class Framing:
    kind: str = "aligned"
    margin: float = 0.3

    @classmethod
    def from_card(cls, card: dict[str, Any]) -> Framing:
        """The card's framing; cards written before framings existed mean the default."""
        framing = card.get("framing")
        if framing is None:
            return cls()
        if not isinstance(framing, dict) or framing.get("kind") not in KINDS:
            raise ModelError(
                f"The model card's framing must be an object with kind {' or '.join(KINDS)}."
            )
        margin = framing.get("margin", cls.margin)
        if not isinstance(margin, (int, float)) or not 0.0 <= margin <= 1.0:
            raise ModelError("The model card's framing margin must lie between 0 and 1.")
        return cls(framing["kind"], float(margin))

    def crop(self, rgb: np.ndarray, face: Face, size: int) -> np.ndarray:
        """A (size, size, 3) uint8 crop of `face` from the RGB frame."""
        if self.kind == "box":
            return box_crop(rgb, face.box, size=size, margin=self.margin)
        return align_crop(rgb, face.landmarks, size=size, margin=self.margin)

    def describe(self) -> str:
        if self.kind == "box":
            return f"detector box + {self.margin:.0%} each side, padded square"
        return f"eye-aligned landmark square + {self.margin:.0%} each side"


def crop_from_landmarks(
    framing: Framing, rgb: np.ndarray, landmarks: np.ndarray, *, size: int
) -> np.ndarray:
    """A model's input crop of a face known by its landmarks only (training's face cache).

    Cut by the same code as an analysis's crops; box framings need the detector's box, which
    the cache does not keep, so they are refused rather than approximated.
    """
    if framing.kind != "aligned":
        raise ModelError(
            f"Models framed by the detector box ({framing.describe()}) cannot be trained or "
            "measured on cached faces, which keep landmarks only."
        )
    points = np.asarray(landmarks, dtype=np.float32)
    x, y = points.min(axis=0)
    w, h = points.max(axis=0) - (x, y)
    box = (int(x), int(y), int(w), int(h))  # not used by an aligned framing
    return framing.crop(rgb, Face(box=box, landmarks=points, score=1.0), size)


@dataclass(frozen=True)
class CropSpec:
    """One kind of crop the analysis cuts at every sampled moment: a framing at a size."""

    framing: Framing
    size: int


def box_crop(
    rgb: np.ndarray, box: tuple[int, int, int, int], *, size: int, margin: float
) -> np.ndarray:
    """The box grown by `margin` on each side (clipped to the frame), its longer side resized to
    `size` (area when shrinking, cubic when enlarging, as the DFDC winner did) and zero-padded
    to the centre of a square."""
    x, y, w, h = box
    # floor, as the DFDC code's h // 3; the epsilon keeps 300 * (1/3) from flooring to 99
    dx, dy = int(w * margin + 1e-6), int(h * margin + 1e-6)
    height, width = rgb.shape[:2]
    patch = rgb[
        max(0, y - dy) : min(height, y + h + dy),
        max(0, x - dx) : min(width, x + w + dx),
    ]
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
