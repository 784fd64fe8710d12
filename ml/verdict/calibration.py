"""Calibration from labels: run the whole verdict over labelled files, measure it, and propose
the decision bounds that reach a target accuracy among confident verdicts at the highest
coverage (docs/verdict.md, section 10). Django-free: the platform supplies the files, the
models and the active policy card, and decides whether to apply the proposal.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import metrics as skm

from ml.errors import MediaError
from ml.options import AnalysisOptions, ModelSpecs
from ml.signals import blink
from ml.verdict import policy
from ml.verdict.policy_card import PolicyCard
from ml.verdict.report import VERDICTS, Report

SIGNALS = ("classifier", "temporal", "blinks", "quality")
GRID = np.round(np.arange(0.0, 1.0001, 0.01), 2)  # the bounds a proposal may choose
RELIABILITY_BINS = 10
LABELS = {0: "real", 1: "fake"}


@dataclass(frozen=True)
class Outcome:
    """One labelled file, as the whole verdict judged it."""

    path: str
    label: int  # 0 real, 1 fake
    verdict: str
    score: float | None  # the Report's fake_probability
    real_allowed: bool  # False where the blink pattern holds a "real" back
    signals: dict[str, float | None]


def outcome(path: str, label: int, report: Report) -> Outcome:
    found = {e["code"] for e in report.evidence}
    return Outcome(
        path=str(path),
        label=int(label),
        verdict=report.verdict,
        score=report.fake_probability,
        real_allowed=not (found & policy.BLINK_HOLDS_BACK_REAL),
        signals=signal_scores(report.evidence),
    )


def signal_scores(evidence: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """One number per kind of evidence, higher meaning more suspicious; None: not measured.
    Blinks: 1 abnormal, 0 normal. Quality: 1 when a face was left out as unfit to judge."""

    def highest(code: str) -> float | None:
        values = [e["params"]["score"] for e in evidence if e["code"] == code]
        return max(values) if values else None

    found = {e["code"] for e in evidence}
    blinks = None
    if found & blink.ABNORMAL:
        blinks = 1.0
    elif found & blink.NORMAL:
        blinks = 0.0
    return {
        "classifier": highest("classifier.face_score"),
        "temporal": highest("temporal.track_score"),
        "blinks": blinks,
        "quality": float(any(code.startswith("quality.") for code in found)),
    }


def run(
    items: Sequence[tuple[str, int]],
    *,
    options: AnalysisOptions,
    models: ModelSpecs,
    policy_card: PolicyCard | None,
    progress: Callable[[int, str], None] | None = None,
) -> tuple[list[Outcome], list[dict[str, str]]]:
    """ml.analyze on every file; unusable files are listed with the reason, not judged."""
    from ml.pipeline import analyze

    outcomes, skipped = [], []
    for done, (path, label) in enumerate(items, start=1):
        try:
            report = analyze(path, options, models=models, policy=policy_card)
            outcomes.append(outcome(path, label, report))
        except MediaError as exc:
            skipped.append({"path": str(path), "reason": str(exc)})
        if progress:
            progress(done, str(path))
    return outcomes, skipped


def decide(outcomes: Sequence[Outcome], real_below: float, fake_from: float) -> list[str]:
    """The verdicts under other bounds (fake at or above, real at or below)."""
    scores, allowed = _arrays(outcomes)
    fake, real = _masks(scores, allowed, real_below, fake_from)
    return [_verdict(f, r) for f, r in zip(fake, real, strict=True)]


def _verdict(fake: bool, real: bool) -> str:
    return "fake" if fake else "real" if real else "inconclusive"


def _arrays(outcomes: Sequence[Outcome]) -> tuple[np.ndarray, np.ndarray]:
    scores = np.array([np.nan if o.score is None else o.score for o in outcomes], dtype=float)
    return scores, np.array([o.real_allowed for o in outcomes], dtype=bool)


def _masks(scores, allowed, real_below: float, fake_from: float):
    with np.errstate(invalid="ignore"):
        fake = scores >= fake_from
        real = (scores <= real_below) & allowed & ~fake
    return fake, real


def confusion(labels: Sequence[int], verdicts: Sequence[str]) -> dict[str, Any]:
    """Rows: the truth; columns: each verdict, inconclusive its own. Coverage is confident
    verdicts ÷ all; accuracy is among confident verdicts, with its 95 % Wilson lower bound."""
    table = {LABELS[t]: {v: 0 for v in VERDICTS} for t in (0, 1)}
    for label, verdict in zip(labels, verdicts, strict=True):
        table[LABELS[label]][verdict] += 1
    confident = sum(table[t][v] for t in table for v in ("real", "fake"))
    correct = table["real"]["real"] + table["fake"]["fake"]
    total = len(verdicts)
    return {
        "table": table,
        "items": total,
        "confident": confident,
        "coverage": round(confident / total, 4) if total else None,
        "accuracy": round(correct / confident, 4) if confident else None,
        "accuracy_lower_95": round(_wilson_lower(correct, confident), 4) if confident else None,
    }


def _wilson_lower(successes: int, n: int, z: float = 1.96) -> float:
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - margin) / (1 + z * z / n)


def auc(labels: Iterable[int], scores: Iterable[float | None]) -> dict[str, Any]:
    """AUC over the items that have a score; None when one class is missing."""
    pairs = [(y, s) for y, s in zip(labels, scores, strict=True) if s is not None]
    value = None
    if len({y for y, _ in pairs}) == 2:
        value = round(float(skm.roc_auc_score([y for y, _ in pairs], [s for _, s in pairs])), 4)
    return {"auc": value, "items": len(pairs)}


def reliability_bins(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Per score bin: mean score, share of fakes, count (the reliability diagram)."""
    scored = [o for o in outcomes if o.score is not None]
    edges = np.linspace(0.0, 1.0, RELIABILITY_BINS + 1)
    bins = []
    for low, high in itertools.pairwise(edges):
        inside = [o for o in scored if low <= o.score < high or (high == 1.0 and o.score == 1.0)]
        if inside:
            bins.append(
                {
                    "low": round(float(low), 2),
                    "high": round(float(high), 2),
                    "mean_score": round(float(np.mean([o.score for o in inside])), 4),
                    "fake_share": round(float(np.mean([o.label for o in inside])), 4),
                    "items": len(inside),
                }
            )
    return bins


def measure(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    labels = [o.label for o in outcomes]
    return {
        "items": len(outcomes),
        "real": labels.count(0),
        "fake": labels.count(1),
        "auc": auc(labels, [o.score for o in outcomes]),
        "current": confusion(labels, [o.verdict for o in outcomes]),
        "signals": {s: auc(labels, [o.signals[s] for o in outcomes]) for s in SIGNALS},
        "reliability": reliability_bins(outcomes),
    }


def propose(outcomes: Sequence[Outcome], target: float) -> dict[str, Any] | None:
    """The bounds whose confident verdicts reach `target` accuracy at the highest coverage
    (ties: the higher accuracy, then the wider undecided band); None when none reach it. A
    bound of None is never reached: that answer is not given."""
    scores, allowed = _arrays(outcomes)
    labels = np.array([o.label for o in outcomes])
    best, best_key = None, None
    for fake_from in [*GRID, math.inf]:
        for real_below in [-math.inf, *GRID]:
            if real_below >= fake_from:
                break
            fake, real = _masks(scores, allowed, real_below, fake_from)
            confident = int(fake.sum() + real.sum())
            if not confident:
                continue
            correct = int((labels[fake] == 1).sum() + (labels[real] == 0).sum())
            accuracy = correct / confident
            if accuracy < target:
                continue
            key = (confident, accuracy, min(fake_from, 1.01) - max(real_below, -0.01))
            if best_key is None or key > best_key:
                best, best_key = (real_below, fake_from), key
    if best is None:
        return None
    real_below, fake_from = (None if math.isinf(b) else float(b) for b in best)
    verdicts = decide(outcomes, *best)
    return {
        "real_below": real_below,
        "fake_from": fake_from,
        "target": target,
        "confusion": confusion(labels.tolist(), verdicts),
        "provisional": len(outcomes) < policy.MIN_CALIBRATION_ITEMS,
    }


def calibrate(outcomes: Sequence[Outcome], *, target: float) -> dict[str, Any]:
    return {"metrics": measure(outcomes), "proposal": propose(outcomes, target)}


def policy_card_dict(
    result: dict[str, Any],
    *,
    version: str,
    created_by: str,
    created: str,
    data: dict[str, Any],
    models: ModelSpecs,
) -> dict[str, Any]:
    """The policy card `--apply` writes: who, when, on what data, with which models, the
    metrics and the chosen bounds."""
    proposal = result["proposal"]
    return {
        "version": version,
        "created": created,
        "created_by": created_by,
        "data": data,
        "models": [
            {"name": s.name, "version": s.version, "sha256": s.sha256}
            for s in (*models.frame, *models.temporal)
        ],
        "target_accuracy": proposal["target"],
        "decision": {"real_below": proposal["real_below"], "fake_from": proposal["fake_from"]},
        "provisional": proposal["provisional"],
        "metrics": {"before": result["metrics"], "after": proposal["confusion"]},
        "platform_evaluation": platform_evaluation(result, data),
    }


def platform_evaluation(result: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """What a model card records once calibration has measured its models here."""
    measured = result["metrics"]["auc"]
    return {"auc": measured["auc"], "items": measured["items"], "dataset": data.get("source", "")}
