"""Convert torchvision's `resnext50_32x4d` ImageNet checkpoint (BSD-3-Clause) to the Keras backbone
of `resnext50_lstm`, without PyTorch.

torchvision publishes the weights as a bare state dict (`resnext50_32x4d-1a0047aa.pth`, and
`-180e3c4b` for its second recipe). Every tensor maps onto one Keras weight of
`ml.models.archs.resnext.build_backbone`, whose layers carry torchvision's module names with "_"
for "."; only the memory layout differs. The ImageNet classifier (`fc`) is no part of the
backbone and is dropped. The result is an initialisation for training, not a deepfake
detector: pass the checkpoint (or the .keras file written here) to
`train_model --arch resnext50_lstm --init PATH`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ml.errors import ModelError
from ml.models.convert.dfdc import save_atomically
from ml.models.convert.resnext_state import assign_backbone, read_state_dict


def convert_resnext(src: Path, dest: Path, *, input_size: int = 112) -> dict[str, Any]:
    """torchvision checkpoint `src` → the Keras backbone `dest` (.keras); returns what it is."""
    from ml.models.archs.resnext import build_backbone

    src, dest = Path(src), Path(dest)
    if dest.suffix != ".keras":
        raise ModelError(f"The converted backbone must be a .keras file, not {dest.name}.")
    state = read_state_dict(src)
    backbone = build_backbone(input_size)
    used = assign_backbone(backbone, state)
    save_atomically(backbone, dest)
    return {
        "arch": backbone.name,
        "kind": "backbone",
        "input_size": input_size,
        "preprocessing": "imagenet",
        "conversion": (
            f"Converted from the torchvision checkpoint {src.name}: {used} tensors mapped by "
            "name onto the Keras ResNeXt-50 32x4d (convolution kernels OIHW to HWIO, batch-norm "
            "running statistics to moving mean/variance); torchvision's ImageNet classifier and "
            "batch counters dropped. An initialisation for train_model --arch resnext50_lstm "
            "--init, not a deepfake detector."
        ),
    }


if __name__ == "__main__":  # python -m ml.models.convert.resnext SRC.pth DEST.keras
    print(convert_resnext(Path(sys.argv[1]), Path(sys.argv[2]))["conversion"])
