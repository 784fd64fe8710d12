"""The classifier stages of an analysis: load the installed models, score each judged person's
kept crops (all people in one batched call per model), score face tracks with a temporal model,
and draw Grad-CAM heatmaps over the most suspicious faces."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ml.errors import ModelError
from ml.faces.framing import CropSpec, Framing
from ml.faces.people import Person
from ml.faces.saved_crops import CropSink, ScoredCrop
from ml.models import heatmap
from ml.models.cards import ModelSpec
from ml.models.classify import Ensemble, TemporalClassifier, load_ensemble
from ml.verdict.aggregate import FaceScore, TrackScore
from ml.verdict.assemble import THUMBNAIL_SIZE
from ml.verdict.evidence import Evidence

log = logging.getLogger(__name__)

THUMBNAIL_CROP = CropSpec(Framing(), THUMBNAIL_SIZE)  # the crop kept when no model runs
MAX_HEATMAP_FACES = 5  # one gradient pass per face: bounded for crowd scenes

CODES = {
    "classifier.no_model": "no trained classifier is installed",
    "classifier.not_loaded": "the installed classifier could not be loaded",
    "classifier.face_score": "one face's fake probability from the frame classifier",
    "temporal.track_score": "one face track's fake probability from the temporal model",
}
NO_MODEL = Evidence(
    "classifier.no_model", "no trained classifier is installed, so faces were not scored"
)
NOT_LOADED = Evidence(
    "classifier.not_loaded",
    "the installed classifier could not be loaded, so faces were not scored",
)
NO_MODEL_REASON = NO_MODEL.text


# What the load stage tells the user: exports are made at install, so loading is never long.
LOADING_LABEL = "Loading the classifier"


def load_classifier(
    specs: list[ModelSpec], warnings: list[str]
) -> tuple[Ensemble | None, Evidence | None]:
    """The frame ensemble, or None with the reason."""
    frame_specs = [s for s in specs if s.card.get("kind", "frame") == "frame"]
    for spec in specs:
        if spec.card.get("kind", "frame") != "frame":
            warnings.append(
                f"{spec.name} {spec.version} is a temporal model listed among the frame "
                "models; it was not used to score frames."
            )
    if not frame_specs:
        return None, NO_MODEL
    try:
        return load_ensemble(frame_specs), None
    except ModelError as exc:
        # The analysis still reports faces and blinks; the operator sees why scores are missing.
        log.error("classifier unusable: %s", exc)
        warnings.append(str(exc))
        return None, NOT_LOADED


def load_temporal(
    specs: list[ModelSpec], media_type: str, warnings: list[str]
) -> TemporalClassifier | None:
    """The temporal model for a video; None for images, where it has no track to score."""
    if not specs or media_type != "video":
        return None
    first, *others = specs
    for spec in others:
        warnings.append(f"only one temporal model is used; {spec.name} {spec.version} was not")
    try:
        return TemporalClassifier.load(first)
    except ModelError as exc:
        log.error("temporal model unusable: %s", exc)
        warnings.append(str(exc))
        return None


def crop_specs(classifier: Ensemble | None, temporal: TemporalClassifier | None) -> list[CropSpec]:
    """Each crop the models in use need, cut once per sampled moment; without a model, only
    a small crop for thumbnails."""
    specs = [*(classifier.crop_specs if classifier else [])]
    if temporal is not None:
        specs.append(temporal.crop_spec)
    return list(dict.fromkeys(specs)) or [THUMBNAIL_CROP]


def score_tracks(temporal: TemporalClassifier, people: list[Person]) -> list[TrackScore]:
    """The temporal model's score for each person, over the crops kept for the classifier."""
    tracks = []
    for person in people:
        crops = person.crops(temporal.crop_spec)
        if crops:
            score = temporal.predict_track(np.stack(crops))
            tracks.append(TrackScore(person.track_id, score, len(crops)))
    return tracks


def score_faces(classifier: Ensemble, people: list[Person]) -> dict[int, np.ndarray]:
    """Each model's fake probability of each kept crop, (models, crops) per person; all people
    in one batched call per model."""
    counts = {p.track_id: len(p.samples) for p in people}
    if not sum(counts.values()):
        return {}
    crops = {
        spec: np.stack([c for p in people for c in p.crops(spec)]) for spec in classifier.crop_specs
    }
    scores = classifier.predict_members(crops)
    result, start = {}, 0
    for track_id, count in counts.items():
        if count:
            result[track_id] = scores[:, start : start + count]
            start += count
    return result


def hand_out_crops(
    sink: CropSink,
    classifier: Ensemble | None,
    temporal: TemporalClassifier | None,
    people: list[Person],
) -> None:
    """Every crop each model scored, once per model (a temporal model's repeats once)."""
    models = [*(classifier.members if classifier else []), *([temporal] if temporal else [])]
    for model in models:
        spec = model.crop_spec
        for person in people:
            for sample in person.samples:
                sink(
                    ScoredCrop(
                        model=model.spec.name,
                        version=model.spec.version,
                        person=person.track_id,
                        frame_index=sample.frame_index,
                        time_s=sample.time_s,
                        framing=spec.framing.describe(),
                        crop=sample.crops[spec],
                    )
                )


@dataclass(frozen=True)
class Heatmap:
    """Grad-CAM over one crop, with the crop itself and where in the media it was cut."""

    jpeg: str  # base64 JPEG: the heat over the crop
    crop: np.ndarray  # the crop the model scored (the report's thumbnail shows this one)
    frame_index: int
    time_s: float


def heatmaps(
    classifier: Ensemble,
    people: list[Person],
    summaries: dict[int, FaceScore],
    scores: dict[int, np.ndarray],
) -> dict[int, Heatmap]:
    """Grad-CAM over each person's most suspicious crop, for the most suspicious only."""
    ranked = sorted(summaries.values(), key=lambda f: f.score, reverse=True)[:MAX_HEATMAP_FACES]
    by_id = {p.track_id: p for p in people}
    lead = classifier.lead
    result = {}
    for face in ranked:
        person = by_id[face.track_id]
        worst = int(np.argmax(scores[face.track_id]))
        crop = person.crops(lead.crop_spec)[worst]
        heat = lead.heatmap(crop)
        if heat is not None:
            sample = person.samples[worst]
            jpeg = heatmap.overlay_jpeg(crop, heat)
            result[face.track_id] = Heatmap(jpeg, crop, sample.frame_index, round(sample.time_s, 3))
    classifier.release_lead()
    return result


def face_evidence(
    faces: list[FaceScore], media_type: str, threshold: float | None
) -> list[Evidence]:
    """Each face's score as the frame classifier gave it."""
    if threshold is None:
        return []
    return [_face_evidence(face, media_type, threshold) for face in faces]


def _face_evidence(face: FaceScore, media_type: str, threshold: float) -> Evidence:
    values = {
        "score": round(face.score, 4),
        "frames_scored": face.frames_scored,
        "frames_over_threshold": face.frames_over_threshold,
        "threshold": threshold,
    }
    if media_type == "image":
        text = f"classifier: {face.score:.2f} fake for face {face.track_id}"
    else:
        text = (
            f"classifier: {face.score:.2f} fake on {face.frames_over_threshold} of "
            f"{face.frames_scored} frames of face {face.track_id} (threshold {threshold:.2f})"
        )
    return Evidence("classifier.face_score", text, face.track_id, values)


def track_evidence(tracks: list[TrackScore], threshold: float | None) -> list[Evidence]:
    """Each face track's score as the temporal model gave it."""
    if threshold is None:
        return []
    return [
        Evidence(
            "temporal.track_score",
            f"temporal model: {t.score:.2f} fake for face {t.track_id} over {t.frames} "
            f"frames (threshold {threshold:.2f})",
            t.track_id,
            {"score": round(t.score, 4), "frames": t.frames, "threshold": threshold},
        )
        for t in tracks
    ]
