"""Run one benchmark scenario in a fresh Python process, so that its peak memory is its own.

Parent side: `run_child("analysis", path=..., ...)` returns the scenario's result dict with the
child's `peak_rss_mb`. Child side: `python -m benchmarks.child NAME JSON_KWARGS` prints one
`RESULT {...}` line.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "RESULT "

# Scenario name -> "module:function"; modules are imported only inside the child.
SCENARIOS = {
    "build_model": "benchmarks.models:build_model",
    "build_image_detector": "benchmarks.models:build_image_detector",
    "export": "benchmarks.export:litert_export",
    "analysis": "benchmarks.analysis:analyze_repeatedly",
    "tracking": "benchmarks.analysis:tracking_rate",
    "throughput": "benchmarks.throughput:classifier_throughput",
    "naive": "benchmarks.naive:naive_reference",
    "cold_cli": "benchmarks.cold_cli:measure",
    "heatmap_cost": "benchmarks.gradcam:heatmap_cost",
    "floor": "benchmarks.floor:flop_floor_inputs",
    "gpu_probe": "benchmarks.gpu:gpu_names",
    "gpu_throughput": "benchmarks.gpu:gpu_throughput",
    "gpu_ensemble": "benchmarks.gpu:gpu_ensemble_throughput",
    "gpu_worker_path": "benchmarks.gpu:gpu_worker_path",
}


class ScenarioFailed(RuntimeError):
    pass


def run_child(
    name: str, *, gpu: bool = False, timeout_s: int = 3600, **kwargs: Any
) -> dict[str, Any]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    if not gpu:
        env["CUDA_VISIBLE_DEVICES"] = ""  # CPU numbers stay CPU numbers on a GPU host
    command = [sys.executable, "-m", "benchmarks.child", name, json.dumps(kwargs)]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ScenarioFailed(f"{name} ran past {timeout_s} s") from exc
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    killed = " (killed: out of memory?)" if done.returncode < 0 else ""
    raise ScenarioFailed(f"{name} exited with {done.returncode}{killed}:\n{done.stderr[-3000:]}")


def main() -> None:
    from tests.support.fullsize import peak_rss_mb

    name, kwargs = sys.argv[1], json.loads(sys.argv[2])
    module, function = SCENARIOS[name].split(":")
    result = getattr(importlib.import_module(module), function)(**kwargs)
    result["peak_rss_mb"] = round(peak_rss_mb())
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
