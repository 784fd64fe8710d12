"""Follow each person's face over the frames of a video.

Detection (dlib HOG, the costly step) runs every `detect_every` frames, and at once whenever a
track is lost or its landmarks look wrong. In between, each live track's 68 landmarks are
re-placed inside its previous box, which is far cheaper. A face that enters between two
detections is found by the next one and then followed back through the frames held since (a
memory-capped buffer), so it is reported from its first frames. Detection never waits longer
than the buffer reaches back: large frames are detected in more often.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from ml.faces.boxes import iou
from ml.faces.detect import Face, FaceAnalyzer, clip_box
from ml.media.readahead import read_ahead
from ml.media.reader import Frame

# Between detections the landmark predictor always returns 68 points, even when the face has
# gone (scene cut, person left). The patch inside the carried box must still look like the patch
# at the last detection (normalised correlation of small grey thumbnails) to count as the face.
MIN_APPEARANCE_CORRELATION = 0.5

# Detection every 30 scanned frames (2 s at the 15 fps scan), the frames since the previous
# detection held for following a new face back. Held frames may not exceed HOLD_BYTES (29
# frames at 720p, 15 at 1080p, 2 at 8K), so memory stays bounded whatever the resolution.
DETECT_EVERY = 30
FOLLOW_BACK = DETECT_EVERY - 1
HOLD_BYTES = 96 * 2**20
# Decoded frames waiting in the read-ahead queue: enough to cover one detection's time.
READ_AHEAD_FRAMES = 6
READ_AHEAD_BYTES = 64 * 2**20

Seen = list[tuple[int, Face]]  # (track_id, face) for each face in one frame


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


class FaceTracker:
    """Give each person a stable track id across frames.

    `track(frames)` is the whole schedule: frames read ahead in a thread, faces followed back.
    `update(frame)` processes one frame and answers for it at once (no following back).
    Between detections the box is derived from the landmarks, using the box-to-landmark
    geometry measured at the last detection (so the box does not drift). A track that the
    detector misses stops moving; it ends after `max_misses` detections in a row miss it.
    """

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        detect_every: int = DETECT_EVERY,
        *,
        max_misses: int = 8,
        min_iou: float = 0.3,
        follow_back: int = FOLLOW_BACK,
    ) -> None:
        self.analyzer = analyzer
        self.detect_every = max(1, detect_every)
        self.max_misses = max_misses
        self.min_iou = min_iou
        self.follow_back = follow_back
        self._live: list[_LiveTrack] = []
        self._ended: list[Track] = []
        self._next_id = 0
        self._since_detection: int | None = None
        self._interval = self.detect_every  # shortened by track() to what it can hold

    @property
    def tracks(self) -> list[Track]:
        """Every track seen so far, ended or live, in order of appearance."""
        tracks = self._ended + [live.track for live in self._live]
        return sorted((t for t in tracks if t.observations), key=lambda t: t.track_id)

    def update(self, frame: Frame) -> Seen:
        """Process the next frame; returns (track_id, face) for each face seen in it."""
        seen, _new = self._step(frame)
        return seen

    def track(self, frames: Iterable[Frame]) -> Iterator[tuple[Frame, Seen]]:
        """Each frame, in order, with the faces seen in it, up to `follow_back` frames later
        than `update` would answer (frames are held so new faces can be followed back)."""
        held: deque[tuple[Frame, Seen]] = deque()
        hold = self.follow_back
        ahead = read_ahead(
            frames,
            depth=READ_AHEAD_FRAMES,
            max_bytes=READ_AHEAD_BYTES,
            size=lambda f: f.rgb.nbytes,
        )
        try:
            for frame in ahead:
                if self._since_detection is None:  # the first frame: how many fit in memory
                    room = HOLD_BYTES // max(1, frame.rgb.nbytes)
                    hold = min(hold, room)
                    self._interval = max(1, min(self.detect_every, room + 1))
                seen, new = self._step(frame)
                for live in new:
                    self._follow_back(live, held)
                held.append((frame, seen))
                while len(held) > hold:
                    yield held.popleft()
            yield from held
        finally:
            ahead.close()

    def _step(self, frame: Frame) -> tuple[Seen, list[_LiveTrack]]:
        if self._needs_detection():
            seen, new = self._update_by_detection(frame)
            self._since_detection = 0
        else:
            seen, new = self._update_by_landmarks(frame), []
            self._since_detection += 1
        for track_id, face in seen:
            self._live_by_id(track_id).track.observations.append(
                Observation(frame_index=frame.index, t_s=frame.t_s, face=face)
            )
        return seen, new

    def _needs_detection(self) -> bool:
        if self._since_detection is None or self._since_detection + 1 >= self._interval:
            return True
        return any(live.misses for live in self._live)

    def _update_by_detection(self, frame: Frame) -> tuple[Seen, list[_LiveTrack]]:
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
        new = []
        for index, face in enumerate(faces):
            if index not in matched_faces:
                live = _LiveTrack(Track(track_id=self._next_id))
                self._next_id += 1
                live.on_detected(face, frame.rgb)
                self._live.append(live)
                new.append(live)
                seen.append((live.track.track_id, face))
        self._end_lost_tracks()
        return seen, new

    def _update_by_landmarks(self, frame: Frame) -> Seen:
        seen = []
        for live in self._live:
            face = self._follow(live, frame.rgb, live.last_box)
            if face is None:
                live.misses += 1  # the predictor lost the face: let detection look again
                continue
            live.last_box = face.box
            seen.append((live.track.track_id, face))
        return seen

    def _follow(
        self, live: _LiveTrack, rgb: np.ndarray, previous: tuple[int, int, int, int]
    ) -> Face | None:
        """The track's face in this frame, searched from its box in a neighbouring frame."""
        landmarks = self.analyzer.landmarks(rgb, previous)
        box = live.box_from_landmarks(landmarks, rgb.shape, previous)
        if box is None or not live.looks_the_same(rgb, box):
            return None
        return Face(box=box, landmarks=landmarks, score=live.score)

    def _follow_back(self, live: _LiveTrack, held: deque[tuple[Frame, Seen]]) -> None:
        """Extend a new track backwards through the held frames, newest first, until the face
        is lost or another track already holds it there."""
        box = live.last_box
        for frame, seen in reversed(held):
            if any(iou(box, other.box) >= self.min_iou for _, other in seen):
                return
            face = self._follow(live, frame.rgb, box)
            if face is None:
                return
            seen.append((live.track.track_id, face))
            seen.sort(key=lambda pair: pair[0])
            observation = Observation(frame_index=frame.index, t_s=frame.t_s, face=face)
            live.track.observations.insert(0, observation)
            box = face.box

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
        self,
        landmarks: np.ndarray,
        shape: tuple[int, ...],
        previous: tuple[int, int, int, int],
    ) -> tuple[int, int, int, int] | None:
        """The box the detector would likely give for these landmarks, or None when they
        jumped or changed size too much from `previous` to still be the same face."""
        lx, ly, lw, lh = _landmark_bounds(landmarks)
        dx, dy, sw, sh = self._box_geometry
        box = clip_box((lx + dx * lw, ly + dy * lh, sw * lw, sh * lh), shape)
        _px, _py, pw, ph = previous
        ratio = (box[2] * box[3]) / max(1, pw * ph)
        shift = math.dist(_centre(box), _centre(previous))
        if not 0.6 <= ratio <= 1.6 or shift > 0.5 * max(pw, ph) or min(box[2:]) < 8:
            return None
        return box


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
