"""One analysis, start to finish: media → faces → people → classifiers → blinks → verdict → Report.

Videos are read in one streamed pass at `scan_fps` (ml/faces/scan.py): faces are tracked in every
scanned frame, while face crops for the classifier are kept only at up to `frames` evenly spaced
moments per tracker fragment, so memory stays bounded whatever the length of the video. Fragments
are then merged into people by face descriptor (ml/faces/people.py); each person seen well enough to
judge is scored once, over up to `frames` crops spread over all of their fragments
(ml/signals/classifier.py). On videos, an installed temporal model scores the same crops of each person as
one track. Whole-image detectors (ml/signals/generated.py) score the image, or evenly spaced frames
kept during the same pass, for AI generation. ml/verdict/assemble.py turns people and scores
into the parts of the Report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ml.faces import mtcnn_boxes, people, scan
from ml.faces.quality import NONE_JUDGED
from ml.faces.saved_crops import CropSink
from ml.media import reader as media
from ml.options import AnalysisOptions, ModelSpecs
from ml.signals import blink as blinks
from ml.signals import classifier as scoring
from ml.signals import generated, provenance
from ml.verdict import assemble as results
from ml.verdict.aggregate import ensemble_face_score
from ml.verdict.fusion import Scores, fuse
from ml.verdict.policy import DEFAULT_POLICY_VERSION, MIN_SCORED_FRAMES_PER_FACE
from ml.verdict.policy_card import PolicyCard
from ml.verdict.reliability import weakest
from ml.verdict.report import Report
from ml.version import code_version

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.3  # at most about three progress reports a second

NOT_JUDGED_REASON = NONE_JUDGED.text

Progress = Callable[[int, str], None]


# --- options, progress, timings -------------------------------------------------------------


def _options(
    options: AnalysisOptions | Mapping[str, Any] | None, models: ModelSpecs | None
) -> tuple[AnalysisOptions, ModelSpecs]:
    """The user's options and the models, kept apart. A dict may hold both, as command-line,
    benchmark and older callers pass them; `models`, when given, names the models instead."""
    if isinstance(options, AnalysisOptions):
        return options, models if models is not None else ModelSpecs()
    chosen = AnalysisOptions.from_dict(options)
    return chosen, models if models is not None else ModelSpecs.from_dict(options)


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


def analyze(
    path: str | Path,
    options: AnalysisOptions | Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    *,
    models: ModelSpecs | None = None,
    policy: PolicyCard | None = None,
    crops: CropSink | None = None,
) -> Report:
    """Analyse one image or video; raises MediaError (user-safe message) for unusable input
    and ValueError for options out of bounds. `policy`: the active policy card; it judges
    only when it was calibrated with exactly these models. `crops`: called with every crop
    each model scored (ml/faces/saved_crops.py)."""
    path = str(path)
    opts, models = _options(options, models)
    run = _Run(progress)
    warnings: list[str] = []
    calibrated = _applicable(policy, models, warnings)
    with run.stage("probe", 0, "Checking the file"):
        info = media.sniff(path)
    warnings.extend(info.warnings)
    # Once per file (never per frame), before any pixel is decoded; never fails the analysis.
    with run.stage("provenance", 1, "Reading Content Credentials"):
        origin = provenance.read(path, info.mime, warnings)
    with run.stage("load_models", 3, scoring.LOADING_LABEL):
        classifier, unscored = scoring.load_classifier(models.frame, warnings)
        temporal = scoring.load_temporal(models.temporal, info.media_type, warnings)
        detectors = generated.load(models.image, warnings)
    specs = scoring.crop_specs(classifier, temporal)
    with run.stage("faces", 5, "Finding and tracking faces"):
        scanned = scan.scan(
            path,
            info,
            frames=opts.frames,
            scan_fps=opts.scan_fps,
            specs=specs,
            progress=run.progress,
            keep_frames=generated.frames_to_keep(detectors, opts.generated_frames),
            frame_prep=generated.frame_prep(detectors),
        )
    with run.stage("identity", 68, "Telling people apart"):
        everyone = people.people(scanned, info.media_type, opts.frames)
    # Only faces seen well enough may be scored into the verdict.
    judged = [p for p in everyone if not p.not_judged]
    if any(spec.framing.deferred for spec in specs):
        with run.stage("framing", 69, "Finding faces as the models were trained to see them"):
            mtcnn_boxes.cut_deferred(path, info.media_type, judged, specs, warnings)
    with run.stage("classify", 70, "Scoring faces"):
        member_scores = scoring.score_faces(classifier, judged) if classifier else {}
    with run.stage("temporal", 80, "Scoring face tracks"):
        tracks = scoring.score_tracks(temporal, judged) if temporal else []
    if crops is not None:
        scoring.hand_out_crops(crops, classifier, temporal, judged)
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
        heatmaps = scoring.heatmaps(classifier, judged, summaries, scores) if classifier else {}
    with run.stage("generated", 87, "Looking for signs of AI generation"):
        whole = generated.score(detectors, scanned, info.media_type)
    with run.stage("blinks", 90, "Measuring blinks"):
        person_blinks = people.person_blinks(info.media_type, everyone, scanned.times)
    min_frames = 1 if info.media_type == "image" else MIN_SCORED_FRAMES_PER_FACE
    if everyone and not judged and (classifier or temporal):
        unscored = NONE_JUDGED
    evidence = [
        *scoring.face_evidence(list(summaries.values()), info.media_type, threshold),
        *scoring.track_evidence(tracks, temporal_threshold),
        *people.left_out(everyone),
        *blinks.evidence(info.media_type, {p.track_id: person_blinks[p.track_id] for p in judged}),
        *provenance.evidence(origin),
        *generated.evidence(whole, info.media_type),
    ]
    with run.stage("verdict", 97, "Weighing the evidence"):
        fusion = fuse(
            faces_found=len(everyone),
            scores=Scores(
                list(summaries.values()),
                threshold,
                tracks,
                temporal_threshold,
                unscored,
                reliability=weakest(_cards_used(classifier, temporal, tracks)),
            ),
            evidence=evidence,
            judged={p.track_id: results.judged_note(p, info.media_type) for p in judged},
            min_frames=min_frames,
            calibrated=calibrated,
        )
    # The timeline shows the person who decided the verdict (frame and temporal scores combined).
    decisive = fusion.decisive.track_id if fusion.decisive else None
    by_id = {p.track_id: p for p in everyone}
    report = Report(
        media_type=info.media_type,
        verdict=fusion.verdict,
        fake_probability=fusion.fake_probability,
        reasons=fusion.reasons,
        evidence=[e.to_dict() for e in fusion.evidence],
        duration_s=results.duration(info, scanned),
        fps=info.fps,
        width=info.width,
        height=info.height,
        frames_sampled=len({s.frame_index for p in judged for s in p.samples}),
        frames_decoded=scanned.frames_decoded,
        faces=results.face_results(
            everyone,
            scanned.times,
            scores,
            {f.track_id: f for f in fusion.faces},
            heatmaps,
            person_blinks,
        ),
        frame_scores=results.score_series(by_id.get(decisive), scores),
        decisive_face=decisive,
        blink=results.main_blink(info.media_type, everyone, person_blinks, decisive),
        classifier=results.main_info(classifier, temporal),
        classifiers=[
            *(classifier.infos if classifier else []),
            *([temporal.info] if temporal else []),
        ],
        provenance=origin,
        generated=whole,
        timings_s=run.timings,
        warnings=warnings,
        options=results.options_used(opts, models),
        version=code_version(),
        policy_version=calibrated.version if calibrated else DEFAULT_POLICY_VERSION,
    )
    run.progress(100, "Done")
    return report


def _applicable(
    card: PolicyCard | None, models: ModelSpecs, warnings: list[str]
) -> PolicyCard | None:
    if card is None or card.applies_to(models.sha256s()):
        return card
    warnings.append(
        f"Policy {card.version} was calibrated with other models; the default policy judged."
    )
    return None


def _cards_used(classifier, temporal, tracks) -> list[dict]:
    """The cards of the models whose scores the verdict weighs."""
    cards = [m.card for m in classifier.members] if classifier else []
    return cards + ([temporal.card] if temporal and tracks else [])
