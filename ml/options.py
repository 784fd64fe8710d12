"""The options of an analysis, defined once: defaults and the bounds each entry point accepts.

`ml.analyze` accepts the widest range (the command line may ask for it); the upload form and
the API offer a narrower one, so that one upload's run time stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    """An inclusive range of accepted values."""

    low: int | float
    high: int | float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low:g}-{self.high:g}"


DEFAULT_FRAMES = 32  # as the DFDC winner and SBI score videos
DEFAULT_SCAN_FPS = 15.0  # dense enough for blinks of 100 ms and more

FRAMES = Bounds(1, 300)  # what ml.analyze and the command line accept
UPLOAD_FRAMES = Bounds(4, 128)  # what the upload form and the API offer
SCAN_FPS = Bounds(15.0, 60.0)  # blinks need at least 15

DEFAULTS = {"frames": DEFAULT_FRAMES, "scan_fps": DEFAULT_SCAN_FPS}
