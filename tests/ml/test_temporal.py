"""Temporal models: TemporalClassifier, their use in analyses of videos, and training one.

Real TensorFlow and dlib on generated media. The tiny networks with random or fixed weights
exist only inside these tests; the product never scores with them.
"""

import json
from dataclasses import asdict

import numpy as np
import pytest

from ml.errors import ModelError
from ml.models.cards import ModelSpec
from ml.models.checksum import file_sha256
from ml.models.classify import FrameClassifier, TemporalClassifier
from ml.pipeline import analyze
from ml.signals.classifier import NO_MODEL_REASON
from ml.training import TrainConfig, train
from tests.support import mediagen
from tests.support.networks import (
    LENGTH,
    SIZE,
    constant_spec,
    save_temporal_spec,
)


@pytest.fixture
def track():
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, size=(9, 48, 48, 3), dtype=np.uint8)


# --- TemporalClassifier ----------------------------------------------------------------------


def test_a_track_of_any_length_is_resampled_evenly_to_the_sequence_length(tmp_path, track):
    model = TemporalClassifier.load(save_temporal_spec(tmp_path))
    assert model.sequence_length == LENGTH and model.input_size == SIZE
    assert model.info.arch == "tiny-lstm" and model.threshold == 0.5
    longer = model.predict_track(track)  # 9 crops → positions 0, 3, 5, 8
    assert longer == pytest.approx(model.predict_track(track[[0, 3, 5, 8]]), abs=1e-6)
    shorter = model.predict_track(track[:2])  # 2 crops → each shown twice, in order
    assert shorter == pytest.approx(model.predict_track(track[[0, 0, 1, 1]]), abs=1e-6)
    single = model.predict_track(track[:1])
    assert all(0.0 < s < 1.0 for s in (longer, shorter, single))
    # The network looks at the pixels and their order.
    assert longer != pytest.approx(model.predict_track(track[::-1]), abs=1e-7)


def test_a_file_not_matching_its_checksum_is_refused(tmp_path):
    spec = save_temporal_spec(tmp_path)
    spec.sha256 = "0" * 64
    with pytest.raises(ModelError, match="does not match its registered sha256"):
        TemporalClassifier.load(spec)


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ({"kind": "frame"}, "scores single frames"),
        ({"sequence_length": None}, "needs sequence_length"),
        ({"sequence_length": 6}, "but its card says"),  # the network takes 4 frames
    ],
)
def test_a_card_that_does_not_describe_the_track_model_is_refused(tmp_path, card, message):
    with pytest.raises(ModelError, match=message):
        TemporalClassifier.load(save_temporal_spec(tmp_path, **card))


def test_the_frame_classifier_still_refuses_a_temporal_model(tmp_path):
    with pytest.raises(ModelError, match="scores face tracks"):
        FrameClassifier.load(save_temporal_spec(tmp_path))


# --- in analyses -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def face_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("media") / "face.avi"
    return mediagen.write_face_video(path, seconds=2.0, fps=15)


def test_a_confident_temporal_model_alone_makes_a_video_fake(tmp_path, face_video):
    spec = save_temporal_spec(tmp_path, logit=5.0)
    report = analyze(face_video, {"frames": 8, "temporal_models": [asdict(spec)]})
    assert len(report.faces) == 1
    assert report.verdict == "fake"
    assert report.fake_probability == pytest.approx(0.9933, abs=1e-3)
    assert report.faces[0].score == pytest.approx(0.9933, abs=1e-3)
    assert report.reasons[0].startswith("the temporal model's score 0.99 is well above")
    assert "temporal model: 0.99 fake for face 1 over 8 frames (threshold 0.50)" in (report.reasons)
    assert not any(r.startswith("classifier:") for r in report.reasons)
    assert [c.sha256 for c in report.classifiers] == [spec.sha256]
    assert report.classifier.name == "track"
    assert report.options["temporal_models"][0]["sha256"] == spec.sha256
    assert "temporal" in report.timings_s


def test_frame_and_temporal_scores_are_averaged_per_face(tmp_path, face_video):
    frame = constant_spec(tmp_path, logit=-5.0)  # 0.0067 fake
    temporal = save_temporal_spec(tmp_path, logit=5.0)  # 0.9933 fake
    report = analyze(
        face_video,
        {"frames": 8, "models": [frame], "temporal_models": [asdict(temporal)]},
    )
    # Equal weights: the two models disagree completely, so the face sits at the threshold.
    assert report.fake_probability == pytest.approx(0.5, abs=1e-3)
    assert report.faces[0].score == pytest.approx(0.5, abs=1e-3)
    assert report.verdict == "inconclusive"
    assert report.reasons[0].startswith(
        "the combined score of the classifier and the temporal model 0.50 is too close"
    )
    assert any(r.startswith("classifier: 0.01 fake on 0 of 8 frames") for r in report.reasons)
    assert any(r.startswith("temporal model: 0.99 fake for face 1") for r in report.reasons)
    assert [c.name for c in report.classifiers] == ["constant", "track"]
    assert report.classifier.name == "constant"
    # The frame classifier's own per-frame scores are kept as they were.
    assert report.faces[0].frame_scores == [pytest.approx(0.0067, abs=1e-3)] * 8


def test_an_image_ignores_temporal_models(tmp_path):
    spec = save_temporal_spec(tmp_path, logit=5.0)
    report = analyze(mediagen.write_image(tmp_path / "a.jpg"), {"temporal_models": [asdict(spec)]})
    assert len(report.faces) == 1
    assert report.verdict == "inconclusive" and report.reasons[0] == NO_MODEL_REASON
    assert report.classifier is None and report.classifiers == []
    assert not any("temporal" in r for r in report.reasons)


def test_an_unloadable_temporal_model_leaves_the_video_unscored_with_a_warning(
    tmp_path, face_video
):
    spec = asdict(save_temporal_spec(tmp_path, logit=5.0))
    spec["sha256"] = "0" * 64
    report = analyze(face_video, {"frames": 4, "temporal_models": [spec]})
    assert report.verdict == "inconclusive" and report.reasons[0] == NO_MODEL_REASON
    assert report.classifiers == []
    assert any("sha256" in w for w in report.warnings)


# --- training ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_training_efficientnet_lstm_writes_a_temporal_model_that_loads(tmp_path):
    data = tmp_path / "data"
    for label in ("real", "fake"):
        (data / label).mkdir(parents=True)
        for i in range(3):
            mediagen.write_face_video(
                data / label / f"{label}_{i}.avi",
                seconds=1.0,
                fps=8,
                size=(256, 256),
                blinks_at_s=(0.5,) if label == "real" else (),
            )
    result = train(
        TrainConfig(
            data=data,
            arch="efficientnet_lstm",
            input_size=32,
            sequence_length=LENGTH,
            frames=6,
            epochs=1,
            batch_size=2,
            init="none",
            augment=False,
            val_fraction=0.34,
            out=tmp_path / "out",
            name="lstm",
            version="1.0",
        )
    )
    card = json.loads(result.card_path.read_text())
    assert card["kind"] == "temporal" and card["arch"] == "efficientnet_lstm"
    assert card["sequence_length"] == LENGTH and card["input_size"] == 32
    assert card["sha256"] == file_sha256(result.model_path)
    assert card["dataset"]["validation_items"] == 2
    assert 0.0 < card["threshold"] < 1.0
    assert set(card["metrics"]["validation"]) >= {"frame", "video"}
    spec = ModelSpec(
        name="lstm",
        version="1.0",
        sha256=card["sha256"],
        path=str(result.model_path),
        card=card,
    )
    model = TemporalClassifier.load(spec)
    rng = np.random.default_rng(0)
    score = model.predict_track(rng.integers(0, 256, (5, 80, 80, 3), dtype=np.uint8))
    assert 0.0 <= score <= 1.0


def test_per_frame_runs_the_frame_network_on_each_frame_and_survives_saving(tmp_path):
    """Folding frames into the batch gives each frame the features it has on its own, in order,
    and a saved model with the layer loads back through the platform's loader."""
    import keras

    from ml.models.archs import load_saved
    from ml.models.archs.per_frame import PerFrame

    encoder = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D()]
    )
    inputs = keras.Input((5, 8, 8, 3))
    model = keras.Model(inputs, PerFrame(encoder, name="per_frame")(inputs))
    tracks = np.random.default_rng(1).normal(size=(2, 5, 8, 8, 3)).astype("float32")
    features = np.asarray(model.predict(tracks, verbose=0))
    one_by_one = [[encoder.predict(t[i : i + 1], verbose=0)[0] for i in range(5)] for t in tracks]
    np.testing.assert_allclose(features, np.array(one_by_one), rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "track.keras")
    loaded = load_saved(tmp_path / "track.keras")
    np.testing.assert_allclose(np.asarray(loaded.predict(tracks, verbose=0)), features, rtol=1e-6)
