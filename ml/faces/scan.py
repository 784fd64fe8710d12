"""The one streamed pass over the media: faces found and tracked, crops kept, quality measured.

Faces are tracked in every scanned frame (the eye aspect ratio needs a dense series to see
100-400 ms blinks), while face crops for the classifiers are kept only at up to `frames` evenly
spaced moments per tracker fragment, so memory stays bounded whatever the length of the video.
Whole frames for the whole-image detectors (ml/signals/generated.py) are kept in the same pass,
up to `keep_frames` of them evenly spaced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ml.errors import MediaError
from ml.faces import identity, pose
from ml.faces import quality as face_quality
from ml.faces.detect import Face, FaceAnalyzer
from ml.faces.framing import Crop, CropSpec
from ml.faces.tracking import FaceTracker
from ml.media import reader as media
from ml.signals import blink as blinks
from ml.verdict import policy

ScanProgress = Callable[[float, str], None]


@dataclass
class Sample:
    """A sighting kept for scoring: where it is in the media, the tracked face, and one crop
    per CropSpec in use (a deferred framing's crop is added after the scan)."""

    frame_index: int  # the decoded frame's index from 0
    time_s: float
    face: Face
    crops: dict[CropSpec, Crop]


class EvenSample:
    """Up to `n` items spread evenly over a stream of unknown length, in bounded memory.

    Keeps every `stride`-th item; when 2n are held, drops every other one and doubles the stride.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.stride = 1
        self.seen = 0
        self.items: list[Any] = []

    def wants_next(self) -> bool:
        return self.seen % self.stride == 0

    def offer(self, item: Any) -> None:
        if item is not None and self.wants_next():
            self.items.append(item)
            if len(self.items) >= 2 * self.n:
                self.items = self.items[::2]
                self.stride *= 2
        self.seen += 1

    def result(self) -> list[Any]:
        return [self.items[i] for i in media.sample_indices(len(self.items), self.n)]


@dataclass
class FaceTrace:
    """Everything collected about one tracker fragment (a face followed without a break)."""

    track_id: int
    box: list[int]
    samples: EvenSample
    frames_seen: int = 0
    ears: dict[int, float] = field(default_factory=dict)  # scan position → EAR
    # scan position → head pose (None where the fit failed): blinks count only facing the camera
    poses: dict[int, pose.Pose | None] = field(default_factory=dict)
    first: int = 0  # scan positions of first and last sighting
    last: int = 0
    first_frame: int = 0  # decoded frame indices of first and last sighting
    last_frame: int = 0
    # Quality of every QUALITY_EVERY-th sighting: box side, chip sharpness, frontalness, score.
    quality: list[tuple[float, float, float, float]] = field(default_factory=list)
    # The sharpest aligned chips (sharpness, frame index, chip) for identity descriptors.
    chips: list[tuple[float, int, np.ndarray]] = field(default_factory=list)
    thumb: tuple[float, np.ndarray] | None = None  # sharpest frontal chip (merit, chip)


@dataclass
class Scan:
    faces: list[FaceTrace]  # tracker fragments, in order of appearance
    times: list[float]  # time of every scanned frame
    frames_decoded: int
    # Whole frames kept for the whole-image detectors: (time, RGB), an image's own pixels.
    frames: list[tuple[float, np.ndarray]] = field(default_factory=list)


def scan(
    path: str,
    info: media.MediaInfo,
    *,
    frames: int,
    scan_fps: float,
    specs: list[CropSpec],
    progress: ScanProgress,
    keep_frames: int = 0,
    frame_prep: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Scan:
    """Every face of the file, with up to `frames` crops per fragment for each spec; and up
    to `keep_frames` whole frames (each passed through `frame_prep`, if given)."""
    if info.media_type == "image":
        return _scan_image(path, specs, keep_frames)
    kept = EvenSample(keep_frames) if keep_frames else None
    tracker = FaceTracker(FaceAnalyzer())
    traces: dict[int, FaceTrace] = {}
    times: list[float] = []
    last_index = -1
    decoded = media.iter_video_frames(path, target_fps=scan_fps)
    for position, (frame, seen) in enumerate(tracker.track(decoded)):
        times.append(frame.t_s)
        last_index = frame.index
        if kept is not None:
            _keep(kept, frame, frame_prep)
        for track_id, face in seen:
            # Fragments are numbered 1, 2... in order of appearance.
            if track_id not in traces:
                number = len(traces) + 1
                traces[track_id] = _new_trace(number, face, frames, position, frame.index)
            _observe(traces[track_id], frame, face, position, specs)
        if info.frame_count:
            progress(
                5 + 65 * min(1.0, frame.index / info.frame_count),
                "Finding and tracking faces",
            )
    if last_index < 0:
        raise MediaError(media.DAMAGED_VIDEO_MESSAGE)
    whole = [(t, rgb) for _, t, rgb in kept.result()] if kept is not None else []
    return Scan(list(traces.values()), times, last_index + 1, whole)


def _keep(kept: EvenSample, frame: media.Frame, prep: Callable | None) -> None:
    if kept.wants_next():
        rgb = prep(frame.rgb) if prep is not None else frame.rgb.copy()
        kept.offer((frame.index, frame.t_s, rgb))
    else:
        kept.offer(None)


def _new_trace(track_id: int, face: Any, frames: int, position: int, frame_index: int) -> FaceTrace:
    box = [int(v) for v in face.box]
    return FaceTrace(
        track_id,
        box,
        EvenSample(frames),
        first=position,
        last=position,
        first_frame=frame_index,
        last_frame=frame_index,
    )


def _crops(rgb: np.ndarray, face: Face, specs: list[CropSpec]) -> dict[CropSpec, Crop]:
    return {
        spec: spec.framing.cut(rgb, face, spec.size) for spec in specs if not spec.framing.deferred
    }


def _scan_image(path: str, specs: list[CropSpec], keep_frames: int = 0) -> Scan:
    rgb = media.load_image(path)
    frame = media.Frame(index=0, t_s=0.0, rgb=rgb)
    faces = []
    for track_id, face in enumerate(FaceAnalyzer().detect(rgb), start=1):
        trace = _new_trace(track_id, face, 1, 0, 0)
        _observe(trace, frame, face, 0, specs)
        faces.append(trace)
    return Scan(faces, [0.0], 1, [(0.0, rgb)] if keep_frames else [])


def _observe(
    trace: FaceTrace,
    frame: media.Frame,
    face: Any,
    position: int,
    specs: list[CropSpec],
) -> None:
    if trace.frames_seen % policy.QUALITY_EVERY == 0:
        _measure(trace, frame, face)
    trace.frames_seen += 1
    trace.last = position
    trace.last_frame = frame.index
    trace.ears[position] = blinks.ear_from_landmarks(face.landmarks)
    trace.poses[position] = pose.head_pose(face.landmarks, frame.rgb.shape)
    # Crop only the frames the even sample will keep: aligning every frame would be wasted work.
    if trace.samples.wants_next():
        trace.samples.offer(Sample(frame.index, frame.t_s, face, _crops(frame.rgb, face, specs)))
    else:
        trace.samples.offer(None)


def _measure(trace: FaceTrace, frame: media.Frame, face: Any) -> None:
    """Size, sharpness and pose of this sighting; keeps the best chips for identity and the
    thumbnail."""
    chip = identity.face_chip(frame.rgb, face)
    sharp = face_quality.sharpness(chip)
    frontal = face_quality.frontalness(face.landmarks)
    trace.quality.append((float(min(face.box[2:])), sharp, frontal, face.score))
    trace.chips.append((sharp, frame.index, chip))
    trace.chips.sort(key=lambda c: c[0], reverse=True)
    del trace.chips[policy.DESCRIPTORS_PER_FRAGMENT :]
    merit = sharp * frontal
    if trace.thumb is None or merit > trace.thumb[0]:
        trace.thumb = (merit, chip)
