"""The dataset item, and the leak-free train/validation split."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ml.errors import MediaError

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_EXTENSIONS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}
REAL, FAKE = 0, 1


@dataclass(frozen=True)
class Item:
    path: Path
    label: int  # 0 real, 1 fake
    source_id: str  # the video (or photo) this item shows; fakes name their real source
    identity: str | None = None  # the person, when the layout tells
    group: str = ""  # items sharing a group stay on one side of the split
    subset: str = "train"  # "test" when the dataset's official test list reserves it

    @property
    def is_video(self) -> bool:
        return self.path.suffix.lower() in VIDEO_EXTENSIONS

    @property
    def split_key(self) -> str:
        return self.group or self.identity or self.source_id


@dataclass
class Dataset:
    root: Path
    layout: str
    items: list[Item] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = Counter((i.subset, i.label) for i in self.items)
        return {
            "real": sum(v for (_, lab), v in c.items() if lab == REAL),
            "fake": sum(v for (_, lab), v in c.items() if lab == FAKE),
            "test_reserved": sum(v for (sub, _), v in c.items() if sub == "test"),
            "videos": sum(1 for i in self.items if i.is_video),
        }


def media_files(folder: Path) -> list[Path]:
    """Every image or video below `folder`, in a stable order."""
    exts = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in exts)


def split_items(
    items: list[Item], *, val_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Item], list[Item]]:
    """Split by group (never by frame); both sides keep real and fake examples when possible.

    Items the dataset reserves for testing are left out of both sides.
    """
    usable = [i for i in items if i.subset != "test"]
    groups: dict[str, list[Item]] = {}
    for item in usable:
        groups.setdefault(item.split_key, []).append(item)
    if len(groups) < 2:
        raise MediaError("The dataset needs at least two videos, photos or people to hold one out.")
    keys = sorted(groups)
    np.random.default_rng(seed).shuffle(keys)
    # Fill validation per class so that it holds both real and fake examples.
    val_keys: set[str] = set()
    for label in (REAL, FAKE):
        labelled = [k for k in keys if any(i.label == label for i in groups[k])]
        wanted = max(1, round(len(labelled) * val_fraction)) if len(labelled) > 1 else 0
        val_keys.update(labelled[:wanted])
    if len(val_keys) == len(keys):
        val_keys.discard(keys[-1])
    train = [i for k in keys if k not in val_keys for i in groups[k]]
    val = [i for k in keys if k in val_keys for i in groups[k]]
    return train, val
