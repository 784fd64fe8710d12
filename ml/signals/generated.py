"""Whether the whole image looks AI-generated: the whole-image detectors (card kind "image").

The face classifiers were trained on face swaps; an image a diffusion model made from nothing
has no swapped face, and often no face at all. A whole-image detector scores the entire
picture: an image once (and, where its card says its authors scored faces that way, a square
around each face found), a video on up to `generated_frames` evenly spaced frames, kept during
the one pass of the face scan (ml/faces/scan.py), never decoded twice.

Each detector's finding is one coded item: a confident score makes "fake" on its own
(`policy.GENERATED_MAKES_FAKE`); a low one never makes "real" (docs/verdict.md section 11).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from ml.errors import ModelError
from ml.faces.scan import Scan
from ml.models import heatmap, rollout
from ml.models.cards import ModelSpec
from ml.models.image_detector import ImageDetector, face_square, resized_short_side
from ml.verdict import policy
from ml.verdict.evidence import Evidence
from ml.verdict.report import GeneratedDetector, GeneratedFrame, GeneratedResult

log = logging.getLogger(__name__)

CODES = {
    "generated.detected": "a whole-image detector finds the image AI-generated (fake)",
    "generated.near_threshold": "a whole-image detector's score is too close to its threshold",
    "generated.not_detected": (
        "a whole-image detector does not find the image AI-generated (never proof of real)"
    ),
}
GENERATED_HEATMAP_SIZE = 192  # pixels of the rollout overlay: a whole picture, not a face
FramePrep = Callable[[np.ndarray], np.ndarray]


def load(specs: list[ModelSpec], warnings: list[str]) -> list[ImageDetector]:
    """The active whole-image detectors that load; a broken one is left out with a warning."""
    if not specs:
        return []  # no Keras to import for none
    # Registers the ViT's own layers before Keras reads a file that holds them.
    from ml.models.archs import vit  # noqa: F401

    detectors = []
    for spec in specs:
        try:
            detectors.append(ImageDetector.load(spec))
        except ModelError as exc:
            log.error("whole-image detector unusable: %s", exc)
            warnings.append(str(exc))
    return detectors


def frames_to_keep(detectors: list[ImageDetector], frames: int) -> int:
    return frames if detectors else 0


def frame_prep(detectors: list[ImageDetector]) -> FramePrep | None:
    """How a kept video frame is stored: resized once to the detectors' shared short side (the
    resize they would do anyway), so that kept frames cost little memory; None: kept as decoded."""
    sides = {d.resize_short_side for d in detectors}
    if len(sides) != 1 or None in sides:  # a detector that crops the image as it is
        return None
    side = sides.pop()
    return lambda rgb: resized_short_side(rgb, side)


def score(detectors: list[ImageDetector], scanned: Scan, media_type: str) -> GeneratedResult | None:
    """Each detector's score of the kept frames (and face squares of an image)."""
    if not detectors or not scanned.frames:
        return None
    found = [_detector_score(d, scanned, media_type) for d in detectors]
    deciding = max(found, key=lambda d: d.score - d.threshold)
    return GeneratedResult(score=deciding.score, detectors=found)


def _views(
    detector: ImageDetector, scanned: Scan, media_type: str
) -> list[tuple[float, str, np.ndarray]]:
    views = [(t, "whole", rgb) for t, rgb in scanned.frames]
    scale = detector.face_crop_scale
    if media_type == "image" and scale:
        rgb = scanned.frames[0][1]
        views += [
            (0.0, f"face {f.track_id}", face_square(rgb, f.box, scale)) for f in scanned.faces
        ]
    return views


def _detector_score(detector: ImageDetector, scanned: Scan, media_type: str) -> GeneratedDetector:
    views = _views(detector, scanned, media_type)
    scores = detector.predict_images([rgb for _, _, rgb in views])
    frames = [
        GeneratedFrame(round(t, 3), round(float(s), 4), view)
        for (t, view, _), s in zip(views, scores, strict=True)
    ]
    # An image: any view that looks generated counts; a video: the mean over its frames, so
    # that one odd frame does not decide.
    value = float(np.max(scores)) if media_type == "image" else float(np.mean(scores))
    top = int(np.argmax(scores))
    jpeg = _rollout_jpeg(detector, views[top][2])
    return GeneratedDetector(
        name=detector.spec.name,
        version=detector.spec.version,
        sha256=detector.spec.sha256,
        score=round(value, 4),
        threshold=detector.threshold,
        frames=frames,
        label=str(detector.card.get("short_name") or detector.spec.name),
        heatmap=jpeg,
        heatmap_time_s=frames[top].time_s if jpeg else None,
        heatmap_view=frames[top].view if jpeg else None,
    )


def _rollout_jpeg(detector: ImageDetector, rgb: np.ndarray) -> str | None:
    """The attention rollout over the view that scored highest, drawn on what the network saw."""
    found = detector.attention_rollout(rgb)
    if found is None:
        return None
    square, grid = found
    return heatmap.overlay_jpeg(square, rollout.heat(grid, len(square)), GENERATED_HEATMAP_SIZE)


def bounds(threshold: float) -> tuple[float, float]:
    """(not_detected_below, detected_from), as the face classifiers' bounds are drawn."""
    band = policy.GENERATED_UNCERTAINTY_BAND
    return max(threshold - band, threshold / 2), min(threshold + band, (1 + threshold) / 2)


def evidence(result: GeneratedResult | None, media_type: str) -> list[Evidence]:
    """One item per detector, the most confident first."""
    if result is None:
        return []
    ranked = sorted(result.detectors, key=lambda d: d.score - d.threshold, reverse=True)
    return [_finding(d, media_type) for d in ranked]


def _finding(detector: GeneratedDetector, media_type: str) -> Evidence:
    low, high = bounds(detector.threshold)
    said = f"{detector.label} {detector.score:.2f}"
    if media_type == "video":
        top = max(detector.frames, key=lambda f: f.score)
        said += f", mean of {len(detector.frames)} frames; highest {top.score:.2f} at {top.time_s:.1f} s"
    whole = "the whole image" if media_type == "image" else "the video's frames"
    values = {
        "detector": detector.name,
        "version": detector.version,
        "score": detector.score,
        "threshold": detector.threshold,
        "frames": len(detector.frames),
    }
    if detector.score >= high:
        verb = "looks" if media_type == "image" else "look"
        return Evidence("generated.detected", f"{whole} {verb} AI-generated ({said})", None, values)
    if detector.score <= low:
        text = (
            f"{whole} shows no sign of AI generation ({said}); this says nothing about a face swap"
        )
        return Evidence("generated.not_detected", text, None, values)
    text = f"{said} is too close to its {detector.threshold:.2f} threshold to say whether {whole} is AI-generated"
    return Evidence("generated.near_threshold", text, None, values)
