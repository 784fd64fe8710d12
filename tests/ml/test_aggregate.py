"""Frame scores → face score (DFDC winner's confident strategy) → the most suspicious face."""

import pytest

from ml.verdict.aggregate import (
    FaceScore,
    confident_mean,
    ensemble_face_score,
    face_score,
    most_suspicious,
)


def test_many_confident_fake_frames_decide_alone():
    # 14 of 32 frames above 0.8 (> 32/2.5 and > 11): the mean of those frames only.
    scores = [0.9] * 14 + [0.3] * 18
    assert confident_mean(scores) == pytest.approx(0.9)


def test_too_few_confident_fake_frames_fall_back_to_the_mean():
    # 11 confident frames is not "more than 11": the plain mean.
    scores = [0.9] * 11 + [0.3] * 21
    assert confident_mean(scores) == pytest.approx((0.9 * 11 + 0.3 * 21) / 32)


def test_confident_frames_must_also_exceed_n_over_2_5():
    scores = [0.95] * 12 + [0.1] * 28  # 12 > 11 but 12 <= 40 / 2.5 = 16
    assert confident_mean(scores) == pytest.approx((0.95 * 12 + 0.1 * 28) / 40)


def test_mostly_confident_real_frames_use_their_mean():
    scores = [0.1] * 30 + [0.7, 0.6]  # 30 of 32 (> 90 %) below 0.2
    assert confident_mean(scores) == pytest.approx(0.1)


def test_mixed_frames_use_the_plain_mean():
    scores = [0.1] * 20 + [0.5] * 12
    assert confident_mean(scores) == pytest.approx((0.1 * 20 + 0.5 * 12) / 32)


def test_single_frame_and_empty():
    assert confident_mean([0.73]) == pytest.approx(0.73)
    assert confident_mean([]) is None


def test_face_score_counts_frames_over_the_threshold():
    face = face_score(track_id=2, scores=[0.2, 0.6, 0.7, 0.4], threshold=0.6)
    assert face == FaceScore(2, pytest.approx(0.475), 4, 2)
    assert face_score(track_id=1, scores=[], threshold=0.5) is None


def test_most_suspicious_face_decides():
    faces = [
        FaceScore(1, 0.2, 32, 0),
        FaceScore(2, 0.9, 30, 28),
        FaceScore(3, 0.4, 32, 3),
    ]
    assert most_suspicious(faces).track_id == 2


def test_stray_detections_only_count_when_nothing_steadier_exists():
    stray = FaceScore(9, 0.99, 1, 1)
    steady = FaceScore(1, 0.3, 20, 0)
    assert most_suspicious([stray, steady], min_frames=3) is steady
    assert most_suspicious([stray], min_frames=3) is stray
    assert most_suspicious([], min_frames=3) is None


def test_an_ensemble_summarises_each_model_before_averaging():
    # Model A is confidently fake on 14 of 32 frames, model B sure they are real.
    a = [0.95] * 14 + [0.3] * 18
    b = [0.05] * 32
    face = ensemble_face_score(track_id=1, member_scores=[a, b], weights=[0.5, 0.5], threshold=0.45)
    # Per model first: A's confident frames (0.95) and B's reals (0.05) → 0.5.
    assert face.score == pytest.approx((0.95 + 0.05) / 2)
    # Averaging frames first would dilute A's confident frames below the 0.8 rule instead.
    assert confident_mean([(x + y) / 2 for x, y in zip(a, b)]) < 0.4
    # Frames over the threshold are counted on each frame's mean: (0.95 + 0.05) / 2 = 0.5.
    assert face.frames_scored == 32 and face.frames_over_threshold == 14


def test_a_one_model_ensemble_is_the_single_model_score():
    scores = [0.2, 0.9, 0.85, 0.3]
    one = ensemble_face_score(track_id=3, member_scores=[scores], weights=[1.0], threshold=0.5)
    assert one == face_score(track_id=3, scores=scores, threshold=0.5)
