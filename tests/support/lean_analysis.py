"""An analysis in a fresh process, reporting which heavy libraries it imported.

`python -m tests.support.lean_analysis MEDIA SPECS_JSON` sets Django up (test settings), imports
what the `analyze` command and the worker import, runs `ml.analyze` with the given frame model
specs as both run it, and prints one JSON line: the runtimes that scored, whether a heatmap was
drawn, and whether TensorFlow and Keras were imported. Its peak RSS is the process's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.fullsize import peak_rss_mb


def main(media: str, specs: str) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deepfake_site.settings_test")
    import django

    django.setup()
    # What the CLI and the worker import.
    import detector.management.commands.analyze
    import detector.queue.jobs
    import detector.queue.worker  # noqa: F401
    from ml import analyze
    from ml.options import ModelSpecs

    report = analyze(media, models=ModelSpecs.from_dict({"models": json.loads(specs)}))
    return {
        "runtime": report.classifier.runtime if report.classifier else None,
        "scored": report.fake_probability is not None,
        "heatmaps": sum(bool(face.heatmap) for face in report.faces),
        "tensorflow": "tensorflow" in sys.modules,
        "keras": "keras" in sys.modules,
        "timings_s": report.timings_s,
        "peak_rss_mb": round(peak_rss_mb()),
    }


def run_fresh(media: Path, specs: list[dict], timeout: int = 1200) -> dict:
    """`main` in a fresh process on the CPU; its JSON line, after asserting it exited cleanly."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.lean_analysis", str(media), json.dumps(specs)],
        capture_output=True,
        text=True,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:3])))
