"""Reports as the analysis job stores them, without running the science."""

from __future__ import annotations

from ml.signals.classifier import NO_MODEL
from ml.verdict.aggregate import FaceScore
from ml.verdict.fusion import Scores, fuse
from ml.verdict.report import Report

THRESHOLD = 0.5


def report_dict(verdict: str = "real", probability: float | None = 0.1, **extra) -> dict:
    """An image Report's JSON with the given verdict; `extra` sets any other Report field.

    Its reasons and codes are the verdict rules' own for one face scored `probability` against
    a 0.5 threshold (no classifier when None), so review flags see what an analysis gives.
    """
    scores = (
        Scores([FaceScore(1, probability, 1, int(probability >= THRESHOLD))], THRESHOLD)
        if probability is not None
        else Scores(unscored=NO_MODEL)
    )
    fusion = fuse(faces_found=1, scores=scores)
    evidence = [e.to_dict() for e in fusion.evidence]
    return Report(
        media_type="image",
        verdict=verdict,
        fake_probability=probability,
        reasons=[f"Test verdict {verdict}."],
        evidence=evidence,
        version="test-1",
        **extra,
    ).to_dict()
