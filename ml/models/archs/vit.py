"""A Vision Transformer (Dosovitskiy et al. 2021) in Keras 3, laid out as timm's `VisionTransformer`
(pre-norm blocks, a class token, learned position embeddings, the head on the class token), so
published ViT weights map onto it one tensor at a time (ml/models/convert/commfor.py).

Only the embedding of the class token and positions needs a layer of its own; attention is
Keras' `MultiHeadAttention`, whose per-head query/key/value kernels take timm's fused `qkv`
weights once split, and whose 1/sqrt(head size) scaling is timm's.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

LAYER_NORM_EPS = 1e-6  # timm's ViT norm layers


@dataclass(frozen=True)
class VitConfig:
    image_size: int = 384
    patch_size: int = 16
    dim: int = 384
    depth: int = 12
    heads: int = 6
    mlp_ratio: float = 4.0

    @property
    def tokens(self) -> int:
        return (self.image_size // self.patch_size) ** 2 + 1

    @property
    def mlp_dim(self) -> int:
        return int(self.dim * self.mlp_ratio)


VIT_SMALL_16_384 = VitConfig()  # timm vit_small_patch16_384: 22 M parameters


@keras.saving.register_keras_serializable(package="deepfake")
class ClassTokenPositions(keras.layers.Layer):
    """Patch tokens (B, N, D) → (B, N + 1, D): the learned class token first, then the learned
    position embedding added to every token."""

    def __init__(self, tokens: int, dim: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.tokens = tokens
        self.dim = dim
        self.cls_token = self.add_weight(shape=(1, 1, dim), initializer="zeros", name="cls_token")
        self.pos_embed = self.add_weight(
            shape=(1, tokens, dim), initializer="zeros", name="pos_embed"
        )

    def call(self, x):
        ops = keras.ops
        cls = ops.broadcast_to(ops.cast(self.cls_token, x.dtype), (ops.shape(x)[0], 1, self.dim))
        return ops.concatenate([cls, x], axis=1) + ops.cast(self.pos_embed, x.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "tokens": self.tokens, "dim": self.dim}


@keras.saving.register_keras_serializable(package="deepfake")
class ClassTokenOf(keras.layers.Layer):
    """The class token's features (B, D) of a token sequence (B, N, D)."""

    def call(self, x):
        return x[:, 0]


def build(config: VitConfig = VIT_SMALL_16_384, *, name: str = "vit") -> keras.Model:
    """The network: (B, S, S, 3) normalised pixels → (B, 1) sigmoid probability."""
    layers = keras.layers
    inputs = keras.Input((config.image_size, config.image_size, 3))
    x = layers.Conv2D(config.dim, config.patch_size, strides=config.patch_size, name="patch_embed")(
        inputs
    )
    x = layers.Reshape((config.tokens - 1, config.dim), name="patches")(x)
    x = ClassTokenPositions(config.tokens, config.dim, name="embed")(x)
    for i in range(config.depth):
        x = _block(x, config, f"blocks_{i}")
    x = layers.LayerNormalization(epsilon=LAYER_NORM_EPS, name="norm")(x)
    x = ClassTokenOf(name="cls")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="head")(x)
    return keras.Model(inputs, outputs, name=name)


def _block(x, config: VitConfig, name: str):
    # timm's MLP uses the exact (erf) GELU, Keras' default.
    return pre_norm_block(
        x,
        heads=config.heads,
        width=config.dim,
        mlp_dim=config.mlp_dim,
        activation="gelu",
        name=name,
        parts=("norm1", "fc1", "fc2", "norm2"),
    )


def pre_norm_block(x, *, heads, width, mlp_dim, activation, name, parts, epsilon=LAYER_NORM_EPS):
    """A pre-norm transformer block: x + attention(norm(x)), then + MLP(norm(x)). `parts` names
    the first norm, the MLP's two layers and the second norm as the published weights do, so a
    converter maps keys to layers by name."""
    norm1, fc1, fc2, norm2 = (f"{name}_{part}" for part in parts)
    layers = keras.layers
    y = layers.LayerNormalization(epsilon=epsilon, name=norm1)(x)
    y = layers.MultiHeadAttention(heads, width // heads, name=f"{name}_attn")(y, y)
    x = layers.Add(name=f"{name}_add1")([x, y])
    y = layers.LayerNormalization(epsilon=epsilon, name=norm2)(x)
    y = layers.Dense(mlp_dim, activation=activation, name=fc1)(y)
    y = layers.Dense(width, name=fc2)(y)
    return layers.Add(name=f"{name}_add2")([x, y])
