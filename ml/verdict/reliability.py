"""Which answers a model may support, derived from the evidence on its card.

A model with strong evidence (docs/verdict.md, "What a model may say") may support both
"fake" and "real". A model whose evidence is weak or unknown may still support "fake" at its
high-precision end, but its low score is no proof of "real": it says only that this detector
found no sign of manipulation, which is inconclusive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ml.verdict import policy

LEVELS = ("strong", "weak", "unknown")


@dataclass(frozen=True)
class Reliability:
    level: str  # one of LEVELS
    basis: str  # the evidence, in words
    auc: float | None = None  # the AUC the level rests on

    @property
    def supports_real(self) -> bool:
        return self.level == "strong"


def card_reliability(card: Mapping[str, Any]) -> Reliability:
    """The evidence on one card: a platform evaluation first (measured on the operator's own
    data), else the weakest published cross-dataset AUC; none → unknown."""
    measured = _platform_auc(card)
    if measured is not None:
        auc, items, dataset = measured
        return _judged(auc, f"AUC {auc:.2f} measured on this platform's data ({dataset}, {items})")
    cross = [
        e
        for e in (card.get("reliability") or {}).get("cross_dataset", [])
        if e.get("auc") is not None
    ]
    if not cross:
        return Reliability("unknown", "no cross-dataset AUC is known for this model")
    worst = min(cross, key=lambda e: e["auc"])
    basis = f"AUC {worst['auc']:.2f} on {worst['dataset']} ({worst['source'].split(' (')[0]})"
    return _judged(float(worst["auc"]), basis)


def _judged(auc: float, basis: str) -> Reliability:
    level = "strong" if auc >= policy.STRONG_EVIDENCE_AUC else "weak"
    return Reliability(level, basis, round(auc, 4))


def _platform_auc(card: Mapping[str, Any]) -> tuple[float, str, str] | None:
    """The latest evaluation on platform data with enough items: (auc, items, dataset)."""
    evaluation = card.get("platform_evaluation")
    if isinstance(evaluation, Mapping) and evaluation.get("auc") is not None:
        items = int(evaluation.get("items", 0))
        if items >= policy.MIN_PLATFORM_EVALUATION_ITEMS:
            return float(evaluation["auc"]), f"{items} items", evaluation.get("dataset", "")
    for record in reversed(card.get("evaluations") or []):
        video = record.get("video") or {}
        if video.get("auc") is not None:
            if video.get("count", 0) >= policy.MIN_PLATFORM_EVALUATION_ITEMS:
                return float(video["auc"]), f"{video['count']} files", record.get("dataset", "")
            break
    return None


def weakest(cards: Iterable[Mapping[str, Any]]) -> Reliability | None:
    """The reliability of models scoring together (an ensemble, frame and temporal models):
    a combined score can support "real" only if every model behind it can."""
    found = [card_reliability(c) for c in cards]
    if not found:
        return None
    # Any model that cannot support "real" first; a measured weakness before an unknown one.
    return min(found, key=lambda r: (r.supports_real, r.level != "weak", r.auc or 0.0))
