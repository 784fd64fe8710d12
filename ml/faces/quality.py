"""Whether a person's face is good enough to judge.

A person's face quality (size, sharpness, pose, detector confidence, time seen) decides whether
the person may be judged at all: a classifier's score on a blurred 30-pixel shape says nothing
about the video, so such faces are shown but never scored into the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ml.verdict import policy
from ml.verdict.evidence import Evidence

# The width of the re-blur that Crété et al.'s measure compares the face with (their 9-11 px).
REBLUR_PX = 11


def sharpness(chip: np.ndarray) -> float:
    """How much detail a fixed-size face chip keeps, 0 (a smear) to 100: 100 x (1 - the blur
    effect of Crété et al., SPIE 6492, 2007, as scikit-image computes it).

    The chip is blurred again with an 11 px box; a sharp chip loses much of its edge strength to
    that, an already blurred one little. Being a ratio of edge strengths, it does not move with
    contrast or brightness, nor much with H.264 compression at usual bitrates, unlike the
    variance of the Laplacian (docs/verdict.md, section 3). The chip is always the same size, so
    a small face upscaled to it scores low, which is wanted."""
    grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    blur = 0.0
    for dx, dy, box in ((1, 0, (REBLUR_PX, 1)), (0, 1, (1, REBLUR_PX))):
        reblurred = cv2.blur(grey, box, borderType=cv2.BORDER_REFLECT)
        edges = np.abs(cv2.Sobel(grey, cv2.CV_32F, dx, dy, ksize=3))[2:-1, 2:-1]
        kept = np.abs(cv2.Sobel(reblurred, cv2.CV_32F, dx, dy, ksize=3))[2:-1, 2:-1]
        total = float(np.maximum(edges, 1e-7).sum())
        lost = float(np.maximum(0.0, edges - kept).sum())
        blur = max(blur, (total - lost) / total)
    return 100.0 * (1.0 - blur)


def frontalness(landmarks: np.ndarray) -> float:
    """1 for a face looking straight at the camera, towards 0 in profile: how evenly the nose
    tip (point 30) splits the jaw line between its ends (points 0 and 16)."""
    left = float(landmarks[30, 0] - landmarks[0, 0])
    right = float(landmarks[16, 0] - landmarks[30, 0])
    if left <= 0 or right <= 0:
        return 0.0
    return 1.0 - abs(left - right) / (left + right)


@dataclass
class Quality:
    """How well a person's face was seen (medians over the frames it was seen in)."""

    face_px: float  # the shorter side of the detector box
    sharpness: float  # 0 (blurred) .. 100 on the aligned chip, see sharpness()
    frontalness: float  # 1 frontal .. 0 profile
    detection_score: float  # the detector's confidence (ml.faces.detect.Face.score)
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


CODES = {
    "quality.too_small": "the face is too small to judge",
    "quality.too_blurred": "the face is too blurred to judge",
    "quality.turned_away": "the face is turned too far from the camera to judge",
    "quality.too_brief": "the face was seen too briefly to judge",
    "quality.none_judged": "no face was seen clearly enough to judge",
}
NONE_JUDGED = Evidence("quality.none_judged", "no face was seen clearly enough to judge")


def not_judged(quality: Quality, *, subject: int, media_type: str) -> Evidence | None:
    """Why this face may not decide the verdict; None when it may."""
    rules = [
        ("quality.too_small", "face_px", quality.face_px, policy.MIN_JUDGED_FACE_PX),
        ("quality.too_blurred", "sharpness", quality.sharpness, policy.MIN_JUDGED_SHARPNESS),
        ("quality.turned_away", "frontalness", quality.frontalness, policy.MIN_JUDGED_FRONTALNESS),
    ]
    if media_type == "video":
        rules.append(("quality.too_brief", "seen_s", quality.seen_s, policy.MIN_JUDGED_SEEN_S))
    for code, measure, value, minimum in rules:
        if value < minimum:
            values = {measure: round(value, 3), "minimum": minimum}
            return Evidence(
                code, _SENTENCES[code].format(value=value, minimum=minimum), subject, values
            )
    return None


_SENTENCES = {
    "quality.too_small": "too small ({value:.0f} px across; at least {minimum} px are needed)",
    "quality.too_blurred": "too blurred (sharpness {value:.1f}; at least {minimum:g} is needed)",
    "quality.turned_away": "turned too far from the camera",
    "quality.too_brief": "too brief (seen for {value:.1f} s; at least {minimum:g} s are needed)",
}
