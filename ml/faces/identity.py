"""From track fragments to people: which fragments show the same person.

The tracker starts a new track whenever detection loses a face for a moment (a cut-away, a hand,
a turn of the head), so one person often comes back as several fragments. Fragments are merged
with dlib's 128-D face descriptor (the ResNet behind `face_recognition`): two faces closer than
`policy.SAME_PERSON_DISTANCE` are the same person. Two fragments seen at the same time are never
the same person, however alike they look (twins, mirrors, a photo on the wall).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import dlib
import face_recognition_models
import numpy as np

from ml.faces.detect import Face
from ml.verdict import policy

CHIP_SIZE = 150  # the aligned chip dlib's descriptor network expects


@functools.cache
def _descriptor_model() -> dlib.face_recognition_model_v1:
    """Load once per process (about 22 MB)."""
    return dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())


def face_chip(rgb: np.ndarray, face: Face) -> np.ndarray:
    """The face aligned by its 68 landmarks, CHIP_SIZE x CHIP_SIZE RGB (dlib's alignment, the
    one its descriptor network was trained on)."""
    x, y, w, h = face.box
    shape = dlib.full_object_detection(
        dlib.rectangle(int(x), int(y), int(x + w), int(y + h)),
        [dlib.point(round(float(px)), round(float(py))) for px, py in face.landmarks],
    )
    return dlib.get_face_chip(np.ascontiguousarray(rgb), shape, size=CHIP_SIZE)


def descriptor(chip: np.ndarray) -> np.ndarray:
    """dlib's 128-D identity descriptor of an aligned chip."""
    return np.asarray(_descriptor_model().compute_face_descriptor(chip), np.float32)


@dataclass
class Fragment:
    """One tracker fragment as identity sees it: when it was seen and what it looks like."""

    first: int  # scan positions of its first and last sighting
    last: int
    descriptors: np.ndarray  # (k, 128); may be empty when no chip was kept

    def overlaps(self, other: Fragment) -> bool:
        return self.first <= other.last and other.first <= self.last


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Median Euclidean distance between two sets of descriptors (inf when either is empty);
    the median shrugs off one bad chip."""
    if not len(a) or not len(b):
        return float("inf")
    pairs = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    return float(np.median(pairs))


def group_fragments(fragments: Sequence[Fragment]) -> list[list[int]]:
    """Indices of the fragments of each person, people in order of first appearance.

    Fragments are taken in order of appearance; each joins the closest earlier person that it
    does not overlap in time and that is within the same-person distance, else starts a new one.
    """
    people: list[list[int]] = []
    for index in sorted(range(len(fragments)), key=lambda i: fragments[i].first):
        fragment = fragments[index]
        best, best_distance = None, policy.SAME_PERSON_DISTANCE
        for person in people:
            if any(fragment.overlaps(fragments[i]) for i in person):
                continue
            person_descriptors = np.concatenate([fragments[i].descriptors for i in person])
            d = distance(fragment.descriptors, person_descriptors)
            if d < best_distance:
                best, best_distance = person, d
        if best is None:
            people.append([index])
        else:
            best.append(index)
    return people
