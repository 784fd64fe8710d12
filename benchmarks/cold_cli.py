"""A cold analysis as `manage.py analyze` runs one: a fresh process that sets Django up, imports
what the CLI and the worker import and analyses the headline clip with the export made at
install (`tests.support.lean_analysis`), timed from the process's start to its report, against
the naive reference in the same run; and the DFDC-sized ensemble: seven B7s (copies of one
random-weight B7 and its export: timing and memory only), cold and warm.

    .venv/bin/python -m benchmarks.cold_cli [--members 7] [--skip-naive]

Prints one JSON object; `benchmarks/run` includes it as the "cold_cli" step.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks import machine
from benchmarks.child import ROOT, run_child
from benchmarks.clips import two_person_clip
from benchmarks.models import timing_spec

CACHE = Path("/tmp/deepfake-bench")


def cold_analysis(clip: Path, specs: list[dict[str, Any]]) -> dict[str, Any]:
    """One analysis in a fresh process, wall time from before the process starts."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "tests.support.lean_analysis", str(clip), json.dumps(specs)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"wall_s": round(time.perf_counter() - start, 1), **result}


def exported(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec, its export made first as `install_model` makes it."""
    from ml.models import litert

    litert.export(Path(spec["path"]), spec["sha256"])
    return spec


def members(spec: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """`count` distinct files (copies) of one model and its export, each its own member."""
    from ml.models import litert
    from ml.models.cards import ModelSpec

    source = Path(spec["path"])
    export = litert.export_path(source, spec["sha256"])
    out = []
    for number in range(count):
        folder = CACHE / "members" / str(number)
        folder.mkdir(parents=True, exist_ok=True)
        copies = [source, export, *litert.stage_paths(export), litert.cam_path(export)]
        for path in copies:
            if path.is_file() and not (folder / path.name).is_file():
                shutil.copy(path, folder / path.name)
        name = f"{spec['name']}-{number}"
        member = replace(ModelSpec(**spec), name=name, path=str(folder / source.name))
        out.append(member.__dict__)
    return out


def measure(members_count: int = 7, naive: bool = True) -> dict[str, Any]:
    clip = two_person_clip(CACHE, seconds=10.0, size=(1280, 720), name="two-person")
    b7 = exported(timing_spec("efficientnet_b7", CACHE))
    r: dict[str, Any] = {"load_start": machine.load_average()}
    r["one_b7_cold"] = cold_analysis(clip, [b7])
    if naive:
        r["naive"] = run_child(
            "naive", path=str(clip), frames=32, arch="efficientnet_b7", input_size=600
        )
        r["naive_over_cold"] = round(r["naive"]["total_s"] / r["one_b7_cold"]["wall_s"], 2)
    if members_count > 1:
        ensemble = members(b7, members_count)
        r["members_cold"] = cold_analysis(clip, ensemble)
        options = {"models": ensemble}
        r["members_warm"] = run_child("analysis", path=str(clip), options=options, runs=2)
    r["load_end"] = machine.load_average()
    return r


def cold_cli_lines(r: dict) -> list[str]:
    """The page's section for the step ([] when it did not run)."""
    c = r.get("cold_cli")
    if not c or "one_b7_cold" not in c:
        return []
    one = c["one_b7_cold"]
    lines = [
        "## Cold CLI analysis with the export made at install",
        "",
        (
            "A fresh process as `manage.py analyze` starts one (Django, the CLI's and the worker's "
            "imports, `ml.analyze` with the export `install_model` made), timed from before the "
            f"process starts (`benchmarks/cold_cli.py`); load average {c['load_start']} at the "
            f"start, {c['load_end']} at the end."
        ),
        "",
        "| models | wall (process start to report) | peak RSS | TensorFlow imported |",
        "|---|---|---|---|",
        f"| one B7 | {one['wall_s']} s | {one['peak_rss_mb']} MB | {one['tensorflow']} |",
    ]
    if "members_cold" in c:
        seven = c["members_cold"]
        lines.append(
            f"| {seven['runtime'].count('litert')} B7s (one at a time) | {seven['wall_s']} s | "
            f"{seven['peak_rss_mb']} MB | {seven['tensorflow']} |"
        )
    if "naive_over_cold" in c:
        lines += [
            "",
            f"Naive reference {c['naive']['total_s']} s: {c['naive_over_cold']}× the cold CLI.",
        ]
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=7)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    print(json.dumps(measure(args.members, not args.skip_naive), indent=2))


if __name__ == "__main__":
    main()
