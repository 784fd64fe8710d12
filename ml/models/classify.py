"""Installed classifiers: load one safely, score face crops in batches, combine several.

A frame classifier scores single face crops; a temporal classifier scores one face track (a
sequence of crops of the same face) at once, so it can see flicker and motion that no single
frame shows.

A model is only used when its file matches the checksum the platform registered and its card
describes it (`ml.models.cards.validate_card`). Written against Keras 3 (`keras.*`), so the same code
runs on the TensorFlow, JAX or PyTorch backend.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ml.errors import ModelError
from ml.faces.framing import CropSpec, Framing
from ml.models import accelerator, litert
from ml.models.archs import load_saved, preprocess
from ml.models.cards import ModelSpec, validate_card
from ml.models.checksum import known_file_sha256
from ml.models.forward import Forward
from ml.verdict.report import ClassifierInfo

log = logging.getLogger(__name__)

_accelerator_configured = False
# Crops per forward pass. On CPU, 8 EfficientNet-B7 crops at 380 px peak at 1.8 GB of process
# memory against 2.4 GB for 16, at the same speed; a GPU is fed larger batches.
CPU_BATCH_SIZE = 8
GPU_BATCH_SIZE = 64
_batch_size = CPU_BATCH_SIZE


def default_batch_size() -> int:
    return _batch_size


# Members an ensemble keeps open between analyses. A B7's LiteRT interpreter holds about 640 MB
# (360 MB of packed weights, 280 MB of its file mapped): seven held would pass 4 GB, while
# reopening one took 2-7 s on 2 busy cores (docs/performance.md).
HELD_MEMBERS = 2

# Loaded models with their compiled passes, keyed by file identity: a worker analyses many
# files with the same models, and loading a large network takes far longer than scoring 32 crops.
_loaded: dict[tuple[str, str, int, int], Forward | litert.LiteForward] = {}
# Model files loaded by this process so far: each is counted, and logged, once.
_loads = 0


def unload_models_except(sha256s: Iterable[str]) -> int:
    """Forget the loaded models whose checksum is not in `sha256s` (the active set changed),
    so that a long-lived worker holds only the models it uses. Returns how many it forgot."""
    keep = {s.lower() for s in sha256s}
    gone = [key for key in _loaded if key[1] not in keep]
    for key in gone:
        del _loaded[key]
    return len(gone)


def configure_accelerator() -> None:
    """On a GPU: grow memory on demand and compute in mixed precision. Once, before any model."""
    global _accelerator_configured, _batch_size
    if _accelerator_configured:
        return
    _accelerator_configured = True
    import keras

    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    if not accelerator.gpu_names():  # probed without the CUDA probe's noise
        return
    gpus = tf.config.list_physical_devices("GPU")
    try:
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:  # the GPU was initialised earlier in this process; keep its settings
        log.warning("GPU already initialised; memory growth not changed")
    keras.mixed_precision.set_global_policy("mixed_float16")
    _batch_size = GPU_BATCH_SIZE


def _as_spec(spec: ModelSpec | dict[str, Any]) -> ModelSpec:
    return spec if isinstance(spec, ModelSpec) else ModelSpec.from_dict(spec)


def _check_file(spec: ModelSpec) -> Path:
    path = Path(spec.path)
    if not path.is_file():
        raise ModelError(f"The model file of {spec.name} {spec.version} is missing.")
    if known_file_sha256(path) != spec.sha256.lower():
        raise ModelError(
            f"The model file of {spec.name} {spec.version} does not match its registered sha256."
        )
    return path


def resize_crops(crops: np.ndarray, size: int) -> np.ndarray:
    """Square crops (N,S,S,3) resized to (N,size,size,3)."""
    if crops.shape[1] == size and crops.shape[2] == size:
        return crops
    shrinking = crops.shape[1] > size
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return np.stack([cv2.resize(c, (size, size), interpolation=interpolation) for c in crops])


def track_indices(count: int, length: int) -> list[int]:
    """`length` positions spread evenly over `count` crops: repeats for short tracks, skips for long."""
    if count < 1:
        raise ValueError("a face track needs at least one crop")
    return np.linspace(0, count - 1, length).round().astype(int).tolist()


class _InstalledModel:
    """A network with its card, loaded once per file and checked against its checksum."""

    def __init__(self, *, spec: ModelSpec, forward: Forward) -> None:
        self.spec = spec
        self.card = spec.card
        self._forward = forward

    @classmethod
    def load(cls, spec: ModelSpec | dict[str, Any]):
        spec = _as_spec(spec)
        validate_card(spec.card)
        cls._check_card(spec)
        path = _check_file(spec)
        key = (
            str(path.resolve()),
            spec.sha256.lower(),
            path.stat().st_mtime_ns,
            path.stat().st_size,
        )
        if key not in _loaded:
            _loaded[key] = _load_counted(path, spec)
        return cls(spec=spec, forward=_loaded[key])

    @classmethod
    def _check_card(cls, spec: ModelSpec) -> None:
        raise NotImplementedError

    @property
    def input_size(self) -> int:
        return int(self.card["input_size"])

    @property
    def threshold(self) -> float:
        return float(self.card["threshold"])

    @property
    def crop_spec(self) -> CropSpec:
        """The crop this model was trained on: its card's framing at its input size."""
        return CropSpec(Framing.from_card(self.card), self.input_size)

    @property
    def info(self) -> ClassifierInfo:
        return ClassifierInfo(
            name=self.spec.name,
            version=self.spec.version,
            sha256=self.spec.sha256,
            arch=str(self.card.get("arch", "")),
            input_size=self.input_size,
            runtime=self._forward.runtime,
        )

    def release(self) -> None:
        """Give back what scoring holds until the next call (a LiteRT interpreter)."""
        self._forward.release()

    def _inputs(self, batch: np.ndarray) -> np.ndarray:
        return preprocess(batch, self.card["preprocessing"])

    def _outputs(self, x: np.ndarray) -> np.ndarray:
        return fake_probability(self._forward(x)[1])


class FrameClassifier(_InstalledModel):
    """One trained network that gives each face crop a probability of being fake."""

    @classmethod
    def _check_card(cls, spec: ModelSpec) -> None:
        if spec.card["kind"] != "frame":
            raise ModelError(
                f"{spec.name} {spec.version} is a temporal model: it scores face tracks, "
                "not single frames."
            )

    def predict(self, crops: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Fake probabilities (N,) for uint8 RGB crops (N,S,S,3) of any square size S."""
        if len(crops) == 0:
            return np.zeros(0, dtype=np.float32)
        pixels = resize_crops(np.asarray(crops, dtype=np.uint8), self.input_size)
        step = batch_size or _batch_size
        scores = [self._predict_batch(pixels[i : i + step]) for i in range(0, len(pixels), step)]
        return np.concatenate(scores)

    def heatmap(self, crop: np.ndarray) -> np.ndarray | None:
        """Grad-CAM heat in 0..1 over one crop, at the model's input size; None where unavailable."""
        from ml.models import heatmap

        if not self._forward.has_heatmap:
            return None
        maps, _ = self._forward(self._inputs(resize_crops(crop[None], self.input_size)))
        return heatmap.cam(maps, self._forward.channel_weights(maps), self.input_size)

    def _predict_batch(self, batch: np.ndarray) -> np.ndarray:
        return self._outputs(self._inputs(batch))


class TemporalClassifier(_InstalledModel):
    """One trained network that gives a whole face track one probability of being fake."""

    @classmethod
    def _check_card(cls, spec: ModelSpec) -> None:
        if spec.card["kind"] != "temporal":
            raise ModelError(f"{spec.name} {spec.version} scores single frames, not face tracks.")
        length = spec.card.get("sequence_length")
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise ModelError(
                "A temporal model's card needs sequence_length, a whole number of frames."
            )

    @property
    def sequence_length(self) -> int:
        return int(self.card["sequence_length"])

    def predict_track(self, crops: np.ndarray) -> float:
        """P(fake) of one face track from its uint8 RGB crops (T,S,S,3), T of any length >= 1.

        The track is resampled evenly to the model's sequence length, as in training.
        """
        crops = np.asarray(crops, dtype=np.uint8)
        picked = crops[track_indices(len(crops), self.sequence_length)]
        pixels = resize_crops(picked, self.input_size)
        return float(self._outputs(self._inputs(pixels)[None])[0])


def fake_probability(out: np.ndarray) -> np.ndarray:
    """P(fake) (N,) from a model's outputs: one sigmoid unit, or (real, fake) softmax units."""
    return out[:, -1] if out.ndim == 2 else out.reshape(len(out))


def _load_counted(path: Path, spec: ModelSpec) -> Forward | litert.LiteForward:
    global _loads
    start = time.perf_counter()
    scoring = _load_pass(path, spec)
    _loads += 1
    log.info(
        "Loaded detector models: %s %s in %.1f s (load %d of process %d) through %s",
        spec.name,
        spec.version,
        time.perf_counter() - start,
        _loads,
        os.getpid(),
        scoring.runtime,
    )
    return scoring


def _load_pass(path: Path, spec: ModelSpec) -> Forward | litert.LiteForward:
    """The pass that scores: a LiteRT export for a large frame model on a CPU (TensorFlow is
    not imported for it), else Keras."""
    frame = spec.card["kind"] == "frame"
    lite = litert.load(path, spec.sha256) if frame else None
    if lite is not None:
        _check_input(lite.input_shape, spec)
        return lite
    configure_accelerator()
    return Forward(_load_keras(path, spec), feature_map=frame)


def _load_keras(path: Path, spec: ModelSpec) -> Any:
    try:
        model = load_saved(path)
    except Exception as exc:  # a corrupt or foreign file: say which model, keep the cause in logs
        log.exception("cannot load model %s", path)
        raise ModelError(f"The model file of {spec.name} {spec.version} cannot be loaded.") from exc
    _check_input(tuple(model.input_shape), spec)
    return model


def _check_input(shape: tuple, spec: ModelSpec) -> None:
    if not _input_matches(shape, spec.card):
        size = spec.card["input_size"]
        raise ModelError(
            f"{spec.name} {spec.version} takes input {shape[1:]}, but its card says "
            f"{size}x{size} RGB."
        )


def _input_matches(shape: tuple, card: dict[str, Any]) -> bool:
    """(batch, S, S, 3) for frame models; (batch, T, S, S, 3) for temporal ones."""
    size = card["input_size"]
    frames = (card["sequence_length"],) if card["kind"] == "temporal" else ()
    if len(shape) != 4 + len(frames) or shape[-1] != 3:
        return False
    if frames and shape[1] not in (frames[0], None):
        return False
    return tuple(shape[-3:-1]) in {(size, size), (None, None)}


class Ensemble:
    """Several frame classifiers as one.

    Each member scores the crops of its own framing and size; `predict_members` keeps the
    members' scores apart so that each face can be summarised per model before the weighted
    mean, as the DFDC winner averaged its seven models' per-video scores.
    """

    def __init__(self, members: Sequence[FrameClassifier], weights: Sequence[float]) -> None:
        if not members or len(members) != len(weights):
            raise ModelError("An ensemble needs at least one model and one weight per model.")
        if any(w <= 0 for w in weights):
            raise ModelError("Ensemble weights must be positive.")
        self.members = list(members)
        self.weights = np.asarray(weights, dtype=np.float64) / float(np.sum(weights))

    @property
    def crop_specs(self) -> list[CropSpec]:
        """The distinct crops the members need, in member order."""
        return list(dict.fromkeys(m.crop_spec for m in self.members))

    @property
    def input_size(self) -> int:
        return max(m.input_size for m in self.members)

    @property
    def threshold(self) -> float:
        return float(np.dot(self.weights, [m.threshold for m in self.members]))

    @property
    def infos(self) -> list[ClassifierInfo]:
        return [m.info for m in self.members]

    @property
    def info(self) -> ClassifierInfo:
        """The one model, or a combined identity whose checksum covers every member."""
        if len(self.members) == 1:
            return self.members[0].info
        infos = self.infos
        combined = hashlib.sha256("".join(i.sha256 for i in infos).encode()).hexdigest()
        return ClassifierInfo(
            name="+".join(i.name for i in infos),
            version="+".join(i.version for i in infos),
            sha256=combined,
            arch="ensemble",
            input_size=self.input_size,
            runtime="+".join(i.runtime for i in infos),
        )

    @property
    def lead(self) -> FrameClassifier:
        """The member with the largest weight: its Grad-CAM is the one picture shown."""
        return self.members[int(np.argmax(self.weights))]

    def predict_members(
        self, crops: dict[CropSpec, np.ndarray], batch_size: int | None = None
    ) -> np.ndarray:
        """Fake probabilities (members, N): each member on the crops of its own spec.

        Past HELD_MEMBERS members, each gives its memory back once it has scored, so that
        the ensemble needs the memory of one member at a time, not of all.
        """
        rows = []
        for member in self.members:
            rows.append(member.predict(crops[member.crop_spec], batch_size=batch_size))
            if self._one_at_a_time:
                member.release()
        return np.stack(rows)

    @property
    def _one_at_a_time(self) -> bool:
        return len(self.members) > HELD_MEMBERS

    def release_lead(self) -> None:
        """After the lead's heatmaps: where members score one at a time, it gives back its
        memory too, so that the next analysis starts with none held."""
        if self._one_at_a_time:
            self.lead.release()

    def predict(
        self, crops: dict[CropSpec, np.ndarray], batch_size: int | None = None
    ) -> np.ndarray:
        """The weighted mean probability (N,) of every crop."""
        return (self.weights @ self.predict_members(crops, batch_size)).astype(np.float32)


def load_ensemble(specs: Sequence[ModelSpec | dict[str, Any]]) -> Ensemble | None:
    """The installed frame models as one ensemble; None when there are none."""
    if not specs:
        return None
    specs = [_as_spec(s) for s in specs]
    return Ensemble([FrameClassifier.load(s) for s in specs], [s.weight for s in specs])
