"""Decoded images as the analysis wants them: RGB uint8, upright."""

from __future__ import annotations

import numpy as np
from PIL import Image


def exif_orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except (OSError, ValueError, TypeError):
        return 1


def to_rgb_array(image: Image.Image) -> np.ndarray:
    """Any Pillow mode to RGB uint8: transparency over white, 16-bit scaled, CMYK converted."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greyscale: Pillow's own conversion clips at 255, so scale by hand.
        values = np.asarray(image).astype(np.float64)
        if image.mode == "I" and values.max(initial=0) <= 255:
            scaled = values
        else:
            scaled = values / 257.0
        grey = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Hidden pixels under full transparency hold arbitrary colours; show what a viewer shows.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    rgb = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
