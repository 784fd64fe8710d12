"""Policy cards: a new version written by `manage.py calibrate --apply`, never over an old one.

A card records who wrote it, when, on what data, with which models, the metrics and the bounds
(ml/verdict/calibration.py builds it); the newest is the active one (selectors.policy_card_active).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from detector.models import DetectorModel
from detector.selectors import policy_card_versions, policy_dir
from ml.models.cards import card_path_for
from ml.verdict.policy_card import PolicyCard


def policy_card_next_version() -> str:
    return str((policy_card_versions() or [0])[-1] + 1)


def policy_card_write(*, card: dict[str, Any]) -> Path:
    """Store a new version and record the platform evaluation on the cards of the models it
    was calibrated with."""
    PolicyCard.from_dict(card)  # refuse a card the analyses could not read
    folder = policy_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"policy-{int(card['version'])}.json"
    with path.open("x") as out:
        json.dump(card, out, indent=2)
    evaluation = {**card["platform_evaluation"], "policy_version": card["version"]}
    sha256s = [m["sha256"] for m in card["models"]]
    for model in DetectorModel.objects.filter(sha256__in=sha256s):
        model.card = {**model.card, "platform_evaluation": evaluation}
        model.save(update_fields=["card"])
        card_file = card_path_for(model.file_path)
        if card_file.is_file():
            card_file.write_text(json.dumps(model.card, indent=2))
    return path
