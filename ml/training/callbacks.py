"""Keras callbacks of a training run: validation AUC, checkpoints, early stopping, progress."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ml.training.checkpoints import save_epoch
from ml.training.config import ProgressFn
from ml.training.validation import predict_scores

BN_RECALIBRATION_BATCHES = 20


def recalibrate_batchnorm(model, batches, *, count: int = BN_RECALIBRATION_BATCHES, step=None):
    """Re-estimate batch-norm statistics as the exact mean over `count` training batches.

    The running averages (momentum 0.99) lag behind weights that are still moving fast, and a
    network that separates its training batches well can then score near chance in inference
    mode (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021). Costs forward passes only:
    `step` (from `statistics_step`, compiled once per model) stores each batch's own statistics,
    which are averaged here. Returns the step for the next call.
    """
    import keras

    layers = [
        layer for layer in _all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)
    ]
    if not layers:
        return step
    saved = [layer.momentum for layer in layers]
    totals = [[0.0, 0.0] for _ in layers]
    used = min(count, len(batches))
    try:
        for layer in layers:
            layer.momentum = 0.0  # a pass leaves exactly its batch's statistics
        step = step or statistics_step(model)
        for k in range(used):
            step(batches[k][0])
            for total, layer in zip(totals, layers, strict=True):
                total[0] += keras.ops.convert_to_numpy(layer.moving_mean)
                total[1] += keras.ops.convert_to_numpy(layer.moving_variance)
        for (mean, variance), layer in zip(totals, layers, strict=True):
            layer.moving_mean.assign(mean / used)
            layer.moving_variance.assign(variance / used)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum
    return step


def statistics_step(model):
    """A forward pass in training mode (batch statistics update the moving ones), compiled as a
    graph on TensorFlow: an eager pass of a large network costs more in Python than in maths.
    Traced with the momentum the batch-norm layers have at the first call."""
    import keras

    def forward(x):
        model(x, training=True)

    if keras.backend.backend() != "tensorflow":
        return forward
    import tensorflow as tf

    return tf.function(forward, reduce_retracing=True)


def _all_layers(model):
    for layer in model.layers:
        yield layer
        # A wrapper (PerFrame, TimeDistributed) holds the per-frame network as `.layer`.
        inner = getattr(layer, "layer", None)
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
        elif hasattr(inner, "layers"):
            yield from _all_layers(inner)


def training_callbacks(
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

        step = None  # the compiled statistics pass, traced at the first epoch's end

        def on_epoch_end(self, epoch, logs=None):
            self.step = recalibrate_batchnorm(self.model, batches, step=self.step)
            scores = predict_scores(self.model, faces, card, batch_size=batch_size)
            auc = float(roc_auc_score(labels, scores))
            logs = logs if logs is not None else {}
            logs["val_auc"] = auc
            state["history"].append({"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}})
            improved = auc > state["best_auc"]
            if improved:
                state.update(best_auc=auc, best_epoch=epoch + 1, wait=0)
            else:
                state["wait"] += 1
            state["epoch"] = epoch + 1
            save_epoch(self.model, ckpt_dir, state, improved=improved)
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
