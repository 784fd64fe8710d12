"""Training a detector: dataset → face crops → augmented batches → Keras fit → `.keras` + card.

`train(TrainConfig(...), progress=callback)` is what `manage.py train_model` runs. It
- indexes the dataset (`ml.datasets`), splits it by source video / identity, extracts faces once
  (cached, resumable);
- balances the classes (the minority class is drawn again each epoch), or, with
  pseudo_fakes="sbi", pairs every real face with a self-blended pseudo-fake of itself;
- augments (JPEG quality, blur, noise, flip, brightness/contrast, cut-out);
- checkpoints every epoch and resumes from the last one; stops early when validation AUC has not
  improved for `patience` epochs and keeps the best epoch;
- chooses the decision threshold on validation and writes `<name>.keras` and `<name>.card.json`
  with the real metrics, the dataset, the hardware and the training time.

Temporal architectures (efficientnet_lstm) learn from whole face tracks instead: one example is
`sequence_length` crops spread evenly over one video's extracted faces, with one label, and every
frame of a track gets the same augmentation (independent per-frame noise would be flicker the
network could learn instead of the manipulation).
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ml.archs import get_arch, preprocess
from ml.cards import ModelSpec, validate_card
from ml.checksum import file_sha256
from ml.classify import FrameClassifier, TemporalClassifier, track_indices
from ml.datasets import load_dataset, split_items
from ml.datasets.extract import FaceSamples, extract_faces, loose_size_for
from ml.errors import MediaError, ModelError
from ml.evaluate import choose_threshold, evaluate_scores, write_plots
from ml.framing import Framing, crop_from_landmarks
from ml.sbi import self_blend
from ml.version import code_version

ProgressFn = Callable[[dict[str, Any]], None]
BN_RECALIBRATION_BATCHES = 20
# The crop the platform's models are trained on, written on their cards.
FRAMING = Framing()


@dataclass
class TrainConfig:
    data: Path
    arch: str = "efficientnet_b7"
    layout: str = "auto"
    epochs: int = 20
    batch_size: int = 16
    input_size: int | None = None  # None: the architecture's default
    pseudo_fakes: str | None = None  # "sbi": train from real faces only
    resume: bool = False
    init: str = "auto"  # "auto": ImageNet for EfficientNets, none for Meso-4
    mixed_precision: bool = False
    name: str | None = None
    version: str | None = None
    out: Path = Path("var/training")
    cache_dir: Path | None = None  # default: <out>/face-cache
    frames: int = 32  # faces taken per video
    val_fraction: float = 0.2
    seed: int = 0
    learning_rate: float | None = None
    patience: int = 3
    augment: bool = True
    sequence_length: int = 16  # temporal architectures: crops per face track
    dataset_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    model_path: Path
    card_path: Path
    card: dict[str, Any]


# --- crops and augmentation ---------------------------------------------------------------


def augment(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Degradations an uploaded face goes through: recompression, blur, noise, light, occlusion."""
    img = rgb
    if rng.random() < 0.5:
        img = img[:, ::-1]
    if rng.random() < 0.3:
        contrast, brightness = rng.uniform(0.8, 1.2), rng.uniform(-25, 25)
        img = np.clip(img.astype(np.float32) * contrast + brightness, 0, 255).astype(
            np.uint8
        )
    if rng.random() < 0.2:
        img = cv2.GaussianBlur(np.ascontiguousarray(img), (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.2:
        noise = rng.normal(0, rng.uniform(2, 8), img.shape)
        img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        quality = int(rng.integers(40, 101))
        _, buf = cv2.imencode(
            ".jpg", np.ascontiguousarray(img), [cv2.IMWRITE_JPEG_QUALITY, quality]
        )
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if rng.random() < 0.2:
        h, w = img.shape[:2]
        ch, cw = int(h * rng.uniform(0.1, 0.3)), int(w * rng.uniform(0.1, 0.3))
        y, x = int(rng.integers(0, h - ch)), int(rng.integers(0, w - cw))
        img = img.copy()
        img[y : y + ch, x : x + cw] = 0
    return np.ascontiguousarray(img)


# --- the example list ---------------------------------------------------------------------
# An example is (sample index, crop index, label, self-blend?).
Example = tuple[int, int, int, bool]


def _examples(samples: list[FaceSamples], *, sbi: bool) -> list[Example]:
    examples = []
    for s, sample in enumerate(samples):
        for c in range(len(sample.crops)):
            if sbi:
                if sample.item.label == 0:
                    examples += [(s, c, 0, False), (s, c, 1, True)]
            else:
                examples.append((s, c, sample.item.label, False))
    return examples


def _balanced(examples: list[Example], rng: np.random.Generator) -> list[Example]:
    """All examples, plus minority-class examples drawn again until the classes are even."""
    by_label = {
        0: [e for e in examples if e[2] == 0],
        1: [e for e in examples if e[2] == 1],
    }
    small, large = sorted(by_label.values(), key=len)
    if not small:
        raise MediaError(
            "Training needs both real and fake faces (or --pseudo-fakes sbi)."
        )
    extra = [small[i] for i in rng.integers(0, len(small), len(large) - len(small))]
    out = examples + extra
    rng.shuffle(out)
    return out


def _paired(examples: list[Example], rng: np.random.Generator) -> list[Example]:
    """Self-blended training: each real face and its pseudo-fake stay side by side in one batch,
    so every step compares a face with its own blended copy (as the SBI authors train)."""
    pairs = [examples[i : i + 2] for i in range(0, len(examples), 2)]
    rng.shuffle(pairs)
    return [e for pair in pairs for e in pair]


def _render(
    samples, example: Example, size: int, rng: np.random.Generator, *, augmented: bool
):
    s, c, _label, blend = example
    crop, landmarks = np.asarray(samples[s].crops[c]), samples[s].landmarks[c]
    if blend:
        crop, _ = self_blend(crop, landmarks, rng=rng)
    face = crop_from_landmarks(FRAMING, crop, landmarks, size=size)
    return augment(face, rng) if augmented else face


def _track_examples(samples: list[FaceSamples]) -> list[Example]:
    """One example per item (a video's face track); the crop index is unused."""
    return [(s, 0, sample.item.label, False) for s, sample in enumerate(samples)]


def _render_track(
    samples, example: Example, size: int, length: int, rng, *, augmented: bool
) -> np.ndarray:
    """`length` aligned crops spread evenly over one item's faces, augmented alike."""
    s = example[0]
    seed = int(rng.integers(1 << 31))
    return np.stack(
        [
            _render(
                samples,
                (s, c, example[2], False),
                size,
                np.random.default_rng(seed),  # the same draws for every frame
                augmented=augmented,
            )
            for c in track_indices(len(samples[s].crops), length)
        ]
    )


def _batches_class():
    import keras

    class FaceBatches(keras.utils.PyDataset):
        """Augmented, class-balanced batches; reshuffled (deterministically) every epoch."""

        def __init__(
            self,
            samples,
            examples,
            *,
            size,
            preprocessing,
            batch_size,
            seed,
            augmented,
            sbi,
            epoch,
            sequence_length=None,
        ):
            super().__init__()
            self.sequence_length = sequence_length  # set: examples are face tracks
            self.samples, self.examples = samples, examples
            self.size, self.preprocessing = size, preprocessing
            self.batch_size, self.seed, self.augmented = batch_size, seed, augmented
            self.sbi, self.epoch = (
                sbi,
                epoch,
            )  # a resumed run continues the same sequence
            self._order = self._draw()

        def _draw(self):
            rng = np.random.default_rng([self.seed, self.epoch])
            return (
                _paired(self.examples, rng)
                if self.sbi
                else _balanced(self.examples, rng)
            )

        def __len__(self):
            return max(1, len(self._order) // self.batch_size)

        def __getitem__(self, index):
            rng = np.random.default_rng([self.seed, self.epoch, index])
            chosen = self._order[
                index * self.batch_size : (index + 1) * self.batch_size
            ]
            faces = [self._render(e, rng) for e in chosen]
            labels = np.array([e[2] for e in chosen], dtype="float32")
            return preprocess(np.stack(faces), self.preprocessing), labels

        def _render(self, example, rng):
            if self.sequence_length:
                return _render_track(
                    self.samples,
                    example,
                    self.size,
                    self.sequence_length,
                    rng,
                    augmented=self.augmented,
                )
            return _render(
                self.samples, example, self.size, rng, augmented=self.augmented
            )

        def on_epoch_end(self):
            self.epoch += 1
            self._order = self._draw()

    return FaceBatches


# --- validation, checkpoints, progress ------------------------------------------------------


def _validation_set(samples, *, size: int, sbi: bool, seed: int):
    """Fixed validation faces: the dataset's own fakes when it has them, else SBI pseudo-fakes."""
    has_fakes = any(s.item.label == 1 for s in samples)
    examples = [
        (s, c, samples[s].item.label, False)
        for s in range(len(samples))
        for c in range(len(samples[s].crops))
    ]
    if sbi and not has_fakes:
        examples += [(s, c, 1, True) for s, c, label, _ in list(examples) if label == 0]
    rng = np.random.default_rng([seed, 999])
    faces = np.stack(
        [_render(samples, e, size, rng, augmented=False) for e in examples]
    )
    labels = np.array([e[2] for e in examples])
    groups = [
        f"{samples[e[0]].item.source_id}|{'sbi' if e[3] else samples[e[0]].item.label}"
        for e in examples
    ]
    return faces, labels, groups


def _track_validation_set(samples, *, size: int, length: int, seed: int):
    """One fixed face track per validation item, labelled as the item."""
    rng = np.random.default_rng([seed, 999])
    examples = _track_examples(samples)
    tracks = np.stack(
        [
            _render_track(samples, e, size, length, rng, augmented=False)
            for e in examples
        ]
    )
    labels = np.array([e[2] for e in examples])
    groups = [f"{samples[e[0]].item.source_id}|{e[2]}" for e in examples]
    return tracks, labels, groups


def recalibrate_batchnorm(
    model, batches, *, count: int = BN_RECALIBRATION_BATCHES
) -> None:
    """Re-estimate batch-norm statistics as the exact mean over `count` training batches.

    The running averages (momentum 0.99) lag behind weights that are still moving fast, and a
    network that separates its training batches well can then score near chance in inference
    mode (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021). Costs forward passes only.
    """
    import keras

    layers = [
        layer
        for layer in _all_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    if not layers:
        return
    saved = [layer.momentum for layer in layers]
    try:
        for k in range(min(count, len(batches))):
            for layer in layers:
                layer.momentum = k / (
                    k + 1
                )  # running mean of the batch statistics so far
            model(batches[k][0], training=True)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum


def _all_layers(model):
    for layer in model.layers:
        yield layer
        # TimeDistributed holds the per-frame network as `.layer`.
        inner = getattr(layer, "layer", None)
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
        elif hasattr(inner, "layers"):
            yield from _all_layers(inner)


def predict_scores(
    model, inputs: np.ndarray, card: dict[str, Any], *, batch_size: int
) -> list[float]:
    """Scores of validation crops (or face tracks) by an in-memory model, through the same
    classifier code as uploads (resizing, preprocessing, output handling)."""
    spec = ModelSpec(name="training", version="", sha256="", path="", card=card)
    if card["kind"] == "temporal":
        classifier = TemporalClassifier(spec=spec, model=model)
        return [classifier.predict_track(track) for track in inputs]
    classifier = FrameClassifier(spec=spec, model=model)
    return classifier.predict(inputs, batch_size=batch_size).astype(float).tolist()


def _callbacks(
    *,
    val,
    card: dict[str, Any],
    ckpt_dir: Path,
    state: dict,
    patience: int,
    epochs: int,
    batches,
    batch_size: int,
    progress: ProgressFn | None,
):
    steps = len(batches)
    import keras
    from sklearn.metrics import roc_auc_score

    faces, labels, _ = val

    class ValidationAUC(keras.callbacks.Callback):
        """Validation AUC each epoch; checkpoints; early stopping that survives a resume."""

        def on_epoch_end(self, epoch, logs=None):
            recalibrate_batchnorm(self.model, batches)
            scores = predict_scores(self.model, faces, card, batch_size=batch_size)
            auc = float(roc_auc_score(labels, scores))
            logs = logs if logs is not None else {}
            logs["val_auc"] = auc
            state["history"].append(
                {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}}
            )
            if auc > state["best_auc"]:
                state.update(best_auc=auc, best_epoch=epoch + 1, wait=0)
                _save_model(self.model, ckpt_dir / "best.keras")
            else:
                state["wait"] += 1
            state["epoch"] = epoch + 1
            _save_model(self.model, ckpt_dir / "last.keras")  # with the optimizer state
            _write_json(ckpt_dir / "state.json", state)
            if state["wait"] >= patience:
                state["stopped_early"] = True
                self.model.stop_training = True

    class Progress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started, self.done = time.monotonic(), 0
            self.first_epoch = state["epoch"]

        def on_train_batch_end(self, batch, logs=None):
            self.done += 1
            total = (epochs - self.first_epoch) * steps
            elapsed = time.monotonic() - self.started
            eta = elapsed / self.done * max(total - self.done, 0)
            self._emit(
                batch=batch + 1,
                loss=float((logs or {}).get("loss", float("nan"))),
                eta_s=eta,
            )

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1

        def _emit(self, **values):
            if progress:
                last = state["history"][-1] if state["history"] else {}
                progress(
                    {
                        "epoch": self.epoch,
                        "epochs": epochs,
                        "steps": steps,
                        "metrics": last,
                        "best_auc": state["best_auc"],
                        **values,
                    }
                )

    return [ValidationAUC(), Progress()]


def _save_model(model, path: Path) -> None:
    """Save through a temporary file: an interrupted save never leaves a truncated checkpoint."""
    tmp = path.with_name(f"{path.stem}.partial.keras")
    model.save(tmp)
    os.replace(tmp, path)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def hardware() -> dict[str, Any]:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    names = [
        tf.config.experimental.get_device_details(g).get("device_name", g.name)
        for g in gpus
    ]
    return {
        "gpus": names,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }


# --- train -------------------------------------------------------------------------------------


def _scoring_card(spec, size: int, length: int | None) -> dict[str, Any]:
    """What the classifier code needs of a card, before the card exists."""
    card = {"kind": spec.kind, "input_size": size, "preprocessing": spec.preprocessing}
    if spec.kind == "temporal":
        card["sequence_length"] = length
    return card


def _init_for(arch: str, init: str) -> str:
    if init != "auto":
        return init
    return "imagenet" if arch.startswith("efficientnet") else "none"


def _prepare_samples(config: TrainConfig, size: int, progress: ProgressFn | None):
    dataset = load_dataset(config.data, config.layout, **config.dataset_options)
    train_items, val_items = split_items(
        dataset.items, val_fraction=config.val_fraction, seed=config.seed
    )
    if config.pseudo_fakes == "sbi":
        train_items = [i for i in train_items if i.label == 0]
    loose = loose_size_for(size)
    cache = config.cache_dir or config.out / "face-cache"

    def report(stage):
        return (
            (
                lambda done, total: progress(
                    {"stage": stage, "done": done, "total": total}
                )
            )
            if progress
            else None
        )

    train = extract_faces(
        train_items,
        cache,
        frames=config.frames,
        loose_size=loose,
        progress=report("faces (train)"),
    )
    val = extract_faces(
        val_items,
        cache,
        frames=config.frames,
        loose_size=loose,
        progress=report("faces (validation)"),
    )
    if not train or not val:
        raise MediaError(
            "No faces were found in the training or validation part of the dataset."
        )
    return dataset, train, val


def train(config: TrainConfig, progress: ProgressFn | None = None) -> TrainResult:
    import keras

    if config.pseudo_fakes not in (None, "", "sbi"):
        raise ModelError(
            f"Unknown pseudo-fake method {config.pseudo_fakes!r}; only sbi is known."
        )
    spec = get_arch(config.arch)
    temporal = spec.kind == "temporal"
    size = config.input_size or spec.input_size
    sbi = config.pseudo_fakes == "sbi"
    if temporal and sbi:
        raise ModelError(
            f"{config.arch} learns from real and fake videos; "
            "self-blended pseudo-fakes are made for single frames."
        )
    if temporal and config.sequence_length < 2:
        raise ModelError("A temporal model needs a sequence length of at least 2.")
    length = config.sequence_length if temporal else None
    name = config.name or f"{config.arch}{'-sbi' if sbi else ''}"
    out = Path(config.out)
    ckpt_dir = out / f"{name}.checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    dataset, train_samples, val_samples = _prepare_samples(config, size, progress)
    val = (
        _track_validation_set(val_samples, size=size, length=length, seed=config.seed)
        if temporal
        else _validation_set(val_samples, size=size, sbi=sbi, seed=config.seed)
    )
    if len(set(val[1].tolist())) < 2:
        raise MediaError(
            "The validation part holds only one class; add more videos or people."
        )

    keras.mixed_precision.set_global_policy(
        "mixed_float16" if config.mixed_precision else "float32"
    )
    try:
        keras.utils.set_random_seed(config.seed)
        state = {
            "epoch": 0,
            "best_auc": -1.0,
            "best_epoch": 0,
            "wait": 0,
            "history": [],
            "stopped_early": False,
        }
        if config.resume and (ckpt_dir / "last.keras").is_file():
            state = json.loads((ckpt_dir / "state.json").read_text())
            model = keras.saving.load_model(ckpt_dir / "last.keras")
        else:
            model = spec.build(
                input_size=size,
                init=_init_for(config.arch, config.init),
                **({"frames": length} if temporal else {}),
            )
            lr = config.learning_rate or (1e-3 if config.arch == "meso4" else 2e-4)
            model.compile(
                optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy"
            )
        batches = _batches_class()(
            train_samples,
            _track_examples(train_samples)
            if temporal
            else _examples(train_samples, sbi=sbi),
            size=size,
            preprocessing=spec.preprocessing,
            batch_size=config.batch_size,
            seed=config.seed,
            augmented=config.augment,
            sbi=sbi,
            epoch=state["epoch"],
            sequence_length=length,
        )
        if state["epoch"] < config.epochs and not state.get("stopped_early"):
            callbacks = _callbacks(
                val=val,
                card=_scoring_card(spec, size, length),
                ckpt_dir=ckpt_dir,
                state=state,
                patience=config.patience,
                epochs=config.epochs,
                batches=batches,
                batch_size=config.batch_size,
                progress=progress,
            )
            model.fit(
                batches,
                epochs=config.epochs,
                initial_epoch=state["epoch"],
                callbacks=callbacks,
                verbose=0,
            )
        best = keras.saving.load_model(ckpt_dir / "best.keras", compile=False)
        result = _finish(
            config,
            spec,
            best,
            val,
            dataset,
            train_samples,
            val_samples,
            name=name,
            size=size,
            state=state,
            seconds=time.monotonic() - started,
        )
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return result


def _finish(
    config,
    spec,
    model,
    val,
    dataset,
    train_samples,
    val_samples,
    *,
    name,
    size,
    state,
    seconds,
):
    faces, labels, groups = val
    out = Path(config.out)
    scores = predict_scores(
        model,
        faces,
        _scoring_card(spec, size, config.sequence_length),
        batch_size=config.batch_size,
    )
    threshold = choose_threshold(labels, scores)
    metrics = evaluate_scores(labels, scores, groups, threshold=threshold)
    plots = write_plots(labels, scores, out, prefix=f"{name}.", threshold=threshold)
    model_path, card_path = out / f"{name}.keras", out / f"{name}.card.json"
    model.save(model_path)
    card = {
        "name": name,
        "version": config.version or datetime.now(UTC).strftime("%Y%m%d.%H%M%S"),
        "arch": spec.name,
        "kind": spec.kind,
        "input_size": size,
        "preprocessing": spec.preprocessing,
        "framing": {"kind": FRAMING.kind, "margin": FRAMING.margin},
        "threshold": threshold,
        "metrics": {"validation": metrics},
        "dataset": {
            "path": str(Path(config.data).resolve()),
            "layout": dataset.layout,
            "options": config.dataset_options,
            "counts": dataset.counts(),
            "train_items": len(train_samples),
            "validation_items": len(val_samples),
            "train_faces": int(sum(len(s.crops) for s in train_samples)),
            "validation_faces": len(labels),
            "frames_per_video": config.frames,
            "split": "by identity where known, else by source video",
            "split_seed": config.seed,
            "val_fraction": config.val_fraction,
            "pseudo_fakes": config.pseudo_fakes or None,
        },
        "training": {
            "epochs_run": state["epoch"],
            "epochs": config.epochs,
            "best_epoch": state["best_epoch"],
            "stopped_early": bool(state.get("stopped_early")),
            "batch_size": config.batch_size,
            "init": _init_for(config.arch, config.init),
            "mixed_precision": config.mixed_precision,
            "augment": config.augment,
            "seconds": round(seconds, 1),
            "hardware": hardware(),
            "history": state["history"],
        },
        "plots": {k: Path(v).name for k, v in plots.items()},
        "code_version": code_version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sha256": file_sha256(model_path),
    }
    if spec.kind == "temporal":
        # Metrics of the "frame" level are per face track for a temporal model.
        card["sequence_length"] = config.sequence_length
    validate_card(card)
    _write_json(card_path, card)
    return TrainResult(model_path=model_path, card_path=card_path, card=card)
