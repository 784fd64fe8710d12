"""ml.faces.tracking: the detection schedule, following new faces back, and the read-ahead scan."""

import cv2
import numpy as np

from ml.faces.detect import FaceAnalyzer
from ml.faces.tracking import FOLLOW_BACK, HOLD_BYTES, FaceTracker
from ml.media import reader as media
from ml.media.reader import Frame
from tests.support import astronaut
from tests.support.faces import CountingAnalyzer

SIZE = (480, 360)  # width, height


def background(index: int) -> np.ndarray:
    """A faceless, slowly shifting colour gradient."""
    width, height = SIZE
    ys, xs = np.mgrid[0:height, 0:width]
    return np.dstack([(xs // 2 + index) % 256, (ys // 2) % 256, np.full_like(xs, 90)]).astype(
        np.uint8
    )


def face_at(index: int, side: int = 300) -> np.ndarray:
    """The astronaut on the background, drifting a pixel to the right every frame."""
    rgb = background(index)
    face = cv2.resize(astronaut.astronaut_rgb(), (side, side), interpolation=cv2.INTER_AREA)
    x, y = 60 + index, 20
    rgb[y : y + side, x : x + side] = face
    return rgb


def entering_clip(enter: int, frames: int) -> list[Frame]:
    """No face before frame `enter`, the astronaut from then on."""
    pictures = [background(i) if i < enter else face_at(i) for i in range(frames)]
    return [Frame(index=i, t_s=i / 15, rgb=rgb) for i, rgb in enumerate(pictures)]


def test_a_face_entering_between_detections_is_reported_from_its_first_frame():
    frames = entering_clip(enter=7, frames=40)
    analyzer = CountingAnalyzer()
    tracker = FaceTracker(analyzer, detect_every=15)
    out = list(tracker.track(iter(frames)))

    assert [frame.index for frame, _ in out] == list(range(40))  # each frame once, in order
    assert [len(seen) for _, seen in out] == [0] * 7 + [1] * 33
    [track] = tracker.tracks
    assert [o.frame_index for o in track.observations] == list(range(7, 40))
    assert analyzer.detections == 3  # frames 0, 15, 30: the face was found by following back
    # Faces found by following back agree with what detection finds in those frames.
    for frame, [(_, face)] in out[7:15:3]:
        [detected] = FaceAnalyzer().detect(frame.rgb)
        assert np.abs(face.landmarks - detected.landmarks).mean() < 2.0

    # Answering frame by frame (update) cannot look back: the face is missed until frame 15.
    plain = FaceTracker(FaceAnalyzer(), detect_every=15)
    first_seen = next(f.index for f in frames if plain.update(f))
    assert first_seen == 15


def test_following_back_stops_where_the_face_was_not():
    # A face, a cut to a faceless frame, then the face again: the second sighting does not
    # spread back over the cut.
    pictures = [face_at(i) for i in range(3)] + [background(3)] + [face_at(i) for i in range(4, 20)]
    frames = [Frame(index=i, t_s=i / 15, rgb=rgb) for i, rgb in enumerate(pictures)]
    tracker = FaceTracker(FaceAnalyzer(), detect_every=15)
    out = list(tracker.track(frames))
    assert [len(seen) for _, seen in out][:5] == [1, 1, 1, 0, 1]
    frames_with_face = sorted(o.frame_index for t in tracker.tracks for o in t.observations)
    assert frames_with_face == [0, 1, 2] + list(range(4, 20))


def test_held_frames_are_capped_by_memory_and_detection_comes_as_often_as_they_reach_back():
    """Huge frames are handed on after a few, whatever FOLLOW_BACK says, and detection runs
    once per held window so a face entering could still be followed back to its start."""
    big = np.zeros((4000, 4000, 3), np.uint8)  # 48 MB each, no face
    room = HOLD_BYTES // big.nbytes
    assert 0 < room < FOLLOW_BACK
    pulled = []

    def frames():
        for i in range(FOLLOW_BACK + 6):
            pulled.append(i)
            yield Frame(index=i, t_s=i / 15, rgb=big)

    analyzer = CountingAnalyzer()
    scan = FaceTracker(analyzer).track(frames())
    first, seen = next(scan)
    assert first.index == 0 and seen == []
    assert len(pulled) < FOLLOW_BACK
    assert len(list(scan)) == FOLLOW_BACK + 5
    assert analyzer.detections == len(range(0, FOLLOW_BACK + 6, room + 1))


def test_scan_of_a_video_matches_frame_by_frame_tracking_on_a_steady_face(face_mp4):
    frames = media.iter_video_frames(face_mp4, target_fps=25)
    tracker = FaceTracker(FaceAnalyzer())
    out = list(tracker.track(frames))
    assert [frame.index for frame, _ in out] == list(range(50))
    assert [len(seen) for _, seen in out] == [1] * 50
    [track] = tracker.tracks
    assert [o.frame_index for o in track.observations] == list(range(50))
