"""Which finished analyses need a person to look at them, and why (docs/verdict.md, "Review").

A flag costs a reviewer's time, so it is raised for what a person can settle: a fake verdict, a
score too close to the model's threshold, signals that disagree, and results the owner reported
as wrong. An "inconclusive" that only means no classifier is installed, no face was found or no
face was clear enough is not flagged: a reviewer could not add evidence the file does not hold.
"""

from __future__ import annotations

from typing import Any

FAKE = "fake verdict"
BORDERLINE = "score too close to the threshold to call"
DISAGREE = "the classifier and the blink pattern disagree"
BLINKS_ONLY = "abnormal blink pattern, and no classifier score to weigh it against"
REPORTED = "reported as wrong by the owner"


def review_reasons(report: dict[str, Any] | None, *, reported_by_owner: bool = False) -> list[str]:
    """Why this result needs a person, in words; empty when it does not."""
    report = report or {}
    verdict = report.get("verdict")
    scored = report.get("fake_probability") is not None
    abnormal = _blinks_abnormal(report)
    reasons = []
    if verdict == "fake":
        reasons.append(FAKE)
    elif verdict == "inconclusive" and scored:
        reasons.append(DISAGREE if abnormal else BORDERLINE)
    elif verdict == "inconclusive" and abnormal:
        reasons.append(BLINKS_ONLY)
    if reported_by_owner:
        reasons.append(REPORTED)
    return reasons


def _blinks_abnormal(report: dict[str, Any]) -> bool:
    """An abnormal blink pattern of the headline blink block or of any judged person."""
    blocks = [report.get("blink")] + [
        face.get("blink") for face in report.get("faces") or [] if face.get("judged", True)
    ]
    return any(block and block.get("status") == "abnormal" for block in blocks)
