"""The LiteRT export of a frame model scores as Keras does: the published MesoNet on real face
crops, and a nested EfficientNet backbone (the B7's family) through `FrameClassifier`, the way
the worker loads it. Exports are made at install; an analysis never makes one, and with every
model exported it runs without TensorFlow."""

import json
import logging
import shutil
from dataclasses import asdict

import keras
import numpy as np
import pytest

from ml.faces.framing import Framing
from ml.media.reader import iter_video_frames
from ml.models import classify, heatmap, litert
from ml.models.archs import get_arch, preprocess
from ml.models.cards import ModelSpec
from ml.models.checksum import file_sha256
from ml.models.classify import FrameClassifier, fake_probability
from ml.models.convert.mesonet import convert_mesonet
from ml.models.forward import Forward
from tests.support import lean_analysis
from tests.support.mesonet import mesonet_folder, sample_inputs

B0_SIZE = 64
B0_CARD = {
    "name": "b0-litert",
    "version": "random",
    "arch": "efficientnet_b0",
    "kind": "frame",
    "input_size": B0_SIZE,
    "preprocessing": "raw255",
    "threshold": 0.5,
}


@pytest.fixture(scope="module")
def face_crops(face_mp4, face_analyzer):
    """256 px crops of the real face in a few frames of the generated clip."""
    crops = []
    for frame in list(iter_video_frames(face_mp4))[::6]:
        crops += [Framing().crop(frame.rgb, face, 256) for face in face_analyzer.detect(frame.rgb)]
    assert len(crops) >= 4
    return np.stack(crops)


@pytest.fixture(scope="module")
def meso4(tmp_path_factory):
    path = tmp_path_factory.mktemp("meso") / "meso4.keras"
    convert_mesonet(mesonet_folder() / "Meso4_DF.h5", path, arch="meso4")
    return path


@pytest.fixture
def no_loaded_models(monkeypatch):
    """Each test loads its model afresh, so the export decision is made again."""
    monkeypatch.setattr(classify, "_loaded", {})


def b0_spec(folder) -> ModelSpec:
    path = folder / "b0.keras"
    if not path.exists():
        get_arch("efficientnet_b0").build(input_size=B0_SIZE, init="none").save(path)
    (folder / "b0.card.json").write_text(json.dumps(B0_CARD))
    sha256 = file_sha256(path)
    return ModelSpec(
        name="b0-litert", version="random", sha256=sha256, path=str(path), card=B0_CARD
    )


@pytest.fixture(scope="module")
def b0_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("b0")


def test_published_mesonet_export_gives_keras_probabilities_on_real_crops(meso4, face_crops):
    exported = litert.export(meso4, file_sha256(meso4))
    x = np.concatenate([preprocess(face_crops, "unit"), sample_inputs(mesonet_folder())]).astype(
        np.float32
    )
    expected = fake_probability(keras.saving.load_model(meso4, compile=False).predict(x, verbose=0))
    maps, outputs = litert.LiteForward(exported)(x)
    assert maps.ndim == 4 and len(maps) == len(x)  # the last feature map, for Grad-CAM
    np.testing.assert_allclose(fake_probability(outputs), expected, atol=1e-3)
    assert (
        np.ptp(expected) > 0.05
    )  # the network tells these inputs apart: agreement means something


def test_export_is_made_once_and_keyed_by_the_model_checksum(meso4):
    sha256 = file_sha256(meso4)
    first = litert.export(meso4, sha256)
    made = first.stat().st_mtime_ns
    assert litert.export(meso4, sha256) == first and first.stat().st_mtime_ns == made
    assert first.parent == meso4.parent and sha256[:16] in first.name
    assert litert.export_path(meso4, "f" * 64) != first  # a replaced file gets its own export
    assert not list(meso4.parent.glob("*.partial-*"))


def test_large_model_scores_through_its_export_with_keras_scores_and_maps(
    b0_folder, face_crops, no_loaded_models
):
    spec = b0_spec(b0_folder)
    exported = litert.export(b0_folder / "b0.keras", spec.sha256)
    classifier = FrameClassifier.load(spec)
    assert classifier.info.runtime == "litert"

    x = preprocess(classify.resize_crops(face_crops, B0_SIZE), "raw255")
    keras_pass = Forward(keras.saving.load_model(spec.path, compile=False), feature_map=True)
    keras_maps, keras_outputs = keras_pass(x)
    np.testing.assert_allclose(
        classifier.predict(face_crops), fake_probability(keras_outputs), atol=1e-3
    )
    lite_maps, _ = classifier._forward(x)
    scale = float(np.abs(keras_maps).max())
    assert scale > 0
    np.testing.assert_allclose(lite_maps / scale, keras_maps / scale, atol=1e-3)
    # Grad-CAM over the export's feature map, through the head's gradient exported beside it
    # (no Keras head, no backbone loaded), draws Keras' own heatmap.
    assert litert.cam_path(exported).is_file() and not litert.head_path(exported).exists()
    heat = classifier.heatmap(face_crops[0])
    assert heat.shape == (B0_SIZE, B0_SIZE) and heat.max() == pytest.approx(1.0)
    keras_heat = heatmap.grad_cam(keras_pass.head, keras_maps[:1], B0_SIZE)
    np.testing.assert_allclose(heat, keras_heat, atol=1e-2)


def test_the_export_can_be_turned_off(b0_folder, no_loaded_models, monkeypatch):
    monkeypatch.setenv("ML_LITERT", "0")
    assert FrameClassifier.load(b0_spec(b0_folder)).info.runtime == "keras"


def test_small_models_score_through_keras(meso4, no_loaded_models):
    card = {**B0_CARD, "arch": "meso4", "input_size": 256, "preprocessing": "unit"}
    spec = ModelSpec(name="m", version="1", sha256=file_sha256(meso4), path=str(meso4), card=card)
    assert FrameClassifier.load(spec).info.runtime == "keras"


def test_a_model_that_cannot_be_exported_scores_through_keras(
    b0_folder, tmp_path, no_loaded_models, monkeypatch
):
    """An export that fails (here the converter finds no TensorFlow Lite support) says why in
    one line and leaves no file behind; the model still scores."""
    shutil.copy(b0_folder / "b0.keras", tmp_path / "b0.keras")
    spec = b0_spec(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "shadow"))
    shadow = tmp_path / "shadow" / "tensorflow"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no TensorFlow here')\n")
    with pytest.raises(litert.ExportFailed, match="no TensorFlow here"):
        litert.export(tmp_path / "b0.keras", spec.sha256)
    assert not list(tmp_path.glob("*.tflite*"))
    classifier = FrameClassifier.load(spec)
    assert classifier.info.runtime == "keras"
    assert np.isfinite(classifier.predict(np.zeros((2, 80, 80, 3), np.uint8))).all()


def test_an_analysis_never_exports_and_scores_through_keras_until_the_export_is_made(
    b0_folder, face_jpeg, tmp_path, no_loaded_models, caplog
):
    """Without its export a large model scores through Keras, and the log says how to make
    the export; once it is made, the next load finds it. Both give the same probability."""
    from ml.pipeline import analyze

    shutil.copy(b0_folder / "b0.keras", tmp_path / "b0.keras")
    spec = b0_spec(tmp_path)
    assert litert.missing(tmp_path / "b0.keras", spec.sha256)
    labels = []
    with caplog.at_level(logging.WARNING, logger="ml.models.litert"):
        first = analyze(face_jpeg, {"models": [spec]}, lambda _, label: labels.append(label))
    assert "Loading the classifier" in labels
    assert first.classifier.runtime == "keras" and first.fake_probability is not None
    assert "no LiteRT export" in caplog.text and "--export-missing" in caplog.text
    assert not list(tmp_path.glob("*.tflite*"))  # the analysis made none

    litert.export(tmp_path / "b0.keras", spec.sha256)
    assert not litert.missing(tmp_path / "b0.keras", spec.sha256)
    classify._loaded.clear()
    again = analyze(face_jpeg, {"models": [spec]})
    assert again.classifier.runtime == "litert"
    assert again.fake_probability == pytest.approx(first.fake_probability, abs=1e-3)


def test_an_analysis_with_every_model_exported_never_imports_tensorflow(b0_folder, face_jpeg):
    """A fresh process, set up as the CLI and the worker are, scores and draws the heatmap
    through the export alone: neither TensorFlow nor Keras is imported."""
    spec = b0_spec(b0_folder)
    litert.export(b0_folder / "b0.keras", spec.sha256)
    result = lean_analysis.run_fresh(face_jpeg, [asdict(spec)], timeout=600)
    assert result["runtime"] == "litert" and result["scored"] and result["heatmaps"] == 1
    assert not result["tensorflow"] and not result["keras"], result


def test_a_backbone_exported_in_stages_scores_and_draws_as_keras(
    b0_folder, tmp_path, face_crops, no_loaded_models, monkeypatch
):
    """A large backbone is converted a few MB of weights at a time (a B7 at once peaked past
    4 GB): the chained stages give Keras' probabilities, feature maps and heatmap."""
    shutil.copy(b0_folder / "b0.keras", tmp_path / "b0.keras")
    spec = b0_spec(tmp_path)
    monkeypatch.setenv("ML_LITERT_STAGE_MB", "3")
    exported = litert.export(tmp_path / "b0.keras", spec.sha256)
    assert len(litert.stage_paths(exported)) >= 2
    classifier = FrameClassifier.load(spec)
    x = preprocess(classify.resize_crops(face_crops, B0_SIZE), "raw255")
    keras_pass = Forward(keras.saving.load_model(spec.path, compile=False), feature_map=True)
    keras_maps, keras_outputs = keras_pass(x)
    np.testing.assert_allclose(
        classifier.predict(face_crops), fake_probability(keras_outputs), atol=1e-3
    )
    lite_maps, _ = classifier._forward(x)
    scale = float(np.abs(keras_maps).max())
    np.testing.assert_allclose(lite_maps / scale, keras_maps / scale, atol=1e-3)
    keras_heat = heatmap.grad_cam(keras_pass.head, keras_maps[:1], B0_SIZE)
    np.testing.assert_allclose(classifier.heatmap(face_crops[0]), keras_heat, atol=1e-2)
