"""A LiteRT (TFLite with XNNPACK) export of a large frame model, for scoring on a CPU.

On 2 cores LiteRT scores EfficientNet-B7 at 380 px about 2.3 times faster than Keras
(docs/performance.md) with the same probabilities (tests/ml/test_litert.py). The export also
returns the last feature map, and its Keras head (pooling and dense layers, a few KB) is saved
beside it, so Grad-CAM still differentiates the head on that map.

The export is made once per model file, in a child process (converting B7 takes a minute and
4 GB that the worker should not keep), and cached next to the model under names that hold the
model's sha256: a replaced model file never meets a stale export. A worker that finds the
export never loads the Keras network (260 MB of weights and 15-25 s for B7). Where the export
cannot be made, the model scores through Keras. `ML_LITERT=0` turns the export off; on a GPU
the Keras pass is used.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Small models (MesoNet: 28k weights) score in milliseconds through Keras; an export gains
# them nothing and costs a conversion. Weights are float32 and fill the model file, so its
# size tells their number without loading it.
MIN_PARAMS = 1_000_000
EXPORT_TIMEOUT_S = float(os.environ.get("ML_LITERT_TIMEOUT", "1800"))
_PROJECT = Path(__file__).resolve().parents[2]  # where `python -m ml.models.litert` finds `ml`

# Exports that failed in this process: tried once, not at every job.
_failed: set[Path] = set()


def enabled() -> bool:
    """LiteRT scores here: not turned off, TensorFlow's Keras, no GPU to run Keras on."""
    if os.environ.get("ML_LITERT", "1") == "0":
        return False
    import keras

    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.config.list_physical_devices("GPU")


def export_path(model_path: Path, sha256: str) -> Path:
    return model_path.with_name(f"{model_path.name}.{sha256[:16]}.tflite")


def head_path(export: Path) -> Path:
    return export.with_suffix(".head.keras")


def _large(model_path: Path) -> bool:
    return model_path.is_file() and model_path.stat().st_size >= MIN_PARAMS * 4


def needs_export(model_path: Path, sha256: str) -> bool:
    """Whether loading this frame model will first make its export (minutes, once), so that
    the analysis can say so while it waits."""
    target = export_path(Path(model_path), sha256)
    return _large(Path(model_path)) and not target.is_file() and target not in _failed and enabled()


def load(model_path: Path, sha256: str) -> LiteForward | None:
    """The LiteRT pass of a frame model file whose checksum was checked: its cached export,
    made now if missing; None where LiteRT is off, the model is small or no export can be made."""
    model_path = Path(model_path)
    if not _large(model_path) or not enabled():
        return None
    exported = export(model_path, sha256)
    if exported is None:
        return None
    head = head_path(exported)
    if head.is_file():
        import keras

        return LiteForward(exported, keras.saving.load_model(head, compile=False))
    return LiteForward(exported, None)


def export(model_path: Path, sha256: str) -> Path | None:
    """The cached export of the model file, made now in a child process if missing; None when
    it cannot be made (the reason is logged)."""
    target = export_path(Path(model_path), sha256)
    if target.is_file():
        return target
    if target in _failed:
        return None
    command = [sys.executable, "-m", "ml.models.litert", str(model_path), str(target)]
    log.info("Exporting %s for LiteRT (once per model file)", model_path)
    try:
        done = subprocess.run(
            command,
            check=False,
            capture_output=True,
            text=True,
            timeout=EXPORT_TIMEOUT_S,
            cwd=_PROJECT,
        )
    except subprocess.TimeoutExpired:
        return _give_up(target, f"no export after {EXPORT_TIMEOUT_S:.0f} s")
    if done.returncode != 0 or not target.is_file():
        return _give_up(target, done.stderr.strip().splitlines()[-1:] or done.returncode)
    return target


def _give_up(target: Path, why: Any) -> None:
    _failed.add(target)
    log.warning("No LiteRT export %s (%s): scoring through Keras", target.name, why)


class LiteForward:
    """`ml.models.forward.Forward`'s interface over a LiteRT interpreter: `(feature map or None,
    outputs)` for a batch, and the Keras `head` that Grad-CAM differentiates."""

    runtime = "litert"

    def __init__(self, path: Path, head: Any) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.head = head
        self._interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count())
        self._interpreter.allocate_tensors()
        source = self._interpreter.get_input_details()[0]
        self._input = source["index"]
        self.input_shape = (None, *(int(n) for n in source["shape"][1:]))
        self._outputs = [d["index"] for d in self._interpreter.get_output_details()]

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        # One crop per call: XNNPACK scored B7 as fast one at a time as in eights (0.28 against
        # 0.31 s per face on 2 cores), and the buffers for eight took 650 MB more.
        singles = [self._one(crop[None]) for crop in np.asarray(x, dtype=np.float32)]
        outputs = np.concatenate([out for _, out in singles])
        if self.head is None:
            return None, outputs
        return np.concatenate([maps for maps, _ in singles]), outputs

    def _one(self, x: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        self._interpreter.set_tensor(self._input, np.ascontiguousarray(x))
        self._interpreter.invoke()
        maps, outputs = None, None
        for index in self._outputs:  # the export's outputs come in no fixed order
            value = self._interpreter.get_tensor(index)
            if value.ndim == 4:
                maps = value.copy()
            else:
                outputs = value.astype(np.float32)
        return maps, outputs


def _convert(model_path: str, target: str) -> None:
    """Child process: the model with its last feature map as a second output, as LiteRT, and
    its head as a Keras file of its own. The head is written first: an export file present
    means both are complete."""
    import keras
    import tensorflow as tf

    from ml.models.forward import _last_feature_map

    model = keras.saving.load_model(model_path, compile=False)
    maps = _last_feature_map(model)
    if maps is not None:
        # A copy of the head that shares no layer with the backbone, so that it saves alone.
        head = keras.Model(maps, model.output)
        standalone = keras.models.clone_model(head)
        standalone.set_weights(head.get_weights())
        _write(head_path(Path(target)), lambda path: standalone.save(path))
        model = keras.Model(model.inputs, [maps, model.output])
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    _write(Path(target), lambda path: path.write_bytes(flatbuffer))


def _write(target: Path, save: Any) -> None:
    """Whole or absent, even with two workers exporting at once."""
    partial = target.with_name(f"{target.stem}.partial-{os.getpid()}{target.suffix}")
    save(partial)
    os.replace(partial, target)


if __name__ == "__main__":
    _convert(*sys.argv[1:3])
