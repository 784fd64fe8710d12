"""Converters from published detector weights of other formats to the platform's Keras models.

The registry: a format name (the catalog's `converter`, `install_model --format`) → the converter
that reads it. Each converter writes `dest` (.keras) and returns the card fields the conversion
decides (arch, input size, preprocessing, label convention, a note of what was done).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.errors import ModelError

logger = logging.getLogger(__name__)

# The platform's own format: a model file that needs no conversion.
KERAS = "keras"


@dataclass(frozen=True)
class Converter:
    name: str
    what: str  # what it reads, in words: "A {what} needs ..."
    # run(src, dest, arch) -> card fields; arch None: the network is told from the file.
    run: Callable[[Path, Path, str | None], dict[str, Any]]
    # The weights file inside a published folder it reads (the Hugging Face Hub layout); None:
    # it reads one file, never a folder.
    folder_file: str | None = None


# The converter modules import Keras: only when a conversion runs.
def _dfdc(src: Path, dest: Path, arch: str | None) -> dict[str, Any]:
    from ml.models.convert.dfdc import convert_checkpoint

    # The EfficientNet variant is read from the checkpoint, whatever the catalog expects.
    return convert_checkpoint(src, dest)


def _mesonet(src: Path, dest: Path, arch: str | None) -> dict[str, Any]:
    from ml.models.convert.mesonet import convert_mesonet

    return convert_mesonet(src, dest, arch=arch)


def _commfor(src: Path, dest: Path, arch: str | None) -> dict[str, Any]:
    from ml.models.convert.commfor import convert_commfor

    # The ViT's size is read from the tensors' shapes.
    return convert_commfor(src, dest)


def _ufd(src: Path, dest: Path, arch: str | None) -> dict[str, Any]:
    from ml.models.convert.ufd import convert_ufd

    # The CLIP encoder's size is read from the tensors' shapes, as CLIP's build_model does.
    return convert_ufd(src, dest)


def _torchvision_resnext(src: Path, dest: Path, arch: str | None) -> dict[str, Any]:
    from ml.models.convert.resnext import convert_resnext

    # An ImageNet backbone for train_model --init, not a detector: its card kind says so.
    return convert_resnext(src, dest)


CONVERTERS: dict[str, Converter] = {
    converter.name: converter
    for converter in (
        Converter("dfdc", "DFDC checkpoint", _dfdc),
        Converter("mesonet", "MesoNet weights file", _mesonet),
        Converter(
            "commfor",
            "Community Forensics model (safetensors or .pt)",
            _commfor,
            folder_file="model.safetensors",
        ),
        Converter("torchvision_resnext", "torchvision ResNeXt-50 checkpoint", _torchvision_resnext),
        Converter(
            "ufd", "UniversalFakeDetect model (CLIP checkpoint + fc_weights.pth, or .pth)", _ufd
        ),
    )
}
# What a model file given to install_model may be.
FORMATS = (KERAS, *CONVERTERS)


def converter_for(name: str) -> Converter:
    if name not in CONVERTERS:
        raise ModelError(
            f"No converter reads the format {name!r}; choose one of {', '.join(CONVERTERS)}."
        )
    return CONVERTERS[name]


def convert(name: str, src: Path, dest: Path, *, arch: str | None = None) -> dict[str, Any]:
    """Published weights `src` of format `name` → `dest` (.keras); returns the card fields."""
    converter = converter_for(name)
    try:
        return converter.run(Path(src), Path(dest), arch)
    except ModelError:
        raise
    except Exception as exc:  # a converter bug or a file it cannot read: nothing installed
        logger.exception("conversion of %s failed", src)
        raise ModelError(f"Converting {Path(src).name} failed: {exc}") from exc
