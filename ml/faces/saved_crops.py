"""The crops the models scored, handed out of an analysis and written where a researcher can see
them: one PNG per crop and `crops.json` (its schema: docs/crops.schema.json).

`ml.analyze(..., crops=sink)` calls `sink` once per crop each model scored; `CropFolder` is a
sink that writes them (`manage.py analyze FILE --save-crops DIR`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from ml.faces.framing import Crop

INDEX = "crops.json"


@dataclass(frozen=True)
class ScoredCrop:
    """One crop one model scored: whose, where in the media, and where in the frame."""

    model: str
    version: str
    person: int  # the Report's track_id
    frame_index: int  # the decoded frame's index from 0
    time_s: float
    framing: str  # the model's framing, in words
    crop: Crop

    def entry(self, file: str) -> dict[str, Any]:
        """Its crops.json entry, naming its PNG file."""
        return {
            "file": file,
            "model": self.model,
            "version": self.version,
            "person": self.person,
            "frame_index": self.frame_index,
            "time_s": round(self.time_s, 3),
            "crop_box": [int(v) for v in self.crop.box],
            "size": int(self.crop.pixels.shape[0]),
            "framing": self.framing,
            "approximate_framing": self.crop.approximate,
        }


CropSink = Callable[[ScoredCrop], None]


class CropFolder:
    """Writes each crop handed to it as a PNG in `folder`, and `crops.json` on `close()`."""

    def __init__(self, folder: str | Path) -> None:
        """Raises ValueError, with a one-line reason, for a folder it cannot write to."""
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot create the folder {folder}: {exc.strerror}") from exc
        if (self.folder / INDEX).exists():
            raise ValueError(f"{folder} already holds saved crops ({INDEX}); choose another folder")
        self.entries: list[dict[str, Any]] = []

    def __call__(self, scored: ScoredCrop) -> None:
        name = (
            f"{_safe(scored.model)}-{_safe(scored.version)}_person{scored.person}"
            f"_frame{scored.frame_index:06d}.png"
        )
        bgr = cv2.cvtColor(scored.crop.pixels, cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(self.folder / name), bgr):
            raise OSError(f"cannot write {self.folder / name}")
        self.entries.append(scored.entry(name))

    def close(self) -> Path:
        """Write crops.json, the list of every crop written; returns its path."""
        path = self.folder / INDEX
        path.write_text(json.dumps(self.entries, indent=1))
        return path


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", text) or "model"
