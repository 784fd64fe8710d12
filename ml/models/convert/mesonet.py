"""MesoNet's published weights (Keras 2.1.5 HDF5) → a platform model that outputs P(fake).

The authors' networks output P(real) (their class folders sort `df`=0, `real`=1). The platform's
convention is one sigmoid unit giving P(fake); since sigmoid(-z) = 1 - sigmoid(z), negating the
last Dense layer's kernel and bias turns one into the other without adding a layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ml.errors import ModelError
from ml.models.archs import get_arch
from ml.models.catalog import MESONET_FRAMING

# The authors' two networks; a file's weights fit one of them only (their layer lists differ).
ARCHS = ("meso4", "mesoinception4")
FLIP_NOTE = (
    "The published network outputs P(real); the last Dense layer's kernel and bias were "
    "negated so that the one sigmoid unit gives P(fake) = 1 - P(real)."
)


def flip_output(model: Any) -> None:
    """Negate the kernel and bias of the last layer: sigmoid output p becomes 1 - p."""
    last = model.layers[-1]
    kernel, bias = last.get_weights()
    last.set_weights([-kernel, -bias])


def load_published(src: Path, arch: str) -> Any:
    """`arch` built here with the authors' weights from `src`, loaded by layer order."""
    model = get_arch(arch).build(init="none")
    try:
        model.load_weights(str(src))
    except Exception as exc:  # h5py / Keras raise ValueError, OSError or KeyError by fault
        raise ModelError(
            f"{Path(src).name} does not hold {arch} weights in Keras HDF5 format: {exc}"
        ) from exc
    return model


def load_either(src: Path) -> tuple[str, Any]:
    """Whichever of the authors' networks the weights of `src` fit, with its name."""
    for arch in ARCHS:
        try:
            return arch, load_published(src, arch)
        except ModelError:
            continue
    raise ModelError(
        f"{Path(src).name} holds neither meso4 nor mesoinception4 weights in Keras HDF5 format."
    )


def convert_mesonet(src: Path, dest: Path, *, arch: str | None = None) -> dict[str, Any]:
    """Build `arch` (meso4 | mesoinception4; None: the one the file fits), load the authors' .h5
    by layer order, flip the output to P(fake) and save `dest` (.keras). Returns the card fields
    the conversion decides."""
    if arch is None:
        arch, model = load_either(src)
    else:
        model = load_published(src, arch)
    flip_output(model)
    model.save(dest)
    spec = get_arch(arch)
    return {
        "arch": arch,
        "input_size": spec.input_size,
        "preprocessing": spec.preprocessing,
        "framing": dict(MESONET_FRAMING),
        "label_convention": "sigmoid output = P(fake)",
        "conversion": (
            f"Keras 2.1.5 HDF5 weights loaded by layer order into ml.models.archs.{arch} "
            f"(the layer list saved in the file). {FLIP_NOTE}"
        ),
    }
