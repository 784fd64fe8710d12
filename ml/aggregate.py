"""From per-frame fake probabilities to one score per face, and from faces to one per file.

Frame → face uses the "confident strategy" of the DFDC winner (selimsef/dfdc_deepfake_challenge):
a few confidently fake frames outweigh many ordinary ones, because a manipulation often shows
only in part of a clip. Face → file: the most suspicious face decides, because one swapped
face makes the whole file a fake. Every number lives in `ml.policy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ml import policy


def confident_mean(scores: Sequence[float]) -> float | None:
    """One face's score from its frame scores; None when it has none."""
    values = np.asarray(scores, dtype=np.float64)
    n = len(values)
    if n == 0:
        return None
    fakes = values[values > policy.CONFIDENT_FAKE_SCORE]
    if (
        len(fakes) > n / policy.CONFIDENT_FAKE_DIVISOR
        and len(fakes) > policy.CONFIDENT_FAKE_MIN_FRAMES
    ):
        return float(fakes.mean())
    reals = values[values < policy.CONFIDENT_REAL_SCORE]
    if len(reals) > policy.CONFIDENT_REAL_FRACTION * n:
        return float(reals.mean())
    return float(values.mean())


@dataclass(frozen=True)
class FaceScore:
    """One tracked face's classifier evidence, ready for `ml.fusion.fuse`."""

    track_id: int
    score: float  # the face's fake probability (confident strategy)
    frames_scored: int
    frames_over_threshold: int


def face_score(
    *, track_id: int, scores: Sequence[float], threshold: float
) -> FaceScore | None:
    """Summarise one face's frame scores; None when the face was never scored."""
    score = confident_mean(scores)
    if score is None:
        return None
    over = sum(1 for s in scores if s >= threshold)
    return FaceScore(track_id, score, len(scores), over)


def most_suspicious(
    faces: Sequence[FaceScore], *, min_frames: int = 1
) -> FaceScore | None:
    """The face with the highest score among those scored in at least `min_frames` frames.

    Faces scored less often (stray detections) only count when no face reaches `min_frames`.
    """
    if not faces:
        return None
    steady = [f for f in faces if f.frames_scored >= min_frames] or list(faces)
    return max(steady, key=lambda f: f.score)
