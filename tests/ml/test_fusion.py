"""The verdict rules on crafted evidence: each rule, its band, its reasons and their codes."""

import pytest

from ml.faces import quality
from ml.signals import blink as blinks
from ml.signals.classifier import NO_MODEL, face_evidence, track_evidence
from ml.verdict import policy
from ml.verdict.aggregate import FaceScore, TrackScore
from ml.verdict.fusion import NO_FACE, Scores, decision_bounds, fuse
from ml.verdict.report import BlinkResult

NORMAL = BlinkResult(status="ok", count=5, rate_per_minute=15.0, message="")
# The one blink finding strong enough to hold a "real" back (policy.BLINK_HOLDS_BACK_REAL).
ABNORMAL = BlinkResult(
    status="abnormal",
    count=0,
    rate_per_minute=0.0,
    message="No blink at all in 31 s of open eyes facing the camera",
    code="blink.absent",
)


def video(
    face_scores,
    *,
    blink=NORMAL,
    threshold=0.5,
    faces_found=None,
    unscored=None,
    temporal=(),
    temporal_threshold=None,
    person_blinks=None,
    left_out=(),
    **kw,
):
    """The evidence an analysis of one video would hand to `fuse`, in the pipeline's order."""
    found = len(face_scores) if faces_found is None else faces_found
    blink_items = (
        blinks.evidence("video", person_blinks)
        if person_blinks is not None
        else blinks.blink_evidence(blink)
    )
    evidence = [
        *face_evidence(face_scores, "video", threshold),
        *track_evidence(list(temporal), temporal_threshold),
        *left_out,
        *blink_items,
    ]
    scores = Scores(face_scores, threshold, temporal, temporal_threshold, unscored)
    return fuse(faces_found=found, scores=scores, evidence=evidence, **kw)


def test_no_face_is_inconclusive():
    result = video([], faces_found=0, threshold=None, unscored=NO_MODEL)
    assert result.verdict == "inconclusive" and result.fake_probability is None
    assert result.reasons[0] == NO_FACE.text


def test_confident_fake_face_makes_a_fake_and_says_where():
    result = video([FaceScore(1, 0.91, 32, 28), FaceScore(2, 0.1, 32, 0)])
    assert result.verdict == "fake"
    assert result.fake_probability == pytest.approx(0.91)
    assert "classifier: 0.91 fake on 28 of 32 frames of face 1 (threshold 0.50)" in result.reasons
    # The deciding face is listed before the others.
    assert result.reasons.index(
        "classifier: 0.91 fake on 28 of 32 frames of face 1 (threshold 0.50)"
    ) < result.reasons.index("classifier: 0.10 fake on 0 of 32 frames of face 2 (threshold 0.50)")


def test_fake_stands_even_with_normal_blinks():
    assert video([FaceScore(1, 0.8, 32, 30)], blink=NORMAL).verdict == "fake"


def test_clearly_real_with_normal_blinks_is_real():
    result = video([FaceScore(1, 0.12, 32, 0)])
    assert result.verdict == "real"
    assert any("well below its 0.50 threshold" in r for r in result.reasons)
    assert "15.0 blinks/min, within the range of people talking, 10.5-32.5/min" in result.reasons


@pytest.mark.parametrize("score", [0.41, 0.5, 0.59])
def test_scores_near_the_threshold_are_inconclusive(score):
    result = video([FaceScore(1, score, 32, 10)])
    assert result.verdict == "inconclusive"
    assert result.fake_probability == pytest.approx(score)
    assert any("too close to its 0.50 threshold" in r for r in result.reasons)


def test_band_edges_follow_the_models_threshold():
    band = policy.UNCERTAINTY_BAND
    assert video([FaceScore(1, 0.3 + band + 0.01, 32, 20)], threshold=0.3).verdict == "fake"
    assert video([FaceScore(1, 0.3 - band - 0.01, 32, 0)], threshold=0.3).verdict == "real"
    # Near the ends the band narrows so that both verdicts stay possible.
    real_below, fake_from = decision_bounds(0.95)
    assert real_below == pytest.approx(0.85) and fake_from == pytest.approx(0.975)


def test_abnormal_blinks_hold_back_a_real():
    result = video([FaceScore(1, 0.1, 32, 0)], blink=ABNORMAL)
    assert result.verdict == "inconclusive"
    assert "No blink at all in 31 s of open eyes facing the camera" in result.reasons
    assert any("blink pattern is abnormal" in r for r in result.reasons)


def test_without_a_classifier_abnormal_blinks_alone_are_not_a_fake():
    result = video([], faces_found=1, threshold=None, unscored=NO_MODEL, blink=ABNORMAL)
    assert result.verdict == "inconclusive" and result.fake_probability is None
    assert result.reasons[0] == NO_MODEL.text
    assert any("alone is not enough" in r for r in result.reasons)


def test_without_a_classifier_normal_blinks_are_not_proof_of_real():
    result = video([], faces_found=1, threshold=None, unscored=NO_MODEL)
    assert result.verdict == "inconclusive" and result.reasons[0] == NO_MODEL.text


def test_blink_message_from_the_blink_stage_is_used_as_is():
    blink = BlinkResult(status="insufficient_evidence", message="only 3 s of open eyes")
    assert "only 3 s of open eyes" in video([FaceScore(1, 0.9, 32, 30)], blink=blink).reasons


def test_image_reasons_speak_of_the_face_not_frames():
    faces = [FaceScore(1, 0.93, 1, 1)]
    result = fuse(
        faces_found=1,
        scores=Scores(faces, 0.5),
        evidence=[*face_evidence(faces, "image", 0.5), *blinks.evidence("image", {})],
    )
    assert result.verdict == "fake"
    assert "classifier: 0.93 fake for face 1" in result.reasons
    assert "a still image carries no blink signal" in result.reasons


def test_stray_face_does_not_decide_a_video():
    faces = [FaceScore(1, 0.1, 32, 0), FaceScore(2, 0.97, 1, 1)]
    result = video(faces, min_frames=3)
    assert result.verdict == "real" and result.fake_probability == pytest.approx(0.1)


def test_the_deciding_face_combines_frame_and_temporal_scores():
    # The frame model suspects face 1, the temporal model face 2: combined, face 2 decides.
    result = video(
        [FaceScore(1, 0.9, 32, 30), FaceScore(2, 0.6, 32, 20)],
        temporal=[TrackScore(1, 0.1, 32), TrackScore(2, 0.95, 32)],
        temporal_threshold=0.5,
    )
    assert result.decisive.track_id == 2
    combined = {face.track_id: face.score for face in result.faces}
    assert combined == pytest.approx({1: 0.5, 2: 0.775})
    assert result.fake_probability == pytest.approx(0.775)


def test_per_person_blinks_name_the_person_and_any_abnormal_one_holds_back_real():
    result = video(
        [FaceScore(1, 0.05, 32, 0), FaceScore(2, 0.04, 32, 0)],
        person_blinks={
            1: BlinkResult(status="ok", message="3 blinks in 10 s"),
            2: BlinkResult(status="abnormal", message="no blink in 40 s", code="blink.absent"),
        },
        judged={1: "120 px across", 2: "90 px across"},
    )
    assert result.verdict == "inconclusive"
    assert "Face 1: 3 blinks in 10 s" in result.reasons
    assert "Face 2: no blink in 40 s" in result.reasons
    assert result.reasons[1] == (
        "Face 1 decides: the most suspicious of the 2 faces seen clearly enough to judge "
        "(120 px across)"
    )


BLURRED = quality.Quality(64, 7.0, 0.95, 1.0, frames=45, seen_s=3.0)


def test_faces_not_judged_are_listed_with_their_reason():
    result = video(
        [FaceScore(1, 0.05, 32, 0)],
        faces_found=2,
        judged={1: "120 px across"},
        left_out=[
            quality.not_judged(BLURRED, subject=2, media_type="video").prefixed(
                "Face 2 not judged: "
            )
        ],
    )
    assert result.verdict == "real"
    minimum = f"{policy.MIN_JUDGED_SHARPNESS:g}"
    assert f"Face 2 not judged: too blurred (sharpness 7.0; at least {minimum} is needed)" in (
        result.reasons
    )
    assert [f.track_id for f in result.faces] == [1]


def test_every_reason_has_a_documented_code():
    """Reasons and codes travel together, and each code is one the signals declare."""
    from pathlib import Path

    from ml.signals import classifier, generated, provenance
    from ml.verdict import fusion

    declared = {
        **blinks.CODES,
        **classifier.CODES,
        **quality.CODES,
        **fusion.CODES,
        **provenance.CODES,
        **generated.CODES,
    }
    verdict_md = (Path(__file__).resolve().parents[2] / "docs" / "verdict.md").read_text()
    undocumented = [code for code in declared if f"`{code}`" not in verdict_md]
    assert not undocumented, f"codes missing from docs/verdict.md: {undocumented}"
    results = [
        video([FaceScore(1, 0.1, 32, 0)], blink=ABNORMAL),
        video([], faces_found=1, threshold=None, unscored=NO_MODEL, blink=ABNORMAL),
        video(
            [FaceScore(1, 0.5, 32, 9)], temporal=[TrackScore(1, 0.5, 32)], temporal_threshold=0.5
        ),
        video([], faces_found=0, threshold=None),
    ]
    for result in results:
        assert len(result.evidence) == len(result.reasons)
        assert {e.code for e in result.evidence} <= set(declared)
