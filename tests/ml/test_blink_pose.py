"""Blinks that hold on real people: head pose from the landmarks, closures only while the face
looks at the camera, and blink findings too weak to hold a verdict back; real dlib, generated
talking-head clips (tests/support/mediagen.py, tests/support/headpose.py)."""

import numpy as np
import pytest

from ml.faces import people, pose, scan
from ml.faces.detect import FaceAnalyzer
from ml.media import reader as media
from ml.pipeline import analyze
from ml.signals import blink as blinks
from ml.verdict import policy
from ml.verdict.aggregate import FaceScore
from ml.verdict.fusion import Scores, fuse
from tests.support import mediagen
from tests.support.astronaut import astronaut_readonly
from tests.support.headpose import pitched_face
from tests.support.networks import STRONG_EVIDENCE, constant_spec

BLINKS_AT = (1.0, 2.5, 9.0, 11.0)
DOWN = (4.0, 7.5)  # the head goes down to read, eyes open


def _pose(face_analyzer: FaceAnalyzer, rgb: np.ndarray) -> pose.Pose:
    face = face_analyzer.detect(np.ascontiguousarray(rgb))[0]
    return pose.head_pose(face.landmarks, rgb.shape)


def test_head_pose_reads_a_lowered_head(face_analyzer):
    upright = _pose(face_analyzer, astronaut_readonly())
    down = _pose(face_analyzer, pitched_face(25))
    assert abs(upright.yaw_deg) < 10 and abs(down.yaw_deg) < 10
    assert down.pitch_deg - upright.pitch_deg > policy.BLINK_MAX_PITCH_DOWN_DEG
    # Judged against the person's own upright pose: most sightings upright, two lowered.
    facing = pose.facing_camera([upright] * 8 + [down, down, None])
    assert facing == [True] * 8 + [False, False, False]


@pytest.fixture(scope="module")
def reading_clip(tmp_path_factory):
    """12 s at 30 fps: four 150 ms blinks, and 3.5 s looking down with open eyes."""
    path = tmp_path_factory.mktemp("media") / "reading.avi"
    return mediagen.write_face_video(
        path, seconds=12, fps=30, blinks_at_s=BLINKS_AT, blink_ms=150, look_down=[DOWN]
    )


def test_looking_down_counts_no_closure_and_150_ms_blinks_count(reading_clip):
    info = media.MediaInfo("video", "video/x-msvideo", 320, 320, 30.0, 360, 12.0)
    scanned = scan.scan(
        str(reading_clip), info, frames=8, scan_fps=15, specs=[], progress=lambda *_: None
    )
    (person,) = people.people(scanned, "video", 8)
    times, ears, facing = people._ear_series(person, scanned.times)
    result = blinks.detect_blinks(times, ears, facing)
    assert result.count == len(BLINKS_AT)
    assert result.timestamps_s == pytest.approx(BLINKS_AT, abs=0.1)
    assert result.code == "blink.counted"  # 12 s: too short to judge a rate, nothing abnormal
    assert "Not measured" in result.message and "pitched down" in result.message
    # The head was down for 3.5 s; about that long is unmeasured, the rest facing the camera.
    unmeasured = [t for t, f in zip(times, facing, strict=True) if not f]
    assert DOWN[0] <= unmeasured[0] < DOWN[0] + 0.5 and DOWN[1] - 0.5 < unmeasured[-1] < DOWN[1]
    # Without the pose, the same EAR series reads the look-down as eyes shut for seconds.
    blind = blinks.detect_blinks(times, ears)
    assert blind.code == "blink.long_closure"


def _fused(blink_result):
    faces = [FaceScore(1, 0.03, 32, 0)]
    return fuse(
        faces_found=1,
        scores=Scores(faces, 0.5),
        evidence=blinks.evidence("video", {1: blink_result}),
    )


def _series(seconds, closures, fps=30):
    times = np.arange(round(seconds * fps)) / fps
    ears = 0.3 + np.random.default_rng(1).normal(0, 0.01, len(times))
    for middle, duration in closures:
        ears[np.abs(times - middle) < duration / 2] = 0.1
    return times, ears


@pytest.mark.parametrize(
    "closures",
    [
        [(15, 0.2)],  # 2 a minute: far below norms
        [(t, 0.2) for t in range(4, 30, 6)],  # 10 a minute: below the speaking range
        [(t + 0.5, 0.2) for t in range(1, 29)],  # 56 a minute
        [(5, 0.2), (12, 1.5), (17, 0.2), (23, 0.2), (27, 0.2), (9, 0.2)],  # one long closure
    ],
)
def test_a_weak_blink_finding_does_not_hold_back_a_real(closures):
    found = blinks.detect_blinks(*_series(30, closures))
    assert found.code not in policy.BLINK_HOLDS_BACK_REAL
    result = _fused(found)
    assert result.verdict == "real"
    assert f"Face 1: {found.message}" in result.reasons  # shown, not weighed


def test_no_blink_over_20_s_facing_the_camera_holds_back_a_real():
    found = blinks.detect_blinks(*_series(25, []))
    assert found.code == "blink.absent"
    result = _fused(found)
    assert result.verdict == "inconclusive"
    assert "blink.holds_back_real" in {e.code for e in result.evidence}


def test_a_long_closure_leaves_a_real_verdict_standing(tmp_path):
    # Through the whole analysis: a classifier that finds the face real, and the eyes shut
    # for 1.2 s between blinks in an 8-second clip.
    path = mediagen.write_face_video(
        tmp_path / "closure.avi", seconds=8, fps=15, blinks_at_s=(1.0, 2.0, 6.8), shut=[(3.6, 4.8)]
    )
    # A model whose card shows strong evidence: it may say "real" (docs/verdict.md, section 5).
    spec = constant_spec(tmp_path, logit=-5.0, reliability=STRONG_EVIDENCE)
    report = analyze(path, {"frames": 8, "models": [spec]})
    assert report.faces[0].blink.code == "blink.long_closure"
    assert report.verdict == "real"
    assert any("stayed shut longer than a blink (1.2 s" in r for r in report.reasons)
