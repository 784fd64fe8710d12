"""Closures longer than a blink: listed in the report as (start, length), named once in words."""

from __future__ import annotations

import numpy as np

from ml.signals import blink as blinks


def series(seconds: float, closures, fps: int = 30):
    times = np.arange(round(seconds * fps)) / fps
    ears = 0.3 + np.random.default_rng(1).normal(0, 0.01, len(times))
    for middle, duration in closures:
        ears[np.abs(times - middle) < duration / 2] = 0.1
    return times, ears


NORMAL_BLINKS = [(t + 0.5, 0.2) for t in range(1, 29, 3)]


def test_one_long_closure_is_named_with_its_time():
    found = blinks.detect_blinks(*series(30, [*NORMAL_BLINKS, (12, 1.5)]))
    assert found.code == "blink.long_closure"
    (start, length), *more = found.long_closures
    assert not more and abs(length - 1.5) < 0.15 and abs(start - 11.25) < 0.15
    assert f"({length:.1f} s at {start:.1f} s)" in found.message


def test_several_long_closures_are_counted_in_words_and_listed_in_the_report():
    found = blinks.detect_blinks(*series(30, [*NORMAL_BLINKS, (12, 1.5), (20.2, 2.4)]))
    assert [round(length) for _, length in found.long_closures] == [2, 2]
    assert "longer than a blink 2 times (the longest 2.4 s)" in found.message
