"""The verdict rules on crafted evidence: each rule, its band and its reasons."""

import pytest

from ml.verdict import policy
from ml.verdict.aggregate import FaceScore
from ml.verdict.fusion import NO_FACE, TrackScore, decision_bounds, fuse
from ml.verdict.report import BlinkResult

NO_MODEL = "no trained classifier is installed, so faces were not scored"
NORMAL = BlinkResult(status="ok", count=5, rate_per_minute=15.0, message="")
ABNORMAL = BlinkResult(status="abnormal", count=1, rate_per_minute=2.1, message="")


def video(face_scores, *, blink=NORMAL, threshold=0.5, faces_found=None, **kw):
    found = len(face_scores) if faces_found is None else faces_found
    return fuse(
        media_type="video",
        faces_found=found,
        face_scores=face_scores,
        threshold=threshold,
        blink=blink,
        **kw,
    )


def test_no_face_is_inconclusive():
    result = video([], faces_found=0, threshold=None, skipped_reason=NO_MODEL)
    assert result.verdict == "inconclusive" and result.fake_probability is None
    assert result.reasons[0] == NO_FACE


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
    assert "15.0 blinks/min, within the usual human range of 4.5-26/min" in result.reasons


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
    assert "2.1 blinks/min, outside the usual human range of 4.5-26/min" in result.reasons
    assert any("blink pattern is abnormal" in r for r in result.reasons)


def test_without_a_classifier_abnormal_blinks_alone_are_not_a_fake():
    result = video([], faces_found=1, threshold=None, skipped_reason=NO_MODEL, blink=ABNORMAL)
    assert result.verdict == "inconclusive" and result.fake_probability is None
    assert result.reasons[0] == NO_MODEL
    assert any("alone is not enough" in r for r in result.reasons)


def test_without_a_classifier_normal_blinks_are_not_proof_of_real():
    result = video([], faces_found=1, threshold=None, skipped_reason=NO_MODEL)
    assert result.verdict == "inconclusive" and result.reasons[0] == NO_MODEL


def test_blink_message_from_the_blink_stage_is_used_as_is():
    blink = BlinkResult(status="insufficient_evidence", message="only 3 s of open eyes")
    assert "only 3 s of open eyes" in video([FaceScore(1, 0.9, 32, 30)], blink=blink).reasons


def test_image_reasons_speak_of_the_face_not_frames():
    result = fuse(
        media_type="image",
        faces_found=1,
        face_scores=[FaceScore(1, 0.93, 1, 1)],
        threshold=0.5,
        blink=BlinkResult(status="not_applicable"),
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
        blink=None,
        person_blinks={
            1: BlinkResult(status="ok", message="3 blinks in 10 s"),
            2: BlinkResult(status="abnormal", message="no blink in 40 s"),
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


def test_faces_not_judged_are_listed_with_their_reason():
    result = video(
        [FaceScore(1, 0.05, 32, 0)],
        faces_found=2,
        judged={1: "120 px across"},
        not_judged={2: "too blurred (sharpness 7.0; at least 15 is needed)"},
    )
    assert result.verdict == "real"
    assert "Face 2 not judged: too blurred (sharpness 7.0; at least 15 is needed)" in result.reasons
    assert [f.track_id for f in result.faces] == [1]
