"""Which finished analyses need a person to look at them, and why (docs/verdict.md, "Review").

A flag costs a reviewer's time, so it is raised for what a person can settle: a fake verdict, a
score too close to the model's threshold, signals that disagree (face classifiers against a
whole-image detector too), Content Credentials that fail
validation or declare AI generation, unsigned AI-generation metadata, and results the owner
reported as wrong. An "inconclusive" that only means no classifier is installed, no face was found or no
face was clear enough is not flagged: a reviewer could not add evidence the file does not hold.

The rules read the reason codes the verdict was given with (the Report's `evidence`), never its
sentences, so a reworded reason cannot change who gets flagged.
"""

from __future__ import annotations

from typing import Any

from detector.ground_truth import review_contradicts
from ml.verdict import policy

FAKE = "fake verdict"
BORDERLINE = "score too close to the threshold to call"
DISAGREE = "the classifier and the blink pattern disagree"
BLINKS_ONLY = "abnormal blink pattern, and no classifier score to weigh it against"
REPORTED = "reported as wrong by the owner"
AI_DECLARED = "AI generation declared"
C2PA_INVALID = "Content Credentials invalid"
AI_HINTED = "AI-generation metadata (unsigned)"
REVIEW_DISAGREES = "disagrees with a reviewer's decision on an earlier analysis of this file"
# Provenance findings (ml/signals/provenance.py) and the flag each raises.
PROVENANCE = {
    "provenance.ai_declared": AI_DECLARED,
    "provenance.ai_declared_composite": AI_DECLARED,
    "provenance.invalid": C2PA_INVALID,
    "provenance.hint_ai": AI_HINTED,
}

GENERATED_DISAGREE = "the face classifiers and the whole-image detector disagree"
GENERATED_UNDECIDED = "whole-image (AI generation) score too close to call"
# Whole-image findings (ml/signals/generated.py, ml/verdict/fusion.py) and the flag each raises.
GENERATED = {
    "generated.faces_disagree": GENERATED_DISAGREE,
    "generated.holds_back_real": GENERATED_UNDECIDED,
}

SCORED_BUT_UNDECIDED = {"classifier.near_threshold", "blink.holds_back_real"}


def review_reasons(
    report: dict[str, Any] | None, *, reported_by_owner: bool = False, earlier_review: str = ""
) -> list[str]:
    """Why this result needs a person, in words; empty when it does not.

    `earlier_review` is the review label carried forward from another analysis of the same file
    (`selectors.analysis_file_review`): a new verdict that contradicts it goes back to a person.
    """
    report = report or {}
    found = {item.get("code") for item in report.get("evidence") or []}
    abnormal_blinks = bool(found & policy.BLINK_HOLDS_BACK_REAL)
    reasons = []
    if report.get("verdict") == "fake":
        reasons.append(FAKE)
    elif found & SCORED_BUT_UNDECIDED:
        reasons.append(DISAGREE if abnormal_blinks else BORDERLINE)
    elif "blink.alone_not_enough" in found:
        reasons.append(BLINKS_ONLY)
    reasons += dict.fromkeys(PROVENANCE[code] for code in sorted(found & PROVENANCE.keys()))
    reasons += [GENERATED[code] for code in sorted(found & GENERATED.keys())]
    if review_contradicts(verdict=report.get("verdict") or "", label=earlier_review):
        reasons.append(REVIEW_DISAGREES)
    if reported_by_owner:
        reasons.append(REPORTED)
    return reasons
