"""Tiny Keras classifiers saved with their cards, as the platform loads installed models.

Their weights are random (seeded) or fixed by hand: they exist only inside tests, to exercise
loading, batching and scoring in seconds; the product never scores with them.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np

from ml.models.cards import ModelSpec
from ml.models.checksum import file_sha256

SIZE = 32  # input side of every tiny network
LENGTH = 4  # crops per face track of the temporal network

# A card's evidence (ml/verdict/reliability.py): strong may support "real", weak may not.
STRONG_EVIDENCE = {
    "in_domain": [{"dataset": "generated faces", "auc": 0.99, "source": "test"}],
    "cross_dataset": [{"dataset": "other generated faces", "auc": 0.95, "source": "test"}],
}
WEAK_EVIDENCE = {
    "in_domain": [{"dataset": "generated faces", "auc": 0.99, "source": "test"}],
    "cross_dataset": [{"dataset": "other generated faces", "auc": 0.56, "source": "test"}],
}


def build_model(seed: int, *, softmax: bool = False) -> keras.Model:
    """Convolution → pooling → P(fake) (or two softmax classes), seeded random weights."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = (
        keras.layers.Dense(2, activation="softmax")(x)
        if softmax
        else keras.layers.Dense(1, activation="sigmoid")(x)
    )
    return keras.Model(inputs, outputs)


def build_track_model(*, length: int = LENGTH, logit: float | None = None) -> keras.Model:
    """Per-frame convolution → LSTM → P(fake). With `logit`, the output is fixed at sigmoid(logit)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((length, SIZE, SIZE, 3))
    x = keras.layers.TimeDistributed(keras.layers.Conv2D(4, 3, activation="relu"))(inputs)
    x = keras.layers.TimeDistributed(keras.layers.GlobalAveragePooling2D())(x)
    x = keras.layers.LSTM(4)(x)
    dense = keras.layers.Dense(1, activation="sigmoid")
    model = keras.Model(inputs, dense(x))
    if logit is not None:
        fix_output(dense, logit)
    return model


def fix_output(dense: keras.layers.Dense, logit: float) -> None:
    """Zero the last layer's kernel: the model answers sigmoid(logit) whatever it sees."""
    kernel, _ = dense.get_weights()
    dense.set_weights([np.zeros_like(kernel), np.array([logit], dtype="float32")])


def save_with_card(
    model: keras.Model, folder: Path, name: str, card: dict, *, weight: float = 1.0
) -> ModelSpec:
    """`NAME.keras` + `NAME.card.json` in `folder`, and the spec the platform would build."""
    path = Path(folder) / f"{name}.keras"
    model.save(path)
    full_card = {
        "name": name,
        "version": "1",
        "input_size": SIZE,
        "preprocessing": "unit",
        "threshold": 0.5,
        **card,
    }
    (Path(folder) / f"{name}.card.json").write_text(json.dumps(full_card))
    return ModelSpec(
        name=name,
        version="1",
        sha256=file_sha256(path),
        path=str(path),
        card=full_card,
        weight=weight,
    )


def save_spec(
    folder: Path,
    name: str,
    *,
    seed: int = 0,
    softmax: bool = False,
    weight: float = 1.0,
    **card,
) -> ModelSpec:
    """A tiny frame classifier with seeded random weights, saved with its card."""
    return save_with_card(
        build_model(seed, softmax=softmax),
        folder,
        name,
        {"arch": "tiny-cnn", "kind": "frame", **card},
        weight=weight,
    )


def constant_spec(folder: Path, *, logit: float, reliability: dict | None = None) -> dict:
    """A frame model that gives every face sigmoid(logit), whatever it sees: fixes the evidence.
    As the options of `ml.analyze` carry it (a dict). `reliability`: the evidence on its card
    (none: unknown, so its low score cannot make a "real")."""
    model = build_model(0)
    fix_output(model.layers[-1], logit)
    card = {"arch": "tiny-cnn", "kind": "frame"}
    if reliability is not None:
        card["reliability"] = reliability
    spec = save_with_card(model, folder, "constant", card)
    return asdict(spec)


def brightness_spec(
    folder: Path, *, centre: float, gain: float, reliability: dict | None = None
) -> ModelSpec:
    """A frame model whose fake probability rises with the crop's mean brightness:
    sigmoid(gain x (mean pixel in 0..1 - centre)). Brighter generated faces play the fakes."""
    inputs = keras.Input((SIZE, SIZE, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    dense = keras.layers.Dense(1, activation="sigmoid")
    model = keras.Model(inputs, dense(pooled))
    kernel = np.full((3, 1), gain / 3, dtype="float32")
    dense.set_weights([kernel, np.array([-gain * centre], dtype="float32")])
    card = {"arch": "tiny-brightness", "kind": "frame"}
    if reliability is not None:
        card["reliability"] = reliability
    return save_with_card(model, folder, "brightness", card)


def save_temporal_spec(
    folder: Path,
    name: str = "track",
    *,
    logit: float | None = None,
    length: int = LENGTH,
    **card,
) -> ModelSpec:
    """A tiny temporal model and its card, as `NAME.keras` + `NAME.card.json` in `folder`."""
    return save_with_card(
        build_track_model(length=length, logit=logit),
        folder,
        name,
        {"arch": "tiny-lstm", "kind": "temporal", "sequence_length": length, **card},
    )


def save_image_spec(
    folder: Path,
    name: str = "wholeimage",
    *,
    threshold: float = 0.5,
    gain: float = 4.0,
    centre: float = 0.25,
    **card,
) -> ModelSpec:
    """A tiny whole-image detector (card kind "image"): P(generated) rises with the mean
    brightness of what it sees, sigmoid(gain x (mean pixel in 0..1 - centre)). Its card
    resizes the shorter side to 40 and crops the centre 32, as published detectors do."""
    inputs = keras.Input((SIZE, SIZE, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    dense = keras.layers.Dense(1, activation="sigmoid")
    model = keras.Model(inputs, dense(pooled))
    kernel = np.full((3, 1), gain / 3, dtype="float32")
    dense.set_weights([kernel, np.array([-gain * centre], dtype="float32")])
    return save_with_card(
        model,
        folder,
        name,
        {
            "arch": "tiny-brightness",
            "kind": "image",
            "threshold": threshold,
            "image_transform": {"resize_short_side": 40, "crop": "center"},
            "short_name": "Tiny Detector",
            **card,
        },
    )
