"""Model cards: the JSON that travels with every trained model file (`NAME.keras` + `NAME.card.json`).

A card says what the model is (arch, input size, preprocessing, kind), how it was trained and
evaluated, and the decision threshold chosen on validation. The platform refuses a model whose
card is missing, malformed or does not match the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml.errors import ModelError

# "frame": scores face crops; "temporal": face tracks; "image": a whole image or video frame
# (fully generated images, ml/signals/generated.py).
KINDS = ("frame", "temporal", "image")
# "raw255": the network takes float pixels in 0..255 (Keras EfficientNet rescales inside);
# "unit": pixels divided by 255; "imagenet": 0..1 pixels normalised by ImageNet's mean and std;
# "clip": the same with OpenAI CLIP's mean and std.
PREPROCESSING = ("raw255", "unit", "imagenet", "clip")
# The headline metrics a card stores per level (frame, video), in the order they are shown.
METRICS = (
    "auc",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "eer",
    "average_precision",
    "log_loss",
)
# The evidence a card's `reliability` block may hold (docs/verdict.md, "What a model may say").
EVIDENCE_KINDS = ("in_domain", "cross_dataset")
REQUIRED = (
    "name",
    "version",
    "arch",
    "kind",
    "input_size",
    "preprocessing",
    "threshold",
)


@dataclass
class ModelSpec:
    """Everything `ml` needs to load one installed model; built by the platform's registry."""

    name: str
    version: str
    sha256: str
    path: str
    card: dict[str, Any] = field(default_factory=dict)
    weight: float = 1.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        return cls(**data)


def validate_card(card: dict[str, Any]) -> None:
    """Raise ModelError with a readable message if the card cannot describe a usable model."""
    if not isinstance(card, dict):
        raise ModelError("The model card is not a JSON object.")
    if card.get("kind") == "backbone":
        raise ModelError(
            "This file is an ImageNet backbone, not a deepfake detector: it cannot score uploads. "
            "Use it to start training one: `train_model --arch ARCH --init PATH`."
        )
    missing = [key for key in REQUIRED if key not in card]
    if missing:
        raise ModelError(f"The model card lacks {', '.join(missing)}.")
    if card["kind"] not in KINDS:
        raise ModelError(
            f"Unknown model kind {card['kind']!r}; expected one of {', '.join(KINDS)}."
        )
    if card["preprocessing"] not in PREPROCESSING:
        raise ModelError(f"Unknown preprocessing {card['preprocessing']!r}.")
    if not isinstance(card["input_size"], int) or not 32 <= card["input_size"] <= 1024:
        raise ModelError("The model card's input_size must be a whole number of pixels (32-1024).")
    # Imports OpenCV and dlib: only when a card is checked.
    from ml.faces.framing import Framing

    Framing.from_card(card)
    threshold = card["threshold"]
    if not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
        raise ModelError("The model card's threshold must lie strictly between 0 and 1.")
    validate_reliability(card.get("reliability"))


def validate_reliability(reliability: Any) -> None:
    """The card's evidence about its model (optional): AUCs in-domain and cross-dataset, each
    naming its dataset and its source; an AUC of null means no one has published it."""
    if reliability is None:
        return
    if not isinstance(reliability, dict):
        raise ModelError("The model card's reliability must be a JSON object.")
    for key in EVIDENCE_KINDS:
        entries = reliability.get(key, [])
        if not isinstance(entries, list):
            raise ModelError(f"The model card's reliability.{key} must be a list.")
        for entry in entries:
            _check_evidence(key, entry)


def _check_evidence(key: str, entry: Any) -> None:
    if not isinstance(entry, dict) or not entry.get("dataset") or not entry.get("source"):
        raise ModelError(f"Each reliability.{key} entry needs a dataset and its source.")
    auc = entry.get("auc")
    if auc is not None and (not isinstance(auc, (int, float)) or not 0.0 <= auc <= 1.0):
        raise ModelError(f"reliability.{key}: an AUC lies between 0 and 1 (or is null).")


def card_path_for(model_path: str | Path) -> Path:
    """Where a model's card lives: `NAME.keras` → `NAME.card.json` in the same folder."""
    path = Path(model_path)
    return path.with_name(path.name.removesuffix(".keras") + ".card.json")
