"""Degradations an uploaded face goes through, applied to training faces at random."""

from __future__ import annotations

import cv2
import numpy as np


def augment(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Degradations an uploaded face goes through: recompression, blur, noise, light, occlusion."""
    img = rgb
    if rng.random() < 0.5:
        img = img[:, ::-1]
    if rng.random() < 0.3:
        contrast, brightness = rng.uniform(0.8, 1.2), rng.uniform(-25, 25)
        img = np.clip(img.astype(np.float32) * contrast + brightness, 0, 255).astype(np.uint8)
    if rng.random() < 0.2:
        img = cv2.GaussianBlur(np.ascontiguousarray(img), (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.2:
        noise = rng.normal(0, rng.uniform(2, 8), img.shape)
        img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        quality = int(rng.integers(40, 101))
        _, buf = cv2.imencode(
            ".jpg", np.ascontiguousarray(img), [cv2.IMWRITE_JPEG_QUALITY, quality]
        )
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if rng.random() < 0.2:
        h, w = img.shape[:2]
        ch, cw = int(h * rng.uniform(0.1, 0.3)), int(w * rng.uniform(0.1, 0.3))
        y, x = int(rng.integers(0, h - ch)), int(rng.integers(0, w - cw))
        img = img.copy()
        img[y : y + ch, x : x + cw] = 0
    return np.ascontiguousarray(img)
