"""Training datasets: find labelled media in a folder, whatever public layout it follows.

`load_dataset(root, layout="auto")` returns a `Dataset` of `Item`s (file, label, the source video
it comes from, the person if the layout tells). `split_items` makes the train/validation split by
group (identity where known, else source video), so frames of one video — or one person — never sit
on both sides. Face crops are extracted once and cached by `ml.datasets.extract`.
"""

from __future__ import annotations

from pathlib import Path

from ml.datasets import celebdf, dfdc, faceforensics, folders
from ml.datasets.base import Dataset, Item, split_items
from ml.errors import MediaError

# Most specific first: the real/fake folder layout would also match parts of the others.
LAYOUTS = {
    "faceforensics": faceforensics,
    "celebdf": celebdf,
    "dfdc": dfdc,
    "folders": folders,
}

__all__ = ["LAYOUTS", "Dataset", "Item", "detect_layout", "load_dataset", "split_items"]


def detect_layout(root: Path | str) -> str:
    root = Path(root)
    if not root.is_dir():
        raise MediaError(f"The dataset folder {root} does not exist.")
    for name, module in LAYOUTS.items():
        if module.matches(root):
            return name
    raise MediaError(
        f"{root} is not a dataset layout this platform knows: expected real/ and fake/ folders, "
        "FaceForensics++, DFDC (metadata.json) or Celeb-DF v2. See docs/models.md."
    )


def load_dataset(root: Path | str, layout: str = "auto", **options) -> Dataset:
    """Index a dataset folder. Options depend on the layout (e.g. FaceForensics++ methods)."""
    root = Path(root)
    name = detect_layout(root) if layout == "auto" else layout
    if name not in LAYOUTS:
        raise MediaError(
            f"Unknown dataset layout {name!r}; choose auto or one of {', '.join(LAYOUTS)}."
        )
    items = LAYOUTS[name].load(root, **options)
    if not items:
        raise MediaError(f"No images or videos found in {root} ({name} layout).")
    return Dataset(root=root, layout=name, items=items)
