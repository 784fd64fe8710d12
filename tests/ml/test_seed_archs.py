"""The seed projects' networks (ResNeXt-50 + LSTM, InceptionV3 + GRU, LeNet, MiniVGGNet, a small
ResNet) build as published, train through train_model's path, install and score through ml.analyze.

Data: generated face videos, real ones blinking and fake ones not. Inputs are small (32 px, 75 px
for InceptionV3, its least) and the runs two epochs long: these prove the path, not accuracy.
"""

import json
from dataclasses import asdict

import keras
import numpy as np
import pytest

from ml.errors import ModelError
from ml.models.archs import ARCH_NAMES, get_arch, preprocess, resnext
from ml.models.cards import ModelSpec
from ml.models.verify import check_model_file
from ml.pipeline import analyze
from ml.training import TrainConfig, train
from ml.training.config import init_for
from tests.support import mediagen

LENGTH = 4
SEED_ARCHS = {  # name: (input size, preprocessing, kind)
    "resnext50_lstm": (112, "imagenet", "temporal"),
    "inceptionv3_gru": (299, "raw255", "temporal"),
    "lenet": (64, "unit", "frame"),
    "minivggnet": (64, "unit", "frame"),
    "resnet_small": (64, "unit", "frame"),
}
TEST_SIZE = {"inceptionv3_gru": 75}  # InceptionV3's least input; the others train at 32 px


def test_registry_describes_the_seed_architectures():
    assert set(SEED_ARCHS) <= set(ARCH_NAMES)
    for name, (size, prep, kind) in SEED_ARCHS.items():
        spec = get_arch(name)
        assert (spec.input_size, spec.preprocessing, spec.kind) == (size, prep, kind)
    # Keras has ImageNet weights for InceptionV3 only; the others start from random weights.
    assert init_for("inceptionv3_gru", "auto") == "imagenet"
    assert {init_for(n, "auto") for n in ("resnext50_lstm", "lenet", "resnet_small")} == {"none"}


def test_resnext_uses_grouped_convolutions_in_torchvision_layout():
    model = get_arch("resnext50_lstm").build(input_size=32, frames=2)
    backbone = model.get_layer("per_frame").layer.get_layer("resnext50_32x4d")
    grouped = [l for l in backbone.layers if isinstance(l, keras.layers.Conv2D) and l.groups > 1]
    assert len(grouped) == 16 and {l.groups for l in grouped} == {32}
    assert backbone.get_layer("layer1_0_conv2").kernel.shape == (3, 3, 4, 128)
    assert backbone.get_layer("layer4_2_conv3").kernel.shape == (1, 1, 1024, 2048)
    # torchvision's resnext50_32x4d has 25,028,904 parameters; its ImageNet classifier
    # (2048 x 1000 + 1000) is no part of the backbone, and Keras counts the batch-norm statistics.
    statistics = sum(
        l.moving_mean.shape[0] * 2 for l in backbone.layers if hasattr(l, "moving_mean")
    )
    assert backbone.count_params() - statistics == 25_028_904 - 2_049_000
    assert model.get_layer("lstm").units == 2048


def test_small_cnns_are_the_classic_builders():
    lenet = get_arch("lenet").build(input_size=28)
    assert [l.filters for l in lenet.layers if isinstance(l, keras.layers.Conv2D)] == [20, 50]
    assert lenet.get_layer("dense").units == 500
    # LeNet's MNIST size: 431,080 weights up to Dense 500, as in the classic network.
    assert lenet.count_params() - 501 == 20 * 76 + 50 * 501 + 7 * 7 * 50 * 500 + 500
    vgg = get_arch("minivggnet").build()
    assert [l.filters for l in vgg.layers if isinstance(l, keras.layers.Conv2D)] == [32, 32, 64, 64]
    resnet = get_arch("resnet_small").build()
    assert len([l for l in resnet.layers if isinstance(l, keras.layers.Add)]) == 9


@pytest.mark.parametrize("name", ["lenet", "minivggnet", "resnet_small", "resnext50_lstm"])
def test_imagenet_init_is_refused_where_keras_has_none(name):
    with pytest.raises(ModelError, match="no ImageNet weights|publishes no ResNeXt-50 weights"):
        get_arch(name).build(input_size=32, init="imagenet")


def test_inception_imagenet_init_fails_clearly_when_offline(monkeypatch, tmp_path):
    import socket

    from keras.src.backend import config as keras_config

    def unreachable(*args, **kwargs):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", unreachable)
    monkeypatch.setattr(socket, "getaddrinfo", unreachable)
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))  # no cached weights
    with pytest.raises(ModelError, match="Could not download the ImageNet weights.*--init none"):
        get_arch("inceptionv3_gru").build(input_size=75, init="imagenet", frames=2)


def test_inception_scales_raw_pixels_itself():
    """raw255 in, -1..1 into InceptionV3, as its preprocess_input does."""
    model = get_arch("inceptionv3_gru").build(input_size=75, frames=2)
    encoder = model.get_layer("per_frame").layer
    scaled = encoder.get_layer("to_unit_range")(np.array([[0.0, 127.5, 255.0]], "float32"))
    np.testing.assert_allclose(np.asarray(scaled), [[-1.0, 0.0, 1.0]])


# --- training, installing, scoring -------------------------------------------------------


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Three real face videos (blinking) and three fake ones (never blinking)."""
    data = tmp_path_factory.mktemp("clips")
    for label in ("real", "fake"):
        (data / label).mkdir()
        for i in range(3):
            mediagen.write_face_video(
                data / label / f"{label}_{i}.avi",
                seconds=1.0,
                fps=8,
                size=(256, 256),
                blinks_at_s=(0.5,) if label == "real" else (),
            )
    return data


def train_two_epochs(name: str, data, out) -> tuple[ModelSpec, dict]:
    size = TEST_SIZE.get(name, 32)
    result = train(
        TrainConfig(
            data=data,
            arch=name,
            input_size=size,
            sequence_length=LENGTH,
            frames=6,
            epochs=2,
            patience=5,
            batch_size=4 if get_arch(name).kind == "frame" else 2,
            init="none",
            augment=False,
            val_fraction=0.34,
            out=out,
            cache_dir=data.parent / "seed-face-cache",  # faces found once for every arch
            name=f"my-{name}",
            version="1.0",
        )
    )
    card = json.loads(result.card_path.read_text())
    check_model_file(result.model_path, card)  # what install_model checks
    return ModelSpec(
        name=card["name"],
        version="1.0",
        sha256=card["sha256"],
        path=str(result.model_path),
        card=card,
    ), card


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SEED_ARCHS))
def test_each_trains_installs_and_scores_a_video(name, clips, tmp_path, monkeypatch):
    # The published LSTM of 2048 units and four stages of 3, 4, 6 and 3 blocks (both checked
    # above) make each checkpoint 650 MB; one block a stage and 64 units prove the same path
    # (grouped convolutions, LSTM, training, install, scoring) at a small part of the time.
    monkeypatch.setattr(resnext, "LSTM_UNITS", 64)
    monkeypatch.setattr(resnext, "STAGES", (1, 1, 1, 1))
    spec, card = train_two_epochs(name, clips, tmp_path / "out")
    assert (card["arch"], card["kind"]) == (name, SEED_ARCHS[name][2])
    assert card["training"]["epochs_run"] == 2 and card["training"]["init"] == "none"
    assert card["preprocessing"] == SEED_ARCHS[name][1]
    temporal = card["kind"] == "temporal"
    assert card.get("sequence_length") == (LENGTH if temporal else None)
    options = {"frames": 8}
    options["temporal_models" if temporal else "models"] = [asdict(spec)]
    report = analyze(clips / "fake" / "fake_0.avi", options)
    assert [c.sha256 for c in report.classifiers] == [spec.sha256]
    assert len(report.faces) == 1 and 0.0 <= report.faces[0].score <= 1.0
    assert report.verdict in ("real", "fake", "inconclusive")
    assert report.options[options_key(temporal)][0]["sha256"] == spec.sha256


def options_key(temporal: bool) -> str:
    return "temporal_models" if temporal else "models"


def test_frame_archs_score_and_round_trip(tmp_path):
    for name in ("lenet", "minivggnet", "resnet_small"):
        spec = get_arch(name)
        model = spec.build(input_size=32)
        crops = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
        x = preprocess(crops, spec.preprocessing)
        scores = np.asarray(model.predict(x, verbose=0)).reshape(-1)
        assert scores.shape == (3,) and ((scores > 0) & (scores < 1)).all()
        model.save(tmp_path / f"{name}.keras")
        loaded = keras.saving.load_model(tmp_path / f"{name}.keras", compile=False)
        np.testing.assert_allclose(loaded.predict(x, verbose=0).reshape(-1), scores, rtol=1e-5)
