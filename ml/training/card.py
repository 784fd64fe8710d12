"""The model card of a finished run: validation metrics at the chosen threshold, plots, the
dataset, the recipe, the hardware and the time it took."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml.evaluate import choose_threshold, evaluate_scores, write_plots
from ml.models.cards import validate_card
from ml.models.checksum import file_sha256
from ml.training.checkpoints import write_json
from ml.training.config import TrainResult, init_for
from ml.training.examples import FRAMING
from ml.training.validation import predict_scores, scoring_card
from ml.version import code_version


def hardware() -> dict[str, Any]:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
    return {
        "gpus": names,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }


def validation_evidence(metrics: dict[str, Any], layout: str, data: str) -> dict[str, Any]:
    """The run's own validation as in-domain evidence. Nothing is known across datasets until
    the model is measured on other data (manage.py evaluate_model, calibrate), so a low score
    of a freshly trained model cannot yet support a confident "real" (docs/verdict.md)."""
    auc = (metrics.get("video") or {}).get("auc")
    return {
        "in_domain": [
            {
                "dataset": f"held-out split of {Path(data).name} ({layout} layout)",
                "auc": None if auc is None else round(float(auc), 4),
                "level": "video",
                "source": "measured here at training",
            }
        ],
        "cross_dataset": [],
    }


def write_model_and_card(
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
        scoring_card(spec, size, config.sequence_length),
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
        "reliability": validation_evidence(metrics, dataset.layout, config.data),
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
            "init": init_for(config.arch, config.init),
            "mixed_precision": config.mixed_precision,
            "augment": config.augment,
            "deterministic": config.deterministic,
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
    write_json(card_path, card)
    return TrainResult(model_path=model_path, card_path=card_path, card=card)
