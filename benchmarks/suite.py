"""The benchmark suite: whole analyses through `ml.analyze` as the worker runs them, against a
naive reference measured in the same run, and writes docs/performance.md.

Usage: benchmarks/run [--quick | --headline | --image-detectors] [--gpu] [--installed | --models-root DIR] [FILE ...]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import machine
from benchmarks.child import ROOT, ScenarioFailed, run_child
from benchmarks.clips import two_person_clip
from benchmarks.models import (
    image_detector_spec,
    installed_options,
    options_from_root,
    timing_options,
    timing_spec,
)

DEFAULT_CACHE = Path("/tmp/deepfake-bench")


@dataclass(frozen=True)
class Plan:
    quick: bool
    headline_only: bool = False  # the headline analysis and the Grad-CAM cost alone
    image_only: bool = False  # the whole-image detectors alone
    gpu: bool = False  # with image_only: the analyses run where TensorFlow sees a GPU
    headline_s: float = 10.0
    headline_size: tuple[int, int] = (1280, 720)
    long_s: float = 30.0
    long_size: tuple[int, int] = (1920, 1080)
    lead_arch: str = "efficientnet_b7"  # the headline classifier
    other_archs: tuple[str, ...] = ("efficientnet_b0", "meso4", "efficientnet_lstm")
    runs: int = 2  # analyses of the headline clip in one process: 1 cold, then warm
    batches: tuple[int, ...] = (1, 8, 16, 32)
    throughput_crops: int = 8
    throughput_repeats: int = 2
    heatmap_faces: int = 2  # the headline clip's two people
    naive_frames: int = 32
    naive_arch: str = "efficientnet_b7"
    naive_size: int = 600
    # Whole-image detectors (converter names), full size through ml.analyze: a face-free image
    # (1 cold and 2 warm runs) and the headline clip with the lead model (default 8 frames).
    image_detectors: tuple[str, ...] = ("commfor", "ufd")
    image_runs: int = 3


# A smoke run: every step once, on a short clip with the smallest network.
QUICK = Plan(
    quick=True,
    headline_s=2.0,
    long_s=0.0,
    lead_arch="meso4",
    other_archs=(),
    runs=2,
    batches=(1, 8),
    throughput_crops=8,
    throughput_repeats=1,
    naive_frames=2,
    naive_arch="meso4",
    naive_size=256,
    image_detectors=("commfor",),
    image_runs=2,
)


def _step(label: str, name: str, **kwargs: Any) -> dict[str, Any]:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {label} ...", flush=True)
    try:
        result = run_child(name, **kwargs)
    except ScenarioFailed as exc:
        print(f"  FAILED: {exc}", flush=True)
        return {"error": str(exc).splitlines()[0]}
    print(f"  {json.dumps(result)[:400]}", flush=True)
    return result


def _lead_spec(options: dict[str, Any], plan: Plan, cache: Path) -> dict[str, Any]:
    """The frame model whose throughput and FLOP floor are measured: the first in use."""
    return options["models"][0] if options["models"] else timing_spec(plan.lead_arch, cache)


def _analysis(results: dict, key: str, label: str, **kwargs: Any) -> None:
    results[key] = _step(label, "analysis", **kwargs)


def _export(r: dict, spec: dict) -> None:
    """The model's LiteRT export made before its analyses, so their load is the worker's usual
    one and the one-time export is reported apart."""
    arch = spec["card"]["arch"]
    r.setdefault("exports", {})[arch] = _step(f"LiteRT export of {arch}", "export", spec=spec)


def _headline_analysis(results: dict, plan: Plan, options: dict, clip: Path) -> None:
    _analysis(
        results,
        "headline",
        "headline clip, worker's models, repeated in one process",
        path=str(clip),
        options=options,
        runs=plan.runs,
        gpu=plan.gpu,
    )


def _heatmap_cost(plan: Plan, lead: dict) -> dict:
    return _step(
        "Grad-CAM cost",
        "heatmap_cost",
        spec=lead,
        faces=plan.heatmap_faces,
    )


def _family_analyses(r: dict, plan: Plan, clip: Path, cache: Path) -> None:
    """Every other model family once through ml.analyze, full size."""
    for arch in plan.other_archs:
        options = timing_options([arch], cache)
        for spec in options["models"]:
            _export(r, spec)
        _analysis(
            r["analyses"],
            arch,
            f"headline clip, {arch} full size (timing only)",
            path=str(clip),
            options=options,
            runs=1,
        )


def face_free_image(cache: Path) -> Path:
    """A 1024×768 PNG with no face: smooth colour ramps and noise (a camera-sized image)."""
    import cv2
    import numpy as np

    path = cache / "face-free-1024x768.png"
    if not path.is_file():
        ys, xs = np.mgrid[0:768, 0:1024]
        noise = np.random.default_rng(0).integers(0, 24, (768, 1024, 3))
        rgb = np.stack([xs * 255 // 1023, ys * 255 // 767, (xs + ys) % 256], axis=-1) + noise
        cv2.imwrite(str(path), cv2.cvtColor(rgb.clip(0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    return path


def image_detector_analyses(r: dict, plan: Plan, clip: Path, lead: dict, cache: Path) -> None:
    """Each whole-image detector alone on a face-free image (seconds per image), then beside
    the lead frame model on the headline clip (what its frames add to a video)."""
    image = face_free_image(cache)
    for kind in plan.image_detectors:
        spec = image_detector_spec(kind, cache)
        _analysis(
            r["analyses"],
            f"face-free image, {kind} full size (timing only)",
            f"face-free 1024x768 image, {kind} full size",
            path=str(image),
            options={"models": [], "temporal_models": [], "image_models": [spec]},
            runs=plan.image_runs,
            gpu=plan.gpu,
        )
        _analysis(
            r["analyses"],
            f"headline clip + {kind} (timing only)",
            f"headline clip, lead model and {kind} on its frames",
            path=str(clip),
            options={"models": [lead], "temporal_models": [], "image_models": [spec]},
            runs=2,
            gpu=plan.gpu,
        )


def measure(plan: Plan, options: dict, source: str, files: list[str], cache: Path) -> dict:
    """Every step in a child process, the most telling first; results.json in the cache
    folder is rewritten after each step, so an interrupted run still leaves its numbers."""
    started = datetime.now(UTC)
    r: dict[str, Any] = {
        "plan": asdict(plan),
        "models_source": source,
        "machine": machine.describe(),
        "load_start": machine.load_average(),
        "started": started.isoformat(timespec="seconds"),
        "command": "benchmarks/run " + shlex.join(sys.argv[1:]),
        "analyses": {},
        "files": {},
    }

    def checkpoint() -> None:
        r["load_end"] = machine.load_average()
        r["minutes"] = round((datetime.now(UTC) - started).total_seconds() / 60, 1)
        (cache / "results.json").write_text(json.dumps(r, indent=2))

    headline = two_person_clip(
        cache, seconds=plan.headline_s, size=plan.headline_size, name="two-person"
    )
    lead = _lead_spec(options, plan, cache)
    for spec in options["models"]:
        _export(r, spec)
    _headline_analysis(r["analyses"], plan, options, headline)
    checkpoint()
    if plan.image_only:
        image_detector_analyses(r, plan, headline, lead, cache)
        checkpoint()
        return r
    if plan.headline_only:
        r["heatmaps"] = _heatmap_cost(plan, lead)
        checkpoint()
        return r
    r["tracking"] = _step("face tracking rate, headline clip", "tracking", path=str(headline))
    r["floor"] = _step(
        "FLOPs per face and SGEMM rate",
        "floor",
        arch=lead["card"]["arch"],
        input_size=lead["card"]["input_size"],
    )
    checkpoint()
    r["throughput"] = _step(
        "classifier throughput by batch size",
        "throughput",
        spec=lead,
        batches=list(plan.batches),
        crops=plan.throughput_crops,
        repeats=plan.throughput_repeats,
    )
    r["heatmaps"] = _heatmap_cost(plan, lead)
    checkpoint()
    r["naive"] = _step(
        "naive reference",
        "naive",
        path=str(headline),
        frames=plan.naive_frames,
        arch=plan.naive_arch,
        input_size=plan.naive_size,
    )
    checkpoint()
    if not plan.quick:
        r["cold_cli"] = _step(
            "cold CLI analysis with the export made at install; seven B7s", "cold_cli"
        )
        checkpoint()
    _family_analyses(r, plan, headline, cache)
    checkpoint()
    image_detector_analyses(r, plan, headline, lead, cache)
    checkpoint()
    if plan.long_s:
        print(f"writing a {plan.long_s:g} s clip ...", flush=True)
        long_clip = two_person_clip(
            cache, seconds=plan.long_s, size=plan.long_size, name="two-person"
        )
        _analysis(
            r["analyses"],
            "long",
            "long clip, worker's models",
            path=str(long_clip),
            options=options,
            runs=1,
        )
        checkpoint()
    for path in files:
        _analysis(r["files"], path, path, path=path, options=options, runs=2)
        checkpoint()
    return r


def gpu_benchmark(cache: Path) -> int:
    """B7 at 380 px, batch 64: built under fp16 and bf16, then the worker's own path."""
    probe = run_child("gpu_probe", gpu=True)
    if not probe["gpus"]:
        print("No GPU visible to TensorFlow on this machine: nothing to measure.")
        return 2
    rates = {}
    for policy in ("mixed_float16", "mixed_bfloat16"):
        result = _step(
            f"B7 380 px built under {policy}, batch 64",
            "gpu_throughput",
            gpu=True,
            policy=policy,
            batch=64,
            batches=20,
            repeats=3,
        )
        rates[policy] = result.get("faces_per_s")
    result = _step(
        "B7 380 px, saved float32 model through FrameClassifier (the worker's path)",
        "gpu_worker_path",
        gpu=True,
        spec=timing_spec("efficientnet_b7", cache),
        crops=640,
        repeats=3,
    )
    rates["worker path"] = result.get("faces_per_s")
    result = _step(
        "dfdc-b7's seven B7 members at 380 px under mixed_float16, batch 32 fed to all seven",
        "gpu_ensemble",
        gpu=True,
        policy="mixed_float16",
        members=7,
        batch=32,
        batches=10,
        repeats=3,
    )
    print(f"seven-member ensemble: {result.get('faces_per_s')} faces/s, each scored by all seven")
    for name, rate in rates.items():
        met = "n/a" if rate is None else ("meets" if rate >= 1000 else "misses")
        print(f"{name}: {rate} faces/s ({met} the 1000 faces/s target)")
    return 0


def _options(args: argparse.Namespace, plan: Plan, cache: Path) -> tuple[dict, str]:
    if args.installed:
        return installed_options(), "the registry's active models"
    if args.models_root:
        return options_from_root(Path(args.models_root)), f"models under {args.models_root}"
    archs = [plan.lead_arch]
    return timing_options(archs, cache), "full-size, random weights: timing only"


def main() -> int:
    from benchmarks.report import render

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", help="also analyse these files")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--quick", action="store_true", help="smoke run, 2-3 minutes")
    scope.add_argument(
        "--headline",
        action="store_true",
        help="only the headline analysis and the Grad-CAM cost (page to stdout)",
    )
    scope.add_argument(
        "--image-detectors",
        action="store_true",
        help="only the headline analysis and the whole-image detectors (page to stdout)",
    )
    parser.add_argument(
        "--gpu",
        action="store_true",
        help="B7 faces/s on a GPU only; with --image-detectors, those analyses on the GPU",
    )
    models = parser.add_mutually_exclusive_group()
    models.add_argument("--installed", action="store_true", help="the registry's active models")
    models.add_argument("--models-root", help="the models under this folder")
    parser.add_argument("--long-seconds", type=float, help="long clip length (0: none)")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="clips and built models")
    parser.add_argument(
        "--render-from", help="write the page from a results.json instead of measuring"
    )
    parser.add_argument("--out", help="markdown page (default docs/performance.md; quick: stdout)")
    args = parser.parse_args()
    if args.gpu and not args.image_detectors:
        return gpu_benchmark(Path(args.cache))
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    plan = (
        QUICK
        if args.quick
        else Plan(
            quick=False,
            headline_only=args.headline,
            image_only=args.image_detectors,
            gpu=args.gpu and args.image_detectors,
        )
    )
    if args.long_seconds is not None:
        plan = Plan(**{**asdict(plan), "long_s": args.long_seconds})
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    if args.render_from:
        results = json.loads(Path(args.render_from).read_text())
    else:
        files = [str(Path(f).resolve()) for f in args.files]
        options, source = _options(args, plan, cache)
        results = measure(plan, options, source, files, cache)
    partial = plan.quick or plan.headline_only or plan.image_only
    out = args.out or (None if partial else str(ROOT / "docs" / "performance.md"))
    existing = Path(out).read_text() if out and Path(out).is_file() else ""
    page = render(results, existing)
    if out:
        Path(out).write_text(page)
        print(f"wrote {out}")
    else:
        print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
