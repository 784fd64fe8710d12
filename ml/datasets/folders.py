"""The simplest layout: DIR/real/… and DIR/fake/… (optional) holding images or videos, nested freely.

A file directly in real/ or fake/ is its own source; files inside a sub-folder (e.g. the frames
of one video, or the photos of one person) share that sub-folder as their group.
"""

from __future__ import annotations

from pathlib import Path

from ml.datasets.base import FAKE, REAL, Item, media_files


def matches(root: Path) -> bool:
    # fake/ may be missing: training with self-blended pseudo-fakes needs real faces only.
    return (root / "real").is_dir()


def load(root: Path, **_options) -> list[Item]:
    items = []
    for label, folder in ((REAL, root / "real"), (FAKE, root / "fake")):
        if not folder.is_dir():
            continue
        for path in media_files(folder):
            rel = path.relative_to(folder)
            source = rel.parts[0] if len(rel.parts) > 1 else rel.stem
            source_id = f"{folder.name}/{source}"
            items.append(Item(path=path, label=label, source_id=source_id, group=source_id))
    return items
