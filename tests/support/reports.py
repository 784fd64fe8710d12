"""Reports as the analysis job stores them, without running the science."""

from __future__ import annotations

from ml.verdict.report import Report


def report_dict(verdict: str = "real", probability: float | None = 0.1, **extra) -> dict:
    """An image Report's JSON with the given verdict; `extra` sets any other Report field."""
    return Report(
        media_type="image",
        verdict=verdict,
        fake_probability=probability,
        reasons=[f"Test verdict {verdict}."],
        version="test-1",
        **extra,
    ).to_dict()
