"""Policy cards: decision bounds calibrated on labelled data (`manage.py calibrate --apply`).

A card is a JSON file: who wrote it and when, on what data, with which models, the metrics,
and the chosen bounds. It applies only to the set of models it was calibrated with: bounds
chosen for one detector mean nothing for another. Django-free; the platform decides where
cards are kept and passes the active one to `ml.analyze(policy=...)`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml.errors import ModelError


@dataclass(frozen=True)
class PolicyCard:
    version: str
    real_below: float | None  # None: no "real" reached the target accuracy
    fake_from: float | None  # None: no "fake" reached it
    models: tuple[str, ...]  # sha256 of each model the bounds were calibrated with
    data: Mapping[str, Any] = field(default_factory=dict)  # the whole card

    def applies_to(self, sha256s: Iterable[str]) -> bool:
        return sorted(s.lower() for s in sha256s) == sorted(s.lower() for s in self.models)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyCard:
        try:
            decision = data["decision"]
            card = cls(
                version=str(data["version"]),
                real_below=_bound(decision.get("real_below")),
                fake_from=_bound(decision.get("fake_from")),
                models=tuple(m["sha256"] for m in data["models"]),
                data=data,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"The policy card is malformed: {exc}") from exc
        both = card.real_below is not None and card.fake_from is not None
        if both and card.real_below >= card.fake_from:
            raise ModelError("The policy card's real_below must lie below its fake_from.")
        return card


def _bound(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError("a bound lies between 0 and 1")
    return value


def load_policy_card(path: str | Path) -> PolicyCard:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"The policy card {path} cannot be read: {exc}") from exc
    return PolicyCard.from_dict(data)
