"""Attention rollout (Abnar & Zuidema 2020) over a Vision Transformer's patches, and the
heatmap a ViT whole-image detector draws from it in the Report."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from ml import analyze
from ml.models.image_detector import ImageDetector
from ml.models.rollout import attention_layers, heat, keras_attentions, rollout
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


def test_it_is_the_class_row_of_the_product_through_the_blocks():
    rng = np.random.default_rng(0)
    blocks = [rng.dirichlet(np.ones(TOKENS), size=(3, TOKENS)) for _ in range(4)]
    flow = np.eye(TOKENS)
    for attention in blocks:
        mixed = attention.mean(axis=0) + np.eye(TOKENS)
        flow = (mixed / mixed.sum(axis=-1, keepdims=True)) @ flow
    np.testing.assert_allclose(rollout(blocks).ravel(), flow[0, 1:], rtol=1e-5)


def test_the_heat_spans_the_least_to_the_most_attended_patch():
    grid = np.array([[0.02, 0.03], [0.05, 0.04]], dtype=np.float32)
    shown = heat(grid, 8)
    assert shown.shape == (8, 8) and shown.min() == 0.0 and shown.max() == pytest.approx(1.0)
    assert not heat(np.full((2, 2), 0.2), 8).any()  # an even map stays cold


def test_tokens_off_a_square_grid_are_refused():
    with pytest.raises(ValueError, match="do not make a square grid"):
        rollout([np.full((1, 9, 9), 1 / 9)])


@pytest.fixture(scope="module")
def commfor(tmp_path_factory):
    """A Community Forensics network cut to two blocks, converted as install_model does."""
    folder = tmp_path_factory.mktemp("commfor")
    return synthetic.converted_spec(folder, synthetic.small_state_dict(2), threshold=0.01)


def test_each_blocks_attention_is_a_distribution_and_the_model_stays_as_it_was(commfor):
    detector = ImageDetector.load(commfor)
    model = detector._forward.model
    x = detector._inputs(detector.network_input(synthetic.test_images()[0])[None])
    before = detector.predict_images(synthetic.test_images()[:1])
    first = keras_attentions(model, x)
    assert len(first) == 2 and first[1].shape == (1, 6, 577, 577)
    np.testing.assert_allclose(first[1].sum(axis=-1), 1.0, atol=1e-5)
    # Nothing was added to the scoring graph: the layers are found again, scores unchanged.
    assert len(attention_layers(model)) == 2
    np.testing.assert_array_equal(keras_attentions(model, x)[0], first[0])
    np.testing.assert_array_equal(detector.predict_images(synthetic.test_images()[:1]), before)


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
