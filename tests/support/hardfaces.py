"""Hard frames for face detectors, made from the public-domain astronaut photo: a small face in
a large frame, in low light with sensor noise, the head pitched forward ("looking down").

Each frame comes with its truth: the box around the 68 landmarks of the pasted face, moved by
the same warp as the pixels, so a detector's answer can be scored by overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tests.support.astronaut import astronaut_landmarks, astronaut_readonly

FRAME_SIZE = (1920, 1080)  # width, height


@dataclass(frozen=True)
class Case:
    """How one kind of hard frame is made."""

    name: str
    face_px: int  # width of the landmarks' box in the frame
    dark: bool = False  # low light: gamma, gain and sensor noise (mean luminance ~25 / 255)
    pitch: float = 0.0  # 0 frontal .. 1 strongly looking down
    faces: int = 1  # 0: a frame without a face (for false alarms)


CASES = (
    Case("easy-200px", 200),
    Case("small-80px", 80),
    Case("dark-80px", 80, dark=True),
    Case("down-80px", 80, pitch=1.0),
    Case("dark-down-80px", 80, dark=True, pitch=1.0),
    Case("dark-no-face", 80, dark=True, faces=0),
)
CASES_BY_NAME = {case.name: case for case in CASES}


@dataclass
class HardFrame:
    rgb: np.ndarray  # (1080, 1920, 3) uint8
    truth: list[tuple[int, int, int, int]]  # x, y, w, h of each face's landmarks
    landmarks: list[np.ndarray]  # each face's 68 landmarks, moved with the face, frame pixels


def hard_frame(case: Case | str, seed: int = 0) -> HardFrame:
    """One frame of `case`; the seed moves the face and draws the background and noise."""
    case = CASES_BY_NAME[case] if isinstance(case, str) else case
    rng = np.random.default_rng(seed)
    width, height = FRAME_SIZE
    frame = _room(rng, width, height)
    truth, landmarks = [], []
    if case.faces:
        patch, mask, points = _face_patch(case.face_px, case.pitch)
        ph, pw = patch.shape[:2]
        x = int(rng.integers(pw, width - 2 * pw))
        y = int(rng.integers(ph // 2, height - 2 * ph))
        region = frame[y : y + ph, x : x + pw].astype(np.float32)
        blended = mask[..., None] * patch + (1.0 - mask[..., None]) * region
        frame[y : y + ph, x : x + pw] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
        landmarks.append(points + np.float32([x, y]))
        low, high = points.min(axis=0), points.max(axis=0)
        truth.append(
            (int(x + low[0]), int(y + low[1]), int(high[0] - low[0]), int(high[1] - low[1]))
        )
    if case.dark:
        frame = _low_light(frame, rng)
    return HardFrame(rgb=frame, truth=truth, landmarks=landmarks)


def _face_patch(face_px: int, pitch: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The astronaut's head scaled so its landmarks span `face_px`, pitched forward; with a
    soft elliptical mask (1 inside) and the moved landmarks, all in patch pixels."""
    points = astronaut_landmarks().astype(np.float64)
    low, high = points.min(axis=0), points.max(axis=0)
    span = high - low
    # Head and some hair around the landmarks (forehead above the brows, ears at the sides).
    x0, y0 = low[0] - 0.45 * span[0], low[1] - 0.75 * span[1]
    scale = face_px / span[0]
    width = round(span[0] * 1.9 * scale)
    height = round(span[1] * 2.05 * scale)
    shift = np.float64([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
    flat = cv2.warpAffine(astronaut_readonly(), shift, (width, height), flags=cv2.INTER_AREA)
    flat_points = points @ shift[:, :2].T + shift[:, 2]
    brow = float(flat_points[17:27, 1].min())
    pitched = _Pitch(pitch, brow, width, height)
    patch = cv2.remap(flat, *pitched.source_maps(), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    moved = pitched.forward(flat_points)
    out_h, out_w = patch.shape[:2]
    mask = np.zeros((out_h, out_w), np.float32)
    centre = (out_w // 2, out_h // 2)
    cv2.ellipse(mask, centre, (int(out_w * 0.46), int(out_h * 0.48)), 0, 0, 360, 1.0, -1)
    blur = max(3, (out_w // 12) | 1)
    mask = cv2.GaussianBlur(mask, (blur, blur), 0)
    return patch.astype(np.float32), mask, moved.astype(np.float32)


class _Pitch:
    """Looking down, seen from the camera: the top of the head turns towards it (the part above
    the brows grows), the face below the brows recedes and is foreshortened (shrinks), and the
    chin end narrows (perspective)."""

    def __init__(self, pitch: float, brow: float, width: int, height: int) -> None:
        self.stretch, self.squash, self.pinch = 1 + 0.15 * pitch, 1 - 0.45 * pitch, 0.12 * pitch
        self.brow, self.width = brow, width
        self.out_brow = brow * self.stretch
        self.height = round(self.out_brow + (height - brow) * self.squash)

    def forward(self, points: np.ndarray) -> np.ndarray:
        x, y = points[:, 0], points[:, 1]
        above = y < self.brow
        out_y = np.where(above, y * self.stretch, self.out_brow + (y - self.brow) * self.squash)
        return np.stack([self._narrow(x, out_y), out_y], axis=1)

    def source_maps(self) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = np.mgrid[0 : self.height, 0 : self.width].astype(np.float64)
        above = rows < self.out_brow
        src_y = np.where(
            above, rows / self.stretch, self.brow + (rows - self.out_brow) / self.squash
        )
        centre = self.width / 2.0
        src_x = centre + (cols - centre) / self._factor(rows)
        return src_x.astype(np.float32), src_y.astype(np.float32)

    def _factor(self, out_y: np.ndarray) -> np.ndarray:
        return 1.0 - self.pinch * np.clip(out_y / self.height, 0.0, 1.0)

    def _narrow(self, x: np.ndarray, out_y: np.ndarray) -> np.ndarray:
        centre = self.width / 2.0
        return centre + (x - centre) * self._factor(out_y)


def _room(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A plausible indoor background: a lit gradient with large soft blobs (walls, furniture)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 90 + 60 * (xs / width) - 30 * (ys / height)
    coarse = rng.normal(0, 35, (9, 16, 3)).astype(np.float32)
    blobs = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    room = base[..., None] + blobs + rng.normal(0, 3, (height, width, 3)).astype(np.float32)
    return np.clip(room, 0, 255).astype(np.uint8)


def _low_light(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Underexposed sensor: a gamma and a gain bring the mean luminance to about 25 / 255, then
    shot noise (grows with the signal) and read noise (constant), rounded to 8 bits."""
    linear = (rgb.astype(np.float32) / 255.0) ** 1.6
    grey = float(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).mean()) / 255.0
    gain = (25.0 / 255.0) / max(1e-3, grey**1.6)
    signal = linear * gain * 255.0
    shot = rng.normal(0.0, 1.0, signal.shape).astype(np.float32) * np.sqrt(signal * 0.6)
    read = rng.normal(0.0, 2.5, signal.shape).astype(np.float32)
    return np.clip(np.rint(signal + shot + read), 0, 255).astype(np.uint8)
