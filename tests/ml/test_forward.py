"""The compiled pass that scores frames and feeds Grad-CAM gives Keras' own scores, on real face
crops and a nested EfficientNet backbone as ml.models.archs builds it (random weights: equality only)."""

import json

import numpy as np
import pytest

from ml.faces.framing import Framing
from ml.media.reader import iter_video_frames
from ml.models.archs import get_arch, preprocess
from ml.models.cards import ModelSpec
from ml.models.checksum import file_sha256
from ml.models.classify import FrameClassifier

SIZE = 64


@pytest.fixture(scope="module")
def face_crops(face_mp4, face_analyzer):
    """One face crop from each of a few frames of the generated clip."""
    crops = []
    for frame in list(iter_video_frames(face_mp4))[::6]:
        crops += [Framing().crop(frame.rgb, face, SIZE) for face in face_analyzer.detect(frame.rgb)]
    assert len(crops) >= 4
    return np.stack(crops)


@pytest.fixture(scope="module")
def efficientnet(tmp_path_factory):
    """A small-input EfficientNet-B0 saved and loaded the way the worker loads models."""
    folder = tmp_path_factory.mktemp("b0")
    path = folder / "b0.keras"
    import keras

    # Seeded: some random draws leave the untrained head's output flat at 0.5 for every crop,
    # and which draw a test gets otherwise depends on the tests that ran before it.
    keras.utils.set_random_seed(7)
    model = get_arch("efficientnet_b0").build(input_size=SIZE, init="none")
    model.save(path)
    card = {
        "name": "b0-test",
        "version": "random",
        "arch": "efficientnet_b0",
        "kind": "frame",
        "input_size": SIZE,
        "preprocessing": "raw255",
        "threshold": 0.5,
    }
    (folder / "b0.card.json").write_text(json.dumps(card))
    spec = ModelSpec(
        name="b0-test", version="random", sha256=file_sha256(path), path=str(path), card=card
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(
            "ML_LITERT", "0"
        )  # the Keras pass itself; tests/ml/test_litert.py has the export
        return FrameClassifier.load(spec)


def test_scores_equal_keras_predict_on_real_crops(efficientnet, face_crops):
    import keras

    keras_model = keras.saving.load_model(efficientnet.spec.path, compile=False)
    expected = keras_model.predict(preprocess(face_crops, "raw255"), verbose=0)[:, -1]
    scores = efficientnet.predict(face_crops, batch_size=3)
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    assert np.ptp(scores) > 0  # the crops really differ to the network


def test_heatmaps_of_a_nested_backbone_come_from_the_same_pass(efficientnet, face_crops):
    head = efficientnet._forward.head
    # The head is the layers after the backbone's feature map: pooling, dropout, dense.
    assert [type(layer).__name__ for layer in head.layers[1:]] == [
        "GlobalAveragePooling2D",
        "Dropout",
        "Dense",
    ]
    heat = efficientnet.heatmap(face_crops[0])
    assert heat.shape == (SIZE, SIZE) and 0.0 <= heat.min() and heat.max() <= 1.0


def test_a_pass_without_feature_map_scores_the_whole_batch(efficientnet, face_crops):
    """As temporal models and training validation use it."""
    from ml.models.forward import Forward

    x = preprocess(face_crops, "raw255")
    maps, outputs = Forward(efficientnet._forward.model, feature_map=False)(x)
    assert maps is None and outputs.shape == (len(x), 1)
    np.testing.assert_allclose(outputs[:, 0], efficientnet.predict(face_crops), atol=1e-5)
