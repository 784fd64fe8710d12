"""Community Forensics (Park & Owens, CVPR 2025) weights → the Keras ViT of ml/models/archs/vit.py.

The authors' `ViTClassifier` holds timm's `vit_small_patch16_384` as `self.vit` with its head
replaced by `Linear(384, 1)`, and applies a sigmoid: the output is P(generated). Its state dict
(keys `vit.`-prefixed) is published on Hugging Face as `model.safetensors` (beside `config.json`)
and held by training checkpoints (`.pt`) under `['model']`. Both are read without PyTorch: the
safetensors file by the `safetensors` package's numpy loader, a `.pt` by our restricted reader.
Every tensor must be consumed and every Keras weight set, or nothing is written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from ml.errors import ModelError
from ml.models.archs import vit
from ml.models.convert import torch_checkpoint

PREFIX = "vit."
SAFETENSORS = "model.safetensors"
# The authors' inference transform (their models.py `preprocess_input`): torchvision
# Resize(440) (shorter side, bilinear with antialiasing), CenterCrop(384), ImageNet mean/std.
RESIZE = {384: 440, 224: 256}
BLOCK = re.compile(r"^blocks\.(\d+)\.(.+)$")


def convert_commfor(src: Path, dest: Path) -> dict[str, Any]:
    """A Hub folder, its `model.safetensors`, or a training `.pt` → `dest` (.keras); the
    card fields the conversion decides."""
    state = read_state_dict(Path(src))
    config = config_from_state(state)
    model = vit.build(config, name="vit_commfor")
    assign_weights(model, state, config)
    from ml.models.convert.dfdc import save_atomically

    save_atomically(model, dest)
    return card_fields(config, Path(src).name)


def card_fields(config: vit.VitConfig, source_name: str) -> dict[str, Any]:
    size = config.image_size
    return {
        "kind": "image",
        "arch": "vit_small_patch16",
        "input_size": size,
        "preprocessing": "imagenet",
        "image_transform": {"resize_short_side": RESIZE.get(size, size), "crop": "center"},
        "interpolation": "bilinear_antialias",
        "labels": {"output": "sigmoid", "positive": "generated"},
        "conversion": f"{source_name}: timm ViT-S/{config.patch_size} at {size} px, "
        f"{config.depth} blocks, converted to Keras without PyTorch",
    }


def read_state_dict(src: Path) -> dict[str, np.ndarray]:
    """The model's tensors, without the `vit.` prefix, as float32 numpy arrays."""
    if src.is_dir():
        src = src / SAFETENSORS
        if not src.is_file():
            raise ModelError(f"The folder holds no {SAFETENSORS} (the Hugging Face layout).")
    if src.suffix == ".safetensors":
        raw = _read_safetensors(src)
    else:
        checkpoint = torch_checkpoint.load(src)
        raw = checkpoint.get("model") if isinstance(checkpoint, dict) else None
        if not isinstance(raw, dict):
            raise ModelError(f"{src.name} holds no ['model'] state dict of a ViTClassifier.")
    if not raw or not all(key.startswith(PREFIX) for key in raw):
        raise ModelError(f"{src.name} is not a Community Forensics model (keys not 'vit.').")
    return {key.removeprefix(PREFIX): np.asarray(v, dtype=np.float32) for key, v in raw.items()}


def _read_safetensors(src: Path) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return load_file(str(src))
    except (SafetensorError, OSError, ValueError, json.JSONDecodeError) as exc:
        raise ModelError(f"{src.name} is not a readable safetensors file.") from exc


def config_from_state(state: dict[str, np.ndarray]) -> vit.VitConfig:
    """The network's size, read from the tensors' shapes (as timm's own loader would need)."""
    try:
        dim, _, patch, _ = state["patch_embed.proj.weight"].shape
        tokens = state["pos_embed"].shape[1]
        mlp = state["blocks.0.mlp.fc1.weight"].shape[0]
    except (KeyError, ValueError) as exc:
        raise ModelError("The checkpoint lacks the tensors of a ViT.") from exc
    depth = 1 + max(int(m.group(1)) for k in state if (m := BLOCK.match(k)))
    side = round((tokens - 1) ** 0.5)
    # timm's ViT sizes (Ti, S, B, L) all use heads 64 wide.
    return vit.VitConfig(side * patch, patch, dim, depth, dim // 64, mlp / dim)


def keras_weights(state: dict[str, np.ndarray], config: vit.VitConfig) -> dict[str, list]:
    """Layer name → its weights in Keras order; consumes `state` (what is left was not used)."""
    take = state.pop
    out = {
        "patch_embed": [
            take("patch_embed.proj.weight").transpose(2, 3, 1, 0),
            take("patch_embed.proj.bias"),
        ],
        "embed": [take("cls_token"), take("pos_embed")],
        "norm": [take("norm.weight"), take("norm.bias")],
        "head": [take("head.weight").T, take("head.bias")],
    }
    for i in range(config.depth):
        p, n = f"blocks.{i}.", f"blocks_{i}"
        out[f"{n}_attn"] = attention_weights(
            take(p + "attn.qkv.weight"),
            take(p + "attn.qkv.bias"),
            take(p + "attn.proj.weight"),
            take(p + "attn.proj.bias"),
            config.heads,
        )
        for name, key in (("norm1", "norm1"), ("norm2", "norm2")):
            out[f"{n}_{name}"] = [take(p + key + ".weight"), take(p + key + ".bias")]
        for name in ("fc1", "fc2"):
            out[f"{n}_{name}"] = [take(p + f"mlp.{name}.weight").T, take(p + f"mlp.{name}.bias")]
    return out


def attention_weights(qkv_w, qkv_b, proj_w, proj_b, heads: int) -> list[np.ndarray]:
    """PyTorch's fused attention (in-projection (3D, D) as q|k|v, out-projection (D, D)) →
    Keras MultiHeadAttention's per-head query, key, value and output kernels and biases."""
    d = proj_w.shape[0]
    qkv_w, qkv_b = qkv_w.reshape(3, d, d), qkv_b.reshape(3, heads, d // heads)
    out = []
    for j in range(3):
        out += [qkv_w[j].T.reshape(d, heads, d // heads), qkv_b[j]]
    return [*out, proj_w.T.reshape(heads, d // heads, d), proj_b]


def assign_weights(model, state: dict[str, np.ndarray], config: vit.VitConfig) -> None:
    """Set every weight of `model` from `state`; refuse a tensor left over or a shape mismatch."""
    set_all_weights(model, state, lambda left: keras_weights(left, config))


def set_all_weights(model, state: dict[str, np.ndarray], mapping) -> None:
    """`mapping(state)` → layer name → weights, consuming `state`; every tensor must be used and
    every layer with weights set, with the shapes Keras expects, or nothing is kept."""
    state = dict(state)
    try:
        weights = mapping(state)
    except KeyError as exc:
        raise ModelError(f"The checkpoint lacks {exc.args[0]}.") from exc
    if state:
        raise ModelError(f"Unexpected tensors in the checkpoint: {', '.join(sorted(state)[:5])}.")
    unset = {layer.name for layer in model.layers if layer.weights} - weights.keys()
    if unset:
        raise ModelError(f"No tensors for {', '.join(sorted(unset))}.")
    for name, values in weights.items():
        layer = model.get_layer(name)
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if expected != [tuple(v.shape) for v in values]:
            raise ModelError(f"{name}: shapes {[v.shape for v in values]}, expected {expected}.")
        layer.set_weights(values)
