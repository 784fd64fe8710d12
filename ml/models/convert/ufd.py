"""UniversalFakeDetect (Ojha, Li & Lee, CVPR 2023) → the Keras network of ml/models/archs/clip_vit.py.

The authors' `CLIPModel` is OpenAI's CLIP ViT-L/14 image encoder, frozen, and a `Linear(768, 1)`
`fc` on its output; their validate.py applies a sigmoid: the output is P(fake). Two files hold it:
OpenAI's CLIP checkpoint (`ViT-L-14.pt`, a TorchScript archive; a plain state dict loads too, as
OpenAI's `clip.load` accepts both) and the authors' `fc_weights.pth` (`{"weight", "bias"}`). A
training checkpoint of their train.py holds both in one file, under `['model']` (keys `model.`
and `fc.`). Everything is read without PyTorch. The network's size is read from the tensors'
shapes, as CLIP's `build_model` does; the text encoder's tensors are recognised and left out,
and any other tensor left over, or any weight left unset, refuses the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ml.errors import ModelError
from ml.models.archs import clip_vit
from ml.models.convert import torch_checkpoint
from ml.models.convert.commfor import attention_weights, set_all_weights

VISUAL = "visual."
BLOCK = re.compile(r"^transformer\.resblocks\.(\d+)\.")
# CLIP's text encoder and the scalars OpenAI's archives carry: read, never used by the detector.
TEXT_PREFIXES = ("transformer.", "token_embedding.", "ln_final.")
TEXT_KEYS = (
    "positional_embedding",
    "text_projection",
    "logit_scale",
    "input_resolution",
    "context_length",
    "vocab_size",
)
HEAD_KEYS = {"weight", "bias"}
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")


def convert_ufd(src: Path, dest: Path) -> dict[str, Any]:
    """A folder with a CLIP checkpoint and `fc_weights.pth`, or a training checkpoint → `dest`
    (.keras); the card fields the conversion decides."""
    visual, head = read_tensors(Path(src))
    config = config_from_state(visual)
    model = clip_vit.build(config, name="clip_ufd")
    set_all_weights(model, {**visual, **{f"fc.{k}": v for k, v in head.items()}}, _mapping(config))
    from ml.models.convert.dfdc import save_atomically

    save_atomically(model, dest)
    return card_fields(config, Path(src).name)


def card_fields(config: clip_vit.ClipVisionConfig, source_name: str) -> dict[str, Any]:
    return {
        "kind": "image",
        "arch": "clip_vit_l14_ufd",
        "input_size": config.image_size,
        "preprocessing": "clip",
        # The authors' validate.py: CenterCrop(224) on the image as it is, no resize.
        "image_transform": {"resize": "none", "crop": "center"},
        "labels": {"output": "sigmoid", "positive": "generated"},
        "conversion": f"{source_name}: CLIP ViT-L-style image encoder ({config.layers} blocks, "
        f"width {config.width}, patch {config.patch_size}) and UFD's linear head, converted "
        "to Keras without PyTorch",
    }


def read_tensors(src: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(the image encoder's tensors without `visual.`, the head's `weight` and `bias`)."""
    if src.is_dir():
        return _from_folder(src)
    state = _plain(torch_checkpoint.load(src), src)
    if "model" in state and isinstance(state["model"], dict):
        state = state["model"]  # train.py's checkpoint: {'model', 'optimizer', 'total_steps'}
    if not all(isinstance(v, np.ndarray) for v in state.values()):
        state = {}  # refused below
    clip = {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")}
    head = {k.removeprefix("fc."): v for k, v in state.items() if k.startswith("fc.")}
    rest = state.keys() - {f"model.{k}" for k in clip} - {f"fc.{k}" for k in head}
    if not clip or set(head) != HEAD_KEYS or rest:
        raise ModelError(
            f"{src.name} is not a UniversalFakeDetect checkpoint (keys 'model.visual.' and "
            "'fc.'); a folder holding the CLIP checkpoint and fc_weights.pth also converts."
        )
    return _visual(clip, src.name), head


def _arrays(state: dict, src: Path) -> dict[str, np.ndarray]:
    if not all(isinstance(v, np.ndarray) for v in state.values()):
        raise ModelError(f"{src.name} holds something else than tensors.")
    return dict(state)


def _from_folder(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    files = sorted(p for p in folder.iterdir() if p.suffix in CHECKPOINT_SUFFIXES)
    visual, head = None, None
    for path in files:
        state = _arrays(_plain(torch_checkpoint.load(path), path), path)
        if set(state) == HEAD_KEYS:
            head = state
        elif "visual.proj" in state:
            visual = _visual(state, path.name)
    if visual is None or head is None:
        lacking = "a CLIP ViT checkpoint (ViT-L-14.pt)" if visual is None else "fc_weights.pth"
        raise ModelError(f"The folder {folder.name} holds no {lacking}.")
    return visual, head


def _plain(obj: Any, src: Path) -> dict:
    state = torch_checkpoint.state_dict(obj)
    if state is not None:
        return state
    if isinstance(obj, dict):
        return obj
    raise ModelError(f"{src.name} holds no state dict of tensors.")


def _visual(clip: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    """The image encoder's tensors, as float32; the text encoder's are dropped by name, and
    anything else is kept, so that it is refused as left over."""
    if "visual.proj" not in clip:
        raise ModelError(f"{name} is not a CLIP ViT checkpoint (no visual.proj).")
    text = {k for k in clip if k.startswith(TEXT_PREFIXES) or k in TEXT_KEYS}
    return {
        k.removeprefix(VISUAL) if k.startswith(VISUAL) else k: np.asarray(v, dtype=np.float32)
        for k, v in clip.items()
        if k not in text
    }


def config_from_state(visual: dict[str, np.ndarray]) -> clip_vit.ClipVisionConfig:
    """CLIP's build_model, for the image encoder: sizes from the tensors' shapes."""
    try:
        width, _, patch, _ = visual["conv1.weight"].shape
        grid = round((visual["positional_embedding"].shape[0] - 1) ** 0.5)
        output_dim = visual["proj"].shape[1]
    except (KeyError, ValueError, IndexError) as exc:
        raise ModelError("The CLIP checkpoint lacks the tensors of a ViT image encoder.") from exc
    blocks = {int(m.group(1)) for k in visual if (m := BLOCK.match(k))}
    if not blocks or width < 64:
        raise ModelError("The CLIP checkpoint lacks the image encoder's transformer blocks.")
    return clip_vit.ClipVisionConfig(grid * patch, patch, width, 1 + max(blocks), output_dim)


def _mapping(config: clip_vit.ClipVisionConfig):
    def keras_weights(state: dict[str, np.ndarray]) -> dict[str, list]:
        """Layer name → its weights in Keras order; consumes `state`."""
        take = state.pop
        width = config.width
        out = {
            "conv1": [take("conv1.weight").transpose(2, 3, 1, 0)],
            "embed": [
                take("class_embedding").reshape(1, 1, width),
                take("positional_embedding")[None],
            ],
            "ln_pre": [take("ln_pre.weight"), take("ln_pre.bias")],
            "ln_post": [take("ln_post.weight"), take("ln_post.bias")],
            "proj": [take("proj")],  # x @ proj: already (in, out)
            "fc": [take("fc.weight").T, take("fc.bias")],
        }
        for i in range(config.layers):
            p, n = f"transformer.resblocks.{i}.", f"resblocks_{i}"
            out[f"{n}_attn"] = attention_weights(
                take(p + "attn.in_proj_weight"),
                take(p + "attn.in_proj_bias"),
                take(p + "attn.out_proj.weight"),
                take(p + "attn.out_proj.bias"),
                config.heads,
            )
            for norm in ("ln_1", "ln_2"):
                out[f"{n}_{norm}"] = [take(p + norm + ".weight"), take(p + norm + ".bias")]
            for dense in ("c_fc", "c_proj"):
                w, b = take(p + f"mlp.{dense}.weight"), take(p + f"mlp.{dense}.bias")
                out[f"{n}_{dense}"] = [w.T, b]
        return out

    return keras_weights
