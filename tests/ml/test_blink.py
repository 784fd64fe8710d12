"""ml.signals.blink: EAR geometry, blink events on synthetic EAR series, and end to end on video."""

import json
import math
from dataclasses import asdict

import numpy as np
import pytest

from ml.faces.tracking import FaceTracker
from ml.media import reader as media
from ml.signals.blink import detect_blinks, ear_from_landmarks, eye_aspect_ratio, not_applicable
from ml.verdict import policy
from tests.support import mediagen
from tests.support.mediagen import BLINK_TIMES_S, BLINK_VIDEO_FPS


def eye(opening: float) -> np.ndarray:
    """Six eye landmarks p1..p6, 3 wide, lids `opening` apart."""
    half = opening / 2
    return np.array([(0, 0), (1, -half), (2, -half), (3, 0), (2, half), (1, half)], float)


def ear_series(
    seconds: float,
    fps: float,
    closures=(),  # (middle_s, duration_s) of each closure
    *,
    open_ear: float = 0.30,
    closed_ear: float = 0.10,
    noise: float = 0.01,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    times = np.arange(round(seconds * fps)) / fps
    ears = open_ear + np.random.default_rng(seed).normal(0, noise, len(times))
    for middle, duration in closures:
        shut = np.abs(times - middle) < duration / 2 - 1e-9
        ears[shut] = closed_ear
    return times, ears


# --- EAR ---------------------------------------------------------------------------------


def test_eye_aspect_ratio_geometry():
    assert eye_aspect_ratio(eye(2.0)) == pytest.approx(4 / 6)
    assert eye_aspect_ratio(eye(0.0)) == 0.0
    assert math.isnan(eye_aspect_ratio(np.zeros((6, 2))))


def test_ear_from_landmarks_averages_both_eyes():
    landmarks = np.zeros((68, 2), np.float32)
    landmarks[36:42] = eye(0.9)
    landmarks[42:48] = eye(0.3) + (10, 0)
    assert ear_from_landmarks(landmarks) == pytest.approx((0.3 + 0.1) / 2)


# --- events on synthetic series ----------------------------------------------------------


def test_known_blinks_counted_with_times_and_durations():
    closures = [(2.0, 0.2), (9.0, 0.3), (15.5, 0.1), (22.0, 0.2), (28.0, 0.4)]
    result = detect_blinks(*ear_series(30, 30, closures))
    assert result.status == "ok"
    assert result.count == 5
    assert result.timestamps_s == pytest.approx([c[0] for c in closures], abs=1 / 30)
    assert result.mean_duration_ms == pytest.approx(240, abs=1000 / 30)
    assert result.rate_per_minute == pytest.approx(10.0)
    assert result.baseline_ear == pytest.approx(0.31, abs=0.01)
    assert result.threshold == pytest.approx(
        result.baseline_ear * policy.BLINK_CLOSED_RATIO, abs=1e-3
    )
    assert result.usable_frames == 900
    assert "5 blinks in 30 s" in result.message


def test_threshold_is_relative_to_the_person():
    # Narrow eyes: open 0.20, blinks to 0.12; a fixed 0.2 threshold would see nothing but noise.
    narrow = detect_blinks(
        *ear_series(20, 30, [(5, 0.2), (12, 0.2)], open_ear=0.2, closed_ear=0.12, noise=0.005)
    )
    # Wide eyes: blinks that stop at 0.26, never under a fixed 0.2.
    wide = detect_blinks(*ear_series(20, 30, [(5, 0.2), (12, 0.2)], open_ear=0.4, closed_ear=0.26))
    assert (narrow.count, wide.count) == (2, 2)
    assert narrow.threshold < 0.2 < wide.threshold


def test_noise_and_too_brief_dips_are_not_blinks():
    # One-frame dips at 60 fps (17 ms) are landmark glitches, not blinks.
    times, ears = ear_series(30, 60, noise=0.015, seed=3)
    ears[[300, 900, 1500]] = 0.1
    result = detect_blinks(times, ears)
    assert result.count == 0


def test_long_closures_are_reported_separately_and_flagged():
    closures = [(3, 0.2), (8, 1.2), (14, 0.2), (20, 0.2)]
    result = detect_blinks(*ear_series(25, 30, closures))
    assert result.count == 3
    assert result.status == "abnormal"
    assert "1.2 s" in result.message


def test_no_blinks_over_a_long_stretch_is_abnormal():
    result = detect_blinks(*ear_series(40, 25))
    assert (result.status, result.count, result.rate_per_minute) == ("abnormal", 0, 0.0)
    assert "below human norms" in result.message
    one = detect_blinks(*ear_series(40, 25, [(20, 0.2)]))
    assert (one.status, one.count) == ("abnormal", 1)  # 1.5 a minute
    normal = detect_blinks(*ear_series(40, 25, [(t, 0.2) for t in range(4, 40, 4)]))
    assert (normal.status, normal.count) == ("ok", 9)


def test_no_blinks_in_a_short_clip_is_not_evidence():
    result = detect_blinks(*ear_series(8, 25))
    assert (result.status, result.count) == ("insufficient_evidence", 0)
    assert "too short" in result.message


def test_eyes_closed_the_whole_time_is_never_normal():
    result = detect_blinks(*ear_series(30, 25, open_ear=0.08, noise=0.005))
    assert result.status == "insufficient_evidence"
    assert result.count == 0
    assert "never appeared open" in result.message


def test_too_little_evidence():
    short = detect_blinks(*ear_series(3, 30, [(1.5, 0.2)]))
    assert short.status == "insufficient_evidence"
    assert "5 s" in short.message
    slow = detect_blinks(*ear_series(60, 5, [(10, 0.4)]))
    assert slow.status == "insufficient_evidence"
    assert "too seldom" in slow.message
    empty = detect_blinks([], [])
    assert (empty.status, empty.usable_frames) == ("insufficient_evidence", 0)


def test_a_short_clip_still_shows_its_blinks_without_judging_the_rate():
    result = detect_blinks(*ear_series(3, 30, [(0.8, 0.2), (2.1, 0.2)]))
    assert result.status == "insufficient_evidence"
    assert result.count == 2
    assert result.timestamps_s == pytest.approx([0.8, 2.1], abs=1 / 30)
    assert result.rate_per_minute is None


def test_missing_landmarks_neither_create_nor_split_blinks():
    times, ears = ear_series(20, 30, [(5.0, 0.3), (12.0, 0.2)])
    ears[149:152] = np.nan  # three frames lost in the middle of the first blink
    ears[270:300] = np.nan  # a second without landmarks while the eyes are open
    result = detect_blinks(times, ears)
    assert result.count == 2
    assert result.timestamps_s == pytest.approx([5.0, 12.0], abs=1 / 30)
    assert result.usable_frames == 600 - 33
    all_missing = detect_blinks(times, np.full(len(times), np.nan))
    assert all_missing.status == "insufficient_evidence"


def test_a_closure_cut_by_a_long_gap_is_unmeasured():
    # A cut or a lost face in the middle of a closure: neither a blink nor a long closure.
    times, ears = ear_series(30, 30, [(5.0, 0.2), (5.6, 0.2), (12.0, 0.2), (20.0, 1.5)])
    ears[150:165] = np.nan  # 0.5 s without landmarks between the first two closures
    ears[615:] = np.nan  # the clip ends while the eyes are shut
    result = detect_blinks(times, ears)
    assert (result.count, result.timestamps_s) == (1, pytest.approx([12.0], abs=1 / 30))
    assert result.code != "blink.long_closure"
    # The same closures seen whole are two blinks and a long closure.
    whole = detect_blinks(*ear_series(30, 30, [(5.0, 0.2), (5.6, 0.2), (12.0, 0.2), (20.0, 1.5)]))
    assert (whole.count, whole.code) == (3, "blink.long_closure")


def test_closures_while_the_head_is_down_are_unmeasured_not_closed():
    # 30 s at 30 fps; the head goes down to read from 10 to 16 s and the EAR falls to 0.2 there
    # (lids lowered with the gaze) while the pose says "pitched down".
    times, ears = ear_series(30, 30, [(3.0, 0.2), (7.0, 0.2), (20.0, 0.2), (25.0, 0.2)])
    down = (times >= 10.0) & (times < 16.0)
    ears[down] = 0.2
    ears[(times >= 9.8) & (times < 10.0)] = 0.22  # going down: the pose is still "facing"
    facing = ~down
    result = detect_blinks(times, ears, facing)
    assert result.count == 4 and result.code != "blink.long_closure"
    assert "Not measured: 6.0 s with the head pitched down" in result.message
    # Without the pose the reading looks like a 6-second closure.
    assert detect_blinks(times, ears).code == "blink.long_closure"


def test_a_150_ms_closure_is_a_blink():
    result = detect_blinks(*ear_series(30, 30, [(5.0, 0.15), (12.0, 0.15), (21.0, 0.15)]))
    assert result.count == 3


@pytest.mark.parametrize(
    ("closures", "code", "status"),
    [
        ((), "blink.absent", "abnormal"),
        (((15, 0.2),), "blink.rate_far_below", "abnormal"),
        ([(t, 0.2) for t in range(4, 30, 6)], "blink.rate_low", "ok"),  # 5 in 30 s
        ([(t, 0.2) for t in range(2, 30, 3)], "blink.rate_normal", "ok"),  # 10 in 30 s
        ([(t + 0.5, 0.2) for t in range(1, 29)], "blink.rate_high", "abnormal"),  # 56 a minute
        (
            [(5, 0.2), (12, 1.5), (17, 0.2), (23, 0.2), (27, 0.2), (9, 0.2)],
            "blink.long_closure",
            "abnormal",
        ),
    ],
)
def test_rate_judgements_against_speaking_norms(closures, code, status):
    result = detect_blinks(*ear_series(30, 30, closures))
    assert (result.code, result.status) == (code, status)


def test_only_a_long_stretch_without_any_blink_is_strong_evidence():
    assert policy.BLINK_HOLDS_BACK_REAL == {"blink.absent"}
    # 18 s of open eyes: short of the 20 s needed, so no strong finding.
    assert detect_blinks(*ear_series(18, 30)).code == "blink.none_in_short_clip"
    # 30 s seen, but 12 of them looking down: 18 s facing the camera is not enough either.
    times, ears = ear_series(30, 30)
    facing = (times < 9.0) | (times >= 21.0)
    assert detect_blinks(times, ears, facing).code == "blink.none_in_short_clip"


def test_two_people_are_analyzed_separately():
    first = detect_blinks(*ear_series(30, 25, [(5, 0.2), (15, 0.2)], seed=1))
    second = detect_blinks(
        *ear_series(30, 25, [(t, 0.2) for t in (3, 7, 11, 19, 26)], seed=2, open_ear=0.34)
    )
    assert (first.count, second.count) == (2, 5)
    assert first.baseline_ear != second.baseline_ear


def test_ear_series_is_downsampled_and_keeps_the_dips():
    times, ears = ear_series(600, 30, [(100, 0.2), (400, 0.2)])
    result = detect_blinks(times, ears)
    assert 0 < len(result.ear_series) <= policy.BLINK_SERIES_MAX_POINTS
    values = [v for _, v in result.ear_series]
    assert min(values) < 0.15  # a blink still shows in the chart
    assert all(a[0] < b[0] for a, b in zip(result.ear_series, result.ear_series[1:]))


def test_results_are_plain_json():
    result = detect_blinks(*ear_series(10, 30, [(5, 0.2)]))
    data = json.loads(json.dumps(asdict(result)))
    assert data["timestamps_s"] == [5.0]
    assert not_applicable().status == "not_applicable"


# --- end to end on generated video -------------------------------------------------------


def video_ears(path, analyzer) -> tuple[list[float], list[float]]:
    tracker = FaceTracker(analyzer)
    times, ears = [], []
    for frame in media.iter_video_frames(path, target_fps=15):
        seen = tracker.update(frame)
        times.append(frame.t_s)
        ears.append(ear_from_landmarks(seen[0][1].landmarks) if seen else math.nan)
    assert len(tracker.tracks) == 1
    return times, ears


def test_blinks_found_in_video_at_the_right_times(blink_video, face_analyzer):
    result = detect_blinks(*video_ears(blink_video, face_analyzer))
    assert result.status == "ok"
    assert result.count == 3
    assert result.timestamps_s == pytest.approx(BLINK_TIMES_S, abs=1 / BLINK_VIDEO_FPS)
    assert result.usable_frames == 150
    assert 50 <= result.mean_duration_ms <= 250


def test_blinks_found_when_scanning_a_30_fps_video_at_15_fps(tmp_path, face_analyzer):
    # The platform's default: every second frame of a 30 fps video.
    times_s = (1.0, 2.6, 4.4)
    path = mediagen.write_face_video(
        tmp_path / "phone.mp4", seconds=6.0, fps=30, blinks_at_s=times_s
    )
    times, ears = video_ears(path, face_analyzer)
    assert len(times) == 90
    result = detect_blinks(times, ears)
    assert result.count == 3
    assert result.timestamps_s == pytest.approx(times_s, abs=1 / 15)


def test_no_blinks_in_the_same_video_without_blinks(still_eyes_video, face_analyzer):
    result = detect_blinks(*video_ears(still_eyes_video, face_analyzer))
    assert result.count == 0
    assert result.usable_frames == 150
    assert result.status == "insufficient_evidence"  # 6 s without a blink proves nothing
