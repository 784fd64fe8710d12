"""Grad-CAM on a network whose answer is known: it must point at the pixels that raise "fake"."""

import base64
import io
import json

import keras
import numpy as np
import pytest
from PIL import Image

from ml.models.cards import ModelSpec
from ml.models.checksum import file_sha256
from ml.models.classify import FrameClassifier
from ml.models.heatmap import HEATMAP_SIZE, overlay_jpeg

SIZE = 32


def red_detector(tmp_path, *, sign: float, nested: bool = False) -> FrameClassifier:
    """P(fake) = sigmoid(sign * mean redness): the only evidence is the red channel.

    `nested`: the red filter sits inside a backbone sub-model, as ml.models.archs builds EfficientNets.
    """
    inputs = keras.Input((SIZE, SIZE, 3))
    red_filter = keras.layers.Conv2D(1, 1, use_bias=False, name="red")
    if nested:
        inner = keras.Input((SIZE, SIZE, 3))
        red = keras.Model(inner, red_filter(inner), name="backbone")(inputs)
    else:
        red = red_filter(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(red)
    output = keras.layers.Dense(1, activation="sigmoid", name="fake")(pooled)
    model = keras.Model(inputs, output)
    red_filter.set_weights([np.array([1.0, 0.0, 0.0]).reshape(1, 1, 3, 1)])
    model.get_layer("fake").set_weights([np.array([[sign * 4.0]]), np.array([-1.0])])
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "red.keras"
    model.save(path)
    card = {
        "name": "red",
        "version": "1",
        "arch": "test",
        "kind": "frame",
        "input_size": SIZE,
        "preprocessing": "unit",
        "threshold": 0.5,
    }
    (tmp_path / "red.card.json").write_text(json.dumps(card))
    spec = ModelSpec(name="red", version="1", sha256=file_sha256(path), path=str(path), card=card)
    return FrameClassifier.load(spec)


@pytest.fixture
def red_corner():
    crop = np.zeros((SIZE * 2, SIZE * 2, 3), np.uint8)  # twice the input size: resized inside
    crop[:16, :16, 0] = 255
    return crop


def test_heat_sits_on_the_evidence_for_fake(tmp_path, red_corner):
    heat = red_detector(tmp_path, sign=1.0).heatmap(red_corner)
    assert heat.shape == (SIZE, SIZE)
    assert heat.max() == pytest.approx(1.0) and heat.min() >= 0.0
    assert heat[:6, :6].mean() > 0.9
    assert heat[12:, 12:].max() < 0.05


def test_a_nested_backbone_gives_the_same_heat(tmp_path, red_corner):
    flat = red_detector(tmp_path / "flat", sign=1.0).heatmap(red_corner)
    nested = red_detector(tmp_path / "nested", sign=1.0, nested=True).heatmap(red_corner)
    np.testing.assert_allclose(nested, flat, atol=1e-5)
    assert nested[:6, :6].mean() > 0.9


def test_evidence_for_real_leaves_no_heat(tmp_path, red_corner):
    heat = red_detector(tmp_path, sign=-1.0).heatmap(red_corner)
    assert heat.max() == 0.0


def test_overlay_is_a_small_jpeg(tmp_path, red_corner):
    heat = np.zeros((SIZE, SIZE), np.float32)
    heat[:8, :8] = 1.0
    image = Image.open(io.BytesIO(base64.b64decode(overlay_jpeg(red_corner, heat))))
    assert image.format == "JPEG" and image.size == (HEATMAP_SIZE, HEATMAP_SIZE)
    pixels = np.asarray(image.convert("RGB")).astype(int)
    # Hot corner drawn in the colour map's red, cold area in its blue over the black crop.
    assert pixels[5, 5, 0] > 150 and pixels[100, 100, 2] > 50 and pixels[100, 100, 0] < 50
