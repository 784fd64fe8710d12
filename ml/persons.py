"""From track fragments to people, and whether each person's face is good enough to judge.

The tracker starts a new track whenever detection loses a face for a moment (a cut-away, a hand,
a turn of the head), so one person often comes back as several fragments. Fragments are merged
with dlib's 128-D face descriptor (the ResNet behind `face_recognition`): two faces closer than
`policy.SAME_PERSON_DISTANCE` are the same person. Two fragments seen at the same time are never
the same person, however alike they look (twins, mirrors, a photo on the wall).

A person's face quality (size, sharpness, pose, detector confidence, time seen) decides whether
the person may be judged at all: a classifier's score on a blurred 30-pixel shape says nothing
about the video, so such faces are shown but never scored into the verdict.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import dlib
import face_recognition_models
import numpy as np

from ml import policy
from ml.faces import Face

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


def sharpness(chip: np.ndarray) -> float:
    """Variance of the Laplacian of the aligned grey chip: high for crisp detail, near 0 when
    blurred. A small face upscaled to the chip size scores low too, which is wanted."""
    grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def frontalness(landmarks: np.ndarray) -> float:
    """1 for a face looking straight at the camera, towards 0 in profile: how evenly the nose
    tip (point 30) splits the jaw line between its ends (points 0 and 16)."""
    left = float(landmarks[30, 0] - landmarks[0, 0])
    right = float(landmarks[16, 0] - landmarks[30, 0])
    if left <= 0 or right <= 0:
        return 0.0
    return 1.0 - abs(left - right) / (left + right)


# --- identity ---------------------------------------------------------------------------------


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


# --- which faces may decide ------------------------------------------------------------------


@dataclass
class Quality:
    """How well a person's face was seen (medians over the frames it was seen in)."""

    face_px: float  # the shorter side of the detector box
    sharpness: float  # variance of the Laplacian on the aligned chip
    frontalness: float  # 1 frontal .. 0 profile
    detection_score: float  # the detector's confidence (ml.faces.Face.score)
    frames: int
    seen_s: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "face_px": round(self.face_px, 1),
            "sharpness": round(self.sharpness, 1),
            "frontalness": round(self.frontalness, 3),
            "detection_score": round(self.detection_score, 3),
            "frames": self.frames,
            "seen_s": round(self.seen_s, 2),
        }


def not_judged_reason(quality: Quality, *, media_type: str) -> str:
    """Why this face may not decide the verdict, in words; "" when it may."""
    if quality.face_px < policy.MIN_JUDGED_FACE_PX:
        return (
            f"too small ({quality.face_px:.0f} px across; at least "
            f"{policy.MIN_JUDGED_FACE_PX} px are needed)"
        )
    if quality.sharpness < policy.MIN_JUDGED_SHARPNESS:
        return (
            f"too blurred (sharpness {quality.sharpness:.1f}; at least "
            f"{policy.MIN_JUDGED_SHARPNESS:g} is needed)"
        )
    if quality.frontalness < policy.MIN_JUDGED_FRONTALNESS:
        return "turned too far from the camera"
    if media_type == "video" and quality.seen_s < policy.MIN_JUDGED_SEEN_S:
        return (
            f"too brief (seen for {quality.seen_s:.1f} s; at least "
            f"{policy.MIN_JUDGED_SEEN_S:g} s are needed)"
        )
    return ""
