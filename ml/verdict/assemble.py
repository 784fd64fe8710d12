"""The parts of the Report an analysis assembles from its people and scores: per-face results,
thumbnails, the headline blink block, the decisive person's score timeline, what was used."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ml.faces.people import Person
from ml.faces.scan import FaceTrace, Scan
from ml.media import reader as media
from ml.models.cards import ModelSpec
from ml.models.classify import Ensemble, TemporalClassifier
from ml.options import AnalysisOptions, ModelSpecs
from ml.signals import blink as blinks
from ml.verdict.aggregate import FaceScore
from ml.verdict.report import BlinkResult, ClassifierInfo, FaceResult, FragmentSpan

if TYPE_CHECKING:  # the classifier stage imports this module
    from ml.signals.classifier import Heatmap

THUMBNAIL_SIZE = 96


def _thumbnail(person: Person, heat: Heatmap | None) -> str | None:
    """A small JPEG of the crop the heatmap was drawn on, so the two show the same view; without
    a heatmap, of the person's sharpest frontal sighting."""
    thumbs = [f.thumb for f in person.fragments if f.thumb is not None]
    if heat is not None:
        crop = heat.crop
    elif thumbs:
        crop = max(thumbs, key=lambda t: t[0])[1]
    else:
        return None
    crop = cv2.resize(crop, (THUMBNAIL_SIZE, THUMBNAIL_SIZE), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(
        ".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    return base64.b64encode(jpeg.tobytes()).decode("ascii") if ok else None


def main_blink(
    media_type: str,
    people: list[Person],
    person_blinks: dict[int, BlinkResult],
    decisive: int | None,
) -> BlinkResult:
    """The report's headline blink block: the deciding person's, else the judged person seen
    longest, else the person seen longest."""
    if media_type == "image":
        return blinks.not_applicable()
    if not people:
        return BlinkResult(
            status="insufficient_evidence",
            message="no face to measure blinking on",
            code="blink.no_face",
        )
    if decisive is not None:
        return person_blinks[decisive]
    main = max(people, key=lambda p: (not p.not_judged, p.frames_seen))
    return person_blinks[main.track_id]


def face_results(
    people: list[Person],
    times: list[float],
    scores: dict[int, np.ndarray],
    summaries: dict[int, FaceScore],
    heatmaps: dict[int, Heatmap],
    person_blinks: dict[int, BlinkResult],
) -> list[FaceResult]:
    """`summaries`: each person's score as the verdict weighed it (both models' where both ran)."""
    results = []
    for person in people:
        summary = summaries.get(person.track_id)
        heat = heatmaps.get(person.track_id)
        results.append(
            FaceResult(
                track_id=person.track_id,
                frames=person.frames_seen,
                score=round(summary.score, 4) if summary else None,
                thumbnail=_thumbnail(person, heat),
                frame_scores=[round(float(s), 4) for s in scores.get(person.track_id, [])],
                box=person.fragments[0].box,
                heatmap=heat.jpeg if heat else None,
                heatmap_frame=heat.frame_index if heat else None,
                heatmap_time_s=heat.time_s if heat else None,
                fragments=[_fragment_span(f, times) for f in person.fragments],
                quality=person.quality.as_dict(),
                judged=not person.not_judged,
                not_judged_reason=person.not_judged.text if person.not_judged else "",
                not_judged_code=person.not_judged.code if person.not_judged else "",
                blink=person_blinks.get(person.track_id),
                score_times_s=[t for t, _ in score_series(person, scores)],
                approximate_framing=approximate_frames(person),
            )
        )
    return results


def approximate_frames(person: Person) -> list[int]:
    """The frames whose crop a model scored was framed approximately (mtcnn_boxes.py)."""
    return [s.frame_index for s in person.samples if any(c.approximate for c in s.crops.values())]


def _fragment_span(fragment: FaceTrace, times: list[float]) -> FragmentSpan:
    return FragmentSpan(
        first_frame=fragment.first_frame,
        last_frame=fragment.last_frame,
        start_s=round(times[fragment.first], 3),
        end_s=round(times[fragment.last], 3),
        frames=fragment.frames_seen,
        box=fragment.box,
    )


def score_series(person: Person | None, scores: dict[int, np.ndarray]) -> list[list[float]]:
    """The person's (time, score) of every scored crop: the report's timeline."""
    if person is None or person.track_id not in scores:
        return []
    times = [s.time_s for s in person.samples]
    return [[round(t, 3), round(float(p), 4)] for t, p in zip(times, scores[person.track_id])]


def judged_note(person: Person, media_type: str) -> str:
    """Why a person's face counts, in words."""
    q = person.quality
    seen = f", seen for {q.seen_s:.1f} s" if media_type == "video" else ""
    return f"{q.face_px:.0f} px across, sharpness {q.sharpness:.0f}{seen}"


def options_used(options: AnalysisOptions, models: ModelSpecs) -> dict[str, Any]:
    """The options the analysis ran with, models named by identity."""

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

    used = {**options.to_dict(), "models": described(models.frame)}
    if models.temporal:
        used["temporal_models"] = described(models.temporal)
    if models.image:
        used["image_models"] = described(models.image)
    return used


def main_info(
    classifier: Ensemble | None, temporal: TemporalClassifier | None
) -> ClassifierInfo | None:
    """The frame classifier; the temporal model when it scored alone."""
    if classifier:
        return classifier.info
    return temporal.info if temporal else None


def duration(info: media.MediaInfo, scan: Scan) -> float | None:
    if info.media_type == "image":
        return None
    if info.fps:
        # The last timestamp counts where frames are spaced unevenly (variable frame rate).
        last = scan.times[-1] + 1.0 / info.fps if scan.times else 0.0
        return round(max(scan.frames_decoded / info.fps, last), 3)
    return info.duration_s
