"""The review rule: flag what a person can settle, not what a missing model leaves undecided.

Each report comes from the verdict rules themselves (`fuse`, with the blink signal's evidence),
so a change to the reason codes fusion emits breaks these tests instead of silently unflagging.
"""

from __future__ import annotations

import pytest

from detector.flags import (
    BLINKS_ONLY,
    BORDERLINE,
    DISAGREE,
    FAKE,
    REPORTED,
    review_reasons,
)
from ml.signals import blink as blinks
from ml.signals.classifier import NO_MODEL
from ml.verdict.aggregate import FaceScore
from ml.verdict.fusion import Scores, fuse
from ml.verdict.report import BlinkResult, Report

OK = BlinkResult(status="ok", count=5, rate_per_minute=15.0)
# The blink finding strong enough to hold a "real" back (policy.BLINK_HOLDS_BACK_REAL); weak
# ones (an unusual rate, a long closure) neither hold it back nor flag it.
ABNORMAL = BlinkResult(status="abnormal", count=0, rate_per_minute=0.0, code="blink.absent")
WEAK = BlinkResult(status="abnormal", count=1, rate_per_minute=2.1, code="blink.rate_far_below")


def report(probability=None, *, blink=OK, other_blink=OK, judged=True):
    """Two people on a video; person 2 is judged (and their blinks weighed) only if `judged`."""
    person_blinks = {1: blink, 2: other_blink} if judged else {1: blink}
    scores = (
        Scores([FaceScore(1, probability, 40, 40 * (probability > 0.5))], 0.5)
        if probability is not None
        else Scores(unscored=NO_MODEL)
    )
    fusion = fuse(
        faces_found=2,
        scores=scores,
        evidence=blinks.evidence("video", person_blinks),
        min_frames=1,
    )
    return Report(
        media_type="video",
        verdict=fusion.verdict,
        fake_probability=fusion.fake_probability,
        reasons=fusion.reasons,
        evidence=[e.to_dict() for e in fusion.evidence],
    ).to_dict()


@pytest.mark.parametrize(
    ("data", "owner", "expected"),
    [
        (report(0.93), False, [FAKE]),
        (report(0.03), False, []),
        (report(0.52), False, [BORDERLINE]),
        # The classifier says real, the blinks of a judged person are abnormal.
        (report(0.03, other_blink=ABNORMAL), False, [DISAGREE]),
        # ... but a person too poorly seen to judge does not make a disagreement.
        (report(0.52, other_blink=ABNORMAL, judged=False), False, [BORDERLINE]),
        # No classifier: an "inconclusive" that only says so is not flagged...
        (report(), False, []),
        # ...but abnormal blinks are worth a look.
        (report(blink=ABNORMAL), False, [BLINKS_ONLY]),
        # Weak blink findings are shown, not flagged: a real stays real.
        (report(0.03, other_blink=WEAK), False, []),
        (report(blink=WEAK), False, []),
        (report(0.03), True, [REPORTED]),
        (report(0.93), True, [FAKE, REPORTED]),
        (None, False, []),
    ],
)
def test_review_reasons(data, owner, expected):
    assert review_reasons(data, reported_by_owner=owner) == expected


def test_flags_read_codes_not_sentences():
    data = report(0.52)
    for item in data["evidence"]:
        item["text"] = "reworded"
    data["reasons"] = ["reworded"] * len(data["reasons"])
    assert review_reasons(data) == [BORDERLINE]
