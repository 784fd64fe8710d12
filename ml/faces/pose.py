"""Head pose from the 68 landmarks: how far a face is turned from the camera and pitched down.

Blinks are measured only while the face looks at the camera: a head pitched down (reading
notes) lowers the upper lids with the gaze, and a turned head foreshortens the eyes, both of
which make the eye aspect ratio read "closed" while the eyes are open (ml/signals/blink.py).

The pose is fitted with cv2.solvePnP to ten upper-face landmarks and their places on a generic
3-D face (the model points below, with their source), in the camera's axes: x to the image's
right, y down, z away from the camera, so a face looking straight into the lens has no
rotation. The camera is the usual uncalibrated one: focal length = frame width, centre of the
frame, no distortion.

A generic face fits real people imperfectly: the pitch it gives a face looking into the lens
differs between people (about -5 to +4 degrees on the GRID speakers, 20 degrees down on the
astronaut photo). So "pitched down" is judged against the person's own upright pose
(`facing_camera`), never against zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ml.verdict import policy

# The Anthropometric 3-D face model of ISR Coimbra (P. Martins & J. Batista, "Accurate single
# view model-based head pose estimation", FG 2008; glAnthropometric3DModel.cpp), as used with
# dlib's 68 landmarks by lincolnhard/head-pose-estimation: brow corners, eye corners, nostril
# corners, mouth corners, lower lip and chin. The source's axes (x to the face's right, y up,
# z out of the face) are turned into the camera's (x right in the image, y down, z away).
POSE_LANDMARKS = (17, 21, 22, 26, 36, 39, 42, 45, 31, 35, 48, 54, 57, 8)
MODEL_POINTS = -np.array(
    [
        (6.825897, 6.760612, 4.402142),
        (1.330353, 7.122144, 6.903745),
        (-1.330353, 7.122144, 6.903745),
        (-6.825897, 6.760612, 4.402142),
        (5.311432, 5.485328, 3.987654),
        (1.789930, 5.393625, 4.413414),
        (-1.789930, 5.393625, 4.413414),
        (-5.311432, 5.485328, 3.987654),
        (2.005628, 1.409845, 6.165652),
        (-2.005628, 1.409845, 6.165652),
        (2.774015, -2.080775, 5.048531),
        (-2.774015, -2.080775, 5.048531),
        (0.000000, -3.116408, 6.097667),
        (0.000000, -7.415691, 4.070434),
    ]
)
# Only the upper face: the jaw, lips and mouth corners move when a person talks, and a fit
# that used them would read an open mouth as the head tilting back.
RIGID = slice(0, 10)


@dataclass(frozen=True)
class Pose:
    yaw_deg: float  # turned left or right (sign: towards the image's right is positive)
    pitch_deg: float  # positive: pitched down (looking below the camera); negative: up


def head_pose(landmarks: np.ndarray, frame_shape: tuple[int, ...]) -> Pose | None:
    """The pose of the face with these 68 landmarks in a frame of this shape (None when the
    fit fails)."""
    height, width = frame_shape[:2]
    camera = np.array([[width, 0.0, width / 2.0], [0.0, width, height / 2.0], [0.0, 0.0, 1.0]])
    image_points = np.asarray(landmarks, dtype=np.float64)[list(POSE_LANDMARKS[RIGID])]
    # A frontal start: the iterative fit then converges to the nearby (right) solution rather
    # than to the mirror-image pose behind the camera.
    rvec = np.zeros((3, 1))
    span = float(np.linalg.norm(image_points[7] - image_points[4]))  # outer eye corners
    tvec = np.array([[0.0], [0.0], [10.6 * width / max(1.0, span)]])
    ok, rvec, tvec = cv2.solvePnP(
        MODEL_POINTS[RIGID],
        image_points,
        camera,
        None,
        rvec,
        tvec,
        useExtrinsicGuess=True,
        flags=cv2.SOLVEPNP_ITERATIVE,
    )
    if not ok or tvec[2, 0] <= 0:
        return None
    rotation, _ = cv2.Rodrigues(rvec)
    # Where the face points: its "out of the face" direction (towards the camera, -z, when
    # frontal) after the rotation. Down in the image is +y.
    forward = rotation @ np.array([0.0, 0.0, -1.0])
    toward = max(1e-9, -forward[2])
    return Pose(
        yaw_deg=math.degrees(math.atan2(forward[0], toward)),
        pitch_deg=math.degrees(math.atan2(forward[1], toward)),
    )


def facing_camera(poses: Sequence[Pose | None]) -> list[bool]:
    """For each sighting of one person, whether blinks can be measured there: the face is turned
    at most policy.BLINK_MAX_YAW_DEG, and pitched at most policy.BLINK_MAX_PITCH_DOWN_DEG
    below the person's own upright pose (the policy.BLINK_UPRIGHT_PERCENTILE-th percentile of
    their pitch: the way they hold their head when looking up at the camera). A failed fit is
    not measurable."""
    pitches = [p.pitch_deg for p in poses if p is not None]
    if not pitches:
        return [False] * len(poses)
    upright = float(np.percentile(pitches, policy.BLINK_UPRIGHT_PERCENTILE))
    return [
        p is not None
        and abs(p.yaw_deg) <= policy.BLINK_MAX_YAW_DEG
        and p.pitch_deg - upright <= policy.BLINK_MAX_PITCH_DOWN_DEG
        for p in poses
    ]
