"""The analysis options are defined once (ml/options.py) and the pipeline enforces them."""

from __future__ import annotations

import pytest

from ml import pipeline
from ml.options import (
    DEFAULT_FRAMES,
    DEFAULT_SCAN_FPS,
    DEFAULTS,
    FRAMES,
    SCAN_FPS,
    UPLOAD_FRAMES,
    Bounds,
)


def test_bounds_include_both_ends_and_nothing_beyond():
    bounds = Bounds(4, 128)
    assert 4 in bounds and 128 in bounds
    assert 3 not in bounds and 129 not in bounds
    assert str(bounds) == "4-128"


def test_what_users_may_ask_for_is_what_the_pipeline_accepts():
    assert FRAMES.low <= UPLOAD_FRAMES.low and UPLOAD_FRAMES.high <= FRAMES.high
    assert DEFAULT_FRAMES in UPLOAD_FRAMES
    assert DEFAULT_SCAN_FPS in SCAN_FPS


def test_the_pipeline_takes_its_defaults_from_the_options():
    options = pipeline._options({})
    assert {key: options[key] for key in DEFAULTS} == DEFAULTS


@pytest.mark.parametrize(
    ("options", "accepted"),
    [
        ({"frames": FRAMES.low}, True),
        ({"frames": FRAMES.high}, True),
        ({"frames": FRAMES.low - 1}, False),
        ({"frames": FRAMES.high + 1}, False),
        ({"scan_fps": SCAN_FPS.high}, True),
        ({"scan_fps": SCAN_FPS.low - 1}, False),
        ({"scan_fps": SCAN_FPS.high + 1}, False),
    ],
)
def test_the_pipeline_enforces_the_bounds(options, accepted):
    if accepted:
        assert pipeline._options(options)[next(iter(options))] == next(iter(options.values()))
    else:
        with pytest.raises(ValueError, match="must be between"):
            pipeline._options(options)
