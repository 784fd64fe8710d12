"""Convert a DFDC-winner checkpoint (PyTorch, timm tf_efficientnet_bN_ns) to this platform's Keras model.

The DFDC 1st-place classifier is timm's `tf_efficientnet_bN_ns` -> `forward_features` -> global
average pool -> dropout -> `Linear(features, 1)`, and sigmoid of its output is P(fake). Its
checkpoints are `torch.save({"epoch", "state_dict", "bce_best"})` with keys prefixed `module.`.
timm's TF-ported EfficientNets are the same network as Keras Applications' EfficientNetBN (same
"same" padding, batch-norm epsilon 1e-3), so every tensor maps onto one Keras weight; only the
names and memory layouts differ. The ImageNet mean/std normalisation that DFDC applies to 0..1
pixels is folded into the Keras model's own input Normalization layer, so the converted model
takes raw 0..255 RGB like every EfficientNet built here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ml.errors import ModelError
from ml.models.archs.efficientnet import build_classifier
from ml.models.convert import torch_checkpoint

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# (output channels of conv_head, number of blocks) -> variant: unique for b0..b7.
VARIANTS = {
    (1280, 16): "b0",
    (1280, 23): "b1",
    (1408, 23): "b2",
    (1536, 26): "b3",
    (1792, 32): "b4",
    (2048, 39): "b5",
    (2304, 45): "b6",
    (2560, 55): "b7",
}
TOP_LAYERS = {
    "conv_stem": "stem_conv",
    "bn1": "stem_bn",
    "conv_head": "top_conv",
    "bn2": "top_bn",
}
SE_LAYERS = {"se.conv_reduce": "se_reduce", "se.conv_expand": "se_expand"}
# The first stage is timm's DepthwiseSeparableConv (no expansion); later stages are inverted
# residuals, whose bn1/bn2 sit after other convolutions.
FIRST_STAGE_LAYERS = {
    "conv_dw": "dwconv",
    "bn1": "bn",
    "conv_pw": "project_conv",
    "bn2": "project_bn",
    **SE_LAYERS,
}
LATER_STAGE_LAYERS = {
    "conv_pw": "expand_conv",
    "bn1": "expand_bn",
    "conv_dw": "dwconv",
    "bn2": "bn",
    "conv_pwl": "project_conv",
    "bn3": "project_bn",
    **SE_LAYERS,
}
BN_PARAMS = {
    "weight": "gamma",
    "bias": "beta",
    "running_mean": "moving_mean",
    "running_var": "moving_variance",
}
KERNEL_PARAMS = {"weight": "kernel", "bias": "bias"}
# Keys with no Keras counterpart: timm's own ImageNet classifier, unused by the DFDC model, and
# batch-norm bookkeeping.
DROPPED = re.compile(r"^encoder\.classifier\.|\.num_batches_tracked$")
BLOCK_KEY = re.compile(r"^encoder\.blocks\.(\d+)\.(\d+)\.(.+)\.(\w+)$")
TOP_KEY = re.compile(r"^encoder\.(\w+)\.(\w+)$")
FC_KEY = re.compile(r"^fc\.(weight|bias)$")


def convert_checkpoint(src: Path, dest: Path, *, input_size: int = 380) -> dict[str, Any]:
    """Convert the DFDC checkpoint `src` to the Keras model `dest` (.keras); return card fields."""
    src, dest = Path(src), Path(dest)
    if dest.suffix != ".keras":
        raise ModelError(f"The converted model must be a .keras file, not {dest.name}.")
    if not 32 <= input_size <= 1024:
        raise ModelError("The input size must be 32-1024 pixels.")
    state, epoch = read_state_dict(src)
    variant = detect_variant(state)
    count = len(state)
    model = build_model(variant, input_size=input_size)
    assign_weights(model, state)  # empties `state` as it goes, to keep memory low
    save_atomically(model, dest)
    return {
        "arch": f"efficientnet_{variant}",
        "input_size": input_size,
        "preprocessing": "raw255",
        "framing": {"kind": "box", "margin": 1 / 3},
        "kind": "frame",
        "conversion": conversion_note(src.name, epoch, variant, count),
        "label_convention": "sigmoid output = P(fake)",
    }


def conversion_note(name: str, epoch: int | None, variant: str, count: int) -> str:
    """What was done, in plain words, for the model card."""
    return (
        f"Converted from the PyTorch checkpoint {name}"
        + (f" (epoch {epoch})" if epoch is not None else "")
        + f" of the DFDC-winner classifier on timm tf_efficientnet_{variant}_ns. "
        f"All {count} tensors accounted for, mapped by name onto Keras "
        f"EfficientNet{variant.upper()}: convolution kernels OIHW to HWIO, depthwise kernels "
        "to (kh, kw, C, 1), the final Linear transposed into the sigmoid Dense, batch-norm "
        "running statistics to moving mean/variance; timm's unused ImageNet classifier and "
        "batch counters dropped. The ImageNet mean/std normalisation is folded into the input "
        "Normalization layer, so the model takes raw 0-255 RGB. No retraining."
    )


def read_state_dict(src: Path) -> tuple[dict[str, np.ndarray], int | None]:
    """The state dict of a DFDC checkpoint (or a bare state dict), `module.` prefix removed."""
    checkpoint = torch_checkpoint.load(src)
    epoch = None
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict):
        epoch = checkpoint.get("epoch")
        checkpoint = checkpoint["state_dict"]
    if not isinstance(checkpoint, dict) or not all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in checkpoint.items()
    ):
        raise ModelError(f"{src.name} holds no state dict of named tensors.")
    state = {key.removeprefix("module."): value for key, value in checkpoint.items()}
    return state, epoch if isinstance(epoch, int) else None


def detect_variant(state: dict[str, np.ndarray]) -> str:
    """b0..b7 from the width of the head convolution and the number of blocks."""
    head = state.get("encoder.conv_head.weight")
    if head is None or "fc.weight" not in state:
        raise ModelError(
            "The checkpoint is not a DFDC EfficientNet classifier "
            "(it has no encoder.conv_head.weight or fc.weight)."
        )
    blocks = {match.group(1, 2) for key in state if (match := BLOCK_KEY.match(key))}
    signature = (int(head.shape[0]), len(blocks))
    if signature not in VARIANTS:
        raise ModelError(
            f"An EfficientNet with {signature[1]} blocks and {signature[0]} head channels "
            "matches none of tf_efficientnet_b0_ns ... b7_ns."
        )
    return VARIANTS[signature]


def build_model(variant: str, *, input_size: int) -> keras.Model:
    """The same network `train_model --arch efficientnet_bN` builds, with random weights."""
    return build_classifier(
        getattr(keras.applications, f"EfficientNet{variant.upper()}"),
        input_size=input_size,
        init="none",
        name=f"efficientnet_{variant}",
    )


def keras_target(key: str) -> tuple[str, str] | None:
    """(Keras layer name, parameter) for a timm key, e.g. blocks.1.0.conv_pw.weight ->
    (block2a_expand_conv, weight); "fake" is the output Dense. None if the key is unknown."""
    if match := FC_KEY.match(key):
        return "fake", match.group(1)
    if match := BLOCK_KEY.match(key):
        stage, index, module, param = match.groups()
        names = FIRST_STAGE_LAYERS if stage == "0" else LATER_STAGE_LAYERS
        if module in names:
            return f"block{int(stage) + 1}{chr(97 + int(index))}_{names[module]}", param
        return None
    if (match := TOP_KEY.match(key)) and match.group(1) in TOP_LAYERS:
        return TOP_LAYERS[match.group(1)], match.group(2)
    return None


def assign_weights(model: keras.Model, state: dict[str, np.ndarray]) -> None:
    """Copy every tensor of `state` into `model`, emptying `state` as it goes.

    Raises ModelError naming the leftovers unless every key is used and every Keras weight set.
    """
    backbone = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    layers = {layer.name: layer for layer in (*backbone.layers, *model.layers)}
    pending = {id(weight): weight for weight in model.weights}
    unused = []
    for key in list(state):
        value = state.pop(key)
        if DROPPED.search(key):
            continue
        target = keras_target(key)
        layer = layers.get(target[0]) if target else None
        variable = layer and _variable(layer, target[1])
        if variable is None:
            unused.append(key)
            continue
        _assign(variable, _to_keras_layout(value, layer), key)
        pending.pop(id(variable), None)
    for variable in _set_input_normalization(backbone):
        pending.pop(id(variable), None)
    if unused or pending:
        raise ModelError(
            "The checkpoint does not fit the Keras network. "
            f"Checkpoint tensors left unused: {', '.join(unused) or 'none'}. "
            f"Keras weights left unset: {', '.join(_name(v) for v in pending.values()) or 'none'}."
        )


def _variable(layer, param: str):
    names = BN_PARAMS if isinstance(layer, keras.layers.BatchNormalization) else KERNEL_PARAMS
    return getattr(layer, names[param], None) if param in names else None


def _to_keras_layout(value: np.ndarray, layer) -> np.ndarray:
    if value.ndim == 4 and isinstance(layer, keras.layers.DepthwiseConv2D):
        return value.transpose(2, 3, 0, 1)  # (C, 1, kh, kw) -> (kh, kw, C, 1)
    if value.ndim == 4:
        return value.transpose(2, 3, 1, 0)  # OIHW -> HWIO
    if value.ndim == 2:
        return value.T  # Linear (out, in) -> Dense (in, out)
    return value


def _assign(variable, value: np.ndarray, key: str) -> None:
    if tuple(variable.shape) != value.shape:
        raise ModelError(
            f"The checkpoint tensor {key} has shape {value.shape} in Keras layout, but "
            f"{_name(variable)} needs {tuple(variable.shape)}."
        )
    variable.assign(value.astype(variable.dtype))


def _set_input_normalization(backbone) -> list:
    """Keras EfficientNet divides by 255, then normalises by mean and sqrt(variance). The
    layer keeps derived tensors, so its weights only act after finalize_state()."""
    (norm,) = [layer for layer in backbone.layers if isinstance(layer, keras.layers.Normalization)]
    norm.adapt_mean.assign(np.asarray(IMAGENET_MEAN, dtype="float32"))
    norm.adapt_variance.assign(np.square(np.asarray(IMAGENET_STD, dtype="float32")))
    norm.count.assign(0)  # adapt()'s sample counter, unused for inference
    norm.finalize_state()
    return [norm.adapt_mean, norm.adapt_variance, norm.count]


def _name(variable) -> str:
    return getattr(variable, "path", None) or variable.name


def save_atomically(model: keras.Model, dest: Path) -> None:
    """Write next to `dest` and rename, so a failed save leaves no half-written model."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.stem}.partial.keras")
    try:
        model.save(partial)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
