"""The review rule: flag what a person can settle, not what a missing model leaves undecided."""

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
from ml.verdict.report import BlinkResult, FaceResult, Report


def report(verdict, probability=None, *, blink="ok", other_blink="ok", judged=True):
    faces = [
        FaceResult(1, 40, probability, blink=BlinkResult(status=blink)),
        FaceResult(2, 40, None, judged=judged, blink=BlinkResult(status=other_blink)),
    ]
    return Report(
        media_type="video",
        verdict=verdict,
        fake_probability=probability,
        faces=faces,
        blink=BlinkResult(status=blink),
    ).to_dict()


@pytest.mark.parametrize(
    ("data", "owner", "expected"),
    [
        (report("fake", 0.93), False, [FAKE]),
        (report("real", 0.03), False, []),
        (report("inconclusive", 0.52), False, [BORDERLINE]),
        # The classifier says real, the blinks of a judged person are abnormal.
        (report("inconclusive", 0.03, other_blink="abnormal"), False, [DISAGREE]),
        # ... but a person too poorly seen to judge does not make a disagreement.
        (
            report("inconclusive", 0.52, other_blink="abnormal", judged=False),
            False,
            [BORDERLINE],
        ),
        # No classifier: an "inconclusive" that only says so is not flagged...
        (report("inconclusive"), False, []),
        # ...but abnormal blinks are worth a look.
        (report("inconclusive", blink="abnormal"), False, [BLINKS_ONLY]),
        (report("real", 0.03), True, [REPORTED]),
        (report("fake", 0.93), True, [FAKE, REPORTED]),
        (None, False, []),
    ],
)
def test_review_reasons(data, owner, expected):
    assert review_reasons(data, reported_by_owner=owner) == expected
