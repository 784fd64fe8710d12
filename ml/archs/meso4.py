"""MesoNet Meso-4 (Afchar et al., WIFS 2018): four conv blocks with batch-norm and max-pool,
then a small dense head. Takes pixels scaled to 0..1 ("unit"); designed for 256 px faces.
"""

from __future__ import annotations

from pathlib import Path

import keras

from ml.errors import ModelError

# (filters, kernel, pool) per block, as in the paper.
BLOCKS = ((8, 3, 2), (8, 5, 2), (16, 5, 2), (16, 5, 4))


def build(*, input_size: int = 256, init: str = "none") -> keras.Model:
    if init == "imagenet":
        raise ModelError(
            "Meso-4 has no ImageNet weights; use --init none or --init PATH."
        )
    inputs = keras.Input((input_size, input_size, 3), name="face")
    x = inputs
    for i, (filters, kernel, pool) in enumerate(BLOCKS, start=1):
        x = keras.layers.Conv2D(
            filters, kernel, padding="same", activation="relu", name=f"conv{i}"
        )(x)
        x = keras.layers.BatchNormalization(name=f"bn{i}")(x)
        x = keras.layers.MaxPooling2D(pool, padding="same", name=f"pool{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(0.5, name="dropout1")(x)
    x = keras.layers.Dense(16, name="dense")(x)
    x = keras.layers.LeakyReLU(negative_slope=0.1, name="leaky")(x)
    x = keras.layers.Dropout(0.5, name="dropout2")(x)
    output = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="fake")(
        x
    )
    model = keras.Model(inputs, output, name="meso4")
    if init not in ("none", "", None):
        if not Path(init).is_file():
            raise ModelError(f"The initial weights file {init} does not exist.")
        model.load_weights(init)
    return model
