"""The options of an analysis, defined once: defaults, the bounds each entry point accepts, and
the one type that carries them (`AnalysisOptions`).

`ml.analyze` accepts the widest range (the command line may ask for it); the upload form and
the API offer a narrower one, so that one upload's run time stays bounded.

The user's options and the models an analysis scores with travel apart: the user chooses
`frames` and `scan_fps` (stored with the analysis), the platform chooses the installed models
(`ModelSpecs`) at run time, so a re-analysis scores with the models active then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ml.models.cards import ModelSpec


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
DEFAULT_GENERATED_FRAMES = 8  # video frames each whole-image detector scores

FRAMES = Bounds(1, 300)  # what ml.analyze and the command line accept
UPLOAD_FRAMES = Bounds(4, 128)  # what the upload form and the API offer
SCAN_FPS = Bounds(15.0, 60.0)  # blinks need at least 15
GENERATED_FRAMES = Bounds(1, 64)  # whole frames are kept in memory until scored

DEFAULTS = {
    "frames": DEFAULT_FRAMES,
    "scan_fps": DEFAULT_SCAN_FPS,
    "generated_frames": DEFAULT_GENERATED_FRAMES,
}


@dataclass(frozen=True)
class AnalysisOptions:
    """What the user may choose about one analysis; valid once built (ValueError otherwise)."""

    frames: int = DEFAULT_FRAMES
    scan_fps: float = DEFAULT_SCAN_FPS
    generated_frames: int = DEFAULT_GENERATED_FRAMES

    def __post_init__(self) -> None:
        # Stored JSON and form data may hold numbers as text or floats: normalise, then check.
        object.__setattr__(self, "frames", int(self.frames))
        object.__setattr__(self, "scan_fps", float(self.scan_fps))
        object.__setattr__(self, "generated_frames", int(self.generated_frames))
        if self.generated_frames not in GENERATED_FRAMES:
            raise ValueError(f"generated_frames must be between {GENERATED_FRAMES}")
        if self.frames not in FRAMES:
            raise ValueError(f"frames must be between {FRAMES.low:g} and {FRAMES.high:g}")
        if self.scan_fps not in SCAN_FPS:
            raise ValueError(
                f"scan_fps must be between {SCAN_FPS.low:g} and {SCAN_FPS.high:g} "
                "(blinks need at least 15)"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AnalysisOptions:
        """The options in a stored, submitted or legacy dict; absent or empty ones take their
        defaults. Other entries (an upload's file, the model specs) are not options."""
        data = data or {}
        given = {name: data[name] for name in DEFAULTS if data.get(name) is not None}
        return cls(**given)

    def to_dict(self) -> dict[str, Any]:
        """The shape stored in `Analysis.options` and written in the Report's `options`."""
        return {
            "frames": self.frames,
            "scan_fps": self.scan_fps,
            "generated_frames": self.generated_frames,
        }


@dataclass(frozen=True)
class ModelSpecs:
    """The installed models one analysis scores with: frame classifiers, temporal models and
    whole-image detectors."""

    frame: list[ModelSpec] = field(default_factory=list)
    temporal: list[ModelSpec] = field(default_factory=list)
    image: list[ModelSpec] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ModelSpecs:
        """From the "models", "temporal_models" and "image_models" entries (ModelSpecs or their dicts), the
        shape `detector.selectors.model_options` gives and older callers of ml.analyze pass."""
        data = data or {}
        return cls(
            frame=_specs(data.get("models")),
            temporal=_specs(data.get("temporal_models")),
            image=_specs(data.get("image_models")),
        )

    def sha256s(self) -> list[str]:
        """The face models a policy card is calibrated for; whole-image detectors are judged
        against their own cards' thresholds, so they do not change which card applies."""
        return [spec.sha256 for spec in (*self.frame, *self.temporal)]


def _specs(items: list[Any] | None) -> list[ModelSpec]:
    return [s if isinstance(s, ModelSpec) else ModelSpec.from_dict(s) for s in items or []]
