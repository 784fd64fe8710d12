"""EfficientNet frame classifiers: a Keras Applications backbone with a small sigmoid head.

The backbone includes its own rescaling layer, so it takes raw 0-255 pixels ("raw255").
`init` is "imagenet" (Keras' ImageNet weights, downloaded once into ~/.keras), "none" (random
initialisation, for training from scratch) or the path of a local weights file.
"""

from __future__ import annotations

import socket
from pathlib import Path

import keras

from ml.errors import ModelError

DROPOUT = 0.4
DOWNLOAD_TIMEOUT_S = 30


def is_weights_file(init: str | None) -> bool:
    """--init names a local weights file (anything but "imagenet" or "none")."""
    return init not in ("imagenet", "none", "", None)


def make_backbone(factory, *, input_size: int, init: str):
    if is_weights_file(init) and not Path(init).is_file():
        raise ModelError(f"The initial weights file {init} does not exist.")
    weights = "imagenet" if init == "imagenet" else None
    shape = (input_size, input_size, 3)
    if weights is None:
        return factory(include_top=False, weights=None, input_shape=shape)
    # A bounded socket timeout: offline or behind a firewall the download fails instead of hanging.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return factory(include_top=False, weights=weights, input_shape=shape)
    except Exception as exc:  # URLError, timeout, or a truncated file Keras cannot read
        raise ModelError(
            "Could not download the ImageNet weights (is this machine offline?). "
            "Use --init none, or --init PATH with a weights file copied to this machine. "
            f"Details: {exc}"
        ) from exc
    finally:
        socket.setdefaulttimeout(previous)


def build_classifier(factory, *, input_size: int, init: str = "none", name: str) -> keras.Model:
    backbone = make_backbone(factory, input_size=input_size, init=init)
    inputs = keras.Input((input_size, input_size, 3), name="face")
    features = backbone(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(features)
    pooled = keras.layers.Dropout(DROPOUT, name="dropout")(pooled)
    # float32 output keeps the probability exact under mixed precision.
    output = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="fake")(pooled)
    model = keras.Model(inputs, output, name=name)
    if is_weights_file(init):
        load_local_weights(model, backbone, init)
    return model


def load_local_weights(model: keras.Model, backbone: keras.Model, path: str) -> None:
    """A full-model weights file fits the whole model; a backbone-only file fits the backbone."""
    errors = []
    for target in (model, backbone):
        try:
            target.load_weights(path)
            return
        except Exception as exc:  # noqa: BLE001  (Keras raises ValueError, KeyError or OSError by format)
            errors.append(str(exc))
    raise ModelError(f"The weights in {path} do not fit this architecture: {errors[-1]}")


def build_b7(*, input_size: int = 380, init: str = "none") -> keras.Model:
    return build_classifier(
        keras.applications.EfficientNetB7,
        input_size=input_size,
        init=init,
        name="efficientnet_b7",
    )


def build_b0(*, input_size: int = 224, init: str = "none") -> keras.Model:
    return build_classifier(
        keras.applications.EfficientNetB0,
        input_size=input_size,
        init=init,
        name="efficientnet_b0",
    )
