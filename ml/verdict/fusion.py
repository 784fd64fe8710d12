"""The verdict: real, fake or inconclusive, with the plain-language reasons behind it.

The rules (docs/verdict.md explains them and their sources):
- no face → inconclusive: there is nothing to judge;
- only people seen clearly enough (ml/faces/identity.py) are scored; the others are listed with the
  reason they were left out, and the reasons name the person who decided;
- the trained classifier is the only signal strong enough for a verdict on its own. Its score for
  the most suspicious face is compared with the model's own threshold; within
  `policy.UNCERTAINTY_BAND` of it the answer is "inconclusive";
- on videos a temporal model may score each face track too: alone it plays the classifier's
  role; with a frame classifier, each face's score and the threshold are the weighted means in
  `policy.FRAME_MODEL_WEIGHT` / `policy.TEMPORAL_MODEL_WEIGHT`;
- blinks can only hold a verdict back, never make one: an abnormal blink pattern turns a
  classifier's "real" into "inconclusive", but without a classifier it cannot make "fake"
  (published blink detectors reach about 87.5 % accuracy and newer generators synthesise blinks),
  and a normal blink pattern is no proof of "real" for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ml.verdict import policy
from ml.verdict.aggregate import FaceScore, most_suspicious
from ml.verdict.report import BlinkResult

NO_FACE = "no face detected, so there was nothing to judge"
MAX_FACE_REASONS = 5  # a crowd shot should not bury the verdict under reasons


class Fusion(NamedTuple):
    verdict: str
    fake_probability: float | None
    reasons: list[str]
    faces: list[FaceScore] = []  # each face's combined score (frame and temporal models)
    decisive: FaceScore | None = None  # the face that decided the verdict


@dataclass(frozen=True)
class TrackScore:
    """A temporal model's fake probability for one whole face track."""

    track_id: int
    score: float
    frames: int  # the crops of the track the model saw


class Evidence(NamedTuple):
    """What the verdict weighs: one score per face, the threshold and who gave them."""

    faces: list[FaceScore]
    threshold: float | None
    source: str  # names the scorer in the verdict's reason


def combine(
    *,
    frame: Sequence[FaceScore],
    frame_threshold: float | None,
    temporal: Sequence[TrackScore] = (),
    temporal_threshold: float | None = None,
) -> Evidence:
    """Per-face scores from the frame classifier, the temporal model, or both (weighted mean)."""
    if not temporal or temporal_threshold is None:
        return Evidence(list(frame), frame_threshold, "the classifier's score")
    tracks = {t.track_id: t for t in temporal}
    if not frame or frame_threshold is None:
        faces = [_track_as_face(t, temporal_threshold) for t in temporal]
        return Evidence(faces, temporal_threshold, "the temporal model's score")
    w_frame, w_temporal = policy.FRAME_MODEL_WEIGHT, policy.TEMPORAL_MODEL_WEIGHT
    total = w_frame + w_temporal
    faces = [
        _mixed(f, tracks[f.track_id], w_frame / total) if f.track_id in tracks else f for f in frame
    ]
    threshold = (w_frame * frame_threshold + w_temporal * temporal_threshold) / total
    return Evidence(faces, threshold, "the combined score of the classifier and the temporal model")


def _track_as_face(track: TrackScore, threshold: float) -> FaceScore:
    over = track.frames if track.score >= threshold else 0
    return FaceScore(track.track_id, track.score, track.frames, over)


def _mixed(face: FaceScore, track: TrackScore, frame_share: float) -> FaceScore:
    score = frame_share * face.score + (1 - frame_share) * track.score
    return FaceScore(face.track_id, score, face.frames_scored, face.frames_over_threshold)


def decision_bounds(threshold: float) -> tuple[float, float]:
    """(real_below, fake_from): scores between them are too close to the threshold to call.

    The band is narrowed near 0 or 1 so that both verdicts stay reachable for any threshold.
    """
    band = policy.UNCERTAINTY_BAND
    return max(threshold - band, threshold / 2), min(threshold + band, (1 + threshold) / 2)


def fuse(
    *,
    media_type: str,
    faces_found: int,
    face_scores: Sequence[FaceScore],
    threshold: float | None,
    skipped_reason: str = "",
    blink: BlinkResult | None = None,
    min_frames: int = 1,
    temporal: Sequence[TrackScore] = (),
    temporal_threshold: float | None = None,
    person_blinks: Mapping[int, BlinkResult] | None = None,
    judged: Mapping[int, str] | None = None,
    not_judged: Mapping[int, str] | None = None,
) -> Fusion:
    """Combine the evidence about one file into a verdict.

    Per person (videos of several people): `person_blinks` holds each judged person's blinks
    (used instead of `blink`; reasons name the person), `judged` why each person scored may
    decide, and `not_judged` why the others were left out of the verdict.

    `face_scores` is empty when no classifier ran (then `skipped_reason` says why in words);
    `threshold` is the classifier's decision threshold from its model card. `temporal` holds
    the temporal model's track scores (empty when none ran), compared with `temporal_threshold`.
    """
    if person_blinks is not None:
        blink_reasons = _person_blink_reasons(media_type, person_blinks)
        abnormal = any(_is_abnormal(b) for b in person_blinks.values())
    else:
        blink_reasons = _blink_reasons(media_type, blink)
        abnormal = _is_abnormal(blink)
    left_out = [
        f"Face {track_id} not judged: {reason}"
        for track_id, reason in sorted((not_judged or {}).items())
    ]
    if faces_found == 0:
        return Fusion("inconclusive", None, [NO_FACE, *blink_reasons])
    evidence = combine(
        frame=face_scores,
        frame_threshold=threshold,
        temporal=temporal,
        temporal_threshold=temporal_threshold,
    )
    decisive = most_suspicious(evidence.faces, min_frames=min_frames)
    if decisive is None or evidence.threshold is None:
        reason = skipped_reason or "the classifier did not score any face"
        return Fusion(
            "inconclusive",
            None,
            [reason, *left_out, *blink_reasons, *_blinks_alone(abnormal)],
            evidence.faces,
            decisive,
        )
    verdict, verdict_reason = _classifier_verdict(
        decisive.score, evidence.threshold, evidence.source
    )
    reasons = [verdict_reason]
    if judged and decisive.track_id in judged:
        reasons.append(_decides(decisive.track_id, judged))
    if threshold is not None:
        reasons += _face_reasons(face_scores, decisive, media_type, threshold)
    if temporal_threshold is not None:
        reasons += _track_reasons(temporal, decisive, temporal_threshold)
    if verdict == "real" and abnormal:
        verdict = "inconclusive"
        reasons.append("the classifier finds the faces real but the blink pattern is abnormal")
    return Fusion(
        verdict,
        round(decisive.score, 4),
        reasons + left_out + blink_reasons,
        evidence.faces,
        decisive,
    )


def _classifier_verdict(
    score: float, threshold: float, source: str = "the classifier's score"
) -> tuple[str, str]:
    real_below, fake_from = decision_bounds(threshold)
    said = f"{source} {score:.2f} is"
    if score >= fake_from:
        return "fake", f"{said} well above its {threshold:.2f} threshold"
    if score <= real_below:
        return "real", f"{said} well below its {threshold:.2f} threshold"
    return (
        "inconclusive",
        f"{said} too close to its {threshold:.2f} threshold to call",
    )


def _face_reasons(
    faces: Sequence[FaceScore], decisive: FaceScore, media_type: str, threshold: float
) -> list[str]:
    # The deciding face first, then the others by suspicion.
    ordered = sorted(faces, key=lambda f: (f.track_id != decisive.track_id, -f.score))
    return [_face_reason(f, media_type, threshold) for f in ordered[:MAX_FACE_REASONS]]


def _track_reasons(
    tracks: Sequence[TrackScore], decisive: FaceScore, threshold: float
) -> list[str]:
    ordered = sorted(tracks, key=lambda t: (t.track_id != decisive.track_id, -t.score))
    return [
        f"temporal model: {t.score:.2f} fake for face {t.track_id} over {t.frames} "
        f"frames (threshold {threshold:.2f})"
        for t in ordered[:MAX_FACE_REASONS]
    ]


def _face_reason(face: FaceScore, media_type: str, threshold: float) -> str:
    if media_type == "image":
        return f"classifier: {face.score:.2f} fake for face {face.track_id}"
    return (
        f"classifier: {face.score:.2f} fake on {face.frames_over_threshold} of "
        f"{face.frames_scored} frames of face {face.track_id} (threshold {threshold:.2f})"
    )


def _is_abnormal(blink: BlinkResult | None) -> bool:
    return blink is not None and blink.status == "abnormal"


def _decides(track_id: int, judged: Mapping[int, str]) -> str:
    if len(judged) == 1:
        return f"Face {track_id} decides: the only face seen clearly enough to judge ({judged[track_id]})"
    return (
        f"Face {track_id} decides: the most suspicious of the {len(judged)} faces seen clearly "
        f"enough to judge ({judged[track_id]})"
    )


def _person_blink_reasons(media_type: str, person_blinks: Mapping[int, BlinkResult]) -> list[str]:
    if media_type == "image":
        return ["a still image carries no blink signal"]
    return [
        f"Face {track_id}: {reason}"
        for track_id, blink in sorted(person_blinks.items())
        for reason in _blink_reasons(media_type, blink)
    ]


def _blinks_alone(abnormal: bool) -> list[str]:
    if abnormal:
        return ["an abnormal blink pattern alone is not enough evidence to call a video fake"]
    return []


def _blink_reasons(media_type: str, blink: BlinkResult | None) -> list[str]:
    if media_type == "image" or blink is None or blink.status == "not_applicable":
        return ["a still image carries no blink signal"] if media_type == "image" else []
    if blink.message:
        return [blink.message]
    if blink.rate_per_minute is None:
        return ["too few usable frames to measure blinking"]
    where = "outside" if blink.status == "abnormal" else "within"
    usual = f"{policy.HUMAN_BLINK_RATE_READING:g}-{policy.HUMAN_BLINK_RATE_TALKING:g}/min"
    return [f"{blink.rate_per_minute:.1f} blinks/min, {where} the usual human range of {usual}"]
