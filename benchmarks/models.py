"""The models an analysis is benchmarked with, as `ml.analyze` options.

Either the installed ones (the registry's active models, exactly what the worker passes, or the
cards found under a models folder), or full-size architectures built with random weights. Those
are for timing and memory only: speed does not depend on the weights, and such a model never
scores a user's file. Built models are kept in a cache folder between runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.support.fullsize import B7_CARD

TIMING_VERSION = "random-weights"
TEMPORAL_SEQUENCE = 16  # ml.models.archs.temporal.FRAMES


def build_model(arch: str, path: str, input_size: int | None = None) -> dict[str, Any]:
    """Child side: build `arch` full-size with random weights, save it, return its card."""
    from ml.models.archs import get_arch

    spec = get_arch(arch)
    size = input_size or spec.input_size
    spec.build(input_size=size, init="none").save(path)
    card = {
        **B7_CARD,
        "name": f"{arch}-{size}-timing-only",
        "version": TIMING_VERSION,
        "arch": arch,
        "kind": spec.kind,
        "input_size": size,
        "preprocessing": spec.preprocessing,
    }
    if spec.kind == "temporal":
        card["sequence_length"] = TEMPORAL_SEQUENCE
    return {"card": card}


def build_image_detector(kind: str, path: str) -> dict[str, Any]:
    """Child side: a full-size whole-image detector (`commfor`, `ufd`), random weights."""
    from tests.support.fullsize import build_image_detector as build

    return {"card": build(kind, path)}


def image_detector_spec(kind: str, cache: Path) -> dict[str, Any]:
    """A ModelSpec dict for a timing-only whole-image detector, built (in a child) if missing."""
    from benchmarks.child import run_child
    from ml.models.cards import card_path_for

    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"image-{kind}.keras"
    if not (path.is_file() and card_path_for(path).is_file()):
        print(f"  building the {kind} image detector (random weights) ...", flush=True)
        run_child("build_image_detector", kind=kind, path=str(path))
    return asdict(_spec(path, json.loads(card_path_for(path).read_text())))


def timing_spec(arch: str, cache: Path, input_size: int | None = None) -> dict[str, Any]:
    """A ModelSpec dict for a timing-only `arch`, building (in a child) what the cache lacks."""
    from benchmarks.child import run_child
    from ml.models.cards import card_path_for

    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{arch}-{input_size or 'default'}.keras"
    card_file = card_path_for(path)
    if not (path.is_file() and card_file.is_file()):
        print(f"  building {arch} (random weights) ...", flush=True)
        card = run_child("build_model", arch=arch, path=str(path), input_size=input_size)["card"]
        card_file.write_text(json.dumps(card, indent=2))
    return asdict(_spec(path, json.loads(card_file.read_text())))


def _spec(path: Path, card: dict[str, Any]):
    """The ModelSpec the registry would hand the worker for this file and card."""
    from ml.models.cards import ModelSpec
    from ml.models.checksum import file_sha256

    return ModelSpec(
        name=card["name"],
        version=card["version"],
        sha256=file_sha256(path),
        path=str(path),
        card=card,
        weight=float(card.get("ensemble_weight", 1.0)),
    )


def timing_options(archs: list[str], cache: Path) -> dict[str, list[dict[str, Any]]]:
    """ml.analyze options for timing-only models: frame archs as one ensemble, temporal apart."""
    specs = [timing_spec(arch, cache) for arch in archs]
    return {
        "models": [s for s in specs if s["card"]["kind"] == "frame"],
        "temporal_models": [s for s in specs if s["card"]["kind"] == "temporal"],
    }


def installed_options() -> dict[str, list[dict[str, Any]]]:
    """The registry's active models, through the function the worker uses."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deepfake_site.settings")
    django.setup()
    from detector.selectors import model_options

    return model_options()


def options_from_root(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Every model under a models folder (`NAME/VERSION/NAME.keras` + card), without the
    database: frame models as one ensemble, weighted by their cards' ensemble_weight."""
    from ml.models.cards import card_path_for

    options: dict[str, list[dict[str, Any]]] = {"models": [], "temporal_models": []}
    for path in sorted(root.glob("**/*.keras")):
        card_file = card_path_for(path)
        if not card_file.is_file():
            continue
        card = json.loads(card_file.read_text())
        spec = _spec(path, card)
        key = "temporal_models" if card.get("kind") == "temporal" else "models"
        options[key].append(asdict(spec))
    return options
