"""Whole-image detectors: AI-generated images and frames judged beside the face classifiers."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from detector.flags import GENERATED_DISAGREE, review_reasons
from ml import analyze
from ml.models.image_detector import center_crop, resized_short_side
from ml.options import AnalysisOptions, ModelSpecs
from ml.verdict.report import Report
from tests.support import mediagen, networks


@pytest.fixture(scope="module")
def noface_png(tmp_path_factory):
    """A colour gradient: no face anywhere, mean brightness about 0.5."""
    ys, xs = np.mgrid[0:240, 0:320]
    rgb = np.stack([xs % 256, (ys * 2) % 256, np.full_like(xs, 128)], axis=-1).astype(np.uint8)
    return mediagen.write_image(tmp_path_factory.mktemp("gen") / "scene.png", fmt="PNG", rgb=rgb)


SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "report.schema.json").read_text())


def _valid(report: Report) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(json.dumps(report.to_dict())))


def _codes(report: Report) -> list[str]:
    return [e["code"] for e in report.evidence]


def test_a_faceless_image_a_detector_finds_generated_is_fake(noface_png, tmp_path):
    # The gradient's brightness gives the tiny detector about 0.73; a low threshold calls it.
    spec = networks.save_image_spec(tmp_path, threshold=0.2)
    report = analyze(noface_png, models=ModelSpecs(image=[spec]))
    assert report.verdict == "fake"
    assert _codes(report)[0] == "generated.detected"
    assert report.reasons[0].startswith("the whole image looks AI-generated (Tiny Detector 0.7")
    assert "face.none_found" in _codes(report)
    (detector,) = report.generated.detectors
    assert detector.name == "wholeimage" and detector.threshold == 0.2
    assert [f.view for f in detector.frames] == ["whole"]
    assert report.generated.score == detector.score == report.fake_probability
    assert Report.from_dict(report.to_dict()) == report
    _valid(report)


def test_a_low_generated_score_never_makes_real(noface_png, tmp_path):
    spec = networks.save_image_spec(tmp_path, threshold=0.95)
    report = analyze(noface_png, models=ModelSpecs(image=[spec]))
    assert report.verdict == "inconclusive"
    assert "generated.not_detected" in _codes(report)
    assert (
        "says nothing about a face swap"
        in report.reasons[_codes(report).index("generated.not_detected")]
    )


def test_faces_found_real_but_image_generated_is_fake_and_flagged(face_jpeg, tmp_path):
    face = networks.constant_spec(tmp_path, logit=-4.0, reliability=networks.STRONG_EVIDENCE)
    models = ModelSpecs.from_dict({"models": [face]})
    alone = analyze(face_jpeg, models=models)
    assert alone.verdict == "real" and alone.generated is None
    image = networks.save_image_spec(tmp_path, threshold=0.2, face_crop_scale=1.5)
    report = analyze(face_jpeg, models=ModelSpecs(frame=models.frame, image=[image]))
    assert report.verdict == "fake"
    assert _codes(report)[:2] == ["generated.detected", "generated.faces_disagree"]
    assert "classifier.below_threshold" in _codes(report)
    # The card asks for a square around the face too.
    assert [f.view for f in report.generated.detectors[0].frames] == ["whole", "face 1"]
    assert GENERATED_DISAGREE in review_reasons(report.to_dict())


def test_a_video_is_scored_on_evenly_spaced_frames_of_the_one_pass(noface_video, tmp_path):
    spec = networks.save_image_spec(tmp_path, threshold=0.2)
    plain = analyze(noface_video, AnalysisOptions(frames=4))
    report = analyze(
        noface_video, AnalysisOptions(frames=4, generated_frames=5), models=ModelSpecs(image=[spec])
    )
    assert report.frames_decoded == plain.frames_decoded
    frames = report.generated.detectors[0].frames
    times = [f.time_s for f in frames]
    assert len(frames) == 5 and times == sorted(times)
    assert times[0] < 0.5 and times[-1] > 1.4  # spread over the 2 s clip
    assert report.generated.detectors[0].score == pytest.approx(
        np.mean([f.score for f in frames]), abs=1e-3
    )
    assert report.verdict == "fake" and _codes(report)[0] == "generated.detected"
    assert "mean of 5 frames" in report.reasons[0]
    assert report.options["generated_frames"] == 5
    assert report.options["image_models"][0]["name"] == "wholeimage"
    _valid(report)


def test_a_face_model_is_refused_as_a_whole_image_detector(noface_png, tmp_path):
    face = networks.save_spec(tmp_path, "faces")
    report = analyze(noface_png, models=ModelSpecs(image=[face]))
    assert report.generated is None
    assert any("not a whole-image detector" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("shape", "resized"),
    [
        ((400, 600, 3), (440, 660, 3)),
        ((600, 400, 3), (660, 440, 3)),
        ((300, 301, 3), (440, 441, 3)),
    ],
)
def test_the_shorter_side_is_resized_as_torchvision_does(shape, resized):
    assert resized_short_side(np.zeros(shape, np.uint8), 440).shape == resized


def test_the_centre_crop_rounds_and_pads_as_torchvision_does():
    image = np.arange(5 * 8, dtype=np.uint8).reshape(5, 8, 1).repeat(3, axis=2)
    crop = center_crop(image, 3)
    assert crop[0, 0, 0] == image[1, 2, 0]  # round(2 / 2) = 1, round(5 / 2) = 2 (half to even)
    padded = center_crop(image, 10)
    assert (
        padded.shape == (10, 10, 3) and padded[0, 0, 0] == 0 and padded[2, 1, 0] == image[0, 0, 0]
    )
