"""A card framed by MTCNN boxes (``"detector": "mtcnn"``) gets the DFDC winner's crops: MTCNN's
box on the frame halved, a third of its width and height on each side; where MTCNN finds no
face, a box estimated from dlib's landmarks, marked approximate in the crop and the Report.

The expected boxes come from the `mtcnn` package called here directly, on the same decoded
pixels, as the winner's kernel_utils.py calls facenet-pytorch's MTCNN."""

import subprocess
import sys

import numpy as np
import pytest
from mtcnn import MTCNN
from PIL import Image

from ml.faces import mtcnn_boxes
from ml.faces.boxes import iou
from ml.faces.detect import FaceAnalyzer
from ml.faces.framing import CropSpec, Framing
from ml.faces.people import Person
from ml.faces.scan import Sample
from ml.media import reader as media
from ml.models.catalog import catalog_card, catalog_entry
from ml.pipeline import analyze
from ml.verdict.assemble import approximate_frames
from tests.support import mediagen
from tests.support.networks import save_spec

MTCNN_FRAMING = {"kind": "box", "margin": 1 / 3, "detector": "mtcnn"}
SPEC = CropSpec(Framing("box", 1 / 3, detector="mtcnn"), 64)


@pytest.fixture(scope="module")
def reference():
    return MTCNN()


def expected_rectangles(reference, rgb):
    """Each face's MTCNN box (found on the frame halved, doubled) plus a third of its width
    and height on each side, clipped to the frame: [x1, y1, x2, y2]."""
    height, width = rgb.shape[:2]
    half = Image.fromarray(rgb).resize((width // 2, height // 2), Image.Resampling.BICUBIC)
    found = reference.detect_faces(
        np.asarray(half),
        fit_to_image=False,
        output_type="numpy",
        threshold_pnet=0.7,
        threshold_rnet=0.8,
        threshold_onet=0.8,
    )
    rectangles = []
    for _, x, y, w, h, *_ in np.atleast_2d(found):
        x, y, w, h = 2 * x, 2 * y, 2 * w, 2 * h
        rectangles.append(
            [
                max(0, x - w / 3),
                max(0, y - h / 3),
                min(width, x + w * 4 / 3),
                min(height, y + h * 4 / 3),
            ]
        )
    return rectangles


def closest(rectangles, box):
    return min(rectangles, key=lambda r: np.abs(np.subtract(r, box)).max())


def scored_crops(path, models, frames=4):
    crops = []
    report = analyze(path, {"frames": frames, "models": models}, crops=crops.append)
    return report, crops


def test_the_astronaut_is_cut_around_mtcnns_box_plus_a_third(tmp_path, reference):
    path = mediagen.write_image(tmp_path / "face.png", fmt="PNG")
    spec = save_spec(tmp_path, "mtcnn-framed", framing=MTCNN_FRAMING)
    report, crops = scored_crops(str(path), [spec])
    assert len(crops) == 1 and report.faces[0].approximate_framing == []
    crop = crops[0].crop
    expected = expected_rectangles(reference, media.load_image(path))
    assert len(expected) == 1
    assert np.abs(np.subtract(crop.box, expected[0])).max() <= 2
    assert not crop.approximate and crop.pixels.shape == (32, 32, 3)
    assert crops[0].framing == "mtcnn box + 33% each side, padded square"


def test_generated_faces_in_a_video_each_get_their_own_mtcnn_box(tmp_path, reference):
    video = mediagen.write_face_video(tmp_path / "two.mp4", seconds=1.0, two_faces=True)
    mtcnn_spec = save_spec(tmp_path, "mtcnn-framed", framing=MTCNN_FRAMING)
    dlib_spec = save_spec(tmp_path, "dlib-framed", seed=1, framing={"kind": "box"})
    report, crops = scored_crops(str(video), [mtcnn_spec, dlib_spec])
    assert {c.person for c in crops} == {1, 2}
    framed = [c for c in crops if c.model == "mtcnn-framed"]
    assert len(framed) == len(crops) / 2 == sum(len(f.frame_scores) for f in report.faces)
    frames = {f.index: f.rgb for f in media.iter_frames_at(video, {c.frame_index for c in framed})}
    for scored in framed:
        expected = expected_rectangles(reference, frames[scored.frame_index])
        assert np.abs(np.subtract(scored.crop.box, closest(expected, scored.crop.box))).max() <= 2
    # dlib's box sits lower (brows to chin): the same person's dlib-framed crop starts lower.
    dlib_tops = {
        (c.person, c.frame_index): c.crop.box[1] for c in crops if c.model == "dlib-framed"
    }
    assert all(c.crop.box[1] < dlib_tops[c.person, c.frame_index] for c in framed)


def test_where_mtcnn_finds_no_face_the_box_is_estimated_and_marked_approximate(tmp_path):
    path = mediagen.write_image(tmp_path / "face.png", fmt="PNG")
    rgb = media.load_image(path)
    face = FaceAnalyzer().detect(rgb)[0]
    # The face painted over: dlib's sighting stands, MTCNN sees nothing there.
    Image.fromarray(np.full_like(rgb, 128)).save(tmp_path / "blank.png")
    sample = Sample(0, 0.0, face, {})
    person = Person(1, [], [sample], quality=None, not_judged=None)
    warnings = []
    mtcnn_boxes.cut_deferred(str(tmp_path / "blank.png"), "image", [person], [SPEC], warnings)
    crop = sample.crops[SPEC]
    assert crop.approximate and approximate_frames(person) == [0]
    x, y, w, h = mtcnn_boxes.mapped_box(face)
    assert crop.box == (max(0, x - w // 3), max(0, y - h // 3), x + w + w // 3, y + h + h // 3)
    assert warnings == [
        (
            "Face 1: MTCNN found no face in 1 of 1 sampled frames; there the crop's box was "
            "estimated from dlib's landmarks (approximate framing)."
        )
    ]


def test_the_estimated_box_is_close_to_mtcnns_on_the_astronaut(tmp_path):
    path = mediagen.write_image(tmp_path / "face.png", fmt="PNG")
    rgb = media.load_image(path)
    face = FaceAnalyzer().detect(rgb)[0]
    (found,) = mtcnn_boxes.detect([rgb])
    assert mtcnn_boxes.match(face.box, found) == found[0]
    assert iou(mtcnn_boxes.mapped_box(face), found[0]) > 0.6


def test_cards_without_a_detector_keep_dlibs_box():
    assert Framing.from_card({"framing": {"kind": "box"}}).detector == "dlib"
    assert Framing.from_card({"framing": MTCNN_FRAMING}).deferred


def test_mtcnn_and_tensorflow_are_imported_only_when_a_card_asks_for_mtcnn():
    code = "import sys, ml.pipeline; print(sorted({'mtcnn', 'tensorflow'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_dfdc_winner_is_framed_by_mtcnn_boxes_and_its_card_says_how_close_they_are():
    entry = catalog_entry("dfdc-b7")
    card = catalog_card(entry, entry.files[0])
    assert Framing.from_card(card) == Framing("box", 1 / 3, detector="mtcnn")
    assert "facenet-pytorch" in card["framing_note"]
