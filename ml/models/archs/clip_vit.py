"""OpenAI CLIP's image encoder (Radford et al. 2021, `VisionTransformer` of CLIP's model.py) in
Keras 3, with UniversalFakeDetect's linear head on its projected class token (Ojha et al. 2023).

CLIP's ViT differs from timm's (ml/models/archs/vit.py) in ways that change the numbers: the
patch embedding has no bias, a LayerNorm (`ln_pre`) follows the embedding, LayerNorms use
PyTorch's eps of 1e-5, the MLP uses QuickGELU (x·sigmoid(1.702x)), and the class token after
`ln_post` is multiplied by `proj` (no bias) before the head. The class-token and position layers
are vit.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from ml.models.archs.vit import ClassTokenOf, ClassTokenPositions, pre_norm_block

LAYER_NORM_EPS = 1e-5  # torch.nn.LayerNorm's default, which CLIP's LayerNorm subclass keeps


@dataclass(frozen=True)
class ClipVisionConfig:
    image_size: int = 224
    patch_size: int = 14
    width: int = 1024
    layers: int = 24
    output_dim: int = 768  # the projected feature UFD's head reads

    @property
    def heads(self) -> int:
        return self.width // 64  # CLIP's build_model: heads 64 wide

    @property
    def tokens(self) -> int:
        return (self.image_size // self.patch_size) ** 2 + 1


CLIP_VIT_L_14 = ClipVisionConfig()  # OpenAI "ViT-L/14": 304 M parameters in the image encoder


@keras.saving.register_keras_serializable(package="deepfake")
def quick_gelu(x):
    """CLIP's activation: x · sigmoid(1.702 x) (not the erf GELU)."""
    return x * keras.ops.sigmoid(1.702 * x)


def build(config: ClipVisionConfig = CLIP_VIT_L_14, *, name: str = "clip_ufd") -> keras.Model:
    """(B, S, S, 3) CLIP-normalised pixels → (B, 1) sigmoid P(generated)."""
    layers = keras.layers
    inputs = keras.Input((config.image_size, config.image_size, 3))
    x = layers.Conv2D(
        config.width, config.patch_size, strides=config.patch_size, use_bias=False, name="conv1"
    )(inputs)
    x = layers.Reshape((config.tokens - 1, config.width), name="patches")(x)
    x = ClassTokenPositions(config.tokens, config.width, name="embed")(x)
    x = layers.LayerNormalization(epsilon=LAYER_NORM_EPS, name="ln_pre")(x)
    for i in range(config.layers):
        x = _block(x, config, f"resblocks_{i}")
    x = ClassTokenOf(name="cls")(x)
    x = layers.LayerNormalization(epsilon=LAYER_NORM_EPS, name="ln_post")(x)
    x = layers.Dense(config.output_dim, use_bias=False, name="proj")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="fc")(x)
    return keras.Model(inputs, outputs, name=name)


def _block(x, config: ClipVisionConfig, name: str):
    return pre_norm_block(
        x,
        heads=config.heads,
        width=config.width,
        mlp_dim=4 * config.width,
        activation=quick_gelu,
        name=name,
        parts=("ln_1", "c_fc", "c_proj", "ln_2"),
        epsilon=LAYER_NORM_EPS,
    )
