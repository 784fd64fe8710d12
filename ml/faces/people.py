"""The people of one analysis: tracker fragments merged by identity, each person's kept crops
spread over the time they were seen, how well they were seen, and their blinks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ml.faces import identity, pose
from ml.faces import quality as face_quality
from ml.faces.framing import CropSpec
from ml.faces.scan import FaceTrace, Sample, Scan
from ml.signals import blink as blinks
from ml.verdict.evidence import Evidence
from ml.verdict.report import BlinkResult


@dataclass
class Person:
    """One person: the fragments merged by identity, numbered 1, 2... in order of appearance."""

    track_id: int
    fragments: list[FaceTrace]
    samples: list[Sample]  # up to `frames` evenly spaced over all fragments
    quality: face_quality.Quality
    not_judged: Evidence | None  # why this face may not decide; None when it may

    @property
    def first(self) -> int:
        return self.fragments[0].first

    @property
    def last(self) -> int:
        return max(f.last for f in self.fragments)

    @property
    def frames_seen(self) -> int:
        return sum(f.frames_seen for f in self.fragments)

    def crops(self, spec: CropSpec) -> list[np.ndarray]:
        """The kept crops cut for `spec`, in time order."""
        return [sample.crops[spec].pixels for sample in self.samples]


def people(scan: Scan, media_type: str, frames: int) -> list[Person]:
    """Everyone in the scan, each with up to `frames` kept crops."""
    groups = _group(scan.faces) if media_type == "video" else [[i] for i in range(len(scan.faces))]
    period = _scan_period(scan.times)
    result = []
    for number, group in enumerate(groups, start=1):
        fragments = sorted((scan.faces[i] for i in group), key=lambda f: f.first)
        quality = _quality(fragments, scan.times, period)
        samples = even_over_time(fragments, scan.times, period, frames)
        reason = face_quality.not_judged(quality, subject=number, media_type=media_type)
        result.append(Person(number, fragments, samples, quality, reason))
    return result


def left_out(people: list[Person]) -> list[Evidence]:
    """Why each person who may not decide the verdict was left out, naming the person."""
    return [
        p.not_judged.prefixed(f"Face {p.track_id} not judged: ") for p in people if p.not_judged
    ]


def _group(fragments: list[FaceTrace]) -> list[list[int]]:
    """Fragments of the same person, by face descriptor; descriptors are computed only for
    fragments that some other fragment does not overlap (the others cannot merge)."""
    views = [identity.Fragment(f.first, f.last, np.zeros((0, 128), np.float32)) for f in fragments]
    for view, trace in zip(views, fragments, strict=True):
        could_merge = any(not view.overlaps(o) for o in views if o is not view)
        if could_merge and trace.chips:
            view.descriptors = np.stack([identity.descriptor(chip) for _, _, chip in trace.chips])
    return identity.group_fragments(views)


def even_over_time(
    fragments: list[FaceTrace], times: list[float], period: float, n: int
) -> list[Sample]:
    """Up to n of the fragments' kept crops, spread evenly over the time the person was seen
    (a short fragment gets its share of the picks, not as many as a long one)."""
    slots: list[tuple[Sample, float]] = []  # each kept crop and the time it stands for
    for fragment in fragments:
        items = fragment.samples.items
        span = times[fragment.last] - times[fragment.first] + period
        slots += [(item, span / len(items)) for item in items] if items else []
    if not slots:
        return []
    ends = np.cumsum([share for _, share in slots])
    targets = (np.arange(n) + 0.5) * ends[-1] / n
    picks = sorted(set(np.searchsorted(ends, targets).clip(0, len(slots) - 1)))
    return [slots[i][0] for i in picks]


def _scan_period(times: list[float]) -> float:
    return float(np.median(np.diff(times))) if len(times) > 1 else 0.0


def _quality(fragments: list[FaceTrace], times: list[float], period: float) -> face_quality.Quality:
    measured = np.array([q for f in fragments for q in f.quality], dtype=np.float64)
    px, sharp, frontal, score = np.median(measured, axis=0)
    # Timestamps, not frame counts: frames of variable-frame-rate videos last unequally long.
    seen_s = sum(times[f.last] - times[f.first] + period for f in fragments)
    return face_quality.Quality(
        face_px=float(px),
        sharpness=float(sharp),
        frontalness=float(frontal),
        detection_score=float(score),
        frames=sum(f.frames_seen for f in fragments),
        seen_s=seen_s,
    )


def _ear_series(person: Person, times: list[float]) -> tuple[list[float], list[float], list[bool]]:
    """The person's EAR over every scanned frame from first to last sighting, and whether the
    face looked at the camera there. The EAR is NaN where the face was not found, so time
    between fragments is unmeasured, not open eyes; a face pitched down or turned away
    (ml/faces/pose.py) is unmeasured too, not closed."""
    ears: dict[int, float] = {}
    poses: dict[int, pose.Pose | None] = {}
    for fragment in person.fragments:
        ears.update(fragment.ears)
        poses.update(fragment.poses)
    span = range(person.first, person.last + 1)
    seen = [p for p in span if p in poses]
    facing = dict(zip(seen, pose.facing_camera([poses[p] for p in seen]), strict=True))
    return (
        [times[p] for p in span],
        [ears.get(p, math.nan) for p in span],
        [facing.get(p, True) for p in span],
    )


def person_blinks(
    media_type: str, people: list[Person], times: list[float]
) -> dict[int, BlinkResult]:
    """Each person's blinks over all of their fragments, counted only while they face the
    camera."""
    if media_type == "image":
        return {p.track_id: blinks.not_applicable() for p in people}
    return {p.track_id: blinks.detect_blinks(*_ear_series(p, times)) for p in people}
