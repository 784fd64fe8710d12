"""Attention rollout: where a Vision Transformer's class token gathered its information from.

Abnar & Zuidema (ACL 2020): each block's attention, averaged over its heads, plus the identity
for the residual connection, rows renormalised to sum to 1; multiplied through the blocks, the
class token's row says how much each input patch flowed into the token the head reads. Like
Grad-CAM for the face classifiers, it shows where the network looked, not proof of generation.

`rollout` takes per-block attention matrices from any ViT (timm-style class token first);
`keras_attentions` recomputes them for a Keras model built of `MultiHeadAttention` self-attention
blocks (ml/models/archs/vit.py), from the inputs each block's attention saw and its own query
and key weights, so the loaded scoring graph is neither changed nor re-traced.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

# Keras models seen so far → the model giving their attention layers' inputs (built once each).
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
    flow = np.eye(tokens, dtype=np.float64)
    for attention in attentions:
        mixed = np.asarray(attention, dtype=np.float64).mean(axis=0) + np.eye(tokens)
        mixed /= mixed.sum(axis=-1, keepdims=True)
        flow = mixed @ flow
    return flow[0, prefix_tokens:].reshape(side, side).astype(np.float32)


def heat(grid: np.ndarray, size: int) -> np.ndarray:
    """A rollout grid scaled to 0..1 by its peak and upsampled to (size, size)."""
    peak = float(grid.max())
    scaled = grid / peak if peak > 0 else np.zeros_like(grid)
    return cv2.resize(scaled.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)


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
    layers = attention_layers(model)
    if model not in _probes:
        import keras

        _probes[model] = keras.Model(model.inputs, [_self_attention_input(a) for a in layers])
    seen = _probes[model].predict_on_batch(np.asarray(x, dtype=np.float32))
    seen = seen if isinstance(seen, list | tuple) else [seen]
    return [_attention(layer, np.asarray(s, dtype=np.float32)) for layer, s in zip(layers, seen)]


def _self_attention_input(layer: Any) -> Any | None:
    """The one tensor a layer attends over (query = key = value), or None."""
    nodes = layer._inbound_nodes
    if len(nodes) != 1:
        return None
    inputs = nodes[0].input_tensors
    return inputs[0] if inputs and all(t is inputs[0] for t in inputs) else None


def _attention(layer: Any, tokens: np.ndarray) -> np.ndarray:
    """softmax(q k^T / sqrt(head size)) per head, as Keras' MultiHeadAttention computes it."""
    q = _project(layer._query_dense, tokens) / np.sqrt(float(layer._key_dim))
    k = _project(layer._key_dense, tokens)
    logits = np.einsum("btnh,bsnh->bnts", q, k)
    logits -= logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=-1, keepdims=True)


def _project(dense: Any, tokens: np.ndarray) -> np.ndarray:
    """(B, T, D) → (B, T, heads, head size) through one of the layer's EinsumDense kernels."""
    kernel = np.asarray(dense.kernel, dtype=np.float32)
    out = np.einsum("btd,dnh->btnh", tokens, kernel)
    if dense.bias is not None:
        out += np.asarray(dense.bias, dtype=np.float32)
    return out
