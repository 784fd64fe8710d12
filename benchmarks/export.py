"""Child side: the LiteRT export of a model (ml/models/litert.py) made afresh, as `install_model`
makes it after installing a model file, with the converter process's own peak memory; and its
section of the page."""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any


def litert_export(spec: dict[str, Any]) -> dict[str, Any]:
    from ml.models import litert

    path = Path(spec["path"])
    target = litert.export_path(path, spec["sha256"])
    target.unlink(missing_ok=True)
    start = time.perf_counter()
    made = litert.large(path) and litert.enabled()  # a small model scores through Keras
    if made:
        litert.export(path, spec["sha256"])
    return {
        "arch": spec["card"]["arch"],
        "used": made is not None,
        "export_s": round(time.perf_counter() - start, 1),
        "size_mb": round(_export_bytes(target) / 2**20) if made else None,
        # The converter is this process's only child: its peak, not the worker's.
        "converter_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        ),
    }


def _export_bytes(target: Path) -> int:
    """The export's files: its stages (a large backbone's) and the last one."""
    from ml.models import litert

    return sum(p.stat().st_size for p in [*litert.stage_paths(target), target])


def export_lines(r: dict) -> list[str]:
    """The exports section of the page ([] when the run made none)."""
    rows = [e for e in r.get("exports", {}).values() if e.get("used")]
    if not rows:
        return []
    return [
        "## LiteRT export (once per model file)",
        "",
        (
            "A large frame model scores on the CPU through its LiteRT export (`ml/models/litert.py`), "
            "made in a child process by `install_model` right after installing the model file "
            "and kept beside it under its sha256; the analyses above found it made."
        ),
        "",
        "| model | export | converter's peak RSS | file |",
        "|---|---|---|---|",
        *(
            f"| {e['arch']} | {e['export_s']} s | {e['converter_peak_rss_mb']} MB | "
            f"{e['size_mb']} MB |"
            for e in rows
        ),
        "",
    ]
