"""Calibration's measures and proposals on known outcomes (the command is tested end to end in
tests/detector/test_calibrate.py)."""

from __future__ import annotations

import pytest

from ml.errors import ModelError
from ml.verdict.calibration import Outcome, confusion, decide, propose, signal_scores
from ml.verdict.policy_card import PolicyCard


def _outcome(label: int, score: float | None, *, real_allowed: bool = True) -> Outcome:
    return Outcome("f", label, "inconclusive", score, real_allowed, {})


def test_separable_scores_reach_full_coverage():
    outcomes = [_outcome(0, s) for s in (0.05, 0.1, 0.2)] + [_outcome(1, s) for s in (0.7, 0.9)]
    proposal = propose(outcomes, 0.95)
    assert proposal["confusion"]["coverage"] == 1.0 and proposal["confusion"]["accuracy"] == 1.0
    # The widest undecided band that still covers every file.
    assert (proposal["real_below"], proposal["fake_from"]) == (0.2, 0.7)


def test_overlapping_scores_leave_the_middle_inconclusive():
    reals = [_outcome(0, s) for s in (0.1, 0.1, 0.1, 0.55)]
    fakes = [_outcome(1, s) for s in (0.45, 0.9, 0.9, 0.9)]
    proposal = propose(reals + fakes, 0.95)
    verdicts = decide(reals + fakes, proposal["real_below"], proposal["fake_from"])
    assert verdicts == ["real"] * 3 + ["inconclusive"] * 2 + ["fake"] * 3
    assert proposal["confusion"]["coverage"] == 0.75


def test_a_held_back_real_and_an_unscored_file_stay_inconclusive():
    outcomes = [_outcome(0, 0.1, real_allowed=False), _outcome(0, None), _outcome(1, 0.9)]
    assert decide(outcomes, 0.3, 0.7) == ["inconclusive", "inconclusive", "fake"]


def test_no_proposal_when_the_target_cannot_be_reached():
    outcomes = [_outcome(0, 0.9), _outcome(1, 0.1)]
    assert propose(outcomes, 0.95) is None


def test_confusion_keeps_inconclusive_apart():
    result = confusion([0, 0, 1, 1], ["real", "inconclusive", "fake", "real"])
    assert result["table"]["real"] == {"real": 1, "fake": 0, "inconclusive": 1}
    assert result["table"]["fake"] == {"real": 1, "fake": 1, "inconclusive": 0}
    assert (result["coverage"], result["accuracy"]) == (0.75, pytest.approx(0.6667, abs=1e-4))
    assert result["accuracy_lower_95"] < result["accuracy"]


def test_signals_are_read_from_evidence_codes():
    evidence = [
        {"code": "classifier.face_score", "params": {"score": 0.3}},
        {"code": "classifier.face_score", "params": {"score": 0.8}},
        {"code": "blink.long_closure", "params": {}},
        {"code": "quality.too_blurred", "params": {}},
    ]
    assert signal_scores(evidence) == {
        "classifier": 0.8,
        "temporal": None,
        "blinks": 1.0,
        "quality": 1.0,
    }


def test_a_policy_card_applies_only_to_its_models():
    card = PolicyCard.from_dict(
        {
            "version": "2",
            "decision": {"real_below": 0.2, "fake_from": 0.7},
            "models": [{"sha256": "AB"}],
        }
    )
    assert card.applies_to(["ab"]) and not card.applies_to(["ab", "cd"])
    with pytest.raises(ModelError, match="real_below"):
        PolicyCard.from_dict(
            {"version": "3", "decision": {"real_below": 0.8, "fake_from": 0.7}, "models": []}
        )
