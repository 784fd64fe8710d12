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
  and a normal blink pattern is no proof of "real" for the same reason. Which blink codes hold a
  "real" back is `policy.BLINK_HOLDS_BACK_REAL`;
- a model whose card shows weak or unknown cross-dataset evidence (ml/verdict/reliability.py)
  may support "fake" but not a confident "real": its low score is inconclusive;
- a policy card calibrated on labelled data for the models in use (ml/verdict/policy_card.py)
  replaces the threshold and band by its own bounds; its measured accuracy is the evidence
  that lets a low score say "real".

Every signal hands its findings in as `Evidence` (ml/verdict/evidence.py); the verdict's reasons
are evidence items too, each with a stable code (docs/verdict.md lists them all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ml.verdict import policy
from ml.verdict.aggregate import FaceScore, TrackScore, most_suspicious
from ml.verdict.evidence import Evidence, codes
from ml.verdict.policy_card import PolicyCard
from ml.verdict.reliability import Reliability

MAX_FACE_REASONS = 5  # a crowd shot should not bury the verdict under reasons
SCORE_SIGNALS = ("classifier", "temporal")  # per-face scores, ordered by fusion

CODES = {
    "face.none_found": "no face was found, so there was nothing to judge",
    "classifier.above_threshold": "the deciding score is well above the model's threshold (fake)",
    "classifier.below_threshold": "the deciding score is well below the model's threshold (real)",
    "classifier.near_threshold": "the deciding score is too close to the threshold to call",
    "classifier.no_face_scored": "the classifier did not score any face",
    "verdict.decided_by_only_face": "the only face seen clearly enough to judge decides",
    "verdict.decided_by_most_suspicious": "the most suspicious of the faces judged decides",
    "blink.holds_back_real": "an abnormal blink pattern holds back a classifier's real",
    "blink.alone_not_enough": "an abnormal blink pattern alone cannot make a fake",
    "classifier.weak_model_low_score": (
        "a low score from a model whose evidence cannot support a confident real (inconclusive)"
    ),
    "generated.faces_disagree": (
        "the face classifiers find the faces real but the whole image looks AI-generated"
    ),
    "generated.holds_back_real": (
        "a whole-image score too close to call holds back the face classifiers' real"
    ),
}
# What a low score from a model that may not support "real" says, by its reliability level.
LOW_SCORE_WORDS = {
    "weak": "no sign of manipulation found by a detector that misses many modern fakes",
    "unknown": (
        "no sign of manipulation found by a detector whose accuracy on kinds of fakes it was "
        "not trained on is unknown"
    ),
}
NO_FACE = Evidence("face.none_found", "no face detected, so there was nothing to judge")
NOT_SCORED = Evidence("classifier.no_face_scored", "the classifier did not score any face")
HOLDS_BACK_REAL = Evidence(
    "blink.holds_back_real",
    "the classifier finds the faces real but the blink pattern is abnormal",
)
BLINKS_ALONE = Evidence(
    "blink.alone_not_enough",
    "an abnormal blink pattern alone is not enough evidence to call a video fake",
)
# Who gave the deciding score, as the verdict's sentence names it.
SOURCES = {
    "classifier": "the classifier's score",
    "temporal": "the temporal model's score",
    "combined": "the combined score of the classifier and the temporal model",
}


class Fusion(NamedTuple):
    verdict: str
    fake_probability: float | None
    evidence: list[Evidence]  # the reasons, in the order shown
    faces: list[FaceScore] = []  # each face's combined score (frame and temporal models)
    decisive: FaceScore | None = None  # the face that decided the verdict

    @property
    def reasons(self) -> list[str]:
        return [e.text for e in self.evidence]


@dataclass(frozen=True)
class Scores:
    """What the classifiers scored: per face (frame models) and per track (a temporal model),
    each against its model's threshold; `unscored` says why nothing was, when nothing was."""

    frame: Sequence[FaceScore] = ()
    frame_threshold: float | None = None
    temporal: Sequence[TrackScore] = ()
    temporal_threshold: float | None = None
    unscored: Evidence | None = None
    # What the models behind the scores may support (the weakest of them); None: not known.
    reliability: Reliability | None = None


class Combined(NamedTuple):
    """What the verdict weighs: one score per face, the threshold and who gave them."""

    faces: list[FaceScore]
    threshold: float | None
    source: str  # a key of SOURCES


def combine(scores: Scores) -> Combined:
    """Per-face scores from the frame classifier, the temporal model, or both (weighted mean)."""
    frame, temporal = list(scores.frame), list(scores.temporal)
    if not temporal or scores.temporal_threshold is None:
        return Combined(frame, scores.frame_threshold, "classifier")
    if not frame or scores.frame_threshold is None:
        faces = [_track_as_face(t, scores.temporal_threshold) for t in temporal]
        return Combined(faces, scores.temporal_threshold, "temporal")
    tracks = {t.track_id: t for t in temporal}
    w_frame, w_temporal = policy.FRAME_MODEL_WEIGHT, policy.TEMPORAL_MODEL_WEIGHT
    total = w_frame + w_temporal
    faces = [
        _mixed(f, tracks[f.track_id], w_frame / total) if f.track_id in tracks else f for f in frame
    ]
    threshold = (w_frame * scores.frame_threshold + w_temporal * scores.temporal_threshold) / total
    return Combined(faces, threshold, "combined")


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
    faces_found: int,
    scores: Scores,
    evidence: Sequence[Evidence] = (),
    judged: Mapping[int, str] | None = None,
    min_frames: int = 1,
    calibrated: PolicyCard | None = None,
) -> Fusion:
    """Combine the evidence about one file into a verdict.

    `evidence` holds what the signals found: the classifiers' per-face scores (ordered here,
    the deciding face first), then the other signals' items (people left out, blinks,
    provenance), kept in the order given. `judged` says in words why each person scored may
    decide. `calibrated` is the policy card that applies to the models in use, if any.
    """
    fusion = _weigh(faces_found, scores, evidence, judged or {}, min_frames, calibrated)
    return _declarations_decide(_generated_decides(fusion, evidence), evidence)


FACES_DISAGREE = Evidence(
    "generated.faces_disagree",
    "the face classifiers find the faces real, but the whole image looks AI-generated",
)
GENERATED_HOLDS_BACK = Evidence(
    "generated.holds_back_real",
    "the face classifiers find the faces real, but whether the whole image is AI-generated "
    "is too close to call",
)


def _generated_decides(fusion: Fusion, evidence: Sequence[Evidence]) -> Fusion:
    """A whole-image detector's confident score makes "fake" on its own, also with no face,
    its reason first; one too close to call holds a "real" back (docs/verdict.md section 11)."""
    detected = [e for e in evidence if e.code in policy.GENERATED_MAKES_FAKE]
    if not detected:
        if fusion.verdict == "real" and codes(evidence) & policy.GENERATED_HOLDS_BACK_REAL:
            return fusion._replace(
                verdict="inconclusive", evidence=[*fusion.evidence, GENERATED_HOLDS_BACK]
            )
        return fusion
    rest = [e for e in fusion.evidence if e not in detected]
    disagree = [FACES_DISAGREE] if fusion.verdict == "real" else []
    score = max(e.params["score"] for e in detected)
    probability = max(score, fusion.fake_probability or 0.0)
    return fusion._replace(
        verdict="fake", fake_probability=probability, evidence=[*detected, *disagree, *rest]
    )


def _declarations_decide(fusion: Fusion, evidence: Sequence[Evidence]) -> Fusion:
    """Valid Content Credentials that declare AI generation make "fake", whatever the scores
    say, their reason first (`policy.PROVENANCE_MAKES_FAKE`, docs/verdict.md section 9)."""
    declared = [e for e in evidence if e.code in policy.PROVENANCE_MAKES_FAKE]
    if not declared:
        return fusion
    rest = [e for e in fusion.evidence if e not in declared]
    return fusion._replace(verdict="fake", evidence=[*declared, *rest])


def _weigh(
    faces_found: int,
    scores: Scores,
    evidence: Sequence[Evidence],
    judged: Mapping[int, str],
    min_frames: int,
    calibrated: PolicyCard | None,
) -> Fusion:
    """The verdict the scores, the people and the blinks support."""
    scored = [e for e in evidence if e.signal in SCORE_SIGNALS]
    others = [e for e in evidence if e.signal not in SCORE_SIGNALS]
    holds_back = bool(codes(others) & policy.BLINK_HOLDS_BACK_REAL)
    if faces_found == 0:
        return Fusion("inconclusive", None, [NO_FACE, *others])
    combined = combine(scores)
    decisive = most_suspicious(combined.faces, min_frames=min_frames)
    if decisive is None or combined.threshold is None:
        unscored = scores.unscored or NOT_SCORED
        alone = [BLINKS_ALONE] if holds_back else []
        return Fusion("inconclusive", None, [unscored, *others, *alone], combined.faces, decisive)
    verdict, decision = _classifier_verdict(
        decisive.score, combined.threshold, combined.source, calibrated
    )
    if verdict == "real" and calibrated is None and not _may_say_real(scores.reliability):
        verdict, decision = "inconclusive", _weak_low_score(decision, scores.reliability)
    reasons = [decision, *_decides(decisive.track_id, judged), *_ordered(scored, decisive)]
    if verdict == "real" and holds_back:
        verdict = "inconclusive"
        reasons.append(HOLDS_BACK_REAL)
    return Fusion(verdict, round(decisive.score, 4), reasons + others, combined.faces, decisive)


def _may_say_real(reliability: Reliability | None) -> bool:
    return reliability is None or reliability.supports_real


def _weak_low_score(decision: Evidence, reliability: Reliability) -> Evidence:
    values = {
        **decision.params,
        "reliability": reliability.level,
        "evidence": reliability.basis,
        "auc": reliability.auc,
    }
    text = f"{LOW_SCORE_WORDS[reliability.level]} ({reliability.basis})"
    return Evidence("classifier.weak_model_low_score", text, None, values)


def _classifier_verdict(
    score: float,
    threshold: float,
    source: str = "classifier",
    calibrated: PolicyCard | None = None,
) -> tuple[str, Evidence]:
    said = f"{SOURCES[source]} {score:.2f} is"
    values = {"score": round(score, 4), "threshold": round(threshold, 4), "source": source}
    if calibrated is not None:
        return _calibrated_verdict(score, said, values, calibrated)
    real_below, fake_from = decision_bounds(threshold)
    if score >= fake_from:
        text = f"{said} well above its {threshold:.2f} threshold"
        return "fake", Evidence("classifier.above_threshold", text, None, values)
    if score <= real_below:
        text = f"{said} well below its {threshold:.2f} threshold"
        return "real", Evidence("classifier.below_threshold", text, None, values)
    text = f"{said} too close to its {threshold:.2f} threshold to call"
    return "inconclusive", Evidence("classifier.near_threshold", text, None, values)


def _calibrated_verdict(
    score: float, said: str, values: dict, card: PolicyCard
) -> tuple[str, Evidence]:
    """The verdict under a policy card's bounds; a missing bound is never reached."""
    values = {
        **values,
        "real_below": card.real_below,
        "fake_from": card.fake_from,
        "policy_version": card.version,
    }
    named = f"policy {card.version}"
    if card.fake_from is not None and score >= card.fake_from:
        text = f"{said} at or above the {card.fake_from:.2f} bound for fake ({named})"
        return "fake", Evidence("classifier.above_threshold", text, None, values)
    if card.real_below is not None and score <= card.real_below:
        text = f"{said} at or below the {card.real_below:.2f} bound for real ({named})"
        return "real", Evidence("classifier.below_threshold", text, None, values)
    text = f"{said} outside the bounds calibrated for a confident answer ({named})"
    return "inconclusive", Evidence("classifier.near_threshold", text, None, values)


def _ordered(scored: Sequence[Evidence], decisive: FaceScore) -> list[Evidence]:
    """Per model, the deciding face first, then the others by suspicion."""
    result = []
    for signal in SCORE_SIGNALS:
        items = [e for e in scored if e.signal == signal]
        items.sort(key=lambda e: (e.subject != decisive.track_id, -e.params["score"]))
        result += items[:MAX_FACE_REASONS]
    return result


def _decides(track_id: int, judged: Mapping[int, str]) -> list[Evidence]:
    if track_id not in judged:
        return []
    values = {"faces_judged": len(judged), "note": judged[track_id]}
    if len(judged) == 1:
        text = (
            f"Face {track_id} decides: the only face seen clearly enough to judge "
            f"({judged[track_id]})"
        )
        return [Evidence("verdict.decided_by_only_face", text, track_id, values)]
    text = (
        f"Face {track_id} decides: the most suspicious of the {len(judged)} faces seen clearly "
        f"enough to judge ({judged[track_id]})"
    )
    return [Evidence("verdict.decided_by_most_suspicious", text, track_id, values)]
