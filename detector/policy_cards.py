"""Where policy cards live: `MODELS_ROOT/policies/policy-N.json`, one file per version, never
rewritten. The newest is the active one; the job passes it to `ml.analyze(policy=...)`. A card
records who wrote it, when, on what data, with which models, the metrics and the bounds
(ml/verdict/calibration.py builds it)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.conf import settings

from detector.models import DetectorModel
from ml.models.cards import card_path_for
from ml.verdict.policy_card import PolicyCard

NAME = re.compile(r"^policy-(\d+)\.json$")


def policy_dir() -> Path:
    return Path(settings.MODELS_ROOT) / "policies"


def _versions() -> list[int]:
    folder = policy_dir()
    if not folder.is_dir():
        return []
    found = (NAME.match(p.name) for p in folder.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


def policy_card_next_version() -> str:
    return str((_versions() or [0])[-1] + 1)


def policy_card_read(version: str) -> dict[str, Any] | None:
    if not str(version).isdigit():
        return None
    path = policy_dir() / f"policy-{int(version)}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def policy_card_active() -> PolicyCard | None:
    """The newest policy card, or None: the default policy judges."""
    versions = _versions()
    if not versions:
        return None
    return PolicyCard.from_dict(policy_card_read(str(versions[-1])))


def policy_card_write(card: dict[str, Any]) -> Path:
    """Store a new version (never over an old one) and record the platform evaluation on
    the cards of the models it was calibrated with."""
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
