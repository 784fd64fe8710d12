"""torchvision's ResNeXt-50 32x4d state dict onto the Keras backbone of `resnext50_lstm`.

Read without PyTorch; every tensor maps onto one Keras weight whose layer carries torchvision's
module name with "_" for "."; only the memory layout differs. Used by the converter and by
`train_model --init` with a torchvision checkpoint.
"""

from __future__ import annotations

import re
from pathlib import Path

import keras
import numpy as np

from ml.errors import ModelError
from ml.models.convert import torch_checkpoint
from ml.models.convert.dfdc import BN_PARAMS

DROPPED = re.compile(r"^fc\.|\.num_batches_tracked$")
# torchvision's first grouped convolution: 128 filters of 128 / 32 = 4 input channels.
SIGNATURE = ("layer1.0.conv2.weight", (128, 4, 3, 3))
NOT_RESNEXT = "{name} is not a torchvision ResNeXt-50 32x4d checkpoint ({reason})."


def read_state_dict(src: Path) -> dict[str, np.ndarray]:
    """The state dict of `src` (bare, or under "state_dict"; a `module.` prefix removed)."""
    checkpoint = torch_checkpoint.load(src)
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict):
        checkpoint = checkpoint["state_dict"]
    if not isinstance(checkpoint, dict) or not all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in checkpoint.items()
    ):
        raise ModelError(NOT_RESNEXT.format(name=src.name, reason="no state dict of tensors"))
    state = {key.removeprefix("module."): value for key, value in checkpoint.items()}
    key, shape = SIGNATURE
    if key not in state or tuple(state[key].shape) != shape:
        raise ModelError(NOT_RESNEXT.format(name=src.name, reason=f"no {key} of shape {shape}"))
    return state


def keras_target(key: str) -> tuple[str, str]:
    """torchvision key → (Keras layer name, parameter): layer2.0.downsample.1.running_var →
    (layer2_0_downsample_1, running_var)."""
    module, param = key.rsplit(".", 1)
    return module.replace(".", "_"), param


def assign_backbone(backbone: keras.Model, state: dict[str, np.ndarray]) -> int:
    """Copy every backbone tensor of `state` into `backbone`; return how many were used.

    Raises ModelError naming the leftovers unless every key is used and every weight set."""
    layers = {layer.name: layer for layer in backbone.layers}
    pending = {id(weight): weight for weight in backbone.weights}
    unused, used = [], 0
    for key, value in state.items():
        if DROPPED.search(key):
            continue
        name, param = keras_target(key)
        variable = _variable(layers.get(name), param)
        if variable is None:
            unused.append(key)
            continue
        value = value.transpose(2, 3, 1, 0) if value.ndim == 4 else value  # OIHW → HWIO
        if tuple(variable.shape) != value.shape:
            raise ModelError(
                f"The checkpoint tensor {key} has shape {value.shape} in Keras layout, but "
                f"{variable.path} needs {tuple(variable.shape)}."
            )
        variable.assign(value.astype(variable.dtype))
        pending.pop(id(variable), None)
        used += 1
    if unused or pending:
        raise ModelError(
            "The checkpoint does not fit ResNeXt-50 32x4d. "
            f"Checkpoint tensors left unused: {', '.join(unused) or 'none'}. "
            f"Keras weights left unset: {', '.join(v.path for v in pending.values()) or 'none'}."
        )
    return used


def _variable(layer, param: str):
    if layer is None:
        return None
    if isinstance(layer, keras.layers.BatchNormalization):
        return getattr(layer, BN_PARAMS[param]) if param in BN_PARAMS else None
    return layer.kernel if param == "weight" and isinstance(layer, keras.layers.Conv2D) else None
