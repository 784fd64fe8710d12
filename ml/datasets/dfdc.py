"""DFDC (Dolhansky et al., 2020): folders of videos, each with a metadata.json such as

    {"abc.mp4": {"label": "FAKE", "split": "train", "original": "xyz.mp4"}, "xyz.mp4": {"label": "REAL", ...}}

A fake is grouped with the real video it was made from, so the two never straddle the split.
"""

from __future__ import annotations

import json
from pathlib import Path

from ml.datasets.base import FAKE, REAL, Item
from ml.errors import MediaError


def _metadata_files(root: Path) -> list[Path]:
    return sorted(root.rglob("metadata.json"))


def matches(root: Path) -> bool:
    return bool(_metadata_files(root))


def load(root: Path, **_options) -> list[Item]:
    items = []
    for meta_path in _metadata_files(root):
        try:
            metadata = json.loads(meta_path.read_text())
        except (OSError, ValueError) as exc:
            raise MediaError(f"{meta_path} is not valid JSON: {exc}") from exc
        folder = meta_path.parent
        for filename, entry in sorted(metadata.items()):
            path = folder / filename
            if not path.is_file():
                continue  # parts of DFDC are often downloaded partially
            label = FAKE if str(entry.get("label", "")).upper() == "FAKE" else REAL
            source = Path(entry.get("original") or filename).stem
            subset = "test" if entry.get("split") == "test" else "train"
            items.append(
                Item(
                    path=path,
                    label=label,
                    source_id=source,
                    group=source,
                    subset=subset,
                )
            )
    return items
