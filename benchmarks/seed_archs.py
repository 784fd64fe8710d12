"""The seed projects' architectures at full size through `ml.analyze`: seconds and peak memory.

    .venv/bin/python -m benchmarks.seed_archs [--out var/benchmarks/seed-archs.json]

Each architecture is built once with random weights (timing only: speed does not depend on the
weights) and installed as the worker would hand it over; a fresh process then analyses a 4 s,
two-person 640x360 clip twice (the first run loads the model) with that one model. Also printed:
parameters and FLOPs per frame (TensorFlow's profiler, batch 1; for a temporal model one frame
through the CNN and one step of the recurrent layers). CPU only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.child import run_child
from benchmarks.clips import two_person_clip
from benchmarks.models import TEMPORAL_SEQUENCE, timing_spec

ARCHS = ("lenet", "minivggnet", "resnet_small", "resnext50_lstm", "inceptionv3_gru")
CACHE = Path("var/benchmarks/models")
FRAMES = 32  # frames sampled per analysis


def flops_and_params(arch: str) -> dict[str, float]:
    """GFLOP of one frame at full size (multiply-adds count as 2) and millions of parameters."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    from ml.models.archs import get_arch

    spec = get_arch(arch)
    temporal = spec.kind == "temporal"
    model = spec.build(init="none", **({"frames": 1} if temporal else {}))
    size = spec.input_size
    shape = [1, 1, size, size, 3] if temporal else [1, size, size, 3]
    concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec(shape, tf.float32)
    )
    graph = convert_variables_to_constants_v2(concrete).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(
        graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op", options=options
    )
    return {
        "gflop_per_frame": round(profile.total_float_ops / 1e9, 3),
        "params_m": round(model.count_params() / 1e6, 2),
    }


def per_face_seconds(run: dict[str, Any], temporal: bool) -> float | None:
    """Seconds of the scoring stage per face crop it scored."""
    timings = run.get("timings_s", {})
    if temporal:
        crops = run["faces"] * TEMPORAL_SEQUENCE
        seconds = timings.get("temporal")
    else:
        crops = run["scored_crops"]
        seconds = timings.get("classify")
    return round(seconds / crops, 4) if seconds and crops else None


def benchmark(arch: str, clip: Path) -> dict[str, Any]:
    spec = timing_spec(arch, CACHE)
    temporal = spec["card"]["kind"] == "temporal"
    options = {"frames": FRAMES, ("temporal_models" if temporal else "models"): [spec]}
    result = run_child("analysis", path=str(clip), options=options, runs=2)
    warm = result["runs"][-1]
    return {
        "arch": arch,
        "input_size": spec["card"]["input_size"],
        "kind": spec["card"]["kind"],
        "wall_s_first": result["runs"][0]["wall_s"],
        "wall_s_warm": warm.get("wall_s"),
        "s_per_face": per_face_seconds(warm, temporal) if "error" not in warm else None,
        "error": warm.get("error"),
        "timings_s": warm.get("timings_s"),
        "peak_rss_mb": result["peak_rss_mb"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("var/benchmarks/seed-archs.json"))
    parser.add_argument("--arch", action="append", choices=ARCHS)
    args = parser.parse_args()
    folder = Path("var/benchmarks")
    folder.mkdir(parents=True, exist_ok=True)
    clip = two_person_clip(folder, seconds=4.0, size=(640, 360), name="seed")
    rows = []
    for arch in args.arch or ARCHS:
        row = benchmark(arch, clip)
        row.update(flops_and_params(arch))
        print(json.dumps(row), flush=True)
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print("| arch | input | params (M) | GFLOP/frame | s/face | analysis s (warm) | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| `{r['arch']}` | {r['input_size']} | {r['params_m']} | {r['gflop_per_frame']} | "
            f"{r['s_per_face']} | {r['wall_s_warm']} | {r['peak_rss_mb']} |"
        )


if __name__ == "__main__":
    main()
