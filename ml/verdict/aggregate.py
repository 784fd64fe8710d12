"""From per-frame fake probabilities to one score per face, and from faces to one per file.

Frame → face uses the "confident strategy" of the DFDC winner (selimsef/dfdc_deepfake_challenge):
a few confidently fake frames outweigh many ordinary ones, because a manipulation often shows
only in part of a clip. Face → file: the most suspicious face decides, because one swapped
face makes the whole file a fake. Every number lives in `ml.verdict.policy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ml.verdict import policy


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
    """One tracked face's classifier evidence, ready for `ml.verdict.fusion.fuse`."""

    track_id: int
    score: float  # the face's fake probability (confident strategy)
    frames_scored: int
    frames_over_threshold: int


@dataclass(frozen=True)
class TrackScore:
    """A temporal model's fake probability for one whole face track."""

    track_id: int
    score: float
    frames: int  # the crops of the track the model saw


def face_score(*, track_id: int, scores: Sequence[float], threshold: float) -> FaceScore | None:
    """Summarise one face's frame scores; None when the face was never scored."""
    return ensemble_face_score(
        track_id=track_id, member_scores=[scores], weights=[1.0], threshold=threshold
    )


def ensemble_face_score(
    *,
    track_id: int,
    member_scores: Sequence[Sequence[float]],
    weights: Sequence[float],
    threshold: float,
) -> FaceScore | None:
    """One face's score from several models' frame scores (models, frames): each model's
    confident mean, then their weighted mean, as the DFDC winner combined its seven models.
    Frames over the threshold are counted on the weighted mean of each frame."""
    matrix = np.asarray(member_scores, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        return None
    w = np.asarray(weights, dtype=np.float64)
    score = float(np.dot(w, [confident_mean(row) for row in matrix]))
    frames = w @ matrix
    over = int(np.sum(frames >= threshold))
    return FaceScore(track_id, score, matrix.shape[1], over)


def most_suspicious(faces: Sequence[FaceScore], *, min_frames: int = 1) -> FaceScore | None:
    """The face with the highest score among those scored in at least `min_frames` frames.

    Faces scored less often (stray detections) only count when no face reaches `min_frames`.
    """
    if not faces:
        return None
    steady = [f for f in faces if f.frames_scored >= min_frames] or list(faces)
    return max(steady, key=lambda f: f.score)
