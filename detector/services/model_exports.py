"""The CPU exports of installed frame models, made when they are installed, never by an analysis.

A large frame model scores on a CPU through its LiteRT export (`ml.models.litert`): minutes to
make and gigabytes of memory, so `install_model` makes it right after installing the model,
one model at a time, each in a child process, with a line per model. Where the machine has too
little free memory, or the export fails, the model stays installed and scores through Keras
(slower); `install_model --export-missing` makes what is missing later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from detector.models import DetectorModel
from ml.models import litert
from ml.models.catalog import human_size

Say = Callable[[str], None]  # one line for the person installing


def model_exports_missing(models: Iterable[DetectorModel] | None = None) -> list[DetectorModel]:
    """The frame models (of `models`, else every installed one) that lack their export."""
    if models is None:
        models = DetectorModel.objects.filter(kind=DetectorModel.Kind.FRAME).order_by("pk")
    frame = [m for m in models if m.kind == DetectorModel.Kind.FRAME]
    return [m for m in frame if litert.missing(Path(m.file_path), m.sha256)]


def model_exports_make(*, models: Iterable[DetectorModel] | None = None, say: Say) -> int:
    """Make the missing exports of `models` (else of every installed frame model), one at a
    time; returns how many were made. Says before starting when memory is too short."""
    pending = model_exports_missing(models)
    if not pending or not _memory_suffices(pending, say):
        return 0
    made = 0
    for number, model in enumerate(pending, 1):
        of = f" (member {number}/{len(pending)})" if len(pending) > 1 else ""
        say(f"Exporting {model.name} for the CPU{of}, once: a few minutes ...")
        start = time.monotonic()
        try:
            litert.export(Path(model.file_path), model.sha256)
        except litert.ExportFailed as exc:
            say(f"  no export ({exc}); {model.name} scores through Keras (slower).")
            continue
        made += 1
        say(f"  exported {model.name} in {time.monotonic() - start:.0f} s.")
    return made


def _memory_suffices(pending: list[DetectorModel], say: Say) -> bool:
    need = max(litert.memory_needed(Path(m.file_path)) for m in pending)
    free = litert.memory_available()
    if need <= free:
        return True
    say(
        f"Not exporting for the CPU: an export needs about {human_size(need)} of memory and "
        f"{human_size(free)} is free, so the installed models score through Keras (slower); "
        "run `manage.py install_model --export-missing` when more memory is free."
    )
    return False
