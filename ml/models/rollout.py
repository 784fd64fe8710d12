"""Attention rollout: where a Vision Transformer's class token gathered its information from.

Abnar & Zuidema (ACL 2020): each block's attention, averaged over its heads, plus the identity
for the residual connection, rows renormalised to sum to 1; multiplied through the blocks, the
class token's row says how much each input patch flowed into the token the head reads. Like
Grad-CAM for the face classifiers, it shows where the network looked, not proof of generation.

`rollout` takes per-block attention matrices from any ViT (timm-style class token first);
`keras_attentions` gives them for a Keras model built of `MultiHeadAttention` self-attention
blocks (ml/models/archs/vit.py): a second model sharing the weights returns what each block's
attention saw, and each attention layer, called on that, returns its probabilities, so the
loaded scoring graph is neither changed nor re-traced.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np

# Keras models seen so far → the pass giving their blocks' attention (built once each).
_probes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def rollout(attentions: Sequence[np.ndarray], prefix_tokens: int = 1) -> np.ndarray:
    """The class token's rolled-out attention over the patches, on the patch grid (h, w).

    `attentions`: one (heads, T, T) matrix of attention probabilities per block, first block
    first, tokens laid out as `prefix_tokens` (the class token first) then the patches row by
    row on a square grid. Non-negative; sums to at most 1 (the rest stays on prefix tokens).
    """
    if not attentions:
        raise ValueError("attention rollout needs at least one block")
    tokens = attentions[0].shape[-1]
    side = round((tokens - prefix_tokens) ** 0.5)
    if side * side != tokens - prefix_tokens:
        raise ValueError(f"{tokens - prefix_tokens} patch tokens do not make a square grid")
    # Only the class token's row of A_L ... A_1 is needed: carried from the last block down,
    # it is a vector times each matrix, not a product of T x T matrices.
    flow = np.eye(tokens, dtype=np.float64)[0]
    for attention in reversed(attentions):
        mixed = np.asarray(attention, dtype=np.float64).mean(axis=0) + np.eye(tokens)
        flow = flow @ (mixed / mixed.sum(axis=-1, keepdims=True))
    return flow[prefix_tokens:].reshape(side, side).astype(np.float32)


def heat(grid: np.ndarray, size: int) -> np.ndarray:
    """A rollout grid scaled from its least to its most attended patch (0..1), upsampled to
    (size, size). The residual identity keeps every patch's share well above 0, so a map scaled
    by its peak alone would colour the whole picture warm; an even map stays cold."""
    low, high = float(grid.min()), float(grid.max())
    if high - low <= 1e-6 * max(high, 1e-12):
        scaled = np.zeros_like(grid, dtype=np.float32)
    else:
        scaled = ((grid - low) / (high - low)).astype(np.float32)
    return cv2.resize(scaled, (size, size), interpolation=cv2.INTER_LINEAR)


def attention_layers(model: Any) -> list[Any]:
    """The model's self-attention layers, first block first (none: no rollout for it)."""
    import keras

    return [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.MultiHeadAttention)
        and _self_attention_input(layer) is not None
    ]


def keras_attentions(model: Any, x: np.ndarray) -> list[np.ndarray]:
    """Per block, the attention probabilities (B, heads, T, T) of a preprocessed batch `x`."""
    if model not in _probes:
        _probes[model] = _probe(model, attention_layers(model))
    return [np.asarray(a, dtype=np.float32) for a in _probes[model](np.float32(x))]


def _probe(model: Any, layers: list[Any]) -> Callable[[np.ndarray], list[Any]]:
    """A pass giving each block's attention: a model sharing the weights returns what each
    attention layer saw, and the layer, called on it, its probabilities. Called on tensors,
    not on the model's symbolic ones, the layers record nothing in the scoring graph."""
    import keras

    seen = keras.Model(model.inputs, [_self_attention_input(a) for a in layers])

    def run(x: Any) -> list[Any]:
        inputs = seen(x, training=False)
        inputs = inputs if isinstance(inputs, list | tuple) else [inputs]
        return [
            layer(t, t, return_attention_scores=True, training=False)[1]
            for layer, t in zip(layers, inputs, strict=True)
        ]

    if keras.backend.backend() != "tensorflow":
        return run
    import tensorflow as tf

    # One graph, as the scoring pass is (ml/models/forward.py): eager calls took twice as long.
    spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32)
    return tf.function(run, input_signature=[spec], reduce_retracing=True)


def _self_attention_input(layer: Any) -> Any | None:
    """The one tensor a layer attends over (query = key = value), or None."""
    nodes = layer._inbound_nodes
    if len(nodes) != 1:
        return None
    inputs = nodes[0].input_tensors
    return inputs[0] if inputs and all(t is inputs[0] for t in inputs) else None
