"""The verdict: real, fake or inconclusive, with the plain-language reasons behind it.

The rules (docs/verdict.md explains them and their sources):
- no face → inconclusive: there is nothing to judge;
- the trained classifier is the only signal strong enough for a verdict on its own. Its score for
  the most suspicious face is compared with the model's own threshold; within
  `policy.UNCERTAINTY_BAND` of it the answer is "inconclusive";
- blinks can only hold a verdict back, never make one: an abnormal blink pattern turns a
  classifier's "real" into "inconclusive", but without a classifier it cannot make "fake"
  (published blink detectors reach about 87.5 % accuracy and newer generators synthesise blinks),
  and a normal blink pattern is no proof of "real" for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ml import policy
from ml.aggregate import FaceScore, most_suspicious
from ml.report import BlinkResult

NO_FACE = "no face detected, so there was nothing to judge"
MAX_FACE_REASONS = 5  # a crowd shot should not bury the verdict under reasons


class Fusion(NamedTuple):
    verdict: str
    fake_probability: float | None
    reasons: list[str]


def decision_bounds(threshold: float) -> tuple[float, float]:
    """(real_below, fake_from): scores between them are too close to the threshold to call.

    The band is narrowed near 0 or 1 so that both verdicts stay reachable for any threshold.
    """
    band = policy.UNCERTAINTY_BAND
    return max(threshold - band, threshold / 2), min(
        threshold + band, (1 + threshold) / 2
    )


def fuse(
    *,
    media_type: str,
    faces_found: int,
    face_scores: Sequence[FaceScore],
    threshold: float | None,
    skipped_reason: str = "",
    blink: BlinkResult | None = None,
    min_frames: int = 1,
) -> Fusion:
    """Combine the evidence about one file into a verdict.

    `face_scores` is empty when no classifier ran (then `skipped_reason` says why in words);
    `threshold` is the classifier's decision threshold from its model card.
    """
    blink_reasons = _blink_reasons(media_type, blink)
    if faces_found == 0:
        return Fusion("inconclusive", None, [NO_FACE, *blink_reasons])
    decisive = most_suspicious(face_scores, min_frames=min_frames)
    if decisive is None or threshold is None:
        reason = skipped_reason or "the classifier did not score any face"
        return Fusion(
            "inconclusive", None, [reason, *blink_reasons, *_blinks_alone(blink)]
        )
    verdict, verdict_reason = _classifier_verdict(decisive.score, threshold)
    reasons = [
        verdict_reason,
        *_face_reasons(face_scores, decisive, media_type, threshold),
    ]
    if verdict == "real" and _is_abnormal(blink):
        verdict = "inconclusive"
        reasons.append(
            "the classifier finds the faces real but the blink pattern is abnormal"
        )
    return Fusion(verdict, round(decisive.score, 4), reasons + blink_reasons)


def _classifier_verdict(score: float, threshold: float) -> tuple[str, str]:
    real_below, fake_from = decision_bounds(threshold)
    if score >= fake_from:
        return (
            "fake",
            f"the classifier's score {score:.2f} is well above its {threshold:.2f} threshold",
        )
    if score <= real_below:
        return (
            "real",
            f"the classifier's score {score:.2f} is well below its {threshold:.2f} threshold",
        )
    return (
        "inconclusive",
        f"the classifier's score {score:.2f} is too close to its {threshold:.2f} threshold to call",
    )


def _face_reasons(
    faces: Sequence[FaceScore], decisive: FaceScore, media_type: str, threshold: float
) -> list[str]:
    # The deciding face first, then the others by suspicion.
    ordered = sorted(faces, key=lambda f: (f is not decisive, -f.score))
    return [_face_reason(f, media_type, threshold) for f in ordered[:MAX_FACE_REASONS]]


def _face_reason(face: FaceScore, media_type: str, threshold: float) -> str:
    if media_type == "image":
        return f"classifier: {face.score:.2f} fake for face {face.track_id}"
    return (
        f"classifier: {face.score:.2f} fake on {face.frames_over_threshold} of "
        f"{face.frames_scored} frames of face {face.track_id} (threshold {threshold:.2f})"
    )


def _is_abnormal(blink: BlinkResult | None) -> bool:
    return blink is not None and blink.status == "abnormal"


def _blinks_alone(blink: BlinkResult | None) -> list[str]:
    if _is_abnormal(blink):
        return [
            "an abnormal blink pattern alone is not enough evidence to call a video fake"
        ]
    return []


def _blink_reasons(media_type: str, blink: BlinkResult | None) -> list[str]:
    if media_type == "image" or blink is None or blink.status == "not_applicable":
        return (
            ["a still image carries no blink signal"] if media_type == "image" else []
        )
    if blink.message:
        return [blink.message]
    if blink.rate_per_minute is None:
        return ["too few usable frames to measure blinking"]
    where = "outside" if blink.status == "abnormal" else "within"
    usual = (
        f"{policy.HUMAN_BLINK_RATE_READING:g}-{policy.HUMAN_BLINK_RATE_TALKING:g}/min"
    )
    return [
        f"{blink.rate_per_minute:.1f} blinks/min, {where} the usual human range of {usual}"
    ]
