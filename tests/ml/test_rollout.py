"""Attention rollout (Abnar & Zuidema 2020) over a Vision Transformer's patches, and the
heatmap a ViT whole-image detector draws from it in the Report."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from ml import analyze
from ml.models.image_detector import ImageDetector
from ml.models.rollout import keras_attentions, rollout
from ml.options import AnalysisOptions, ModelSpecs
from ml.signals.generated import GENERATED_HEATMAP_SIZE
from tests.fixtures.commfor import synthetic

TOKENS = 1 + 3 * 3  # a class token and a 3 x 3 patch grid


def _uniform(heads: int = 2) -> np.ndarray:
    return np.full((heads, TOKENS, TOKENS), 1.0 / TOKENS)


def test_uniform_attention_rolls_out_to_a_flat_map():
    grid = rollout([_uniform(), _uniform(), _uniform()])
    assert grid.shape == (3, 3)
    np.testing.assert_allclose(grid, grid[0, 0])
    assert 0 < grid.sum() < 1  # the rest stays on the class token


def test_the_class_token_looking_at_one_patch_lights_that_patch():
    focused = _uniform()
    focused[:, 0] = 0.0
    focused[:, 0, 1 + 5] = 1.0  # every head: the class token attends to patch (1, 2) only
    grid = rollout([_uniform(), focused])
    assert np.unravel_index(np.argmax(grid), grid.shape) == (1, 2)


def test_heads_are_averaged_and_rows_renormalised():
    one = _uniform(1)
    one[0, 0] = np.eye(TOKENS)[4]
    other = _uniform(1)
    both = np.concatenate([one, other])
    expected = (0.5 * (one[0] + other[0]) + np.eye(TOKENS)) / 2
    np.testing.assert_allclose(rollout([both]).ravel(), expected[0, 1:], rtol=1e-6)


def test_tokens_off_a_square_grid_are_refused():
    with pytest.raises(ValueError, match="do not make a square grid"):
        rollout([np.full((1, 9, 9), 1 / 9)])


@pytest.fixture(scope="module")
def commfor(tmp_path_factory):
    """A Community Forensics network cut to two blocks, converted as install_model does."""
    folder = tmp_path_factory.mktemp("commfor")
    return synthetic.converted_spec(folder, synthetic.small_state_dict(2), threshold=0.01)


def test_recomputed_attention_is_what_keras_attends_with(commfor):
    import keras

    detector = ImageDetector.load(commfor)
    model = detector._forward.model
    x = detector._inputs(detector.network_input(synthetic.test_images()[0])[None])
    ours = keras_attentions(model, x)
    layer = model.get_layer("blocks_1_attn")
    tokens = keras.Model(model.input, model.get_layer("blocks_1_norm1").output)(x)
    _, theirs = layer(tokens, tokens, return_attention_scores=True)
    assert len(ours) == 2 and ours[1].shape == (1, 6, 577, 577)
    np.testing.assert_allclose(ours[1], np.asarray(theirs), atol=1e-5)


def _decoded(jpeg: str) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(base64.b64decode(jpeg), np.uint8), cv2.IMREAD_COLOR)


def test_an_image_report_carries_the_rollout_of_its_highest_view(commfor, face_png):
    report = analyze(face_png, models=ModelSpecs(image=[commfor]))
    (detector,) = report.generated.detectors
    assert detector.heatmap_view == "whole" and detector.heatmap_time_s == 0.0
    side = GENERATED_HEATMAP_SIZE
    assert _decoded(detector.heatmap).shape == (side, side, 3)


def test_a_video_report_draws_it_on_the_frame_that_scored_highest(commfor, noface_video):
    report = analyze(
        noface_video,
        AnalysisOptions(frames=4, generated_frames=4),
        models=ModelSpecs(image=[commfor]),
    )
    (detector,) = report.generated.detectors
    top = max(detector.frames, key=lambda f: f.score)
    assert detector.heatmap and detector.heatmap_time_s == top.time_s
