"""Which accelerator scores faces, found without TensorFlow's CUDA probe noise.

On a machine without an NVIDIA driver, importing TensorFlow and listing its GPUs prints lines
such as "failed call to cuInit: INTERNAL: CUDA error" straight to the process' stderr (below
Python, before TensorFlow's own log settings apply). They read like failures but only mean "no
GPU". The probe runs here with those lines held back; anything else it prints is passed on, and
the caller logs one plain line instead (`summary`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

# The lines of the CUDA probe that only say there is no GPU.
PROBE_NOISE = (
    "failed call to cuInit",
    "Could not find cuda drivers",
    "All log messages before absl::InitializeLog() is called",
)
NO_GPU = "no GPU found; running on CPU"


@contextmanager
def _probe_output_filtered() -> Iterator[None]:
    """Collect what is written to file descriptor 2 meanwhile; pass on all but PROBE_NOISE."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            for line in held.read().decode(errors="replace").splitlines(keepends=True):
                if not any(noise in line for noise in PROBE_NOISE):
                    sys.stderr.write(line)


def _nvidia_visible() -> bool:
    """Whether this process could see an NVIDIA GPU at all (a driver's device, not hidden by
    CUDA_VISIBLE_DEVICES), answered without importing TensorFlow: on a CPU machine an analysis
    through LiteRT exports never needs it."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") in ("", "-1"):
        return False
    driver = Path("/proc/driver/nvidia/gpus")
    return (driver.is_dir() and any(driver.iterdir())) or any(Path("/dev").glob("nvidia[0-9]*"))


@cache
def gpu_names() -> tuple[str, ...]:
    """The GPUs TensorFlow can use (none on another Keras backend), probed once per process."""
    if not _nvidia_visible():
        return ()
    with _probe_output_filtered():
        import keras

        if keras.backend.backend() != "tensorflow":
            return ()
        import tensorflow as tf

        return tuple(gpu.name for gpu in tf.config.list_physical_devices("GPU"))


def summary() -> str:
    """One line for a log: which accelerator scores faces."""
    names = gpu_names()
    return f"{len(names)} GPU(s) found: {', '.join(names)}" if names else NO_GPU
