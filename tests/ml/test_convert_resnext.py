"""torchvision's ResNeXt-50 32x4d checkpoint converts to the Keras backbone without PyTorch and
computes what torchvision computes.

The fixtures come from tests/fixtures/resnext/make_fixture.py, run once with PyTorch and
torchvision: the manifest of the state dict and torchvision's outputs for seeded random weights,
which tests/fixtures/resnext/synthetic.py remakes here and writes in torch.save format.
"""

from pathlib import Path

import keras
import numpy as np
import pytest

from ml.errors import ModelError
from ml.models.archs import get_arch
from ml.models.cards import validate_card
from ml.models.convert import convert
from ml.models.convert.resnext import convert_resnext
from ml.models.convert.resnext_state import keras_target
from tests.fixtures.dfdc import synthetic as dfdc_synthetic
from tests.fixtures.dfdc.synthetic import write_torch_checkpoint
from tests.fixtures.resnext import synthetic

# float32 convolutions in TensorFlow and PyTorch sum in different orders.
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """The seeded random weights torchvision was run with, as torchvision publishes them: a bare
    state dict in torch.save format."""
    state = synthetic.random_state_dict(synthetic.read_manifest())
    path = tmp_path_factory.mktemp("resnext") / "resnext50_32x4d-random.pth"
    write_torch_checkpoint(path, state)
    return path


@pytest.fixture(scope="module")
def reference():
    return dict(np.load(synthetic.HERE / "reference.npz"))


def pooled(backbone: keras.Model) -> np.ndarray:
    x = synthetic.normalise(synthetic.face_crops())
    return np.asarray(backbone.predict(x, verbose=0)).mean(axis=(1, 2))


def assert_matches_torchvision(features: np.ndarray, expected: np.ndarray) -> None:
    # The features reach about 22 here; the largest difference seen was 1e-5.
    assert np.abs(expected).max() > 10  # the random weights neither vanish nor saturate
    np.testing.assert_allclose(features, expected, rtol=0, atol=TOLERANCE)


def test_torchvision_names_map_to_keras_layers():
    assert keras_target("conv1.weight") == ("conv1", "weight")
    assert keras_target("layer2.0.downsample.1.running_var") == (
        "layer2_0_downsample_1",
        "running_var",
    )
    assert keras_target("layer4.2.conv2.weight") == ("layer4_2_conv2", "weight")


def test_converted_backbone_computes_torchvision_features(checkpoint, reference, tmp_path):
    dest = tmp_path / "resnext50_32x4d.keras"
    fields = convert_resnext(checkpoint, dest, input_size=synthetic.INPUT_SIZE)
    assert (fields["arch"], fields["kind"], fields["preprocessing"]) == (
        "resnext50_32x4d",
        "backbone",
        "imagenet",
    )
    # 320 state-dict entries: 53 convolutions, 53 batch norms of 5, torchvision's fc (2).
    assert "265 tensors" in fields["conversion"]
    backbone = keras.saving.load_model(dest, compile=False)
    assert_matches_torchvision(pooled(backbone), reference["features"])


def test_the_checkpoint_initialises_resnext50_lstm_for_training(checkpoint, reference):
    model = get_arch("resnext50_lstm").build(
        input_size=synthetic.INPUT_SIZE, init=str(checkpoint), frames=2
    )
    backbone = model.get_layer("per_frame").layer.get_layer("resnext50_32x4d")
    assert_matches_torchvision(pooled(backbone), reference["features"])


def test_the_registry_converts_it_as_a_backbone_not_a_detector(checkpoint, tmp_path):
    fields = convert("torchvision_resnext", checkpoint, tmp_path / "backbone.keras")
    assert fields["kind"] == "backbone" and "not a deepfake detector" in fields["conversion"]
    # Its card is refused as a detector's, with what the file is for.
    card = {"name": "x", "version": "1", "arch": "resnext50_32x4d", "input_size": 112, **fields}
    with pytest.raises(ModelError, match="ImageNet backbone, not a deepfake detector.*--init"):
        validate_card(card)


def test_a_checkpoint_of_another_network_is_refused(tmp_path):
    with pytest.raises(ModelError, match="not a torchvision ResNeXt-50 32x4d checkpoint"):
        convert_resnext(dfdc_synthetic.HERE / "small_checkpoint.pth", tmp_path / "x.keras")
    assert not (tmp_path / "x.keras").exists()
    state = synthetic.random_state_dict(synthetic.read_manifest())
    del state["layer3.5.bn2.running_var"]
    truncated = tmp_path / "incomplete.pth"
    write_torch_checkpoint(truncated, state)
    with pytest.raises(ModelError, match="left unset: .*layer3_5_bn2"):
        convert_resnext(truncated, tmp_path / "y.keras")
