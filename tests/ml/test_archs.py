"""Every registered architecture builds with Keras 3, scores a batch and survives a .keras round trip."""

import keras
import numpy as np
import pytest

from ml.errors import ModelError
from ml.models.archs import ARCH_NAMES, get_arch, preprocess


def test_registry_describes_each_architecture():
    expected = {
        "efficientnet_b7": (380, "raw255", "frame"),
        "efficientnet_b0": (224, "raw255", "frame"),
        "meso4": (256, "unit", "frame"),
        "mesoinception4": (256, "unit", "frame"),
        "efficientnet_lstm": (224, "raw255", "temporal"),
        # The seed projects' networks (tests/ml/test_seed_archs.py).
        "resnext50_lstm": (112, "imagenet", "temporal"),
        "inceptionv3_gru": (299, "raw255", "temporal"),
        "lenet": (64, "unit", "frame"),
        "minivggnet": (64, "unit", "frame"),
        "resnet_small": (64, "unit", "frame"),
    }
    assert set(ARCH_NAMES) == set(expected)
    for name, (size, prep, kind) in expected.items():
        spec = get_arch(name)
        assert (spec.input_size, spec.preprocessing, spec.kind) == (size, prep, kind)
    with pytest.raises(ModelError, match="Unknown architecture"):
        get_arch("resnet9000")


@pytest.mark.parametrize(
    "name,size", [("meso4", 64), ("mesoinception4", 64), ("efficientnet_b0", 64)]
)
def test_frame_model_scores_and_round_trips(tmp_path, name, size):
    spec = get_arch(name)
    model = spec.build(input_size=size, init="none")
    assert model.name == name
    assert tuple(model.input_shape) == (None, size, size, 3)
    crops = np.random.default_rng(0).integers(0, 256, (3, size, size, 3), dtype=np.uint8)
    x = preprocess(crops, spec.preprocessing)
    scores = np.asarray(model.predict(x, verbose=0)).reshape(-1)
    assert scores.shape == (3,) and ((scores > 0) & (scores < 1)).all()
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    np.testing.assert_allclose(
        np.asarray(loaded.predict(x, verbose=0)).reshape(-1), scores, rtol=1e-5
    )


def test_mesonet_layers_are_those_of_the_published_files():
    """Meso-4 has no LeakyReLU after Dense 16 (the published Meso4_*.h5 lists none);
    MesoInception-4 has one. Weighted layers in the order the .h5 files list them."""
    meso4 = get_arch("meso4").build(init="none")
    inception = get_arch("mesoinception4").build(init="none")
    assert not [l for l in meso4.layers if isinstance(l, keras.layers.LeakyReLU)]
    assert [l.name for l in inception.layers if isinstance(l, keras.layers.LeakyReLU)] == ["leaky"]
    weighted = [type(l).__name__ for l in meso4.layers if l.weights]
    assert weighted == ["Conv2D", "BatchNormalization"] * 4 + ["Dense", "Dense"]
    assert meso4.count_params() == 27_977 + 2 * (8 + 8 + 16 + 16)  # + BN moving stats
    convs = [l for l in inception.layers if isinstance(l, keras.layers.Conv2D)]
    assert [l.dilation_rate for l in convs[:7]] == [(1, 1)] * 5 + [(2, 2), (3, 3)]


def test_preprocessing_scales():
    crops = np.full((1, 2, 2, 3), 255, dtype=np.uint8)
    assert preprocess(crops, "unit").max() == pytest.approx(1.0)
    assert preprocess(crops, "raw255").max() == pytest.approx(255.0)


def test_temporal_model_scores_one_track():
    model = get_arch("efficientnet_lstm").build(input_size=32, init="none", frames=4)
    assert tuple(model.input_shape) == (None, 4, 32, 32, 3)
    tracks = np.random.default_rng(0).uniform(0, 255, (2, 4, 32, 32, 3)).astype("float32")
    assert np.asarray(model.predict(tracks, verbose=0)).shape == (2, 1)


def test_imagenet_init_fails_clearly_when_offline(monkeypatch, tmp_path):
    """Offline (every connection refused by the OS layer), the download fails with advice."""
    import socket

    from keras.src.backend import config as keras_config

    def unreachable(*args, **kwargs):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", unreachable)
    monkeypatch.setattr(socket, "getaddrinfo", unreachable)
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))  # no cached weights
    with pytest.raises(ModelError, match="Could not download the ImageNet weights.*--init none"):
        get_arch("efficientnet_b0").build(input_size=64, init="imagenet")


def test_missing_local_weights_file_is_refused(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        get_arch("efficientnet_b0").build(input_size=64, init=str(tmp_path / "nope.weights.h5"))


def test_local_weights_file_is_loaded(tmp_path):
    source = get_arch("meso4").build(input_size=64, init="none")
    path = tmp_path / "meso.weights.h5"
    source.save_weights(path)
    copy = get_arch("meso4").build(input_size=64, init=str(path))
    for a, b in zip(source.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_local_weights_file_is_loaded_into_the_temporal_model(tmp_path):
    source = get_arch("efficientnet_lstm").build(input_size=32, init="none", frames=2)
    path = tmp_path / "lstm.weights.h5"
    source.save_weights(path)
    copy = get_arch("efficientnet_lstm").build(input_size=32, init=str(path), frames=2)
    for a, b in zip(source.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
