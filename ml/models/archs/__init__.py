"""The model architectures a user can train, by name.

Each entry says how to build the network, its default input size, how pixels are scaled before
they reach it (the card's "preprocessing") and whether it scores single frames or face tracks.
Every builder uses the Keras 3 API only, so saved models also load on the JAX and PyTorch backends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ml.errors import ModelError


@dataclass(frozen=True)
class ArchSpec:
    name: str
    builder: Callable[..., Any]  # builder(input_size=..., init=...) -> keras.Model
    input_size: int
    preprocessing: str  # "raw255" | "unit", see ml.models.cards.PREPROCESSING
    kind: str  # "frame" | "temporal"
    description: str = ""

    def build(self, *, input_size: int | None = None, init: str = "none", **kwargs: Any):
        return self.builder(input_size=input_size or self.input_size, init=init, **kwargs)


def _registry() -> dict[str, ArchSpec]:
    # Imported here so that listing the names does not import Keras twice at start-up.
    from ml.models.archs import (
        efficientnet,
        inception_gru,
        meso4,
        mesoinception,
        resnext,
        smallcnn,
        temporal,
    )

    return {
        "efficientnet_b7": ArchSpec(
            "efficientnet_b7",
            efficientnet.build_b7,
            380,
            "raw255",
            "frame",
            "EfficientNet-B7 backbone, the recommended frame classifier (slow, accurate).",
        ),
        "efficientnet_b0": ArchSpec(
            "efficientnet_b0",
            efficientnet.build_b0,
            224,
            "raw255",
            "frame",
            "EfficientNet-B0 backbone: fast to train, for small datasets and CPUs.",
        ),
        "meso4": ArchSpec(
            "meso4",
            meso4.build,
            256,
            "unit",
            "frame",
            "MesoNet Meso-4: a small network of mesoscopic image features.",
        ),
        "mesoinception4": ArchSpec(
            "mesoinception4",
            mesoinception.build,
            256,
            "unit",
            "frame",
            "MesoNet MesoInception-4: Meso-4 with two inception blocks in front.",
        ),
        "efficientnet_lstm": ArchSpec(
            "efficientnet_lstm",
            temporal.build,
            224,
            "raw255",
            "temporal",
            "EfficientNet-B0 features per frame of a face track, then an LSTM: one score per track.",
        ),
        "resnext50_lstm": ArchSpec(
            "resnext50_lstm",
            resnext.build,
            112,
            "imagenet",
            "temporal",
            "ResNeXt-50 32x4d features per frame, then an LSTM: the DeepFake Detection System's.",
        ),
        "inceptionv3_gru": ArchSpec(
            "inceptionv3_gru",
            inception_gru.build,
            299,
            "raw255",
            "temporal",
            "InceptionV3 features per frame, then GRU layers: the Deep fake image detection one.",
        ),
        "lenet": ArchSpec(
            "lenet",
            smallcnn.build_lenet,
            64,
            "unit",
            "frame",
            "LeNet on face crops: one of the DeepFake-Detection project's small-CNN ensemble.",
        ),
        "minivggnet": ArchSpec(
            "minivggnet",
            smallcnn.build_minivggnet,
            64,
            "unit",
            "frame",
            "MiniVGGNet on face crops: one of the DeepFake-Detection project's small-CNN ensemble.",
        ),
        "resnet_small": ArchSpec(
            "resnet_small",
            smallcnn.build_resnet_small,
            64,
            "unit",
            "frame",
            "A small pre-activation ResNet: one of the DeepFake-Detection project's ensemble.",
        ),
    }


ARCH_NAMES = (
    "efficientnet_b7",
    "efficientnet_b0",
    "meso4",
    "mesoinception4",
    "efficientnet_lstm",
    "resnext50_lstm",
    "inceptionv3_gru",
    "lenet",
    "minivggnet",
    "resnet_small",
)


def get_arch(name: str) -> ArchSpec:
    archs = _registry()
    if name not in archs:
        raise ModelError(f"Unknown architecture {name!r}; choose one of {', '.join(ARCH_NAMES)}.")
    return archs[name]


# Above this, a .keras file is unpacked to disk before loading: Keras reads a smaller file's
# weights whole into memory, twice (bytes and a BytesIO), which took a 1.2 GB CLIP ViT-L/14 to
# a 4.4 GB peak; from disk h5py reads one tensor at a time.
UNPACK_ABOVE_BYTES = 500 * 10**6


def load_saved(path, *, compile: bool = False):
    """A saved Keras model, with the platform's own layers (PerFrame) known to the loader."""
    import tempfile
    import zipfile
    from pathlib import Path

    import keras

    from ml.models.archs import per_frame  # noqa: F401  registers PerFrame

    if Path(path).stat().st_size <= UNPACK_ABOVE_BYTES:
        return keras.saving.load_model(path, compile=compile)
    with tempfile.TemporaryDirectory(prefix="keras-unpacked-") as tmp:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(tmp)
        return keras.saving.load_model(tmp, compile=compile)


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# OpenAI CLIP's normalisation (its clip.py `_transform`, and UniversalFakeDetect's validate.py).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def preprocess(crops, preprocessing: str):
    """uint8 RGB crops → the float input the network expects (see ml.models.cards.PREPROCESSING)."""
    import numpy as np

    x = np.asarray(crops, dtype="float32")
    if preprocessing == "raw255":
        return x
    x = x / 255.0
    if preprocessing == "imagenet":
        x = (x - np.float32(IMAGENET_MEAN)) / np.float32(IMAGENET_STD)
    elif preprocessing == "clip":
        x = (x - np.float32(CLIP_MEAN)) / np.float32(CLIP_STD)
    return x
