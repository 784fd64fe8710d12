"""Child side: classifier faces per second by batch size, through `FrameClassifier.predict`,
the call the worker's analysis makes."""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from tests.support.fullsize import peak_rss_mb


def classifier_throughput(
    spec: dict[str, Any], batches: list[int], crops: int, repeats: int
) -> dict[str, Any]:
    """Score `crops` random crops (at least one full batch) `repeats` times per batch size.

    Batch sizes run smallest first, so the peak memory read after each is that batch's peak.
    """
    from ml.models.classify import FrameClassifier

    start = time.perf_counter()
    classifier = FrameClassifier.load(spec)
    load_s = time.perf_counter() - start
    size = classifier.input_size
    rng = np.random.default_rng(0)
    rows = []
    for batch in sorted(batches):
        count = max(crops, batch)
        pixels = rng.integers(0, 256, (count, size, size, 3), np.uint8)
        classifier.predict(pixels[:batch], batch_size=batch)  # tracing is not throughput
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            classifier.predict(pixels, batch_size=batch)
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        rows.append(
            {
                "batch": batch,
                "crops": count,
                "faces_per_s": round(count / seconds, 3),
                "s_per_face": round(seconds / count, 4),
                "peak_rss_mb_so_far": round(peak_rss_mb()),
            }
        )
    return {
        "arch": classifier.card["arch"],
        "input_size": size,
        "runtime": classifier.info.runtime,
        "load_s": round(load_s, 2),
        "rows": rows,
    }
