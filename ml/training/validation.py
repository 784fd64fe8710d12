"""The fixed validation set, and scoring it through the platform's classifier code."""

from __future__ import annotations

from typing import Any

import numpy as np

from ml.models.cards import ModelSpec
from ml.models.classify import FrameClassifier, TemporalClassifier
from ml.models.forward import Forward
from ml.training.examples import render_face, render_track, track_examples


def validation_set(samples, *, size: int, sbi: bool, seed: int):
    """Fixed validation faces: the dataset's own fakes when it has them, else SBI pseudo-fakes."""
    has_fakes = any(s.item.label == 1 for s in samples)
    examples = [
        (s, c, samples[s].item.label, False)
        for s in range(len(samples))
        for c in range(len(samples[s].crops))
    ]
    if sbi and not has_fakes:
        examples += [(s, c, 1, True) for s, c, label, _ in list(examples) if label == 0]
    rng = np.random.default_rng([seed, 999])
    faces = np.stack([render_face(samples, e, size, rng, augmented=False) for e in examples])
    labels = np.array([e[2] for e in examples])
    groups = [
        f"{samples[e[0]].item.source_id}|{'sbi' if e[3] else samples[e[0]].item.label}"
        for e in examples
    ]
    return faces, labels, groups


def track_validation_set(samples, *, size: int, length: int, seed: int):
    """One fixed face track per validation item, labelled as the item."""
    rng = np.random.default_rng([seed, 999])
    examples = track_examples(samples)
    tracks = np.stack(
        [render_track(samples, e, size, length, rng, augmented=False) for e in examples]
    )
    labels = np.array([e[2] for e in examples])
    groups = [f"{samples[e[0]].item.source_id}|{e[2]}" for e in examples]
    return tracks, labels, groups


def scoring_card(spec, size: int, length: int | None) -> dict[str, Any]:
    """What the classifier code needs of a card, before the card exists."""
    card = {"kind": spec.kind, "input_size": size, "preprocessing": spec.preprocessing}
    if spec.kind == "temporal":
        card["sequence_length"] = length
    return card


def predict_scores(
    model, inputs: np.ndarray, card: dict[str, Any], *, batch_size: int
) -> list[float]:
    """Scores of validation crops (or face tracks) by an in-memory model, through the same
    classifier code as uploads (resizing, preprocessing, output handling)."""
    spec = ModelSpec(name="training", version="", sha256="", path="", card=card)
    forward = Forward(model, feature_map=False)
    if card["kind"] == "temporal":
        classifier = TemporalClassifier(spec=spec, forward=forward)
        return [classifier.predict_track(track) for track in inputs]
    classifier = FrameClassifier(spec=spec, forward=forward)
    return classifier.predict(inputs, batch_size=batch_size).astype(float).tolist()
