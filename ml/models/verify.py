"""Proving a model file usable before it is installed: it loads, and it is the network its card says.

A card can be valid on its own and still describe another network than the file holds (another
architecture, input size or output). `check_model_file` loads the file with Keras and compares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ml.errors import ModelError
from ml.models.archs import ARCH_NAMES, load_saved
from ml.models.cards import validate_card


def check_model_file(path: Path, card: dict[str, Any]) -> None:
    """Raise ModelError unless the card is valid and the file loads as the network it describes."""
    validate_card(card)
    try:
        model = load_saved(path)
    except Exception as exc:  # a corrupt file raises anything from zip to HDF5 errors
        raise ModelError(
            f"Keras cannot load {Path(path).name}: the file is damaged or not a Keras model."
        ) from exc
    check_loaded_model(model, card)


def check_loaded_model(model: Any, card: dict[str, Any]) -> None:
    """The network must be what the card says: architecture, input size, one output."""
    size = card["input_size"]
    expected = (size, size, 3)
    shape = tuple(model.input_shape)
    if card["kind"] in ("frame", "image") and shape[1:] != expected:
        raise ModelError(
            f"The card says {size}x{size} RGB input but the network takes {shape[1:]}."
        )
    if card["kind"] == "temporal" and (len(shape) != 5 or shape[2:] != expected):
        raise ModelError(
            f"The card says face tracks of {size}x{size} but the network takes {shape[1:]}."
        )
    if tuple(model.output_shape)[1:] != (1,):
        raise ModelError("The network must output one fake probability per input.")
    # Networks built by ml.models.archs carry the architecture's name; others are checked by shape only.
    if card["arch"] in ARCH_NAMES and model.name != card["arch"]:
        raise ModelError(f"The card says {card['arch']} but the file holds a {model.name} network.")
