"""The accelerator probe: one plain line instead of TensorFlow's CUDA probe noise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ml.models.accelerator import NO_GPU

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> subprocess.CompletedProcess:
    # A fresh process: the probe's lines come once, when TensorFlow first looks for a GPU.
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_the_probe_says_one_line_and_none_of_the_cuda_noise():
    result = run_python("from ml.models import accelerator; print(accelerator.summary())")
    assert result.returncode == 0, result.stderr
    assert "cuInit" not in result.stderr
    assert "Could not find cuda drivers" not in result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line == NO_GPU or "GPU(s) found" in line


def test_other_output_of_the_probe_is_passed_on():
    code = (
        "import os\n"
        "from ml.models.accelerator import _probe_output_filtered\n"
        "with _probe_output_filtered():\n"
        "    os.write(2, b'E0 cuda_platform.cc:52] failed call to cuInit: UNKNOWN\\n')\n"
        "    os.write(2, b'a real warning\\n')\n"
    )
    result = run_python(code)
    assert result.stderr == "a real warning\n"
