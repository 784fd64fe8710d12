"""The analysis options are defined once (ml/options.py) and the pipeline enforces them."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ml import pipeline
from ml.models.cards import ModelSpec
from ml.options import (
    DEFAULT_FRAMES,
    DEFAULT_SCAN_FPS,
    DEFAULTS,
    FRAMES,
    GENERATED_FRAMES,
    SCAN_FPS,
    UPLOAD_FRAMES,
    AnalysisOptions,
    Bounds,
    ModelSpecs,
)

SPEC = ModelSpec(name="tiny", version="1", sha256="ab" * 32, path="/models/tiny.keras")


def test_bounds_include_both_ends_and_nothing_beyond():
    bounds = Bounds(4, 128)
    assert 4 in bounds and 128 in bounds
    assert 3 not in bounds and 129 not in bounds
    assert str(bounds) == "4-128"


def test_what_users_may_ask_for_is_what_the_pipeline_accepts():
    assert FRAMES.low <= UPLOAD_FRAMES.low and UPLOAD_FRAMES.high <= FRAMES.high
    assert DEFAULT_FRAMES in UPLOAD_FRAMES
    assert DEFAULT_SCAN_FPS in SCAN_FPS


def test_the_options_take_their_defaults_from_one_place():
    assert AnalysisOptions().to_dict() == DEFAULTS
    assert AnalysisOptions.from_dict({}).to_dict() == DEFAULTS
    assert AnalysisOptions.from_dict(None) == AnalysisOptions()


@pytest.mark.parametrize(
    ("options", "accepted"),
    [
        ({"frames": FRAMES.low}, True),
        ({"frames": FRAMES.high}, True),
        ({"frames": FRAMES.low - 1}, False),
        ({"frames": FRAMES.high + 1}, False),
        ({"scan_fps": SCAN_FPS.low}, True),
        ({"scan_fps": SCAN_FPS.high}, True),
        ({"scan_fps": SCAN_FPS.low - 1}, False),
        ({"scan_fps": SCAN_FPS.high + 1}, False),
        ({"generated_frames": GENERATED_FRAMES.low}, True),
        ({"generated_frames": GENERATED_FRAMES.high}, True),
        ({"generated_frames": GENERATED_FRAMES.low - 1}, False),
        ({"generated_frames": GENERATED_FRAMES.high + 1}, False),
    ],
)
def test_the_options_enforce_the_bounds(options, accepted):
    ((name, value),) = options.items()
    if accepted:
        assert getattr(AnalysisOptions(**options), name) == value
        assert AnalysisOptions.from_dict(options).to_dict()[name] == value
    else:
        with pytest.raises(ValueError, match=f"^{name} must be between"):
            AnalysisOptions.from_dict(options)


def test_the_messages_name_the_bounds():
    with pytest.raises(
        ValueError, match=f"^frames must be between {FRAMES.low} and {FRAMES.high}$"
    ):
        AnalysisOptions(frames=0)
    with pytest.raises(ValueError, match=r"^scan_fps must be between 15 and 60 \(blinks need"):
        AnalysisOptions(scan_fps=10)


def test_values_as_text_or_floats_become_numbers():
    options = AnalysisOptions.from_dict({"frames": "16", "scan_fps": 30})
    assert (options.frames, options.scan_fps) == (16, 30.0)
    assert type(options.frames) is int and type(options.scan_fps) is float


def test_a_round_trip_through_stored_json_gives_the_same_options():
    options = AnalysisOptions(frames=16, scan_fps=30.0)
    stored = json.loads(json.dumps(options.to_dict()))
    assert stored == {"frames": 16, "scan_fps": 30.0, "generated_frames": 8}
    assert AnalysisOptions.from_dict(stored) == options


def test_empty_entries_and_other_keys_are_not_options():
    given = {"frames": None, "file": "clip.mp4", "models": [dataclasses.asdict(SPEC)]}
    assert AnalysisOptions.from_dict(given) == AnalysisOptions()


def test_options_cannot_change_once_valid():
    with pytest.raises(dataclasses.FrozenInstanceError):
        AnalysisOptions().frames = 0  # type: ignore[misc]


def test_model_specs_read_dicts_or_specs_by_kind():
    models = ModelSpecs.from_dict(
        {"models": [dataclasses.asdict(SPEC)], "temporal_models": [SPEC], "frames": 8}
    )
    assert models.frame == [SPEC] and models.temporal == [SPEC]
    assert models.sha256s() == [SPEC.sha256, SPEC.sha256]
    assert ModelSpecs.from_dict(None) == ModelSpecs()


def test_the_pipeline_keeps_the_users_options_apart_from_the_models():
    # The dict older callers pass holds both; the pipeline splits it.
    options, models = pipeline._options({"frames": 8, "models": [SPEC]}, None)
    assert options == AnalysisOptions(frames=8) and models == ModelSpecs(frame=[SPEC])
    # Options and models given apart stay apart.
    options, models = pipeline._options(AnalysisOptions(frames=8), ModelSpecs(temporal=[SPEC]))
    assert options == AnalysisOptions(frames=8) and models == ModelSpecs(temporal=[SPEC])
    assert pipeline._options(None, None) == (AnalysisOptions(), ModelSpecs())


def test_the_pipeline_refuses_options_out_of_bounds():
    with pytest.raises(ValueError, match="frames must be between"):
        pipeline._options({"frames": FRAMES.high + 1}, None)
