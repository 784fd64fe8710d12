"""A LiteRT (TFLite with XNNPACK) export of a large frame model, for scoring on a CPU.

On 2 cores LiteRT scores EfficientNet-B7 at 380 px about 2.3 times faster than Keras
(docs/performance.md) with the same probabilities (tests/ml/test_litert.py). The export also
returns the last feature map, and the gradient of the fake probability through the head
(pooling and dense layers) is exported beside it as a second small LiteRT model, so Grad-CAM
needs neither TensorFlow nor Keras either.

The export is made when the model is installed (`export`, in a child process: converting B7
takes minutes and gigabytes that the installer's process should not keep), never during an
analysis, and cached next to the model under names that hold the model's sha256: a replaced
model file never meets a stale export. An analysis that finds the export runs the LiteRT
interpreter alone and never imports TensorFlow; one that does not find it scores through
Keras and logs why. `ML_LITERT=0` turns LiteRT off; on a GPU the Keras pass is used.
"""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ml.models import accelerator

log = logging.getLogger(__name__)

# Small models (MesoNet: 28k weights) score in milliseconds through Keras; an export gains
# them nothing and costs a conversion. Weights are float32 and fill the model file, so its
# size tells their number without loading it.
MIN_PARAMS = 1_000_000
EXPORT_TIMEOUT_S = float(os.environ.get("ML_LITERT_TIMEOUT", "1800"))
_PROJECT = Path(__file__).resolve().parents[2]  # where `python -m ml.models.litert` finds `ml`

# Weights per converted stage of a large backbone (`_stages`). Env: for tests of the stages.
STAGE_BYTES = int(float(os.environ.get("ML_LITERT_STAGE_MB", "64")) * 2**20)

# Memory an export needs, from the converter child's peak RSS (`/usr/bin/time -v python -m
# ml.models.litert MODEL TARGET`, docs/performance.md): a fixed part (Python, TensorFlow), the
# loaded model and what stays between stages (about 3 times the model file), and the converter,
# which holds what it converts about 13 times over (one stage, at most about 80 MB). Fitted on a
# full-size EfficientNet-B7 at 380 px (259 MB file in stages of 71-79 MB: peak 2822 MB; 4340
# MB converted whole) and B0s converted whole (21 MB file: 1255 MB; 16 MB at 64 px: 1385 MB),
# 2026-12-07, with a margin: the need given is 2.9 GB for that B7.
EXPORT_BASE_BYTES = 1150 * 2**20
EXPORT_HELD_PER_MODEL_BYTE = 3.25
EXPORT_CONVERTER_PER_BYTE = 13.0
LARGEST_STAGE_BYTES = 80 * 2**20


def enabled() -> bool:
    """LiteRT scores here: not turned off, and no GPU for Keras to run on (a CPU machine is
    told without importing TensorFlow)."""
    if os.environ.get("ML_LITERT", "1") == "0":
        return False
    return not accelerator.gpu_names()


def export_path(model_path: Path, sha256: str) -> Path:
    return model_path.with_name(f"{model_path.name}.{sha256[:16]}.tflite")


def cam_path(export: Path) -> Path:
    """The head's Grad-CAM weights as LiteRT: feature map → one weight per channel."""
    return export.with_suffix(".cam.tflite")


def stage_path(export: Path, number: int) -> Path:
    """An earlier stage of an export converted in stages (`_stages`), numbered from 0."""
    return export.with_suffix(f".stage{number}.tflite")


def stage_paths(export: Path) -> list[Path]:
    paths, number = [], 0
    while stage_path(export, number).is_file():
        paths.append(stage_path(export, number))
        number += 1
    return paths


def head_path(export: Path) -> Path:
    """The head as Keras, where its gradient could not be exported (heatmaps then import Keras)."""
    return export.with_suffix(".head.keras")


def large(model_path: Path) -> bool:
    model_path = Path(model_path)
    return model_path.is_file() and model_path.stat().st_size >= MIN_PARAMS * 4


def missing(model_path: Path, sha256: str) -> bool:
    """Whether this frame model should have an export that is not made yet."""
    return large(model_path) and enabled() and not export_path(Path(model_path), sha256).is_file()


def memory_needed(model_path: Path) -> int:
    """Bytes of memory the export of this model file peaks at (measured; see above)."""
    size = Path(model_path).stat().st_size
    converted = min(size, LARGEST_STAGE_BYTES)
    return int(
        EXPORT_BASE_BYTES
        + EXPORT_HELD_PER_MODEL_BYTE * size
        + EXPORT_CONVERTER_PER_BYTE * converted
    )


def memory_available() -> int:
    """Bytes a new process may still use: the kernel's MemAvailable, or less where a cgroup
    (a container's limit) allows less."""
    free = _meminfo_available()
    limit, used = _read_int("/sys/fs/cgroup/memory.max"), _read_int("/sys/fs/cgroup/memory.current")
    if limit is not None and used is not None:
        free = min(free, limit - used)
    return free


def _meminfo_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):  # absent, or "max": no limit
        return None


def load(model_path: Path, sha256: str) -> LiteForward | None:
    """The LiteRT pass of a frame model file whose checksum was checked, from the export made
    at install; None where LiteRT is off, the model is small or it has no export (it then
    scores through Keras: an analysis never exports)."""
    model_path = Path(model_path)
    if not large(model_path) or not enabled():
        return None
    exported = export_path(model_path, sha256)
    if not exported.is_file():
        log.warning(
            "%s has no LiteRT export: scoring through Keras "
            "(`manage.py install_model --export-missing` makes it)",
            model_path.name,
        )
        return None
    return LiteForward(exported)


def export(model_path: Path, sha256: str) -> Path:
    """The export of the model file, made now in a child process if missing. Raises
    ExportFailed with the reason in one line when it cannot be made."""
    target = export_path(Path(model_path), sha256)
    if target.is_file():
        return target
    for stale in stage_paths(target):  # of an export that stopped before its last file
        stale.unlink()
    command = [sys.executable, "-m", "ml.models.litert", str(model_path), str(target)]
    # The converter needs TensorFlow's Keras, whatever backend this process was given.
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        done = subprocess.run(
            command,
            check=False,
            capture_output=True,
            text=True,
            timeout=EXPORT_TIMEOUT_S,
            cwd=_PROJECT,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExportFailed(f"no export after {EXPORT_TIMEOUT_S:.0f} s") from exc
    if done.returncode != 0 or not target.is_file():
        last = done.stderr.strip().splitlines()[-1:]
        killed = " (killed: out of memory?)" if done.returncode < 0 else ""
        raise ExportFailed(f"{last[0] if last else 'exit status ' + str(done.returncode)}{killed}")
    return target


class ExportFailed(RuntimeError):
    pass


class LiteForward:
    """`ml.models.forward.Forward`'s interface over a LiteRT interpreter: `(feature map or None,
    outputs)` for a batch, and the Grad-CAM channel weights of a feature map."""

    runtime = "litert"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stages = [*stage_paths(path), path]
        # The graphs alone tell the input and outputs: the interpreters that pack the weights
        # (hundreds of MB for B7) open on the first call, so that an ensemble can score its
        # members one after another (`release`).
        first, last = (_interpreter(p, delegates=False) for p in (self._stages[0], path))
        self.input_shape = (None, *(int(n) for n in first.get_input_details()[0]["shape"][1:]))
        self._outputs = [d["index"] for d in last.get_output_details()]
        self._live: list[Any] = []
        self._cam: Any = None
        self.has_heatmap = cam_path(path).is_file() or head_path(path).is_file()

    def release(self) -> None:
        """Give back the interpreter's memory; the next call opens it again."""
        self._live, self._cam = [], None

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        # One crop per call: XNNPACK scored B7 as fast one at a time as in eights (0.28 against
        # 0.31 s per face on 2 cores), and the buffers for eight took 650 MB more.
        singles = [self._one(crop[None]) for crop in np.asarray(x, dtype=np.float32)]
        outputs = np.concatenate([out for _, out in singles])
        if not self.has_heatmap:
            return None, outputs
        return np.concatenate([maps for maps, _ in singles]), outputs

    def _one(self, x: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        if not self._live:
            self._live = [_interpreter(p) for p in self._stages]
        *earlier, last = self._live
        for stage in earlier:  # each stage's one output is the next one's input
            x = _invoke(stage, x)
        last.set_tensor(last.get_input_details()[0]["index"], np.ascontiguousarray(x))
        last.invoke()
        maps, outputs = None, None
        for index in self._outputs:  # the export's outputs come in no fixed order
            value = last.get_tensor(index)
            if value.ndim == 4:
                maps = value.copy()
            else:
                outputs = value.astype(np.float32)
        return maps, outputs

    def channel_weights(self, maps: np.ndarray) -> np.ndarray:
        """Grad-CAM's weight per channel (1, channels) for one crop's feature map (1, h, w, c):
        the mean gradient of the fake probability over the map."""
        if self._cam is None:
            self._cam = _CamHead(self._path)
        return self._cam(maps)


class _CamHead:
    """The head's gradient, loaded on the first heatmap: exported as LiteRT, or (an export
    whose gradient could not be converted) the Keras head under TensorFlow's tape."""

    def __init__(self, export: Path) -> None:
        self._interpreter, self._head = None, None
        if cam_path(export).is_file():
            self._interpreter = _interpreter(cam_path(export))
        else:
            import keras

            self._head = keras.saving.load_model(head_path(export), compile=False)

    def __call__(self, maps: np.ndarray) -> np.ndarray:
        if self._head is not None:
            from ml.models.heatmap import keras_channel_weights

            return keras_channel_weights(self._head, maps)
        return _invoke(self._interpreter, maps.astype(np.float32))


def _invoke(interpreter: Any, x: np.ndarray) -> np.ndarray:
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], np.ascontiguousarray(x))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()


def _interpreter(path: Path, *, delegates: bool = True) -> Any:
    """An interpreter over the file (memory-mapped); without delegates nothing is packed or
    allocated: enough to read its inputs and outputs."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    if not delegates:
        resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        return Interpreter(model_path=str(path), experimental_op_resolver_type=resolver)
    interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count())
    interpreter.allocate_tensors()
    return interpreter


def _convert(model_path: str, target: str) -> None:
    """Child process: the model with its last feature map as a second output, as LiteRT, and
    its head's Grad-CAM weights as a LiteRT model of their own. A large backbone is converted
    in stages (see `_stages`). The head's and the stages' files are written first: the export
    file present means all are complete."""
    import keras
    import tensorflow as tf

    from ml.models.forward import _last_feature_map

    model = keras.saving.load_model(model_path, compile=False)
    maps = _last_feature_map(model)
    stages = [model]
    if maps is not None:
        head = keras.Model(maps, model.output)
        _write_head(head, Path(target))
        stages = _stages(model, maps, head) or [keras.Model(model.inputs, [maps, model.output])]
    *earlier, last = stages
    for number, stage in enumerate(earlier):
        flatbuffer = tf.lite.TFLiteConverter.from_keras_model(stage).convert()
        _write(stage_path(Path(target), number), lambda path, fb=flatbuffer: path.write_bytes(fb))
        del flatbuffer
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(last).convert()
    _write(Path(target), lambda path: path.write_bytes(flatbuffer))


def _stages(model: Any, maps: Any, head: Any) -> list[Any] | None:
    """A model made of a nested backbone (input → backbone → head) cut into consecutive
    stages of at most STAGE_BYTES of weights each, the last one giving (maps, output); None
    where the model is not of that shape or is small enough to convert whole.

    The converter holds a model's weights about a dozen times over (a B7 export peaked at
    4.3 GB whole); a stage at a time it holds one stage's."""
    import keras

    backbone = next((layer for layer in model.layers if isinstance(layer, keras.Model)), None)
    if backbone is None or len(backbone._inbound_nodes) != 1:
        return None
    node = backbone._inbound_nodes[0]
    if node.output_tensors[0] is not maps or node.input_tensors[0] is not model.inputs[0]:
        return None
    cuts = _cuts(backbone, STAGE_BYTES)
    if not cuts:
        return None
    bounds = [backbone.input, *cuts]
    stages = [keras.Model(a, b) for a, b in itertools.pairwise(bounds)]
    rest = keras.Model(cuts[-1], backbone.output)
    source = keras.Input(shape=tuple(cuts[-1].shape[1:]))
    features = rest(source)
    return [*stages, keras.Model(source, [features, head(features)])]


def _cuts(graph: Any, stage_bytes: int) -> list[Any]:
    """Tensors of a functional graph through which everything passes (no skip connection
    crosses them), one each time the weights since the last cut pass `stage_bytes`."""
    layers = graph.layers  # in the order they run
    last_use: dict[int, int] = {}
    for index, layer in enumerate(layers):
        for node in layer._inbound_nodes:
            for tensor in node.input_tensors:
                last_use[id(tensor)] = index
    live: dict[int, Any] = {}
    cuts, weights = [], 0
    for index, layer in enumerate(layers[:-1]):
        for node in layer._inbound_nodes:
            live.update({id(t): t for t in node.output_tensors})
        live = {key: t for key, t in live.items() if last_use.get(key, -1) > index}
        weights += sum(int(np.prod(w.shape)) * 4 for w in layer.weights)
        if len(live) == 1 and weights >= stage_bytes:
            cuts.append(next(iter(live.values())))
            weights = 0
    return cuts


def _write_head(head: Any, target: Path) -> None:
    """The head's gradient as LiteRT; where the converter cannot, the head as Keras."""
    import keras
    from tensorflow.lite.python.convert_phase import ConverterError

    # A copy of the head that shares no layer with the backbone, so that it stands alone.
    standalone = keras.models.clone_model(head)
    standalone.set_weights(head.get_weights())
    try:
        flatbuffer = _cam_flatbuffer(standalone)
    except (ConverterError, LookupError, ValueError) as exc:  # no LiteRT gradient op for it
        print(f"head gradient not exported ({exc}); saving the Keras head", file=sys.stderr)
        _write(head_path(target), lambda path: standalone.save(path))
        return
    _write(cam_path(target), lambda path: path.write_bytes(flatbuffer))


def _cam_flatbuffer(head: Any) -> bytes:
    """feature map (1, h, w, c) → the fake probability's mean gradient per channel (1, c)."""
    import tensorflow as tf

    spec = tf.TensorSpec((1, *head.input_shape[1:]), tf.float32)

    @tf.function(input_signature=[spec])
    def weights(maps: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(maps)
            fake = tf.cast(head(maps, training=False), tf.float32)[:, -1]
        return tf.reduce_mean(tape.gradient(fake, maps), axis=(1, 2))

    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    # The head's weights as constants: LiteRT's interpreter would find its variables unset.
    frozen = convert_variables_to_constants_v2(weights.get_concrete_function())
    return tf.lite.TFLiteConverter.from_concrete_functions([frozen]).convert()


def _write(target: Path, save: Any) -> None:
    """Whole or absent, even with two installers exporting at once."""
    partial = target.with_name(f"{target.stem}.partial-{os.getpid()}{target.suffix}")
    save(partial)
    os.replace(partial, target)


if __name__ == "__main__":
    _convert(*sys.argv[1:3])
