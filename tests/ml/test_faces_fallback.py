"""The BlazeFace fallback of ml.faces.detect on generated hard 1080p frames (tests/support/hardfaces):
an 80 px face in low light, looking down, which dlib's HOG does not find."""

import numpy as np
import pytest

from ml.faces.boxes import iou
from ml.faces.detect import LEFT_EYE, RIGHT_EYE, FaceAnalyzer
from ml.faces.tracking import FaceTracker
from ml.media.reader import Frame
from tests.support.hardfaces import hard_frame


@pytest.fixture(scope="module")
def hog_only() -> FaceAnalyzer:
    return FaceAnalyzer(fallback=False)


def test_finds_the_dim_downward_face_that_hog_misses(face_analyzer, hog_only):
    frame = hard_frame("dark-down-80px", seed=0)
    assert hog_only.detect(frame.rgb) == []
    [face] = face_analyzer.detect(frame.rgb)
    assert iou(face.box, frame.truth[0]) > 0.4
    assert 0.5 <= face.score <= 1.0
    # dlib's landmarks land on the face: each eye within a few pixels of where it really is.
    truth = frame.landmarks[0]
    for eye in (LEFT_EYE, RIGHT_EYE):
        assert np.linalg.norm(face.landmarks[eye].mean(axis=0) - truth[eye].mean(axis=0)) < 8


def test_small_face_in_good_light(face_analyzer, hog_only):
    frame = hard_frame("small-80px", seed=1)
    assert hog_only.detect(frame.rgb) == []
    [face] = face_analyzer.detect(frame.rgb)
    assert iou(face.box, frame.truth[0]) > 0.5
    assert np.abs(face.landmarks - frame.landmarks[0]).mean() < 3


def test_hog_answers_first_when_it_finds_the_face(face_analyzer, hog_only):
    frame = hard_frame("easy-200px", seed=0)
    [face] = face_analyzer.detect(frame.rgb)
    [hog] = hog_only.detect(frame.rgb)
    assert face.box == hog.box and face.score == hog.score


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_face_in_a_dark_empty_room(face_analyzer, seed):
    assert face_analyzer.detect(hard_frame("dark-no-face", seed=seed).rgb) == []


def test_the_tracker_follows_the_face_found_by_the_fallback():
    # The same scene with fresh sensor noise in each frame: the background and face stay put.
    still = hard_frame("dark-down-80px", seed=0)
    rng = np.random.default_rng(7)
    frames = []
    for index in range(6):
        noise = rng.normal(0, 2.0, still.rgb.shape)
        rgb = np.clip(still.rgb + noise, 0, 255).astype(np.uint8)
        frames.append(Frame(index=index, t_s=index / 15, rgb=rgb))
    tracker = FaceTracker(FaceAnalyzer(), detect_every=3)
    seen = [tracker.update(frame) for frame in frames]
    assert [len(s) for s in seen] == [1] * 6
    [track] = tracker.tracks
    assert len(track.observations) == 6
    assert all(iou(o.face.box, still.truth[0]) > 0.3 for o in track.observations)
