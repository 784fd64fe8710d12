"""`train()`: dataset → face crops → batches → Keras fit with checkpoints → model and card."""

from __future__ import annotations

import time
from pathlib import Path

from ml.datasets import load_dataset, split_items
from ml.datasets.extract import extract_faces, loose_size_for
from ml.errors import MediaError, ModelError
from ml.models.archs import get_arch
from ml.training.callbacks import training_callbacks
from ml.training.card import write_model_and_card
from ml.training.checkpoints import best_model, fresh_state, last_checkpoint
from ml.training.config import ProgressFn, TrainConfig, TrainResult, init_for
from ml.training.examples import batches_class, frame_examples, track_examples
from ml.training.validation import scoring_card, track_validation_set, validation_set


def enable_op_determinism() -> None:
    """Run every TensorFlow op deterministically: with the seeds, the same run gives the same
    model on the same hardware and software. Stays on for the rest of the process."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def prepare_samples(config: TrainConfig, size: int, progress: ProgressFn | None):
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
            (lambda done, total: progress({"stage": stage, "done": done, "total": total}))
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
        raise MediaError("No faces were found in the training or validation part of the dataset.")
    return dataset, train, val


def train(config: TrainConfig, progress: ProgressFn | None = None) -> TrainResult:
    import keras

    if config.pseudo_fakes not in (None, "", "sbi"):
        raise ModelError(f"Unknown pseudo-fake method {config.pseudo_fakes!r}; only sbi is known.")
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

    dataset, train_samples, val_samples = prepare_samples(config, size, progress)
    val = (
        track_validation_set(val_samples, size=size, length=length, seed=config.seed)
        if temporal
        else validation_set(val_samples, size=size, sbi=sbi, seed=config.seed)
    )
    if len(set(val[1].tolist())) < 2:
        raise MediaError("The validation part holds only one class; add more videos or people.")

    keras.mixed_precision.set_global_policy(
        "mixed_float16" if config.mixed_precision else "float32"
    )
    try:
        keras.utils.set_random_seed(config.seed)
        if config.deterministic:
            enable_op_determinism()
        resumed = last_checkpoint(ckpt_dir) if config.resume else None
        if resumed:
            state, model = resumed
        else:
            state = fresh_state()
            model = spec.build(
                input_size=size,
                init=init_for(config.arch, config.init),
                **({"frames": length} if temporal else {}),
            )
            lr = config.learning_rate or (1e-3 if config.arch == "meso4" else 2e-4)
            model.compile(optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy")
        batches = batches_class()(
            train_samples,
            track_examples(train_samples) if temporal else frame_examples(train_samples, sbi=sbi),
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
            callbacks = training_callbacks(
                val=val,
                card=scoring_card(spec, size, length),
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
        result = write_model_and_card(
            config,
            spec,
            best_model(ckpt_dir),
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
