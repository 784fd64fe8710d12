"""Community Forensics weights → Keras, checked against the authors' network run under timm.

The reference (tests/fixtures/commfor/reference.json) was recorded by make_fixture.py with
PyTorch and timm on random weights in the published layout; here the same weights are remade
from the seed, written as the Hub's `model.safetensors` (or a training `.pt`), converted
without PyTorch, and scored through the platform's own whole-image transform.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

import numpy as np
import pytest

from ml.errors import ModelError
from ml.models.cards import ModelSpec
from ml.models.checksum import file_sha256
from ml.models.convert import convert
from ml.models.convert.commfor import RESIZE, config_from_state
from ml.models.image_detector import ImageDetector
from tests.fixtures.commfor import synthetic
from tests.fixtures.dfdc.synthetic import write_torch_checkpoint

REFERENCE = json.loads((synthetic.HERE / "reference.json").read_text())


@pytest.fixture(scope="module")
def state():
    return synthetic.random_state_dict(synthetic.read_manifest())


@pytest.fixture(scope="module")
def converted(state, tmp_path_factory):
    """The full-size network, from a folder in the Hugging Face layout."""
    folder = tmp_path_factory.mktemp("commfor-model-384")
    (folder / "config.json").write_text(json.dumps({"input_size": 384, "patch_size": 16}))
    synthetic.write_safetensors(folder / "model.safetensors", state)
    dest = folder / "commfor.keras"
    card = convert("commfor", folder, dest)
    return dest, card


def _detector(dest, card) -> ImageDetector:
    full = {"name": "commfor", "version": "1", "threshold": 0.5, **card}
    spec = ModelSpec("commfor", "1", file_sha256(dest), str(dest), full)
    return ImageDetector.load(spec)


def test_the_manifest_is_the_published_vit_small_at_384(state):
    config = config_from_state({k.removeprefix("vit."): v for k, v in state.items()})
    assert (config.image_size, config.patch_size, config.dim) == (384, 16, 384)
    assert (config.depth, config.heads, config.mlp_dim) == (12, 6, 1536)
    assert len(state) == 152 and all(k.startswith("vit.") for k in state)
    assert sum(v.size for v in state.values()) == pytest.approx(21.8e6, rel=0.01)


def test_the_card_states_the_authors_transform(converted):
    _, card = converted
    assert card["kind"] == "image" and card["input_size"] == 384
    assert card["preprocessing"] == "imagenet"
    assert (
        card["image_transform"]
        == {"resize_short_side": RESIZE[384], "crop": "center"}
        == {
            "resize_short_side": 440,
            "crop": "center",
        }
    )


def test_the_converted_network_scores_as_timm_does(converted):
    detector = _detector(*converted)
    images = synthetic.test_images()
    crops = [detector.network_input(image) for image in images]
    assert [hashlib.sha256(c.tobytes()).hexdigest() for c in crops] == REFERENCE["crops_sha256"]
    probabilities = detector.predict_images(images)
    np.testing.assert_allclose(probabilities, REFERENCE["probabilities"], atol=1e-4)
    logits = np.log(probabilities / (1 - probabilities))
    np.testing.assert_allclose(logits, REFERENCE["logits"], atol=1e-3)


def _one_block(state) -> OrderedDict:
    return OrderedDict((k, v) for k, v in state.items() if ".blocks." not in k or ".blocks.0." in k)


def test_a_training_checkpoint_converts_like_the_hub_file(state, tmp_path):
    small = _one_block(state)
    checkpoint = tmp_path / "model_v11_ViT_384_base_ckpt.pt"
    write_torch_checkpoint(checkpoint, {"model": small, "epoch": 3})
    hub = synthetic.write_safetensors(tmp_path / "model.safetensors", small)
    images = synthetic.test_images()[:1]
    scores = []
    for name, source in (("pt", checkpoint), ("hub", hub)):
        dest = tmp_path / f"{name}.keras"
        card = convert("commfor", source, dest)
        scores.append(_detector(dest, card).predict_images(images))
    np.testing.assert_array_equal(*scores)


def test_a_tensor_left_over_or_missing_is_refused(state, tmp_path):
    small = _one_block(state)
    extra = synthetic.write_safetensors(
        tmp_path / "extra.safetensors", {**small, "vit.x": small["vit.norm.bias"]}
    )
    with pytest.raises(ModelError, match="Unexpected tensors in the checkpoint: x"):
        convert("commfor", extra, tmp_path / "extra.keras")
    lacking = dict(small)
    del lacking["vit.head.bias"]
    missing = synthetic.write_safetensors(tmp_path / "missing.safetensors", lacking)
    with pytest.raises(ModelError, match="lacks head.bias"):
        convert("commfor", missing, tmp_path / "missing.keras")
    assert not (tmp_path / "extra.keras").exists() and not (tmp_path / "missing.keras").exists()


def test_files_that_are_not_the_model_are_refused_in_one_line(tmp_path):
    with pytest.raises(ModelError, match="holds no model.safetensors"):
        convert("commfor", tmp_path, tmp_path / "a.keras")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(ModelError, match="not a readable safetensors file"):
        convert("commfor", junk, tmp_path / "b.keras")
    other = synthetic.write_safetensors(
        tmp_path / "o.safetensors", {"encoder.w": np.zeros(2, "float32")}
    )
    with pytest.raises(ModelError, match="not a Community Forensics model"):
        convert("commfor", other, tmp_path / "c.keras")


def test_the_rollout_of_the_converted_network_is_a_map_of_its_patches(converted):
    detector = _detector(*converted)
    images = synthetic.test_images()
    square, grid = detector.attention_rollout(images[0])
    assert square.shape == (384, 384, 3) and grid.shape == (24, 24)  # 384 / 16 patches a side
    assert grid.min() >= 0 and 0 < grid.sum() <= 1 + 1e-5
    _, other = detector.attention_rollout(images[1])
    assert np.abs(other - grid).max() > 0.01 * grid.max()  # it follows the picture
