"""MesoNet Meso-4 (Afchar et al., WIFS 2018): four conv blocks with batch-norm and max-pool,
then a small dense head. Takes pixels scaled to 0..1 ("unit"); designed for 256 px faces.

The layers are exactly those saved in the authors' published Meso4_*.h5 files (DariusAf/MesoNet
at 2144d56), in the same order, so those weights load into this network by layer order
(`ml.models.convert.mesonet`). That list has no LeakyReLU after Dense 16, although the authors' code
shows one: the published weights were trained without it. Training here uses the same network,
so a model trained on the platform and the published one differ only in their weights.
"""

from __future__ import annotations

from pathlib import Path

import keras

from ml.errors import ModelError

# (filters, kernel, pool) per block, as in the paper.
BLOCKS = ((8, 3, 2), (8, 5, 2), (16, 5, 2), (16, 5, 4))


def conv_block(x, filters: int, kernel: int, pool: int, *, index: int):
    """Conv (same, ReLU) → batch-norm after the activation → max-pool: the MesoNet block."""
    x = keras.layers.Conv2D(
        filters, kernel, padding="same", activation="relu", name=f"conv{index}"
    )(x)
    x = keras.layers.BatchNormalization(name=f"bn{index}")(x)
    return keras.layers.MaxPooling2D(pool, padding="same", name=f"pool{index}")(x)


def dense_head(x, *, leaky: bool):
    """Flatten, Dropout 0.5, Dense 16, [LeakyReLU 0.1], Dropout 0.5, one sigmoid unit."""
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(0.5, name="dropout1")(x)
    x = keras.layers.Dense(16, name="dense")(x)
    if leaky:
        x = keras.layers.LeakyReLU(negative_slope=0.1, name="leaky")(x)
    x = keras.layers.Dropout(0.5, name="dropout2")(x)
    # float32 output keeps the probability exact under mixed precision.
    return keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="fake")(x)


def load_init(model: keras.Model, init: str | None) -> keras.Model:
    if init == "imagenet":
        raise ModelError(f"{model.name} has no ImageNet weights; use --init none or --init PATH.")
    if init not in ("none", "", None):
        if not Path(init).is_file():
            raise ModelError(f"The initial weights file {init} does not exist.")
        model.load_weights(init)
    return model


def build(*, input_size: int = 256, init: str = "none") -> keras.Model:
    inputs = keras.Input((input_size, input_size, 3), name="face")
    x = inputs
    for i, (filters, kernel, pool) in enumerate(BLOCKS, start=1):
        x = conv_block(x, filters, kernel, pool, index=i)
    output = dense_head(x, leaky=False)
    return load_init(keras.Model(inputs, output, name="meso4"), init)
