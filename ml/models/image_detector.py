"""Whole-image detectors: networks that score an entire image or video frame for being
AI-generated (card kind "image"), not a face crop.

Each card states the transform its authors used before the network: the shorter side resized
to `image_transform.resize_short_side` (bilinear with antialiasing, as torchvision's Resize does
on a PIL image), or not resized at all (`"resize": "none"`), then a centred square of
`input_size`, then the card's `preprocessing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from ml.errors import ModelError
from ml.models import rollout
from ml.models.cards import ModelSpec
from ml.models.classify import _InstalledModel, default_batch_size

# Where a card names none: the shorter side resized straight to the input size.
DEFAULT_TRANSFORM = {"crop": "center"}


def resized_short_side(rgb: np.ndarray, short: int) -> np.ndarray:
    """The image with its shorter side `short` px, aspect kept (torchvision's Resize(int):
    the longer side is truncated, not rounded), bilinear with antialiasing (PIL)."""
    h, w = rgb.shape[:2]
    if min(h, w) == short:
        return rgb
    if h <= w:
        size = (int(short * w / h), short)
    else:
        size = (short, int(short * h / w))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))


def center_crop(rgb: np.ndarray, side: int) -> np.ndarray:
    """The centred `side` square (torchvision's CenterCrop: offsets rounded half to even);
    an image smaller than `side` is padded with black, as CenterCrop pads."""
    h, w = rgb.shape[:2]
    if h < side or w < side:
        padded = np.zeros((max(h, side), max(w, side), 3), dtype=rgb.dtype)
        top, left = (padded.shape[0] - h) // 2, (padded.shape[1] - w) // 2
        padded[top : top + h, left : left + w] = rgb
        rgb, h, w = padded, *padded.shape[:2]
    top, left = round((h - side) / 2.0), round((w - side) / 2.0)
    return rgb[top : top + side, left : left + side]


def face_square(rgb: np.ndarray, box: Sequence[int], scale: float) -> np.ndarray:
    """A square `scale` times the face box's longer side, centred on the face, inside the image."""
    x, y, w, h = box
    side = int(min(max(w, h) * scale, *rgb.shape[:2]))
    cx, cy = x + w / 2, y + h / 2
    left = int(np.clip(cx - side / 2, 0, rgb.shape[1] - side))
    top = int(np.clip(cy - side / 2, 0, rgb.shape[0] - side))
    return rgb[top : top + side, left : left + side]


class ImageDetector(_InstalledModel):
    """One network that gives a whole image or frame a probability of being AI-generated."""

    @classmethod
    def _check_card(cls, spec: ModelSpec) -> None:
        # Registers the ViTs' own layers and activation before Keras reads a file holding them.
        from ml.models.archs import clip_vit, vit  # noqa: F401

        if spec.card["kind"] != "image":
            raise ModelError(
                f"{spec.name} {spec.version} scores face crops, not whole images: it is "
                "not a whole-image detector."
            )

    @property
    def transform(self) -> dict[str, Any]:
        return {**DEFAULT_TRANSFORM, **(self.card.get("image_transform") or {})}

    @property
    def resize_short_side(self) -> int | None:
        """None: the authors crop the image as it is (`"resize": "none"`), never resized."""
        if self.transform.get("resize") == "none":
            return None
        return int(self.transform.get("resize_short_side") or self.input_size)

    @property
    def face_crop_scale(self) -> float | None:
        """How the authors scored faces too, if they did: a square this many face sizes wide."""
        scale = self.card.get("face_crop_scale")
        return float(scale) if scale else None

    def network_input(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 RGB of any size → the (S, S, 3) uint8 square the network sees."""
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        if self.resize_short_side:
            rgb = resized_short_side(rgb, self.resize_short_side)
        return center_crop(rgb, self.input_size)

    def predict_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """P(generated) (N,) of uint8 RGB images of any sizes."""
        if not images:
            return np.zeros(0, dtype=np.float32)
        pixels = np.stack([self.network_input(image) for image in images])
        step = default_batch_size()
        return np.concatenate(
            [self._outputs(self._inputs(pixels[i : i + step])) for i in range(0, len(pixels), step)]
        )

    def attention_rollout(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The square the network saw of `rgb` and its class token's attention rollout on the
        patch grid (ml/models/rollout.py); None for a network without self-attention blocks,
        or one not run by Keras."""
        model = getattr(self._forward, "model", None)
        if model is None or not rollout.attention_layers(model):
            return None
        square = self.network_input(rgb)
        attentions = rollout.keras_attentions(model, self._inputs(square[None]))
        return square, rollout.rollout([a[0] for a in attentions])
