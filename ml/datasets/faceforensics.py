"""FaceForensics++ (Rössler et al., ICCV 2019) as its download script lays it out:

    original_sequences/youtube/<compression>/videos/000.mp4
    manipulated_sequences/<method>/<compression>/videos/000_003.mp4   (target 000, source 003)

Fakes come in swapped pairs (000_003 and 003_000), so a pair of people is one group: neither face
of a pair is seen in training when it is held out, as in the official split.
"""

from __future__ import annotations

from pathlib import Path

from ml.datasets.base import FAKE, REAL, Item
from ml.errors import MediaError

METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter")
COMPRESSIONS = ("raw", "c23", "c40")


def matches(root: Path) -> bool:
    return (root / "original_sequences").is_dir() and (root / "manipulated_sequences").is_dir()


def _videos(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.mp4")) if folder.is_dir() else []


def load(
    root: Path,
    *,
    methods: tuple[str, ...] | list[str] | None = None,
    compression: str = "c23",
    **_options,
) -> list[Item]:
    if compression not in COMPRESSIONS:
        raise MediaError(
            f"Unknown FaceForensics++ compression {compression!r}; use raw, c23 or c40."
        )
    methods = tuple(methods or METHODS)
    fakes: list[tuple[Path, str, str]] = []
    for method in methods:
        for path in _videos(root / "manipulated_sequences" / method / compression / "videos"):
            target, _, source = path.stem.partition("_")
            fakes.append((path, target, source))
    partner = {t: s for _, t, s in fakes} | {s: t for _, t, s in fakes}

    def pair(person: str) -> str:
        return "+".join(sorted({person, partner.get(person, person)}))

    items = [
        Item(path=p, label=REAL, source_id=p.stem, identity=p.stem, group=pair(p.stem))
        for p in _videos(root / "original_sequences" / "youtube" / compression / "videos")
    ]
    items += [
        Item(path=p, label=FAKE, source_id=target, identity=target, group=pair(target))
        for p, target, _ in fakes
    ]
    return items
