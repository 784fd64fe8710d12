"""Child side: whole analyses through `ml.analyze`, called as the worker calls it, and the face
tracking rate of the scan that feeds them."""

from __future__ import annotations

import time
from typing import Any

from tests.support.fullsize import peak_rss_mb

Stage = tuple[str, float, float]  # progress label, its start time, peak RSS (MB) by then


def _recorder(stages: list[Stage]):
    def progress(percent: int, stage: str) -> None:  # the worker saves these to the row
        if not stages or stages[-1][0] != stage:
            stages.append((stage, time.perf_counter(), peak_rss_mb()))

    return progress


def _seconds_per_label(stages: list[Stage], end: float) -> dict[str, float]:
    """Stage durations from the progress labels' timestamps: all a failed analysis leaves."""
    ends = [t for _, t, _ in stages[1:]] + [end]
    return {label: round(e - t, 2) for (label, t, _), e in zip(stages, ends, strict=True)}


def _peak_before_label(stages: list[Stage]) -> dict[str, int]:
    """The process's peak RSS when each stage began: what the stages before it needed."""
    return {label: round(peak) for label, _, peak in stages}


def analyze_repeatedly(path: str, options: dict[str, Any], runs: int) -> dict[str, Any]:
    """`runs` analyses of one file in this one process, as a worker handles job after job:
    the first loads the models, the later ones find them loaded. A failing analysis is
    recorded with the stage it failed in, as the user would see it, and ends the series."""
    import ml

    results = []
    for _ in range(runs):
        stages: list[Stage] = []
        progress = _recorder(stages)
        start = time.perf_counter()
        try:
            report = ml.analyze(path, options, progress=progress)
        except Exception as exc:  # noqa: BLE001  (the worker reports it as an internal error)
            end = time.perf_counter()
            results.append(
                {
                    "wall_s": round(end - start, 2),
                    "error": f"{type(exc).__name__}: {exc}",
                    "failed_in": stages[-1][0] if stages else "start",
                    "stage_labels_s": _seconds_per_label(stages, end),
                    "peak_rss_mb_so_far": round(peak_rss_mb()),
                }
            )
            break
        wall = time.perf_counter() - start
        results.append(
            {
                "wall_s": round(wall, 2),
                "timings_s": report.timings_s,
                "duration_s": report.duration_s,
                "width": report.width,
                "height": report.height,
                "frames_decoded": report.frames_decoded,
                "faces": len(report.faces),
                "scored_crops": sum(len(f.frame_scores) for f in report.faces),
                "verdict": report.verdict,
                "classifiers": [c.arch for c in report.classifiers],
                "stage_labels_s": _seconds_per_label(stages, start + wall),
                "peak_rss_mb_before_label": _peak_before_label(stages),
                "peak_rss_mb_so_far": round(peak_rss_mb()),
            }
        )
    return {"runs": results}


def _track(path: str, scan_fps: float, tracker: Any) -> tuple[int, float]:
    from ml.media import reader as media

    start = time.perf_counter()
    frames = 0
    for _frame in tracker.track(media.iter_video_frames(path, target_fps=scan_fps)):
        frames += 1
    return frames, time.perf_counter() - start


def tracking_rate(path: str, scan_fps: float = 15.0) -> dict[str, Any]:
    """Frames per second of decoding alone, and of decoding plus the pipeline's face tracking
    (detection every few frames, 68 landmarks on every scanned frame, read-ahead decoding). Also,
    as a what-if for ml/faces/tracking.py, the same with detection three times as often."""
    from ml.faces.detect import FaceAnalyzer
    from ml.faces.tracking import FaceTracker
    from ml.media import reader as media

    start = time.perf_counter()
    frames = sum(1 for _ in media.iter_video_frames(path, target_fps=scan_fps))
    decode_s = time.perf_counter() - start

    tracker = FaceTracker(FaceAnalyzer())
    _, track_s = _track(path, scan_fps, tracker)
    what_if = FaceTracker(FaceAnalyzer(), detect_every=5)
    _, what_if_s = _track(path, scan_fps, what_if)
    return {
        "frames": frames,
        "tracks": len(tracker.tracks),
        "detect_every": tracker.detect_every,
        "decode_fps": round(frames / decode_s, 1),
        "decode_and_track_fps": round(frames / track_s, 1),
        "track_only_fps": round(frames / max(track_s - decode_s, 1e-9), 1),
        "what_if": {
            "upsample": 1,
            "detect_every": 5,
            "tracks": len(what_if.tracks),
            "decode_and_track_fps": round(frames / what_if_s, 1),
        },
    }
