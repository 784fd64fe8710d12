"""Checkpoints: the model and the run's state after every epoch, written so that an
interrupted run never leaves a truncated file and resumes from its last finished epoch."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ml.models.archs import load_saved


def save_model(model, path: Path) -> None:
    """Save through a temporary file: an interrupted save never leaves a truncated checkpoint."""
    tmp = path.with_name(f"{path.stem}.partial.keras")
    model.save(tmp)
    os.replace(tmp, path)


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def fresh_state() -> dict[str, Any]:
    """The run's state before its first epoch; saved as state.json after every epoch."""
    return {
        "epoch": 0,
        "best_auc": -1.0,
        "best_epoch": 0,
        "wait": 0,
        "history": [],
        "stopped_early": False,
    }


def last_checkpoint(ckpt_dir: Path) -> tuple[dict[str, Any], Any] | None:
    """(state, model with its optimizer) of the last finished epoch, or None before the first."""
    if not (ckpt_dir / "last.keras").is_file():
        return None
    state = json.loads((ckpt_dir / "state.json").read_text())
    return state, load_saved(ckpt_dir / "last.keras", compile=True)


def save_epoch(model, ckpt_dir: Path, state: dict[str, Any], *, improved: bool) -> None:
    """After an epoch: the best model when it improved, always the last one and the state."""
    if improved:
        save_model(model, ckpt_dir / "best.keras")
    save_model(model, ckpt_dir / "last.keras")  # with the optimizer state
    write_json(ckpt_dir / "state.json", state)


def best_model(ckpt_dir: Path):
    return load_saved(ckpt_dir / "best.keras")
