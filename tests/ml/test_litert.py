"""The LiteRT export of a frame model scores as Keras does: the published MesoNet on real face
crops, and a nested EfficientNet backbone (the B7's family) through `FrameClassifier`, the way
the worker loads it."""

import json
import logging
import shutil

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
    maps, outputs = litert.LiteForward(exported, head=None)(x)
    assert maps is None  # no head asked for: no feature map handed out
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
    classifier = FrameClassifier.load(spec)
    assert classifier.info.runtime == "litert"
    assert litert.export_path(b0_folder / "b0.keras", spec.sha256).is_file()

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
    # Grad-CAM over the export's feature map, through the head saved beside the export (a few
    # thousand weights: the backbone is not loaded), draws Keras' own heatmap.
    assert classifier._forward.head.count_params() < 2000
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
    b0_folder, tmp_path, no_loaded_models, monkeypatch, caplog
):
    """An export that fails (here the converter finds no TensorFlow Lite support) leaves no
    file behind, is tried once per process, and the model still scores."""
    shutil.copy(b0_folder / "b0.keras", tmp_path / "b0.keras")
    spec = b0_spec(tmp_path)
    monkeypatch.setattr(litert, "_failed", set())
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "shadow"))
    shadow = tmp_path / "shadow" / "tensorflow"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no TensorFlow here')\n")
    with caplog.at_level(logging.WARNING, logger="ml.models.litert"):
        classifier = FrameClassifier.load(spec)
    assert classifier.info.runtime == "keras"
    assert "scoring through Keras" in caplog.text
    assert not list(tmp_path.glob("*.tflite*"))
    assert litert.export(tmp_path / "b0.keras", spec.sha256) is None  # not tried again
    assert np.isfinite(classifier.predict(np.zeros((2, 80, 80, 3), np.uint8))).all()


def test_an_analysis_says_while_it_exports_and_records_the_runtime(
    b0_folder, face_jpeg, tmp_path, no_loaded_models
):
    """The first analysis with a new large model waits for its export and says so; the next
    one finds it made. Both reports name LiteRT as what ran."""
    from ml.pipeline import analyze

    shutil.copy(b0_folder / "b0.keras", tmp_path / "b0.keras")
    spec = b0_spec(tmp_path)
    assert litert.needs_export(tmp_path / "b0.keras", spec.sha256)
    labels = []
    first = analyze(face_jpeg, {"models": [spec]}, lambda _, label: labels.append(label))
    assert any(label.startswith("Preparing the classifier") for label in labels)
    assert first.classifier.runtime == "litert" and first.fake_probability is not None

    assert not litert.needs_export(tmp_path / "b0.keras", spec.sha256)
    labels.clear()
    again = analyze(face_jpeg, {"models": [spec]}, lambda _, label: labels.append(label))
    assert "Loading the classifier" in labels
    assert not any(label.startswith("Preparing") for label in labels)
    assert again.fake_probability == pytest.approx(first.fake_probability)
