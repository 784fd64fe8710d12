"""One analysis, start to finish: media → faces → classifiers → blinks → verdict → Report.

Videos are read in one streamed pass at `scan_fps`: faces are tracked in every scanned frame (the
eye aspect ratio needs a dense series to see 100-400 ms blinks), while face crops for the
classifier are kept only at up to `frames` evenly spaced moments per face, so memory stays
bounded whatever the length of the video. On videos, an installed temporal model scores the same
evenly spaced crops of each face as one track.
"""

from __future__ import annotations

import base64
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ml import blink as blinks
from ml import heatmap, media, policy
from ml.aggregate import FaceScore, ensemble_face_score
from ml.cards import ModelSpec
from ml.classify import Ensemble, TemporalClassifier, load_ensemble
from ml.errors import MediaError, ModelError
from ml.faces import FaceAnalyzer, FaceTracker
from ml.framing import CropSpec, Framing
from ml.fusion import TrackScore, fuse
from ml.report import BlinkResult, ClassifierInfo, FaceResult, Report
from ml.version import code_version

log = logging.getLogger(__name__)

DEFAULT_FRAMES = 32  # as the DFDC winner and SBI score videos
DEFAULT_SCAN_FPS = 15.0  # dense enough for blinks of 100 ms and more
THUMBNAIL_SIZE = 96
THUMBNAIL_CROP = CropSpec(Framing(), THUMBNAIL_SIZE)  # the crop kept when no model runs
MAX_HEATMAP_FACES = 5  # one gradient pass per face: bounded for crowd scenes
PROGRESS_INTERVAL_S = 0.3  # at most about three progress reports a second

NO_MODEL_REASON = "no trained classifier is installed, so faces were not scored"

Progress = Callable[[int, str], None]


# --- options, progress, timings -------------------------------------------------------------


def _options(options: dict[str, Any] | None) -> dict[str, Any]:
    options = dict(options or {})
    frames = int(options.get("frames", DEFAULT_FRAMES))
    scan_fps = float(options.get("scan_fps", DEFAULT_SCAN_FPS))
    if not 1 <= frames <= 300:
        raise ValueError("frames must be between 1 and 300")
    if not 15.0 <= scan_fps <= 60.0:
        raise ValueError("scan_fps must be between 15 and 60 (blinks need at least 15)")
    return {
        "frames": frames,
        "scan_fps": scan_fps,
        "models": _specs(options.get("models")),
        "temporal_models": _specs(options.get("temporal_models")),
    }


def _specs(items: list[Any] | None) -> list[ModelSpec]:
    return [
        s if isinstance(s, ModelSpec) else ModelSpec.from_dict(s) for s in items or []
    ]


class _Run:
    """Throttled, monotonic progress reports and the time spent in each stage."""

    def __init__(self, callback: Progress | None) -> None:
        self._callback = callback
        self._percent = -1
        self._stage = ""
        self._last = 0.0
        self.timings: dict[str, float] = {}

    def progress(self, percent: float, stage: str) -> None:
        percent = max(self._percent, min(100, int(percent)))
        now = time.monotonic()
        changed = stage != self._stage or percent == 100
        if self._callback is None or (percent == self._percent and not changed):
            return
        if not changed and now - self._last < PROGRESS_INTERVAL_S:
            return
        self._percent, self._stage, self._last = percent, stage, now
        self._callback(percent, stage)

    @contextmanager
    def stage(self, name: str, percent: float, label: str) -> Iterator[None]:
        self.progress(percent, label)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(
                self.timings.get(name, 0.0) + time.perf_counter() - start, 3
            )


# --- what one pass over the media collects --------------------------------------------------


_Sample = tuple[int, float, dict[CropSpec, np.ndarray]]


class _EvenSample:
    """Up to `n` items spread evenly over a stream of unknown length, in bounded memory.

    Keeps every `stride`-th item; when 2n are held, drops every other one and doubles the stride.
    An item is (frame index, time, crops): one crop per CropSpec in use.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.stride = 1
        self.seen = 0
        self.items: list[_Sample] = []

    def wants_next(self) -> bool:
        return self.seen % self.stride == 0

    def offer(self, item: _Sample | None) -> None:
        if item is not None and self.wants_next():
            self.items.append(item)
            if len(self.items) >= 2 * self.n:
                self.items = self.items[::2]
                self.stride *= 2
        self.seen += 1

    def result(self) -> list[_Sample]:
        return [self.items[i] for i in media.sample_indices(len(self.items), self.n)]


@dataclass
class _FaceTrace:
    """Everything collected about one tracked face."""

    track_id: int
    box: list[int]
    samples: _EvenSample
    frames_seen: int = 0
    ears: dict[int, float] = field(default_factory=dict)  # scan position → EAR
    first: int = 0  # scan positions of first and last sighting
    last: int = 0


@dataclass
class _Scan:
    faces: list[_FaceTrace]
    times: list[float]  # time of every scanned frame
    frames_decoded: int


def _scan(
    path: str,
    info: media.MediaInfo,
    opts: dict[str, Any],
    specs: list[CropSpec],
    run: _Run,
) -> _Scan:
    if info.media_type == "image":
        return _scan_image(path, specs)
    return _scan_video(path, info, opts, specs, run)


def _new_trace(track_id: int, face: Any, frames: int, position: int) -> _FaceTrace:
    box = [int(v) for v in face.box]
    return _FaceTrace(track_id, box, _EvenSample(frames), first=position, last=position)


def _crops(
    rgb: np.ndarray, face: Any, specs: list[CropSpec]
) -> dict[CropSpec, np.ndarray]:
    return {spec: spec.framing.crop(rgb, face, spec.size) for spec in specs}


def _scan_image(path: str, specs: list[CropSpec]) -> _Scan:
    rgb = media.load_image(path)
    faces = []
    for track_id, face in enumerate(FaceAnalyzer().detect(rgb), start=1):
        trace = _new_trace(track_id, face, 1, 0)
        trace.frames_seen = 1
        trace.samples.offer((0, 0.0, _crops(rgb, face, specs)))
        faces.append(trace)
    return _Scan(faces=faces, times=[0.0], frames_decoded=1)


def _scan_video(
    path: str,
    info: media.MediaInfo,
    opts: dict[str, Any],
    specs: list[CropSpec],
    run: _Run,
) -> _Scan:
    tracker = FaceTracker(FaceAnalyzer())
    traces: dict[int, _FaceTrace] = {}
    times: list[float] = []
    last_index = -1
    for position, frame in enumerate(
        media.iter_video_frames(path, target_fps=opts["scan_fps"])
    ):
        times.append(frame.t_s)
        last_index = frame.index
        for track_id, face in tracker.update(frame):
            # Faces are numbered 1, 2... in order of appearance.
            if track_id not in traces:
                number = len(traces) + 1
                traces[track_id] = _new_trace(number, face, opts["frames"], position)
            _observe(traces[track_id], frame, face, position, specs)
        if info.frame_count:
            run.progress(
                5 + 65 * min(1.0, frame.index / info.frame_count),
                "Finding and tracking faces",
            )
    if last_index < 0:
        raise MediaError(media.DAMAGED_VIDEO_MESSAGE)
    return _Scan(
        faces=list(traces.values()), times=times, frames_decoded=last_index + 1
    )


def _observe(
    trace: _FaceTrace,
    frame: media.Frame,
    face: Any,
    position: int,
    specs: list[CropSpec],
) -> None:
    trace.frames_seen += 1
    trace.last = position
    trace.ears[position] = blinks.ear_from_landmarks(face.landmarks)
    # Crop only the frames the even sample will keep: aligning every frame would be wasted work.
    if trace.samples.wants_next():
        trace.samples.offer((frame.index, frame.t_s, _crops(frame.rgb, face, specs)))
    else:
        trace.samples.offer(None)


# --- scoring, blinks, report -----------------------------------------------------------------


def _load_classifier(
    specs: list[ModelSpec], warnings: list[str]
) -> tuple[Ensemble | None, str]:
    """The frame ensemble, or None with the reason in words."""
    frame_specs = [s for s in specs if s.card.get("kind", "frame") == "frame"]
    for spec in specs:
        if spec.card.get("kind", "frame") != "frame":
            warnings.append(
                f"{spec.name} {spec.version} is a temporal model listed among the frame "
                "models; it was not used to score frames."
            )
    if not frame_specs:
        return None, NO_MODEL_REASON
    try:
        return load_ensemble(frame_specs), ""
    except ModelError as exc:
        # The analysis still reports faces and blinks; the operator sees why scores are missing.
        log.error("classifier unusable: %s", exc)
        warnings.append(str(exc))
        return (
            None,
            "the installed classifier could not be loaded, so faces were not scored",
        )


def _load_temporal(
    specs: list[ModelSpec], media_type: str, warnings: list[str]
) -> TemporalClassifier | None:
    """The temporal model for a video; None for images, where it has no track to score."""
    if not specs or media_type != "video":
        return None
    first, *others = specs
    for spec in others:
        warnings.append(
            f"only one temporal model is used; {spec.name} {spec.version} was not"
        )
    try:
        return TemporalClassifier.load(first)
    except ModelError as exc:
        log.error("temporal model unusable: %s", exc)
        warnings.append(str(exc))
        return None


def _crop_specs(
    classifier: Ensemble | None, temporal: TemporalClassifier | None
) -> list[CropSpec]:
    """Each crop the models in use need, cut once per sampled moment; without a model, only
    a small crop for thumbnails."""
    specs = [*(classifier.crop_specs if classifier else [])]
    if temporal is not None:
        specs.append(temporal.crop_spec)
    return list(dict.fromkeys(specs)) or [THUMBNAIL_CROP]


def _crops_of(trace: _FaceTrace, spec: CropSpec) -> list[np.ndarray]:
    return [crops[spec] for _, _, crops in trace.samples.result()]


def _score_tracks(
    temporal: TemporalClassifier, faces: list[_FaceTrace]
) -> list[TrackScore]:
    """The temporal model's score for each face, over the crops kept for the classifier."""
    tracks = []
    for trace in faces:
        crops = _crops_of(trace, temporal.crop_spec)
        if crops:
            score = temporal.predict_track(np.stack(crops))
            tracks.append(TrackScore(trace.track_id, score, len(crops)))
    return tracks


def _score_faces(
    classifier: Ensemble, faces: list[_FaceTrace]
) -> dict[int, np.ndarray]:
    """Each model's fake probability of each kept crop, (models, crops) per face; all faces in
    one batched call per model."""
    counts = {f.track_id: len(f.samples.result()) for f in faces}
    if not sum(counts.values()):
        return {}
    crops = {
        spec: np.stack([c for f in faces for c in _crops_of(f, spec)])
        for spec in classifier.crop_specs
    }
    scores = classifier.predict_members(crops)
    result, start = {}, 0
    for track_id, count in counts.items():
        if count:
            result[track_id] = scores[:, start : start + count]
            start += count
    return result


def _thumbnail(trace: _FaceTrace) -> str | None:
    items = trace.samples.result()
    if not items:
        return None
    crop = next(iter(items[len(items) // 2][2].values()))
    crop = cv2.resize(
        crop, (THUMBNAIL_SIZE, THUMBNAIL_SIZE), interpolation=cv2.INTER_AREA
    )
    ok, jpeg = cv2.imencode(
        ".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    return base64.b64encode(jpeg.tobytes()).decode("ascii") if ok else None


def _ear_series(
    trace: _FaceTrace, times: list[float]
) -> tuple[list[float], list[float]]:
    """The face's EAR over every scanned frame of its lifetime; NaN where it was not found."""
    span = range(trace.first, trace.last + 1)
    return [times[p] for p in span], [trace.ears.get(p, math.nan) for p in span]


def _blinks(media_type: str, scan: _Scan, warnings: list[str]) -> BlinkResult:
    if media_type == "image":
        return blinks.not_applicable()
    if not scan.faces:
        return BlinkResult(
            status="insufficient_evidence", message="no face to measure blinking on"
        )
    main, *others = sorted(scan.faces, key=lambda f: f.frames_seen, reverse=True)
    for trace in others:
        other = blinks.detect_blinks(*_ear_series(trace, scan.times))
        if other.status == "abnormal":
            warnings.append(
                f"face {trace.track_id}: {other.message or 'abnormal blink pattern'}"
            )
    return blinks.detect_blinks(*_ear_series(main, scan.times))


def _heatmaps(
    classifier: Ensemble,
    scan: _Scan,
    summaries: dict[int, FaceScore],
    scores: dict[int, np.ndarray],
) -> dict[int, str]:
    """Grad-CAM over each face's most suspicious crop, for the most suspicious faces only."""
    ranked = sorted(summaries.values(), key=lambda f: f.score, reverse=True)[
        :MAX_HEATMAP_FACES
    ]
    traces = {t.track_id: t for t in scan.faces}
    lead = classifier.lead
    result = {}
    for face in ranked:
        crops = _crops_of(traces[face.track_id], lead.crop_spec)
        crop = crops[int(np.argmax(scores[face.track_id]))]
        heat = lead.heatmap(crop)
        if heat is not None:
            result[face.track_id] = heatmap.overlay_jpeg(crop, heat)
    return result


def _face_results(
    scan: _Scan,
    scores: dict[int, np.ndarray],
    summaries: dict[int, FaceScore],
    heatmaps: dict[int, str],
) -> list[FaceResult]:
    """`summaries`: each face's score as the verdict weighed it (both models' where both ran)."""
    results = []
    for trace in scan.faces:
        summary = summaries.get(trace.track_id)
        results.append(
            FaceResult(
                track_id=trace.track_id,
                frames=trace.frames_seen,
                score=round(summary.score, 4) if summary else None,
                thumbnail=_thumbnail(trace),
                frame_scores=[
                    round(float(s), 4) for s in scores.get(trace.track_id, [])
                ],
                box=trace.box,
                heatmap=heatmaps.get(trace.track_id),
            )
        )
    return results


def _score_series(
    trace: _FaceTrace | None, scores: dict[int, np.ndarray]
) -> list[list[float]]:
    if trace is None or trace.track_id not in scores:
        return []
    times = [t for _, t, _ in trace.samples.result()]
    return [
        [round(t, 3), round(float(p), 4)] for t, p in zip(times, scores[trace.track_id])
    ]


def _options_used(opts: dict[str, Any]) -> dict[str, Any]:
    def described(specs: list[ModelSpec]) -> list[dict[str, Any]]:
        return [
            {
                "name": s.name,
                "version": s.version,
                "sha256": s.sha256,
                "weight": s.weight,
            }
            for s in specs
        ]

    used = {
        "frames": opts["frames"],
        "scan_fps": opts["scan_fps"],
        "models": described(opts["models"]),
    }
    if opts["temporal_models"]:
        used["temporal_models"] = described(opts["temporal_models"])
    return used


def analyze(
    path: str | Path,
    options: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Analyse one image or video; raises MediaError (user-safe message) for unusable input."""
    path = str(path)
    opts = _options(options)
    run = _Run(progress)
    warnings: list[str] = []
    with run.stage("probe", 0, "Checking the file"):
        info = media.sniff(path)
    with run.stage("load_models", 3, "Loading the classifier"):
        classifier, skipped_reason = _load_classifier(opts["models"], warnings)
        temporal = _load_temporal(opts["temporal_models"], info.media_type, warnings)
    with run.stage("faces", 5, "Finding and tracking faces"):
        scan = _scan(path, info, opts, _crop_specs(classifier, temporal), run)
    with run.stage("classify", 70, "Scoring faces"):
        member_scores = _score_faces(classifier, scan.faces) if classifier else {}
    with run.stage("temporal", 80, "Scoring face tracks"):
        tracks = _score_tracks(temporal, scan.faces) if temporal else []
    threshold = classifier.threshold if classifier else None
    summaries = {
        track_id: ensemble_face_score(
            track_id=track_id,
            member_scores=m,
            weights=classifier.weights,
            threshold=threshold,
        )
        for track_id, m in member_scores.items()
    }
    # What each frame shows: the models' weighted mean probability.
    scores = {tid: classifier.weights @ m for tid, m in member_scores.items()}
    temporal_threshold = temporal.threshold if temporal else None
    with run.stage("heatmaps", 85, "Drawing heatmaps"):
        heatmaps = _heatmaps(classifier, scan, summaries, scores) if classifier else {}
    with run.stage("blinks", 90, "Measuring blinks"):
        blink = _blinks(info.media_type, scan, warnings)
    min_frames = 1 if info.media_type == "image" else policy.MIN_SCORED_FRAMES_PER_FACE
    with run.stage("verdict", 97, "Weighing the evidence"):
        fusion = fuse(
            media_type=info.media_type,
            faces_found=len(scan.faces),
            face_scores=list(summaries.values()),
            threshold=threshold,
            skipped_reason=skipped_reason,
            blink=blink,
            min_frames=min_frames,
            temporal=tracks,
            temporal_threshold=temporal_threshold,
        )
    # The timeline shows the face that decided the verdict (frame and temporal scores combined).
    decisive = fusion.decisive
    traces = {t.track_id: t for t in scan.faces}
    report = Report(
        media_type=info.media_type,
        verdict=fusion.verdict,
        fake_probability=fusion.fake_probability,
        reasons=fusion.reasons,
        duration_s=_duration(info, scan),
        fps=info.fps,
        width=info.width,
        height=info.height,
        frames_sampled=len({i for t in scan.faces for i, _, _ in t.samples.result()}),
        frames_decoded=scan.frames_decoded,
        faces=_face_results(
            scan, scores, {f.track_id: f for f in fusion.faces}, heatmaps
        ),
        frame_scores=_score_series(
            traces.get(decisive.track_id) if decisive else None, scores
        ),
        blink=blink,
        classifier=_main_info(classifier, temporal),
        classifiers=[
            *(classifier.infos if classifier else []),
            *([temporal.info] if temporal else []),
        ],
        timings_s=run.timings,
        warnings=warnings,
        options=_options_used(opts),
        version=code_version(),
    )
    run.progress(100, "Done")
    return report


def _main_info(
    classifier: Ensemble | None, temporal: TemporalClassifier | None
) -> ClassifierInfo | None:
    """The frame classifier; the temporal model when it scored alone."""
    if classifier:
        return classifier.info
    return temporal.info if temporal else None


def _duration(info: media.MediaInfo, scan: _Scan) -> float | None:
    if info.media_type == "image":
        return None
    if info.fps:
        return round(scan.frames_decoded / info.fps, 3)
    return info.duration_s
