"""DFDC-winner checkpoints (PyTorch, timm) convert to Keras without PyTorch and score like timm.

The fixtures come from tests/fixtures/dfdc/make_fixture.py, run once with PyTorch and timm: genuine
torch.save files with the values torch read back, manifests of the DFDC state dicts of b0 and b7,
and timm's outputs for seeded random b0 weights that tests/fixtures/dfdc/synthetic.py remakes here.
"""

import json
import os
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import keras
import numpy as np
import pytest

from ml.errors import ModelError
from ml.models.convert import torch_checkpoint
from ml.models.convert.dfdc import (
    assign_weights,
    build_model,
    convert_checkpoint,
    detect_variant,
    keras_target,
)
from tests.fixtures.dfdc import synthetic

FIXTURES = synthetic.HERE
# float32 convolutions in TensorFlow and PyTorch sum in different orders.
TOLERANCE = 1e-4


def placeholder_state(manifest_name: str) -> dict[str, np.ndarray]:
    """A state dict of the manifest's names and shapes that takes no memory (broadcast zeros)."""
    return {
        key.removeprefix("module."): np.broadcast_to(np.zeros((), dtype), shape)
        for key, shape, dtype in synthetic.read_manifest(manifest_name)
    }


@pytest.fixture(scope="module")
def b0_checkpoint(tmp_path_factory) -> Path:
    """The seeded random b0 weights timm was run with, written in torch.save format."""
    state = synthetic.random_state_dict(synthetic.read_manifest("b0_manifest.json"))
    path = tmp_path_factory.mktemp("dfdc") / "final_999_DeepFakeClassifier_b0_0_36"
    synthetic.write_torch_checkpoint(path, synthetic.dfdc_checkpoint(state))
    return path


@pytest.mark.parametrize("name", ["small_checkpoint.pth", "small_checkpoint_legacy.pth"])
def test_reader_gives_the_values_torch_reads(name):
    expected = json.loads((FIXTURES / "small_checkpoint.json").read_text())[name]
    checkpoint = torch_checkpoint.load(FIXTURES / name)
    assert checkpoint["epoch"] == expected["epoch"]
    assert checkpoint["bce_best"] == expected["bce_best"]
    state = checkpoint["state_dict"]
    assert isinstance(state, OrderedDict)
    assert list(state) == list(expected["tensors"])
    for key, tensor in expected["tensors"].items():
        # bfloat16 has no numpy type and is widened, exactly, to float32.
        dtype = "float32" if tensor["dtype"] == "bfloat16" else tensor["dtype"]
        assert state[key].dtype == np.dtype(dtype), key
        assert state[key].shape == tuple(tensor["shape"]), key
        np.testing.assert_array_equal(
            state[key].reshape(-1), np.asarray(tensor["values"], dtype=dtype)
        )
    # The transposed view shares its storage with the original, as in PyTorch.
    np.testing.assert_array_equal(state["module.fc.weight_t"], state["module.fc.weight"].T)
    assert not state["module.fc.weight"].flags.writeable


class RunsACommand:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_reader_refuses_a_pickle_that_would_run_code(tmp_path):
    marker = tmp_path / "ran"
    payload = pickle.dumps({"state_dict": RunsACommand(marker)}, protocol=2)
    as_zip = tmp_path / "evil.pth"
    with zipfile.ZipFile(as_zip, "w") as archive:
        archive.writestr("evil/data.pkl", payload)
    as_stream = tmp_path / "evil_legacy.pth"
    as_stream.write_bytes(payload)
    for path in (as_zip, as_stream):
        with pytest.raises(ModelError, match=r"Refusing to load posix\.system"):
            torch_checkpoint.load(path)
    assert not marker.exists()


def test_reader_refuses_files_that_are_no_checkpoint(tmp_path):
    text = tmp_path / "notes.pth"
    text.write_text("not a checkpoint")
    with pytest.raises(ModelError, match="notes.pth is not a PyTorch checkpoint"):
        torch_checkpoint.load(text)
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"epoch": 1}, protocol=2))
    with pytest.raises(ModelError, match="a pickle of something else"):
        torch_checkpoint.load(plain)
    with pytest.raises(ModelError, match="Cannot read missing.pth"):
        torch_checkpoint.load(tmp_path / "missing.pth")


@pytest.mark.parametrize("name", ["small_checkpoint.pth", "small_checkpoint_legacy.pth"])
@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_reader_reports_a_truncated_file(tmp_path, name, keep):
    data = (FIXTURES / name).read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelError, match="truncated"):
        torch_checkpoint.load(cut)


def test_timm_names_map_to_keras_layers():
    assert keras_target("encoder.conv_stem.weight") == ("stem_conv", "weight")
    assert keras_target("encoder.bn2.running_var") == ("top_bn", "running_var")
    assert keras_target("encoder.blocks.0.3.conv_pw.weight") == (
        "block1d_project_conv",
        "weight",
    )
    assert keras_target("encoder.blocks.0.0.bn1.bias") == ("block1a_bn", "bias")
    assert keras_target("encoder.blocks.1.0.conv_pw.weight") == (
        "block2a_expand_conv",
        "weight",
    )
    assert keras_target("encoder.blocks.5.12.bn3.weight") == (
        "block6m_project_bn",
        "weight",
    )
    assert keras_target("encoder.blocks.3.1.se.conv_expand.bias") == (
        "block4b_se_expand",
        "bias",
    )
    assert keras_target("fc.weight") == ("fake", "weight")
    assert keras_target("avg_pool.conv.weight") is None


def test_variant_is_detected_from_the_shapes():
    assert detect_variant(placeholder_state("b0_manifest.json")) == "b0"
    assert detect_variant(placeholder_state("b7_manifest.json")) == "b7"
    state = {
        key: value
        for key, value in placeholder_state("b0_manifest.json").items()
        if not key.startswith("encoder.blocks.6.")
    }
    with pytest.raises(ModelError, match="15 blocks and 1280 head channels"):
        detect_variant(state)
    with pytest.raises(ModelError, match="not a DFDC EfficientNet"):
        detect_variant({"conv1.weight": np.zeros((64, 3, 7, 7))})


def test_b0_conversion_scores_like_timm(b0_checkpoint, tmp_path):
    dest = tmp_path / "dfdc_b0.keras"
    card = convert_checkpoint(b0_checkpoint, dest, input_size=synthetic.INPUT_SIZE)
    assert card["arch"] == "efficientnet_b0" and card["input_size"] == 380
    assert card["preprocessing"] == "raw255" and card["kind"] == "frame"
    assert card["framing"] == {"kind": "box", "margin": 1 / 3}
    assert card["label_convention"] == "sigmoid output = P(fake)"
    assert "epoch 36" in card["conversion"]

    model = keras.saving.load_model(dest, compile=False)
    assert model.name == "efficientnet_b0"
    reference = np.load(FIXTURES / "b0_reference.npz")
    crops = synthetic.dfdc_crops().astype("float32")  # raw 0..255, as the platform feeds it
    features = keras.Model(model.input, model.get_layer("pool").output)(crops)
    kernel, bias = model.get_layer("fake").get_weights()
    logits = (np.asarray(features) @ kernel + bias).reshape(-1)
    probabilities = np.asarray(model(crops)).reshape(-1)

    np.testing.assert_allclose(features, reference["features"], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(logits, reference["logits"], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(probabilities, reference["probabilities"], rtol=0, atol=TOLERANCE)
    # The crops give different features, so an output that ignores its input could not pass.
    assert np.abs(reference["features"][0] - reference["features"][1]).max() > 100 * TOLERANCE


@pytest.mark.slow
def test_b7_every_tensor_is_used_and_every_keras_weight_set():
    state = placeholder_state("b7_manifest.json")
    assert len(state) > 1000
    model = build_model(detect_variant(state), input_size=64)
    assert model.name == "efficientnet_b7"
    assign_weights(model, state)  # raises with the leftover names otherwise
    assert state == {}


def test_leftovers_on_either_side_are_named():
    model = build_model("b0", input_size=32)
    state = placeholder_state("b0_manifest.json")
    del state["encoder.blocks.2.1.conv_pwl.weight"]
    state["encoder.blocks.2.1.attention.weight"] = np.zeros(3, dtype="float32")
    with pytest.raises(ModelError) as error:
        assign_weights(model, state)
    assert "unused: encoder.blocks.2.1.attention.weight." in str(error.value)
    assert "unset: block3b_project_conv/kernel." in str(error.value)


def test_a_shape_mismatch_fails_and_leaves_no_file(tmp_path):
    state = synthetic.random_state_dict(synthetic.read_manifest("b0_manifest.json"))
    state["module.fc.weight"] = np.zeros((1, 1000), dtype="float32")
    src = tmp_path / "wrong.pth"
    synthetic.write_torch_checkpoint(src, synthetic.dfdc_checkpoint(state))
    dest = tmp_path / "out" / "wrong.keras"
    with pytest.raises(ModelError, match=r"fc\.weight has shape \(1000, 1\)"):
        convert_checkpoint(src, dest, input_size=64)
    assert not dest.exists() and not any(dest.parent.glob("*"))
    with pytest.raises(ModelError, match="must be a .keras file"):
        convert_checkpoint(src, tmp_path / "model.h5")
