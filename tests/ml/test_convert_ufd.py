"""UniversalFakeDetect weights → Keras, checked against OpenAI's CLIP code run under PyTorch.

The fixtures (tests/fixtures/ufd/) were made by make_fixture.py with PyTorch and OpenAI's model.py:
a small CLIP saved by `torch.jit.save` as OpenAI publishes ViT-L-14.pt, UFD's `fc_weights.pth`,
and the authors' outputs on three images. Here they are converted without PyTorch and scored
through the platform's own whole-image transform.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

from ml.errors import ModelError
from ml.models.archs import clip_vit
from ml.models.cards import ModelSpec
from ml.models.checksum import file_sha256
from ml.models.convert import convert, torch_checkpoint, ufd
from ml.models.image_detector import ImageDetector
from ml.signals.generated import frame_prep
from tests.fixtures.dfdc.synthetic import write_torch_checkpoint
from tests.fixtures.ufd import synthetic

HERE = synthetic.HERE
REFERENCE = json.loads((HERE / "reference.json").read_text())


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A folder as a user's download leaves it: OpenAI's archive and UFD's head."""
    folder = tmp_path_factory.mktemp("ufd-release")
    shutil.copy(HERE / "clip_small.pt", folder / "ViT-L-14.pt")
    shutil.copy(HERE / "fc_weights.pth", folder / "fc_weights.pth")
    return folder


@pytest.fixture(scope="module")
def converted(release):
    dest = release / "ufd.keras"
    return dest, convert("ufd", release, dest)


def _detector(dest, card) -> ImageDetector:
    full = {"name": "ufd", "version": "1", "threshold": 0.5, **card}
    return ImageDetector.load(ModelSpec("ufd", "1", file_sha256(dest), str(dest), full))


def _small_state() -> OrderedDict:
    return synthetic.random_state_dict(synthetic.read_manifest("manifest_small.json"))


def test_the_torchscript_archive_reads_as_the_tensors_it_was_saved_with():
    read = torch_checkpoint.state_dict(torch_checkpoint.load(HERE / "clip_small.pt"))
    expected = _small_state()
    assert read.keys() == expected.keys()
    for key, value in expected.items():
        assert read[key].dtype == value.dtype and np.array_equal(read[key], value), key
    assert read["visual.conv1.weight"].dtype == np.float16  # as OpenAI publishes it


def test_the_card_states_the_authors_transform(converted):
    _, card = converted
    assert card["kind"] == "image" and card["input_size"] == 224
    assert card["preprocessing"] == "clip"
    assert card["image_transform"] == {"resize": "none", "crop": "center"}
    assert card["labels"] == {"output": "sigmoid", "positive": "generated"}


def test_the_converted_network_scores_as_openai_clip_with_the_ufd_head(converted):
    detector = _detector(*converted)
    images = synthetic.test_images()
    crops = [detector.network_input(image) for image in images]
    assert [hashlib.sha256(c.tobytes()).hexdigest() for c in crops] == REFERENCE["crops_sha256"]
    probabilities = detector.predict_images(images)
    np.testing.assert_allclose(probabilities, REFERENCE["probabilities"], atol=1e-4)
    logits = np.log(probabilities / (1 - probabilities))
    np.testing.assert_allclose(logits, REFERENCE["logits"], atol=1e-3)


def test_a_training_checkpoint_converts_like_the_release(converted, tmp_path):
    clip = {f"model.{k}": v for k, v in _small_state().items()}
    head = {f"fc.{k}": v for k, v in synthetic.head_state().items()}
    checkpoint = tmp_path / "model_epoch_best.pth"
    write_torch_checkpoint(checkpoint, {"model": {**clip, **head}, "total_steps": 7})
    card = convert("ufd", checkpoint, tmp_path / "trained.keras")
    images = synthetic.test_images()
    np.testing.assert_allclose(
        _detector(tmp_path / "trained.keras", card).predict_images(images),
        _detector(*converted).predict_images(images),
        atol=1e-6,
    )


def test_the_full_size_vit_l14_manifest_is_consumed_whole():
    """Every tensor of OpenAI's ViT-L/14 is either the image encoder's, set on a Keras weight
    of the shape Keras expects, or the text encoder's, left out by name: nothing else."""
    manifest = synthetic.read_manifest("manifest_vit_l14.json")
    # Zero-stride views: the 1.7 GB are never allocated.
    state = {k: np.broadcast_to(np.float32(0), shape) for k, shape, _ in manifest}
    visual = ufd._visual(state, "ViT-L-14.pt")
    assert set(state) - {f"visual.{k}" for k in visual} == {
        k for k in state if not k.startswith("visual.")
    }
    config = ufd.config_from_state(visual)
    assert config == clip_vit.CLIP_VIT_L_14 and config.heads == 16 and config.tokens == 257
    left = {**visual, "fc.weight": np.zeros((1, 768), "f4"), "fc.bias": np.zeros(1, "f4")}
    weights = ufd._mapping(config)(left)
    assert left == {}
    # One block is enough to know the shapes Keras expects of all 24.
    one_block = clip_vit.build(
        clip_vit.ClipVisionConfig(config.image_size, config.patch_size, config.width, 1)
    )
    expected = {
        layer.name: [tuple(w.shape) for w in layer.get_weights()]
        for layer in one_block.layers
        if layer.weights
    }
    got = {name: [tuple(w.shape) for w in values] for name, values in weights.items()}
    blocks = {name for name in got if name.startswith("resblocks_")}
    assert {name.split("_")[1] for name in blocks} == {str(i) for i in range(24)}
    for name, shapes in got.items():
        assert (
            shapes == expected[name.replace(name.split("_")[1], "0", 1) if name in blocks else name]
        )
    assert got.keys() - blocks == expected.keys() - {
        n for n in expected if n.startswith("resblocks_")
    }
    parameters = sum(int(np.prod(s)) for shapes in got.values() for s in shapes)
    assert parameters == pytest.approx(304.3e6, rel=0.01)


def test_a_tensor_left_over_or_missing_is_refused(tmp_path):
    state = _small_state()
    head = synthetic.head_state()
    extra = tmp_path / "extra"
    extra.mkdir()
    write_torch_checkpoint(extra / "clip.pt", {**state, "visual.adapter": state["visual.proj"]})
    write_torch_checkpoint(extra / "fc_weights.pth", head)
    with pytest.raises(ModelError, match="Unexpected tensors in the checkpoint: adapter"):
        convert("ufd", extra, tmp_path / "extra.keras")
    lacking = tmp_path / "lacking"
    lacking.mkdir()
    del state["visual.ln_post.bias"]
    write_torch_checkpoint(lacking / "clip.pt", state)
    write_torch_checkpoint(lacking / "fc_weights.pth", head)
    with pytest.raises(ModelError, match="lacks ln_post.bias"):
        convert("ufd", lacking, tmp_path / "lacking.keras")
    assert not list(tmp_path.glob("*.keras"))


def test_files_that_are_not_the_model_are_refused_in_one_line(release, tmp_path):
    only_clip = tmp_path / "only-clip"
    only_clip.mkdir()
    shutil.copy(release / "ViT-L-14.pt", only_clip / "ViT-L-14.pt")
    with pytest.raises(ModelError, match="holds no fc_weights.pth"):
        convert("ufd", only_clip, tmp_path / "a.keras")
    with pytest.raises(ModelError, match="not a UniversalFakeDetect checkpoint"):
        convert("ufd", release / "fc_weights.pth", tmp_path / "b.keras")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelError, match="not a PyTorch checkpoint"):
        convert("ufd", junk, tmp_path / "c.keras")


def test_video_frames_are_kept_unresized_for_a_detector_that_crops_them_as_they_are(converted):
    detector = _detector(*converted)
    assert detector.resize_short_side is None and frame_prep([detector]) is None
    frame = np.random.default_rng(1).integers(0, 256, (720, 1280, 3), np.uint8)
    np.testing.assert_array_equal(detector.network_input(frame), frame[248:472, 528:752])


def test_a_torchscript_module_whose_state_is_not_plain_data_is_refused(tmp_path):
    # GLOBAL __torch__.model CLIP, EMPTY_TUPLE, NEWOBJ, then BUILD with a list, not a dict.
    data = b"\x80\x02c__torch__.model\nCLIP\n)\x81]b."
    archive = tmp_path / "odd.pt"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("odd/data.pkl", data)
    with pytest.raises(ModelError, match="not plain data"):
        torch_checkpoint.load(archive)
