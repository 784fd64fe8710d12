"""Celeb-DF v2 (Li et al., CVPR 2020):

    Celeb-real/id0_0000.mp4        real, celebrity id0
    YouTube-real/00000.mp4         real, unknown person
    Celeb-synthesis/id0_id16_0000.mp4   fake: video id0_0000 with the face of id16
    List_of_testing_videos.txt     lines "<1 real | 0 fake> <folder>/<file>": the official test set

Videos in the official test list are reserved (subset "test") and never used for training or
validation. Items are grouped by the person shown in the target video.
"""

from __future__ import annotations

from pathlib import Path

from ml.datasets.base import FAKE, REAL, Item

FOLDERS = {"Celeb-real": REAL, "YouTube-real": REAL, "Celeb-synthesis": FAKE}
TEST_LIST = "List_of_testing_videos.txt"


def matches(root: Path) -> bool:
    return (root / "Celeb-real").is_dir() and (root / "Celeb-synthesis").is_dir()


def _test_set(root: Path) -> set[str]:
    path = root / TEST_LIST
    if not path.is_file():
        return set()
    return {line.split()[-1] for line in path.read_text().splitlines() if line.strip()}


def load(root: Path, **_options) -> list[Item]:
    reserved = _test_set(root)
    items = []
    for folder, label in FOLDERS.items():
        for path in sorted((root / folder).glob("*.mp4")):
            parts = path.stem.split("_")
            if folder == "YouTube-real":
                identity, source = None, f"yt{path.stem}"
            elif folder == "Celeb-real":
                identity, source = parts[0], path.stem
            else:  # idT_idS_NNNN: the target video is idT_NNNN
                identity, source = parts[0], f"{parts[0]}_{parts[-1]}"
            subset = "test" if f"{folder}/{path.name}" in reserved else "train"
            items.append(
                Item(
                    path=path,
                    label=label,
                    source_id=source,
                    identity=identity,
                    group=identity or source,
                    subset=subset,
                )
            )
    return items
