"""The authors' published MesoNet files (shared/models/mesonet, or the folder MESONET_MIRROR
names) and their network rebuilt here from the authors' layer list: the reference an installed,
converted MesoNet must match bit for bit.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import h5py
import keras
import numpy as np
import pytest
from django.conf import settings


def mesonet_folder() -> Path:
    folder = Path(
        os.environ.get("MESONET_MIRROR")
        or Path(settings.BASE_DIR).parent / "shared" / "models" / "mesonet"
    )
    if not (folder / "Meso4_DF.h5").is_file():
        pytest.fail(
            f"The published MesoNet weights are not in {folder}: check out the shared/ folder "
            "beside the repository, or set MESONET_MIRROR to a folder holding them."
        )
    return folder


def _by_creation(names: list[str], prefix: str) -> list[str]:
    """Keras 2 numbers layers in the order they were created: conv2d_5 before conv2d_6."""
    picked = [n for n in names if re.fullmatch(rf"{prefix}_\d+", n)]
    return sorted(picked, key=lambda n: int(n.rsplit("_", 1)[1]))


def reference_network(h5_path: Path) -> keras.Model:
    """MesoNet as the authors' classifiers.py builds it, in their creation order, with each
    layer's weights read by its name from the .h5 (not by layer order), output flipped to
    P(fake) by negating the last Dense layer."""
    L = keras.layers
    with h5py.File(h5_path, "r") as f:
        names = [n.decode() for n in f.attrs["layer_names"]]
        weights = {
            n: [f[n][w][()] for w in f[n].attrs["weight_names"]]
            for n in names
            if len(f[n].attrs["weight_names"])
        }
    queues = {p: iter(_by_creation(names, p)) for p in ("conv2d", "batch_normalization", "dense")}
    assigned: list[tuple[keras.layers.Layer, str]] = []

    def make(kind, layer):
        assigned.append((layer, next(queues[kind])))
        return layer

    def conv(x, filters, kernel, dilation=1):
        layer = L.Conv2D(filters, kernel, padding="same", activation="relu", dilation_rate=dilation)
        return make("conv2d", layer)(x)

    def bn_pool(x, pool):
        return L.MaxPooling2D(pool, padding="same")(
            make("batch_normalization", L.BatchNormalization())(x)
        )

    def inception(x, a, b, c, d):
        x1 = conv(x, a, 1)
        x2 = conv(conv(x, b, 1), b, 3)
        x3 = conv(conv(x, c, 1), c, 3, dilation=2)
        x4 = conv(conv(x, d, 1), d, 3, dilation=3)
        return L.Concatenate(axis=-1)([x1, x2, x3, x4])

    inputs = keras.Input((256, 256, 3))
    if any(n.startswith("concatenate") for n in names):
        x = bn_pool(inception(inputs, 1, 4, 4, 2), 2)
        x = bn_pool(inception(x, 2, 4, 4, 2), 2)
    else:
        x = bn_pool(conv(inputs, 8, 3), 2)
        x = bn_pool(conv(x, 8, 5), 2)
    x = bn_pool(conv(x, 16, 5), 2)
    x = bn_pool(conv(x, 16, 5), 4)
    x = L.Dropout(0.5)(L.Flatten()(x))
    x = make("dense", L.Dense(16))(x)
    if any(n.startswith("leaky_re_lu") for n in names):
        x = L.LeakyReLU(negative_slope=0.1)(x)
    output = make("dense", L.Dense(1, activation="sigmoid"))(L.Dropout(0.5)(x))
    model = keras.Model(inputs, output)
    for layer, name in assigned:
        layer.set_weights(weights[name])
    assert len(assigned) == len(weights), "every weighted layer of the file was used"
    kernel, bias = model.layers[-1].get_weights()
    model.layers[-1].set_weights([-kernel, -bias])
    return model


def sample_inputs(mesonet: Path) -> np.ndarray:
    """The authors' four labelled test faces at 256 px, and two random images, scaled 0..1."""
    faces = [
        cv2.resize(cv2.imread(str(p))[:, :, ::-1], (256, 256))
        for p in sorted((mesonet / "samples").glob("*.jpg"))
    ]
    noise = np.random.default_rng(0).integers(0, 256, (2, 256, 256, 3))
    return np.concatenate([np.stack(faces), noise]).astype("float32") / 255.0
