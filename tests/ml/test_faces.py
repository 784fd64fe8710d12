"""ml.faces.detect with the real dlib models on the astronaut photo and generated videos."""

import cv2
import numpy as np

from ml.faces.boxes import iou
from ml.faces.detect import LEFT_EYE, RIGHT_EYE, FaceAnalyzer, align_crop
from ml.faces.tracking import FaceTracker
from ml.media import reader as media
from ml.media.reader import Frame
from tests.support import astronaut
from tests.support.faces import CountingAnalyzer

# Where the astronaut's face and eyes are in the 512 x 512 photo (read off the picture).
FACE_CENTRE = (222, 128)
EYE_CENTRES = ((205, 101), (246, 104))  # left and right in the image


def box_contains(box, points, slack=0.0):
    x, y, w, h = box
    return bool(
        np.all(points[:, 0] >= x - slack * w)
        and np.all(points[:, 0] <= x + w + slack * w)
        and np.all(points[:, 1] >= y - slack * h)
        and np.all(points[:, 1] <= y + h + slack * h)
    )


def test_detects_the_astronaut_with_landmarks_in_place(face_analyzer):
    faces = face_analyzer.detect(astronaut.astronaut_rgb())
    assert len(faces) == 1
    face = faces[0]
    x, y, w, h = face.box
    assert abs(x + w / 2 - FACE_CENTRE[0]) < 15 and abs(y + h / 2 - FACE_CENTRE[1]) < 15
    assert 60 < w < 130 and face.score > 0.3
    assert face.landmarks.shape == (68, 2) and face.landmarks.dtype == np.float32
    assert box_contains(face.box, face.landmarks, slack=0.15)
    for eye, centre in zip((LEFT_EYE, RIGHT_EYE), EYE_CENTRES, strict=True):
        assert np.linalg.norm(face.landmarks[eye].mean(axis=0) - centre) < 6
    # The landmarks of a given box are the same when asked for directly.
    assert np.array_equal(
        face_analyzer.landmarks(astronaut.astronaut_rgb(), face.box), face.landmarks
    )


def test_detection_on_a_downscaled_copy_reports_full_frame_pixels(face_analyzer):
    rgb = astronaut.astronaut_rgb()
    big = cv2.resize(rgb, (1024, 1024), interpolation=cv2.INTER_CUBIC)
    small_detector = FaceAnalyzer(detect_max_side=512)
    [face] = small_detector.detect(big)
    [reference] = face_analyzer.detect(rgb)
    scaled = tuple(2 * v for v in reference.box)
    assert iou(face.box, scaled) > 0.7
    assert np.linalg.norm(face.landmarks[LEFT_EYE].mean(axis=0) - 2 * np.array(EYE_CENTRES[0])) < 10


def test_no_face_and_two_faces(face_analyzer):
    assert face_analyzer.detect(np.full((240, 320, 3), 128, np.uint8)) == []
    faces = face_analyzer.detect(astronaut.two_face_rgb())
    assert len(faces) == 2
    assert iou(faces[0].box, faces[1].box) == 0
    assert sorted(f.box[0] < 512 for f in faces) == [False, True]  # one in each half


def test_tracker_keeps_one_id_and_detects_only_every_few_frames(face_mp4):
    analyzer = CountingAnalyzer()
    tracker = FaceTracker(analyzer, detect_every=5)
    frames = list(media.iter_video_frames(face_mp4, target_fps=25))
    seen = [tracker.update(frame) for frame in frames]
    assert [len(s) for s in seen] == [1] * 50
    [track] = tracker.tracks
    assert track.track_id == 0 and len(track.observations) == 50
    assert [o.frame_index for o in track.observations] == list(range(50))
    assert analyzer.detections == 10
    # Faces carried by landmarks between detections agree with what detection finds there
    # (dlib's boxes themselves jump a few pixels between scales, so the landmarks are compared).
    for frame, [(_, face)] in list(zip(frames, seen, strict=True))[1::7]:
        [detected] = FaceAnalyzer().detect(frame.rgb)
        assert iou(face.box, detected.box) > 0.5
        assert np.abs(face.landmarks - detected.landmarks).mean() < 2.0


def test_two_faces_give_two_stable_tracks(two_face_video, face_analyzer):
    tracker = FaceTracker(face_analyzer)
    for frame in media.iter_video_frames(two_face_video, target_fps=25):
        tracker.update(frame)
    tracks = tracker.tracks
    assert [t.track_id for t in tracks] == [0, 1]
    for track in tracks:
        assert len(track.observations) == 50
        sides = {o.face.box[0] + o.face.box[2] / 2 < 320 for o in track.observations}
        assert len(sides) == 1  # a track never jumps to the other person
    assert {t.first_box[0] < 320 for t in tracks} == {True, False}


def test_no_face_video_gives_no_tracks(noface_video, face_analyzer):
    tracker = FaceTracker(face_analyzer)
    for frame in media.iter_video_frames(noface_video):
        assert tracker.update(frame) == []
    assert tracker.tracks == []


def test_a_track_ends_when_the_face_is_gone_and_a_returning_face_gets_a_new_id(
    face_analyzer,
):
    face, empty = astronaut.astronaut_rgb(), np.full((512, 512, 3), 90, np.uint8)
    pictures = [face] * 6 + [empty] * 15 + [face] * 6
    tracker = FaceTracker(face_analyzer, detect_every=5, max_misses=4)
    for index, rgb in enumerate(pictures):
        tracker.update(Frame(index=index, t_s=index / 25, rgb=rgb))
    first, second = tracker.tracks
    assert (first.track_id, second.track_id) == (0, 1)
    assert [o.frame_index for o in first.observations] == list(range(6))
    assert [o.frame_index for o in second.observations][-1] == 26
    assert all(o.frame_index >= 21 for o in second.observations)


def test_align_crop_levels_the_eyes(face_analyzer):
    rgb = astronaut.astronaut_rgb()
    rotation = cv2.getRotationMatrix2D(FACE_CENTRE, 20, 1.0)
    tilted = cv2.warpAffine(rgb, rotation, (512, 512), borderMode=cv2.BORDER_REFLECT)
    [face] = face_analyzer.detect(tilted)
    tilt = np.subtract(face.landmarks[RIGHT_EYE].mean(0), face.landmarks[LEFT_EYE].mean(0))
    assert abs(np.degrees(np.arctan2(tilt[1], tilt[0]))) > 12  # really tilted

    crop = align_crop(tilted, face.landmarks, size=256)
    assert crop.shape == (256, 256, 3) and crop.dtype == np.uint8
    [in_crop] = face_analyzer.detect(crop)
    left, right = (
        in_crop.landmarks[LEFT_EYE].mean(0),
        in_crop.landmarks[RIGHT_EYE].mean(0),
    )
    assert abs(left[1] - right[1]) < 4
    # The face fills the middle, with the margin around it.
    span = in_crop.landmarks.max(0) - in_crop.landmarks.min(0)
    assert 0.5 < span.max() / 256 < 0.75
    centre = (in_crop.landmarks.max(0) + in_crop.landmarks.min(0)) / 2
    assert np.all(np.abs(centre - 128) < 20)


def test_align_crop_outside_the_frame_is_black(face_analyzer):
    [face] = face_analyzer.detect(astronaut.astronaut_rgb())
    crop = align_crop(astronaut.astronaut_rgb(), face.landmarks, size=64, margin=3.0)
    assert crop.shape == (64, 64, 3)
    assert np.all(crop[0, :] == 0)  # margin reaches beyond the top of the photo
