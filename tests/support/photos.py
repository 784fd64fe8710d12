"""A handful of real photos to train a tiny model on: one face, slightly turned and scaled."""

from __future__ import annotations

from pathlib import Path

import cv2
import skimage.data


def write_training_photos(root: Path, count: int = 8) -> Path:
    """`count` JPEGs under root/real (the layout train_model reads); returns root."""
    (root / "real").mkdir(parents=True)
    source = skimage.data.astronaut()
    for i in range(count):
        matrix = cv2.getRotationMatrix2D((256, 200), 2.0 * i - 8, 1.0 - 0.02 * i)
        img = cv2.resize(cv2.warpAffine(source, matrix, (512, 512)), (256, 256))
        cv2.imwrite(str(root / "real" / f"p{i}.jpg"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return root
