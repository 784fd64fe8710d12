"""Framings: each model's face crop cut the way its card says."""

import numpy as np
import pytest

from ml.errors import ModelError
from ml.faces.detect import Face, align_crop
from ml.faces.framing import Framing, box_crop, box_cut


def marked_frame() -> np.ndarray:
    """A 400x600 frame: a 90x60 (w x h) white box at (300, 200) inside a grey border of 30 px
    left/right and 20 px above/below, on black."""
    rgb = np.zeros((400, 600, 3), np.uint8)
    rgb[180:280, 270:420] = 128
    rgb[200:260, 300:390] = 255
    return rgb


def test_box_framing_adds_a_third_each_side_and_pads_to_a_centred_square():
    crop = box_crop(marked_frame(), (300, 200, 90, 60), size=150, margin=1 / 3)
    assert crop.shape == (150, 150, 3) and crop.dtype == np.uint8
    # Box + 30 px each side horizontally, + 20 px vertically: a 150 x 100 patch, already
    # 150 wide, so it is pasted unscaled with 25 rows of zero padding above and below.
    assert (crop[:25] == 0).all() and (crop[125:] == 0).all()
    assert (crop[25:45] == 128).all() and (crop[105:125] == 128).all()
    assert (crop[45:105, 30:120] == 255).all()
    assert (crop[45:105, :30] == 128).all()


def test_box_framing_is_clipped_at_the_frame_edge_not_padded_there():
    rgb = marked_frame()
    crop = box_crop(rgb, (0, 0, 90, 60), size=60, margin=1 / 3)
    # Only the part inside the frame (120 x 80 px of black) is scaled to fit 60 px wide.
    assert crop.shape == (60, 60, 3)
    assert crop.max() == 0


def test_a_box_of_300_px_gets_exactly_100_px_each_side():
    rgb = np.zeros((1000, 1000, 3), np.uint8)
    rgb[100:800, 100:800] = 200  # the box (200..500) plus 100 px each side, and more beyond
    rgb[99, :] = rgb[:, 99] = 50
    crop = box_crop(rgb, (200, 200, 300, 300), size=500, margin=1 / 3)
    assert (crop == 200).all()  # 500 px patch, no padding, never reaching the 50 line


def test_aligned_framing_is_the_landmark_crop(face_analyzer, face_jpeg):
    from ml.media.reader import load_image

    rgb = load_image(str(face_jpeg))
    face = face_analyzer.detect(rgb)[0]
    framing = Framing("aligned", 0.17)
    expected = align_crop(rgb, face.landmarks, size=64, margin=0.17)
    assert np.array_equal(framing.crop(rgb, face, 64), expected)
    boxed = Framing("box", 1 / 3).crop(rgb, face, 64)
    assert boxed.shape == (64, 64, 3) and not np.array_equal(boxed, expected)


def test_framing_from_a_card():
    assert Framing.from_card({}) == Framing("aligned", 0.3)
    assert Framing.from_card({"framing": {"kind": "box", "margin": 0.25}}) == Framing("box", 0.25)
    with pytest.raises(ModelError, match="kind"):
        Framing.from_card({"framing": "tight"})
    with pytest.raises(ModelError, match="detector"):
        Framing.from_card({"framing": {"kind": "aligned", "detector": "mtcnn"}})
    with pytest.raises(ModelError, match="detector"):
        Framing.from_card({"framing": {"kind": "box", "detector": "retinaface"}})


def test_each_crop_knows_the_rectangle_of_the_frame_it_was_cut_from(face_analyzer, face_jpeg):
    from ml.media.reader import load_image

    # The box, a third wider each side, clipped at the frame's top-left corner.
    assert box_cut(marked_frame(), (300, 200, 90, 60), size=150, margin=1 / 3).box == (
        270,
        180,
        420,
        280,
    )
    assert box_cut(marked_frame(), (10, 5, 90, 60), size=60, margin=1 / 3).box == (0, 0, 130, 85)
    rgb = load_image(str(face_jpeg))
    face = face_analyzer.detect(rgb)[0]
    for framing in (Framing("aligned", 0.3), Framing("eyes_mouth")):
        x1, y1, x2, y2 = framing.cut(rgb, face, 64).box
        # The (slightly turned) square holds every landmark and lies inside the frame.
        low, high = face.landmarks.min(axis=0), face.landmarks.max(axis=0)
        assert 0 <= x1 < low[0] and high[0] < x2 <= rgb.shape[1]
        assert 0 <= y1 < low[1] and high[1] < y2 <= rgb.shape[0]


def test_a_face_without_landmarks_is_not_needed_for_box_framing():
    face = Face(box=(300, 200, 90, 60), landmarks=np.zeros((68, 2), np.float32), score=1.0)
    crop = Framing("box", 1 / 3).crop(marked_frame(), face, 150)
    assert (crop[45:105, 30:120] == 255).all()
