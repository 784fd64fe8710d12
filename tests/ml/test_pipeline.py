"""The whole analysis on generated media: real dlib, real TensorFlow, no mocks."""

import base64
import io
from dataclasses import asdict
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from ml.errors import MediaError
from ml.options import AnalysisOptions, ModelSpecs
from ml.pipeline import analyze
from ml.signals.classifier import NO_MODEL_REASON
from ml.verdict import policy
from ml.verdict.aggregate import confident_mean
from tests.support import astronaut, mediagen
from tests.support.networks import STRONG_EVIDENCE, constant_spec, save_spec


@pytest.fixture(scope="module")
def scan_rate_blink_video(tmp_path_factory):
    """A shorter clip than conftest's blink_video, filmed at the scan's own 15 fps."""
    # 15 fps is what the scan keeps anyway; 5.6 s clears the 5 s blink-evidence minimum.
    path = tmp_path_factory.mktemp("media") / "blinks.avi"
    return mediagen.write_face_video(path, seconds=5.6, fps=15, blinks_at_s=(1.2, 2.8, 4.4))


@pytest.fixture
def model_spec(tmp_path):
    return asdict(save_spec(tmp_path, "tiny", threshold=0.5))


def test_image_without_classifier_finds_the_face_and_says_why_unscored(tmp_path):
    events = []
    report = analyze(mediagen.write_image(tmp_path / "a.jpg"), progress=lambda *e: events.append(e))
    assert report.media_type == "image" and (report.width, report.height) == (512, 512)
    assert len(report.faces) == 1
    face = report.faces[0]
    assert face.track_id == 1 and face.frames == 1 and face.score is None
    x, y, w, _ = face.box
    assert 150 < x < 220 and 50 < y < 110 and 60 < w < 140  # the astronaut's face
    thumbnail = Image.open(io.BytesIO(base64.b64decode(face.thumbnail)))
    assert thumbnail.format == "JPEG" and thumbnail.size == (96, 96)
    assert report.verdict == "inconclusive" and report.fake_probability is None
    assert report.reasons[0] == NO_MODEL_REASON
    assert report.classifier is None and report.frame_scores == [] and face.heatmap is None
    assert report.blink.status == "not_applicable"
    assert report.version.startswith("0.") and set(report.timings_s) >= {
        "probe",
        "faces",
    }
    percents = [p for p, _ in events]
    assert percents == sorted(percents) and percents[-1] == 100


def test_two_faces_are_both_reported(tmp_path):
    report = analyze(mediagen.write_two_face_image(tmp_path / "two.png", fmt="PNG"))
    assert [f.track_id for f in report.faces] == [1, 2]


def test_image_with_a_classifier_is_scored_and_attributed(tmp_path, model_spec):
    report = analyze(mediagen.write_image(tmp_path / "a.png", fmt="PNG"), {"models": [model_spec]})
    face = report.faces[0]
    assert len(face.frame_scores) == 1 and face.score == pytest.approx(face.frame_scores[0])
    assert report.fake_probability == pytest.approx(face.score)
    assert report.classifier.name == "tiny" and report.classifier.sha256 == model_spec["sha256"]
    assert [c.name for c in report.classifiers] == ["tiny"]
    heatmap = Image.open(io.BytesIO(base64.b64decode(face.heatmap)))
    assert heatmap.format == "JPEG" and heatmap.size == (128, 128)
    assert (face.heatmap_frame, face.heatmap_time_s) == (0, 0.0)  # where its crop was cut
    assert report.options["models"][0]["sha256"] == model_spec["sha256"]
    assert any(
        r.startswith(f"classifier: {face.score:.2f} fake for face 1") for r in report.reasons
    )


def test_options_and_models_given_apart_run_as_one_dict_of_both(tmp_path):
    spec = constant_spec(tmp_path, logit=5.0)
    image = mediagen.write_image(tmp_path / "a.jpg")
    together = analyze(image, {"frames": 4, "models": [spec]})
    models = ModelSpecs.from_dict({"models": [spec]})
    apart = analyze(image, AnalysisOptions(frames=4), models=models)
    assert apart.options == together.options
    assert list(apart.options) == ["frames", "scan_fps", "generated_frames", "models"]
    assert (apart.options["frames"], apart.options["scan_fps"]) == (4, 15.0)
    assert apart.fake_probability == together.fake_probability


def test_video_blinks_are_counted(scan_rate_blink_video):
    report = analyze(scan_rate_blink_video)
    assert report.media_type == "video" and len(report.faces) == 1
    assert report.blink.status == "ok"
    assert report.blink.count == 3
    assert report.blink.timestamps_s == pytest.approx([1.2, 2.8, 4.4], abs=0.15)
    assert report.frames_decoded == 84 and report.duration_s == pytest.approx(5.6)
    assert report.faces[0].frames >= 80
    assert report.verdict == "inconclusive" and report.reasons[0] == NO_MODEL_REASON
    # Blink reasons name the person they are about.
    assert f"Face 1: {report.blink.message}" in report.reasons
    face = report.faces[0]
    assert face.judged and face.not_judged_reason == "" and face.blink == report.blink
    assert len(face.fragments) == 1 and face.fragments[0].first_frame == 0
    assert face.quality["face_px"] >= 40
    assert face.quality["sharpness"] >= policy.MIN_JUDGED_SHARPNESS


def test_video_with_a_classifier_scores_evenly_spaced_frames(scan_rate_blink_video, model_spec):
    events = []
    report = analyze(
        scan_rate_blink_video,
        {"frames": 8, "models": [model_spec]},
        progress=lambda *e: events.append(e),
    )
    face = report.faces[0]
    assert len(face.frame_scores) == 8 and report.frames_sampled == 8
    assert face.score == pytest.approx(confident_mean(face.frame_scores), abs=1e-4)
    times = [t for t, _ in report.frame_scores]
    assert [p for _, p in report.frame_scores] == face.frame_scores
    assert times == sorted(times) and times[0] < 1.0 and times[-1] > 4.5  # spread over the clip
    gaps = np.diff(times)
    assert gaps.max() < 2 * gaps.min() + 0.2
    assert report.fake_probability == pytest.approx(face.score)
    assert report.classifier.sha256 == model_spec["sha256"]
    percents = [p for p, _ in events]
    assert percents == sorted(percents) and percents[-1] == 100
    assert len(events) < 30  # throttled, not one report per frame


def test_no_face_video_is_inconclusive(tmp_path):
    report = analyze(mediagen.write_noface_video(tmp_path / "noface.avi", seconds=1.0))
    assert report.faces == [] and report.verdict == "inconclusive"
    assert report.fake_probability is None
    assert "no face detected" in report.reasons[0]


def test_corrupt_and_empty_files_raise_media_error(tmp_path):
    with pytest.raises(MediaError, match="cannot be decoded"):
        analyze(mediagen.write_corrupt_video(tmp_path / "bad.avi"))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        analyze(empty)


def test_unloadable_model_is_skipped_with_a_warning(tmp_path, model_spec):
    model_spec["sha256"] = "0" * 64
    report = analyze(mediagen.write_image(tmp_path / "a.jpg"), {"models": [model_spec]})
    assert report.classifier is None and report.verdict == "inconclusive"
    assert "could not be loaded" in report.reasons[0]
    assert any("sha256" in w for w in report.warnings)


def test_a_temporal_model_among_frame_models_is_not_used_on_frames(tmp_path, model_spec):
    model_spec["card"] = {**model_spec["card"], "kind": "temporal"}
    report = analyze(mediagen.write_image(tmp_path / "a.jpg"), {"models": [model_spec]})
    assert report.classifier is None and report.reasons[0] == NO_MODEL_REASON
    assert any("temporal model listed among the frame models" in w for w in report.warnings)


def test_confident_classifier_makes_a_fake(tmp_path):
    spec = constant_spec(tmp_path, logit=5.0)
    report = analyze(mediagen.write_image(tmp_path / "a.jpg"), {"models": [spec]})
    assert report.verdict == "fake"
    assert report.fake_probability == pytest.approx(0.9933, abs=1e-3)
    assert "well above its 0.50 threshold" in report.reasons[0]


def test_clearly_real_scores_and_normal_blinks_make_a_real(tmp_path, scan_rate_blink_video):
    spec = constant_spec(tmp_path, logit=-5.0, reliability=STRONG_EVIDENCE)
    report = analyze(scan_rate_blink_video, {"frames": 4, "models": [spec]})
    assert report.blink.status == "ok"
    assert report.verdict == "real"
    assert "well below its 0.50 threshold" in report.reasons[0]


def test_a_face_too_blurred_to_judge_leaves_the_verdict_open(tmp_path):
    import cv2

    from ml.pipeline import NOT_JUDGED_REASON

    spec = constant_spec(tmp_path, logit=5.0)  # would call any face it scores fake
    blurred = cv2.GaussianBlur(astronaut.astronaut_rgb(), (0, 0), 2.0)
    image = mediagen.write_image(tmp_path / "blurred.png", fmt="PNG", rgb=blurred)
    report = analyze(image, {"models": [spec]})
    face = report.faces[0]
    assert not face.judged and face.not_judged_reason.startswith("too blurred")
    assert face.score is None and report.fake_probability is None
    assert report.verdict == "inconclusive" and report.reasons[0] == NOT_JUDGED_REASON
    assert f"Face 1 not judged: {face.not_judged_reason}" in report.reasons
    # The same reasons as codes, in order: what scripts and review flags read.
    assert [e["code"] for e in report.evidence] == [
        "quality.none_judged",
        "quality.too_blurred",
        "blink.still_image",
    ]
    assert [e["text"] for e in report.evidence] == report.reasons
    assert face.not_judged_code == "quality.too_blurred" and report.evidence[1]["subject"] == 1


def test_the_thumbnail_shows_the_crop_the_heatmap_was_drawn_on():
    """Beside a heatmap, the thumbnail is that very crop, not another sighting of the face."""
    from ml.signals.classifier import Heatmap
    from ml.verdict.assemble import _thumbnail

    person = SimpleNamespace(
        fragments=[SimpleNamespace(thumb=(99.0, np.zeros((96, 96, 3), np.uint8)))]
    )
    scored = np.full((128, 128, 3), (200, 40, 40), np.uint8)  # the crop the model scored
    shown = Image.open(
        io.BytesIO(base64.b64decode(_thumbnail(person, Heatmap("", scored, 7, 0.5))))
    )
    assert np.abs(np.asarray(shown, np.int16) - (200, 40, 40)).max() < 12
    sharpest = Image.open(io.BytesIO(base64.b64decode(_thumbnail(person, None))))
    assert np.asarray(sharpest).max() < 12  # without a heatmap: the sharpest sighting
