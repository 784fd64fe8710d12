"""One analysis, start to finish: media → faces → people → classifiers → blinks → verdict → Report.

Videos are read in one streamed pass at `scan_fps`: faces are tracked in every scanned frame (the
eye aspect ratio needs a dense series to see 100-400 ms blinks), while face crops for the
classifier are kept only at up to `frames` evenly spaced moments per tracker fragment, so memory
stays bounded whatever the length of the video. Fragments are then merged into people by face
descriptor (ml/persons.py); each person seen well enough to judge is scored once, over up to
`frames` crops spread over all of their fragments. On videos, an installed temporal model scores
the same crops of each person as one track.
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
from ml import heatmap, media, persons, policy
from ml.aggregate import FaceScore, ensemble_face_score
from ml.cards import ModelSpec
from ml.classify import Ensemble, TemporalClassifier, load_ensemble
from ml.errors import MediaError, ModelError
from ml.faces import FaceAnalyzer
from ml.framing import CropSpec, Framing
from ml.fusion import TrackScore, fuse
from ml.options import DEFAULT_FRAMES, DEFAULT_SCAN_FPS, FRAMES, SCAN_FPS
from ml.report import BlinkResult, ClassifierInfo, FaceResult, FragmentSpan, Report
from ml.tracking import FaceTracker
from ml.version import code_version

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 96
THUMBNAIL_CROP = CropSpec(Framing(), THUMBNAIL_SIZE)  # the crop kept when no model runs
MAX_HEATMAP_FACES = 5  # one gradient pass per face: bounded for crowd scenes
PROGRESS_INTERVAL_S = 0.3  # at most about three progress reports a second

NO_MODEL_REASON = "no trained classifier is installed, so faces were not scored"
NOT_JUDGED_REASON = "no face was seen clearly enough to judge"

Progress = Callable[[int, str], None]


# --- options, progress, timings -------------------------------------------------------------


def _options(options: dict[str, Any] | None) -> dict[str, Any]:
    options = dict(options or {})
    frames = int(options.get("frames", DEFAULT_FRAMES))
    scan_fps = float(options.get("scan_fps", DEFAULT_SCAN_FPS))
    if frames not in FRAMES:
        raise ValueError(f"frames must be between {FRAMES.low:g} and {FRAMES.high:g}")
    if scan_fps not in SCAN_FPS:
        raise ValueError(
            f"scan_fps must be between {SCAN_FPS.low:g} and {SCAN_FPS.high:g} "
            "(blinks need at least 15)"
        )
    return {
        "frames": frames,
        "scan_fps": scan_fps,
        "models": _specs(options.get("models")),
        "temporal_models": _specs(options.get("temporal_models")),
    }


def _specs(items: list[Any] | None) -> list[ModelSpec]:
    return [s if isinstance(s, ModelSpec) else ModelSpec.from_dict(s) for s in items or []]


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
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 3)


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
    """Everything collected about one tracker fragment (a face followed without a break)."""

    track_id: int
    box: list[int]
    samples: _EvenSample
    frames_seen: int = 0
    ears: dict[int, float] = field(default_factory=dict)  # scan position → EAR
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
class _Scan:
    faces: list[_FaceTrace]  # tracker fragments, in order of appearance
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


def _new_trace(
    track_id: int, face: Any, frames: int, position: int, frame_index: int
) -> _FaceTrace:
    box = [int(v) for v in face.box]
    return _FaceTrace(
        track_id,
        box,
        _EvenSample(frames),
        first=position,
        last=position,
        first_frame=frame_index,
        last_frame=frame_index,
    )


def _crops(rgb: np.ndarray, face: Any, specs: list[CropSpec]) -> dict[CropSpec, np.ndarray]:
    return {spec: spec.framing.crop(rgb, face, spec.size) for spec in specs}


def _scan_image(path: str, specs: list[CropSpec]) -> _Scan:
    rgb = media.load_image(path)
    frame = media.Frame(index=0, t_s=0.0, rgb=rgb)
    faces = []
    for track_id, face in enumerate(FaceAnalyzer().detect(rgb), start=1):
        trace = _new_trace(track_id, face, 1, 0, 0)
        _observe(trace, frame, face, 0, specs)
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
    frames = media.iter_video_frames(path, target_fps=opts["scan_fps"])
    for position, (frame, seen) in enumerate(tracker.track(frames)):
        times.append(frame.t_s)
        last_index = frame.index
        for track_id, face in seen:
            # Fragments are numbered 1, 2... in order of appearance.
            if track_id not in traces:
                number = len(traces) + 1
                traces[track_id] = _new_trace(number, face, opts["frames"], position, frame.index)
            _observe(traces[track_id], frame, face, position, specs)
        if info.frame_count:
            run.progress(
                5 + 65 * min(1.0, frame.index / info.frame_count),
                "Finding and tracking faces",
            )
    if last_index < 0:
        raise MediaError(media.DAMAGED_VIDEO_MESSAGE)
    return _Scan(faces=list(traces.values()), times=times, frames_decoded=last_index + 1)


def _observe(
    trace: _FaceTrace,
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
    # Crop only the frames the even sample will keep: aligning every frame would be wasted work.
    if trace.samples.wants_next():
        trace.samples.offer((frame.index, frame.t_s, _crops(frame.rgb, face, specs)))
    else:
        trace.samples.offer(None)


def _measure(trace: _FaceTrace, frame: media.Frame, face: Any) -> None:
    """Size, sharpness and pose of this sighting; keeps the best chips for identity and the
    thumbnail."""
    chip = persons.face_chip(frame.rgb, face)
    sharp = persons.sharpness(chip)
    frontal = persons.frontalness(face.landmarks)
    trace.quality.append((float(min(face.box[2:])), sharp, frontal, face.score))
    trace.chips.append((sharp, frame.index, chip))
    trace.chips.sort(key=lambda c: c[0], reverse=True)
    del trace.chips[policy.DESCRIPTORS_PER_FRAGMENT :]
    merit = sharp * frontal
    if trace.thumb is None or merit > trace.thumb[0]:
        trace.thumb = (merit, chip)


# --- people -------------------------------------------------------------------------------------


@dataclass
class _Person:
    """One person: the fragments merged by identity, numbered 1, 2... in order of appearance."""

    track_id: int
    fragments: list[_FaceTrace]
    samples: list[_Sample]  # up to `frames` evenly spaced over all fragments
    quality: persons.Quality
    not_judged: str  # why this face may not decide; "" when it may

    @property
    def first(self) -> int:
        return self.fragments[0].first

    @property
    def last(self) -> int:
        return max(f.last for f in self.fragments)

    @property
    def frames_seen(self) -> int:
        return sum(f.frames_seen for f in self.fragments)


def _people(scan: _Scan, media_type: str, frames: int) -> list[_Person]:
    groups = _group(scan.faces) if media_type == "video" else [[i] for i in range(len(scan.faces))]
    period = _scan_period(scan.times)
    result = []
    for number, group in enumerate(groups, start=1):
        fragments = sorted((scan.faces[i] for i in group), key=lambda f: f.first)
        quality = _quality(fragments, scan.times, period)
        samples = _even_over_time(fragments, scan.times, period, frames)
        reason = persons.not_judged_reason(quality, media_type=media_type)
        result.append(_Person(number, fragments, samples, quality, reason))
    return result


def _group(fragments: list[_FaceTrace]) -> list[list[int]]:
    """Fragments of the same person, by face descriptor; descriptors are computed only for
    fragments that some other fragment does not overlap (the others cannot merge)."""
    views = [persons.Fragment(f.first, f.last, np.zeros((0, 128), np.float32)) for f in fragments]
    for view, trace in zip(views, fragments, strict=True):
        could_merge = any(not view.overlaps(o) for o in views if o is not view)
        if could_merge and trace.chips:
            view.descriptors = np.stack([persons.descriptor(chip) for _, _, chip in trace.chips])
    return persons.group_fragments(views)


def _even_over_time(
    fragments: list[_FaceTrace], times: list[float], period: float, n: int
) -> list[_Sample]:
    """Up to n of the fragments' kept crops, spread evenly over the time the person was seen
    (a short fragment gets its share of the picks, not as many as a long one)."""
    slots: list[tuple[_Sample, float]] = []  # each kept crop and the time it stands for
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


def _quality(fragments: list[_FaceTrace], times: list[float], period: float) -> persons.Quality:
    measured = np.array([q for f in fragments for q in f.quality], dtype=np.float64)
    px, sharp, frontal, score = np.median(measured, axis=0)
    # Timestamps, not frame counts: frames of variable-frame-rate videos last unequally long.
    seen_s = sum(times[f.last] - times[f.first] + period for f in fragments)
    return persons.Quality(
        face_px=float(px),
        sharpness=float(sharp),
        frontalness=float(frontal),
        detection_score=float(score),
        frames=sum(f.frames_seen for f in fragments),
        seen_s=seen_s,
    )


# --- scoring, blinks, report -----------------------------------------------------------------


def _load_classifier(specs: list[ModelSpec], warnings: list[str]) -> tuple[Ensemble | None, str]:
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
        warnings.append(f"only one temporal model is used; {spec.name} {spec.version} was not")
    try:
        return TemporalClassifier.load(first)
    except ModelError as exc:
        log.error("temporal model unusable: %s", exc)
        warnings.append(str(exc))
        return None


def _crop_specs(classifier: Ensemble | None, temporal: TemporalClassifier | None) -> list[CropSpec]:
    """Each crop the models in use need, cut once per sampled moment; without a model, only
    a small crop for thumbnails."""
    specs = [*(classifier.crop_specs if classifier else [])]
    if temporal is not None:
        specs.append(temporal.crop_spec)
    return list(dict.fromkeys(specs)) or [THUMBNAIL_CROP]


def _crops_of(person: _Person, spec: CropSpec) -> list[np.ndarray]:
    return [crops[spec] for _, _, crops in person.samples]


def _score_tracks(temporal: TemporalClassifier, people: list[_Person]) -> list[TrackScore]:
    """The temporal model's score for each person, over the crops kept for the classifier."""
    tracks = []
    for person in people:
        crops = _crops_of(person, temporal.crop_spec)
        if crops:
            score = temporal.predict_track(np.stack(crops))
            tracks.append(TrackScore(person.track_id, score, len(crops)))
    return tracks


def _score_faces(classifier: Ensemble, people: list[_Person]) -> dict[int, np.ndarray]:
    """Each model's fake probability of each kept crop, (models, crops) per person; all people
    in one batched call per model."""
    counts = {p.track_id: len(p.samples) for p in people}
    if not sum(counts.values()):
        return {}
    crops = {
        spec: np.stack([c for p in people for c in _crops_of(p, spec)])
        for spec in classifier.crop_specs
    }
    scores = classifier.predict_members(crops)
    result, start = {}, 0
    for track_id, count in counts.items():
        if count:
            result[track_id] = scores[:, start : start + count]
            start += count
    return result


def _thumbnail(person: _Person) -> str | None:
    """The person's sharpest frontal sighting, as a small JPEG."""
    thumbs = [f.thumb for f in person.fragments if f.thumb is not None]
    if not thumbs:
        return None
    crop = max(thumbs, key=lambda t: t[0])[1]
    crop = cv2.resize(crop, (THUMBNAIL_SIZE, THUMBNAIL_SIZE), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(
        ".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    return base64.b64encode(jpeg.tobytes()).decode("ascii") if ok else None


def _ear_series(person: _Person, times: list[float]) -> tuple[list[float], list[float]]:
    """The person's EAR over every scanned frame from first to last sighting; NaN where the
    face was not found, so time between fragments is unmeasured, not open eyes."""
    ears: dict[int, float] = {}
    for fragment in person.fragments:
        ears.update(fragment.ears)
    span = range(person.first, person.last + 1)
    return [times[p] for p in span], [ears.get(p, math.nan) for p in span]


def _blinks(media_type: str, people: list[_Person], times: list[float]) -> dict[int, BlinkResult]:
    """Each person's blinks over all of their fragments."""
    if media_type == "image":
        return {p.track_id: blinks.not_applicable() for p in people}
    return {p.track_id: blinks.detect_blinks(*_ear_series(p, times)) for p in people}


def _main_blink(
    media_type: str,
    people: list[_Person],
    person_blinks: dict[int, BlinkResult],
    decisive: int | None,
) -> BlinkResult:
    """The report's headline blink block: the deciding person's, else the judged person seen
    longest, else the person seen longest."""
    if media_type == "image":
        return blinks.not_applicable()
    if not people:
        return BlinkResult(status="insufficient_evidence", message="no face to measure blinking on")
    if decisive is not None:
        return person_blinks[decisive]
    main = max(people, key=lambda p: (not p.not_judged, p.frames_seen))
    return person_blinks[main.track_id]


def _heatmaps(
    classifier: Ensemble,
    people: list[_Person],
    summaries: dict[int, FaceScore],
    scores: dict[int, np.ndarray],
) -> dict[int, str]:
    """Grad-CAM over each person's most suspicious crop, for the most suspicious only."""
    ranked = sorted(summaries.values(), key=lambda f: f.score, reverse=True)[:MAX_HEATMAP_FACES]
    by_id = {p.track_id: p for p in people}
    lead = classifier.lead
    result = {}
    for face in ranked:
        crops = _crops_of(by_id[face.track_id], lead.crop_spec)
        crop = crops[int(np.argmax(scores[face.track_id]))]
        heat = lead.heatmap(crop)
        if heat is not None:
            result[face.track_id] = heatmap.overlay_jpeg(crop, heat)
    return result


def _face_results(
    people: list[_Person],
    times: list[float],
    scores: dict[int, np.ndarray],
    summaries: dict[int, FaceScore],
    heatmaps: dict[int, str],
    person_blinks: dict[int, BlinkResult],
) -> list[FaceResult]:
    """`summaries`: each person's score as the verdict weighed it (both models' where both ran)."""
    results = []
    for person in people:
        summary = summaries.get(person.track_id)
        results.append(
            FaceResult(
                track_id=person.track_id,
                frames=person.frames_seen,
                score=round(summary.score, 4) if summary else None,
                thumbnail=_thumbnail(person),
                frame_scores=[round(float(s), 4) for s in scores.get(person.track_id, [])],
                box=person.fragments[0].box,
                heatmap=heatmaps.get(person.track_id),
                fragments=[_fragment_span(f, times) for f in person.fragments],
                quality=person.quality.as_dict(),
                judged=not person.not_judged,
                not_judged_reason=person.not_judged,
                blink=person_blinks.get(person.track_id),
            )
        )
    return results


def _fragment_span(fragment: _FaceTrace, times: list[float]) -> FragmentSpan:
    return FragmentSpan(
        first_frame=fragment.first_frame,
        last_frame=fragment.last_frame,
        start_s=round(times[fragment.first], 3),
        end_s=round(times[fragment.last], 3),
        frames=fragment.frames_seen,
        box=fragment.box,
    )


def _score_series(person: _Person | None, scores: dict[int, np.ndarray]) -> list[list[float]]:
    if person is None or person.track_id not in scores:
        return []
    times = [t for _, t, _ in person.samples]
    return [[round(t, 3), round(float(p), 4)] for t, p in zip(times, scores[person.track_id])]


def _judged_note(person: _Person, media_type: str) -> str:
    """Why a person's face counts, in words."""
    q = person.quality
    seen = f", seen for {q.seen_s:.1f} s" if media_type == "video" else ""
    return f"{q.face_px:.0f} px across, sharpness {q.sharpness:.0f}{seen}"


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
    with run.stage("identity", 68, "Telling people apart"):
        people = _people(scan, info.media_type, opts["frames"])
    # Only faces seen well enough may be scored into the verdict.
    judged = [p for p in people if not p.not_judged]
    with run.stage("classify", 70, "Scoring faces"):
        member_scores = _score_faces(classifier, judged) if classifier else {}
    with run.stage("temporal", 80, "Scoring face tracks"):
        tracks = _score_tracks(temporal, judged) if temporal else []
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
        heatmaps = _heatmaps(classifier, judged, summaries, scores) if classifier else {}
    with run.stage("blinks", 90, "Measuring blinks"):
        person_blinks = _blinks(info.media_type, people, scan.times)
    min_frames = 1 if info.media_type == "image" else policy.MIN_SCORED_FRAMES_PER_FACE
    if people and not judged and (classifier or temporal):
        skipped_reason = NOT_JUDGED_REASON
    with run.stage("verdict", 97, "Weighing the evidence"):
        fusion = fuse(
            media_type=info.media_type,
            faces_found=len(people),
            face_scores=list(summaries.values()),
            threshold=threshold,
            skipped_reason=skipped_reason,
            blink=None,
            min_frames=min_frames,
            temporal=tracks,
            temporal_threshold=temporal_threshold,
            person_blinks={p.track_id: person_blinks[p.track_id] for p in judged},
            judged={p.track_id: _judged_note(p, info.media_type) for p in judged},
            not_judged={p.track_id: p.not_judged for p in people if p.not_judged},
        )
    # The timeline shows the person who decided the verdict (frame and temporal scores combined).
    decisive = fusion.decisive
    by_id = {p.track_id: p for p in people}
    report = Report(
        media_type=info.media_type,
        verdict=fusion.verdict,
        fake_probability=fusion.fake_probability,
        reasons=fusion.reasons,
        duration_s=_duration(info, scan),
        fps=info.fps,
        width=info.width,
        height=info.height,
        frames_sampled=len({i for p in judged for i, _, _ in p.samples}),
        frames_decoded=scan.frames_decoded,
        faces=_face_results(
            people,
            scan.times,
            scores,
            {f.track_id: f for f in fusion.faces},
            heatmaps,
            person_blinks,
        ),
        frame_scores=_score_series(by_id.get(decisive.track_id) if decisive else None, scores),
        decisive_face=decisive.track_id if decisive else None,
        blink=_main_blink(
            info.media_type,
            people,
            person_blinks,
            decisive.track_id if decisive else None,
        ),
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
        # The last timestamp counts where frames are spaced unevenly (variable frame rate).
        last = scan.times[-1] + 1.0 / info.fps if scan.times else 0.0
        return round(max(scan.frames_decoded / info.fps, last), 3)
    return info.duration_s
