"""Find faces, place 68 landmarks, follow each person over time, and cut aligned face crops.

Detection uses dlib's frontal face detector on a downscaled copy of the frame (cheap); the
68-point landmarks (iBUG 300-W layout) come from dlib's shape predictor at full resolution
(precise). Between detections a tracker only re-runs the landmark predictor inside each
person's previous box, which is far cheaper than detecting again.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import cv2
import dlib
import face_recognition_models
import numpy as np

from ml.media import Frame

LEFT_EYE = slice(36, 42)  # the eye on the left of the image (the person's right eye)
RIGHT_EYE = slice(42, 48)

# Between detections the landmark predictor always returns 68 points, even when the face has
# gone (scene cut, person left). The patch inside the carried box must still look like the patch
# at the last detection (normalised correlation of small grey thumbnails) to count as the face.
MIN_APPEARANCE_CORRELATION = 0.5

# dlib scores true frontal faces well above zero; weak hits just above zero are mostly textures
# (with upsampling, a patch of the astronaut's suit scores about 0.1).
MIN_DETECTION_SCORE = 0.3


@dataclass
class Face:
    box: tuple[int, int, int, int]  # x, y, w, h in full-frame pixels
    landmarks: np.ndarray  # (68, 2) float32, full-frame pixels
    score: float  # detector confidence of the detection this face comes from


@dataclass
class Observation:
    frame_index: int
    t_s: float
    face: Face


@dataclass
class Track:
    track_id: int
    observations: list[Observation] = field(default_factory=list)

    @property
    def first_box(self) -> tuple[int, int, int, int]:
        return self.observations[0].face.box


@functools.cache
def _dlib_models() -> tuple[dlib.fhog_object_detector, dlib.shape_predictor]:
    """Load once per process: the predictor file is about 100 MB."""
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
    return dlib.get_frontal_face_detector(), predictor


def preload() -> None:
    """Load the face models now. A forking worker calls this before it forks: its work-horses
    then share the loaded models instead of reading them from disk for every job (~3 s)."""
    _dlib_models()


class FaceAnalyzer:
    """Detect faces and place landmarks in RGB uint8 frames."""

    def __init__(self, detect_max_side: int = 640, upsample: int = 1) -> None:
        self.detect_max_side = detect_max_side
        # One upsampling lets dlib find faces down to about 40 px in the downscaled copy.
        self.upsample = upsample
        self._detector, self._predictor = _dlib_models()

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """All faces in the frame, largest first."""
        rgb = np.ascontiguousarray(rgb)  # dlib reads the buffer directly
        scale = min(1.0, self.detect_max_side / max(rgb.shape[:2]))
        small = rgb if scale == 1.0 else _resize(rgb, scale)
        rects, scores, _ = self._detector.run(small, self.upsample, 0.0)
        faces = []
        for rect, score in zip(rects, scores, strict=True):
            if score < MIN_DETECTION_SCORE:
                continue
            box = _clip_box(
                (
                    rect.left() / scale,
                    rect.top() / scale,
                    rect.width() / scale,
                    rect.height() / scale,
                ),
                rgb.shape,
            )
            if box[2] < 8 or box[3] < 8:
                continue
            faces.append(Face(box=box, landmarks=self.landmarks(rgb, box), score=float(score)))
        faces.sort(key=lambda f: f.box[2] * f.box[3], reverse=True)
        return faces

    def landmarks(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """The 68 landmarks of the face inside box, (68, 2) float32 in frame pixels."""
        x, y, w, h = box
        rgb = np.ascontiguousarray(rgb)
        shape = self._predictor(rgb, dlib.rectangle(int(x), int(y), int(x + w), int(y + h)))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


class FaceTracker:
    """Give each person a stable track id across frames.

    Detection runs every `detect_every` frames, and on every frame while a track is lost. In
    between, each live track's landmarks are re-placed inside its previous box and the new box is
    derived from them, using the box-to-landmark geometry measured at the last detection (so the
    box does not drift). A track that the detector misses stops moving; it ends after
    `max_misses` detections in a row fail to find it again.
    """

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        detect_every: int = 5,
        *,
        max_misses: int = 8,
        min_iou: float = 0.3,
    ) -> None:
        self.analyzer = analyzer
        self.detect_every = max(1, detect_every)
        self.max_misses = max_misses
        self.min_iou = min_iou
        self._live: list[_LiveTrack] = []
        self._ended: list[Track] = []
        self._next_id = 0
        self._since_detection: int | None = None

    @property
    def tracks(self) -> list[Track]:
        """Every track seen so far, ended or live, in order of appearance."""
        tracks = self._ended + [live.track for live in self._live]
        return sorted((t for t in tracks if t.observations), key=lambda t: t.track_id)

    def update(self, frame: Frame) -> list[tuple[int, Face]]:
        """Process the next frame; returns (track_id, face) for each face seen in it."""
        if self._needs_detection():
            seen = self._update_by_detection(frame)
            self._since_detection = 0
        else:
            seen = self._update_by_landmarks(frame)
            self._since_detection += 1
        for track_id, face in seen:
            self._live_by_id(track_id).track.observations.append(
                Observation(frame_index=frame.index, t_s=frame.t_s, face=face)
            )
        return seen

    def _needs_detection(self) -> bool:
        if self._since_detection is None or self._since_detection + 1 >= self.detect_every:
            return True
        return any(live.misses for live in self._live)

    def _update_by_detection(self, frame: Frame) -> list[tuple[int, Face]]:
        faces = self.analyzer.detect(frame.rgb)
        pairs = _match([live.last_box for live in self._live], [f.box for f in faces], self.min_iou)
        seen = []
        for live_index, face_index in pairs:
            live, face = self._live[live_index], faces[face_index]
            live.on_detected(face, frame.rgb)
            seen.append((live.track.track_id, face))
        matched_live = {i for i, _ in pairs}
        for index, live in enumerate(self._live):
            if index not in matched_live:
                live.misses += 1
        matched_faces = {j for _, j in pairs}
        for index, face in enumerate(faces):
            if index not in matched_faces:
                live = _LiveTrack(Track(track_id=self._next_id))
                self._next_id += 1
                live.on_detected(face, frame.rgb)
                self._live.append(live)
                seen.append((live.track.track_id, face))
        self._end_lost_tracks()
        return seen

    def _update_by_landmarks(self, frame: Frame) -> list[tuple[int, Face]]:
        seen = []
        for live in self._live:
            landmarks = self.analyzer.landmarks(frame.rgb, live.last_box)
            box = live.box_from_landmarks(landmarks, frame.rgb.shape)
            if box is None or not live.looks_the_same(frame.rgb, box):
                live.misses += 1  # the predictor lost the face: let detection look again
                continue
            face = Face(box=box, landmarks=landmarks, score=live.score)
            live.last_box = box
            seen.append((live.track.track_id, face))
        return seen

    def _end_lost_tracks(self) -> None:
        for live in [live for live in self._live if live.misses > self.max_misses]:
            self._live.remove(live)
            self._ended.append(live.track)

    def _live_by_id(self, track_id: int) -> _LiveTrack:
        return next(live for live in self._live if live.track.track_id == track_id)


class _LiveTrack:
    """A track that may still be extended, with what the tracker needs to follow it."""

    def __init__(self, track: Track) -> None:
        self.track = track
        self.misses = 0
        self.last_box: tuple[int, int, int, int] = (0, 0, 0, 0)
        self.score = 0.0
        # Detector box expressed relative to the landmarks' bounding box: (dx, dy, sw, sh).
        self._box_geometry = (0.0, 0.0, 1.0, 1.0)
        self._appearance = np.zeros(0, np.float32)

    def on_detected(self, face: Face, rgb: np.ndarray) -> None:
        lx, ly, lw, lh = _landmark_bounds(face.landmarks)
        x, y, w, h = face.box
        self._box_geometry = ((x - lx) / lw, (y - ly) / lh, w / lw, h / lh)
        self._appearance = _appearance(rgb, face.box)
        self.last_box = face.box
        self.score = face.score
        self.misses = 0

    def looks_the_same(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> bool:
        correlation = float(np.dot(self._appearance, _appearance(rgb, box)))
        return correlation >= MIN_APPEARANCE_CORRELATION

    def box_from_landmarks(
        self, landmarks: np.ndarray, shape: tuple[int, ...]
    ) -> tuple[int, int, int, int] | None:
        """The box the detector would likely give for these landmarks, or None when they
        jumped or changed size too much to still be the same face."""
        lx, ly, lw, lh = _landmark_bounds(landmarks)
        dx, dy, sw, sh = self._box_geometry
        box = _clip_box((lx + dx * lw, ly + dy * lh, sw * lw, sh * lh), shape)
        _px, _py, pw, ph = self.last_box
        ratio = (box[2] * box[3]) / max(1, pw * ph)
        shift = math.dist(_centre(box), _centre(self.last_box))
        if not 0.6 <= ratio <= 1.6 or shift > 0.5 * max(pw, ph) or min(box[2:]) < 8:
            return None
        return box


def align_crop(
    rgb: np.ndarray, landmarks: np.ndarray, *, size: int, margin: float = 0.3
) -> np.ndarray:
    """A (size, size, 3) uint8 face crop, rotated so the eyes are level.

    The face extent is the landmarks' bounding square; `margin` adds that fraction of it on
    every side (forehead, hair line and some background, which classifiers rely on). Parts
    outside the frame are black.
    """
    points = np.asarray(landmarks, dtype=np.float64)
    left_eye, right_eye = points[LEFT_EYE].mean(axis=0), points[RIGHT_EYE].mean(axis=0)
    angle = math.degrees(math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]))
    # Measure the face in the levelled frame so a tilted head does not inflate the crop.
    centre_guess = points.mean(axis=0)
    rotation = cv2.getRotationMatrix2D((float(centre_guess[0]), float(centre_guess[1])), angle, 1.0)
    levelled = points @ rotation[:, :2].T + rotation[:, 2]
    low, high = levelled.min(axis=0), levelled.max(axis=0)
    side = float(max(high - low)) * (1.0 + 2.0 * margin)
    centre_levelled = (low + high) / 2.0
    # Map the levelled centre to the crop centre and scale the side to the output size.
    scale = size / max(side, 1.0)
    matrix = rotation * scale
    matrix[:, 2] += size / 2.0 - centre_levelled * scale
    return cv2.warpAffine(
        rgb,
        matrix,
        (size, size),
        flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )


def _match(
    old_boxes: list[tuple[int, int, int, int]],
    new_boxes: list[tuple[int, int, int, int]],
    min_iou: float,
) -> list[tuple[int, int]]:
    """Greedy one-to-one matching, best overlap first; also accepts a close centre when the
    overlap is low (a fast-moving face)."""
    candidates = []
    for i, old in enumerate(old_boxes):
        for j, new in enumerate(new_boxes):
            overlap = iou(old, new)
            near = math.dist(_centre(old), _centre(new)) < 0.5 * max(old[2], old[3])
            if overlap >= min_iou or near:
                candidates.append((overlap, -math.dist(_centre(old), _centre(new)), i, j))
    candidates.sort(reverse=True)
    pairs, used_old, used_new = [], set(), set()
    for _, _, i, j in candidates:
        if i not in used_old and j not in used_new:
            pairs.append((i, j))
            used_old.add(i)
            used_new.add(j)
    return pairs


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _appearance(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A 24 x 24 grey thumbnail of the box, zero mean and unit norm (a flat patch is all 0,
    so it correlates with nothing)."""
    x, y, w, h = box
    patch = rgb[y : y + h, x : x + w]
    if patch.size == 0:
        return np.zeros(24 * 24, np.float32)
    grey = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (24, 24), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    small -= small.mean()
    norm = float(np.linalg.norm(small))
    return small / norm if norm > 1e-3 else np.zeros_like(small)


def _centre(box: tuple[int, int, int, int]) -> tuple[float, float]:
    return box[0] + box[2] / 2.0, box[1] + box[3] / 2.0


def _landmark_bounds(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    low, high = landmarks.min(axis=0), landmarks.max(axis=0)
    return (
        float(low[0]),
        float(low[1]),
        max(1.0, float(high[0] - low[0])),
        max(1.0, float(high[1] - low[1])),
    )


def _clip_box(
    box: tuple[float, float, float, float], shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    height, width = shape[:2]
    x0, y0 = max(0, round(box[0])), max(0, round(box[1]))
    x1, y1 = min(width, round(box[0] + box[2])), min(height, round(box[1] + box[3]))
    return int(x0), int(y0), int(max(0, x1 - x0)), int(max(0, y1 - y0))


def _resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    height, width = rgb.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
