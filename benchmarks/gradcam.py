"""Child side: seconds and peak memory of Grad-CAM heatmaps of the lead model, through
`FrameClassifier.heatmap` as an analysis calls it (ml.models.heatmap as shipped)."""

from __future__ import annotations

import time
from typing import Any


def heatmap_cost(spec: dict[str, Any], faces: int) -> dict[str, Any]:
    """`faces` heatmaps after scoring them, as in an analysis. Each reuses the compiled pass
    that scored (ml/models/forward.py) and differentiates the small head alone; the first face also
    includes the head's first eager gradient."""
    import numpy as np

    from ml.models.classify import FrameClassifier
    from tests.support.fullsize import peak_rss_mb

    classifier = FrameClassifier.load(spec)
    size = classifier.input_size
    crops = np.random.default_rng(0).integers(0, 256, (faces, size, size, 3), np.uint8)
    classifier.predict(crops)
    before = peak_rss_mb()
    seconds = []
    for crop in crops:
        start = time.perf_counter()
        classifier.heatmap(crop)
        seconds.append(time.perf_counter() - start)
    return {
        "faces": faces,
        "first_s": round(seconds[0], 2),
        "later_s_per_face": round(sum(seconds[1:]) / max(faces - 1, 1), 2),
        "peak_rss_mb_before": round(before),
    }
