"""What a training run is asked to do (`TrainConfig`) and what it produced (`TrainResult`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml.models.archs import ARCH_NAMES

ProgressFn = Callable[[dict[str, Any]], None]


def cli(help: str, **argparse: Any) -> dict[str, Any]:
    """A field's command-line help and argparse overrides (flag, choices); `manage.py
    train_model` leaves out the fields marked cli(..., skip=True)."""
    return {"help": help, **argparse}


@dataclass
class TrainConfig:
    """One training run. Each default lives here; `manage.py train_model` builds its options
    from these fields and their help."""

    data: Path = field(metadata={"help": "dataset folder"})
    arch: str = field(
        default="efficientnet_b7",
        metadata=cli("network architecture", choices=ARCH_NAMES),
    )
    layout: str = field(
        default="auto",
        metadata=cli("dataset layout: auto, folders, faceforensics, dfdc, celebdf"),
    )
    epochs: int = field(default=20, metadata=cli("most epochs to train"))
    batch_size: int = field(default=16, metadata=cli("faces per training step", flag="--batch"))
    input_size: int | None = field(
        default=None,
        metadata=cli("network input side in pixels (default: the architecture's)"),
    )
    pseudo_fakes: str | None = field(
        default=None,
        metadata=cli("sbi: train from real faces and self-blended pseudo-fakes", choices=["sbi"]),
    )
    resume: bool = field(default=False, metadata=cli("continue from the last checkpoint"))
    init: str = field(
        default="auto",
        metadata=cli(
            "imagenet, none or a weights file "
            "(auto: ImageNet for EfficientNets and InceptionV3, none for the others)"
        ),
    )
    mixed_precision: bool = field(default=False, metadata=cli("compute in float16 (on a GPU)"))
    name: str | None = field(default=None, metadata=cli("model name (default: the architecture)"))
    version: str | None = field(
        default=None,
        metadata=cli("model version (default: the UTC date and time)", flag="--model-version"),
    )
    out: Path = field(default=Path("var/training"), metadata=cli("output folder"))
    cache_dir: Path | None = field(
        default=None,
        metadata=cli("face cache folder (default: <out>/face-cache)", flag="--cache"),
    )
    frames: int = field(default=32, metadata=cli("faces taken per video"))
    val_fraction: float = field(
        default=0.2, metadata=cli("share of the items held out for validation")
    )
    seed: int = field(default=0, metadata=cli("seed of the split, the order and the augmentation"))
    learning_rate: float | None = field(
        default=None,
        metadata=cli("Adam learning rate (default: 1e-3 for Meso-4, else 2e-4)"),
    )
    patience: int = field(
        default=3,
        metadata=cli("epochs without a better validation AUC before stopping"),
    )
    augment: bool = field(default=True, metadata=cli("degrade training faces at random"))
    deterministic: bool = field(
        default=False,
        metadata=cli("deterministic TensorFlow ops: the same seed gives the same model (slower)"),
    )
    sequence_length: int = field(
        default=16,
        metadata=cli("temporal architectures: crops per face track the network sees"),
    )
    dataset_options: dict[str, Any] = field(
        default_factory=dict,
        metadata=cli("layout-specific options (FaceForensics++ methods, compression)", skip=True),
    )


@dataclass
class TrainResult:
    model_path: Path
    card_path: Path
    card: dict[str, Any]


def init_for(arch: str, init: str) -> str:
    if init != "auto":
        return init
    # Keras publishes ImageNet weights for these backbones only.
    keras_imagenet = arch.startswith("efficientnet") or arch == "inceptionv3_gru"
    return "imagenet" if keras_imagenet else "none"
