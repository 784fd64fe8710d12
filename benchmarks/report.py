"""docs/performance.md from one run's results: the numbers, the ratios, the targets.

The page's sections from `KEPT_FROM` onward are written by hand or by other tools
(benchmarks/load.py) and are carried over unchanged when the page is rewritten.
"""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks.cold_cli import cold_cli_lines
from benchmarks.export import export_lines

KEPT_FROM = ("## Telling people apart", "<!-- load-test:begin -->")
TARGETS = {
    "peak_rss_mb": 3072,
    "speedup": 3.0,
    "speedup_goal": 5.0,
    "floor_multiple": 3.0,
    "tracking_fps": 60.0,
}


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _code(text: str, limit: int = 160) -> str:
    """An error message as inline code (its own backticks would end the span)."""
    return "`" + text[:limit].replace("`", "'") + "`"


def _fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def _warm(result: dict) -> list[dict]:
    """The completed analyses that found the models loaded (all but the first of a process)."""
    runs = [run for run in result.get("runs", []) if "error" not in run]
    return runs[1:] or runs


def _warm_median(result: dict, key: str) -> float | None:
    values = [r[key] if key == "wall_s" else r["timings_s"].get(key, 0.0) for r in _warm(result)]
    return _median(values)


def _cold_wall(result: dict) -> float:
    return result["runs"][0]["wall_s"]


def derived(r: dict) -> dict[str, Any]:
    """The ratios the page reports, all from numbers of this one run."""
    head = r["analyses"].get("headline", {})
    naive, floor, track = (r.get(k, {}) for k in ("naive", "floor", "tracking"))
    done = bool(_warm(head))
    warm_wall = _warm_median(head, "wall_s") if done else None
    warm_classify = _warm_median(head, "classify") if done else None
    crops = _warm(head)[0]["scored_crops"] if done else 0
    d: dict[str, Any] = {
        "warm_wall": warm_wall,
        "warm_classify": warm_classify,
        "crops": crops,
    }
    if warm_wall and "total_s" in naive:
        d["speedup"] = naive["total_s"] / warm_wall
        d["speedup_cold"] = naive["total_s"] / _cold_wall(head)
        d["faces_speedup"] = naive["detect_landmarks_s"] / _warm_median(head, "faces")
    if "sgemm_gflops" in floor:
        d["floor_s_per_face"] = floor["gflop_per_face"] / floor["sgemm_gflops"]
        if warm_classify and crops:
            d["floor_multiple"] = warm_classify / crops / d["floor_s_per_face"]
        rows = r.get("throughput", {}).get("rows", [])
        if rows:
            best = min(rows, key=lambda row: row["s_per_face"])
            d["best_batch"] = best["batch"]
            d["best_floor_multiple"] = best["s_per_face"] / d["floor_s_per_face"]
    d["tracking_fps"] = track.get("decode_and_track_fps")
    peaks = [r["analyses"].get(k, {}).get("peak_rss_mb") for k in ("headline", "long")]
    d["worst_peak"] = max((p for p in peaks if p), default=None)
    return d


def _header(r: dict) -> list[str]:
    m = r["machine"]
    quick = " **Quick smoke run: short clip and small models, not reference numbers.**"
    return [
        "# Performance",
        "",
        f"Measured by `{r['command'].strip()}` on {r['started'].replace('T', ' ')} "
        f"({r['minutes']} min): {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB RAM, "
        f"no GPU used, Python {m['python']}, {m['system']}. Load average (1/5/15 min) "
        f"{r['load_start']} at the start and {r['load_end']} at the end: with {m['cores']} cores, "
        "a load above that number means the machine was shared and busy, so absolute times are "
        "pessimistic; ratios compare numbers measured side by side in this run."
        + (quick if r["plan"]["quick"] else ""),
        "",
        (
            f"Models: {r['models_source']}. Every analysis runs `ml.analyze(path, options, progress)` "
            "as `detector/queue/jobs.py` calls it, each scenario in a fresh child process so that its peak "
            "resident memory (whole process, Python included) is its own. Times are medians; the "
            "first analysis in a process loads the models, later ones find them loaded."
        ),
        "",
    ]


def _targets(r: dict, d: dict) -> list[str]:
    plan = r["plan"]

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "**not met**")

    speed = d.get("speedup")
    peak = d.get("worst_peak")
    multiple = d.get("floor_multiple")
    fps = d.get("tracking_fps")
    return [
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
        (
            f"| worker peak RSS ≤ 3 GB with {plan['lead_arch']}, any clip length | "
            f"{_fmt(peak, 0, ' MB')} (worst of the headline and long clip) | "
            f"{verdict(None if peak is None else peak <= TARGETS['peak_rss_mb'])} |"
        ),
        f"| whole analysis ≥ 3× faster than naive (goal 5×) | {_fmt(speed, 2, '×')} | "
        f"{verdict(None if speed is None else speed >= TARGETS['speedup'])}"
        + (" (goal 5× met)" if speed and speed >= TARGETS["speedup_goal"] else "")
        + " |",
        (
            f"| classifier ≤ 3× the FLOP floor per face (CPU) | {_fmt(multiple, 1, '×')} in the "
            f"analysis, {_fmt(d.get('best_floor_multiple'), 1, '×')} at batch {d.get('best_batch')} | "
            f"{verdict(None if multiple is None else multiple <= TARGETS['floor_multiple'])} |"
        ),
        (
            f"| face tracking + landmarks ≥ 60 frames/s at 720p | {_fmt(fps, 1)} frames/s "
            f"(decode included) | {verdict(None if fps is None else fps >= TARGETS['tracking_fps'])} |"
        ),
        "| blink scan ≥ 15 fps | every analysis scans at 15 fps (`scan_fps`) | met |",
        "",
    ]


def _run_row(clip: str, number: int, run: dict) -> str:
    kind = "cold" if number == 1 else "warm"
    if "error" in run:
        stages = ", ".join(f"{k} {v:.2f}" for k, v in run["stage_labels_s"].items())
        return (
            f"| {clip} | | {kind} | **failed** in {run['failed_in']!r} after "
            f"{run['wall_s']:.1f} s: {_code(run['error'])} | {stages} | | | "
            f"{run['peak_rss_mb_so_far']} MB |"
        )
    stages = ", ".join(
        f"{k} {v:.2f}"
        for k, v in run["timings_s"].items()
        if v >= 0.005 or k == "load_models"  # shown even at 0: the load-once evidence
    )
    return (
        f"| {clip} | {'+'.join(run['classifiers']) or 'none'} | {kind} | "
        f"{run['wall_s']:.1f} s | {stages} | {run['faces']} | {run['scored_crops']} | "
        f"{run['peak_rss_mb_so_far']} MB |"
    )


def _clip(key: str, result: dict) -> str:
    done = [run for run in result.get("runs", []) if "error" not in run]
    if not done:
        return key
    run = done[0]
    length = f"{run['duration_s']} s, " if run["duration_s"] is not None else ""  # an image
    return f"{key}: {length}{run['width']}×{run['height']}"


def _analysis_rows(r: dict) -> list[str]:
    lines = [
        "## Whole analyses",
        "",
        (
            "| clip | models | run | wall | s per stage (`timings_s`; progress labels if it "
            "failed) | faces | crops scored | peak RSS so far |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, result in [*r["analyses"].items(), *r["files"].items()]:
        if "runs" not in result:
            lines.append(f"| {key} | | | failed: {result.get('error', '?')} | | | | |")
            continue
        for number, run in enumerate(result["runs"], start=1):
            clip = _clip(key, result) if number == 1 else ""
            lines.append(_run_row(clip, number, run))
    return [*lines, "", *_load_once(r), ""]


def _load_once(r: dict) -> list[str]:
    head = r["analyses"].get("headline", {})
    runs = [run for run in head.get("runs", []) if "error" not in run]
    if len(runs) < 2:
        return []
    cold, warm = (
        runs[0]["timings_s"]["load_models"],
        runs[1]["timings_s"]["load_models"],
    )
    return [
        (
            f"Load once: the first analysis in the process spent {cold:.1f} s in `load_models` "
            f"(TensorFlow import included), the second {warm:.3f} s: a worker loads its models "
            "once and keeps them for every later job."
        )
    ]


def _comparison(r: dict, d: dict) -> list[str]:
    n, head = r.get("naive"), r["analyses"].get("headline", {})
    if n is None:  # not part of this run (--headline)
        return []
    if "total_s" not in n or not _warm(head):
        return ["## Naive reference", "", f"failed: {n.get('error')}", ""]
    return [
        "## Against the naive reference (same clip, same run)",
        "",
        (
            f"The naive reference runs dlib's HOG detector (upsample {n['upsample']}) at full "
            "resolution plus 68 landmarks on every one of the clip's "
            f"{n['frames']} frames, then classifies the faces of {r['plan']['naive_frames']} evenly "
            f"spaced frames one image per call with {n['arch']} at {n['input_size']} px "
            f"({n['classified_crops']} calls). Its model build ({n['model_build_s']} s) is left out, "
            "as the warm analysis's load is. See benchmarks/naive.py for the choices that favour it."
        ),
        "",
        "| | naive | ml.analyze (warm median) | ratio |",
        "|---|---|---|---|",
        (
            f"| faces: detection + landmarks | {n['detect_landmarks_s']:.1f} s "
            f"({n['detect_landmarks_fps']:.1f} frames/s) | {_warm_median(head, 'faces'):.1f} s | "
            f"{_fmt(d.get('faces_speedup'), 1, '×')} |"
        ),
        (
            f"| classification | {n['classify_s']:.1f} s ({n['s_per_face']:.2f} s/face) | "
            f"{_fmt(d['warm_classify'], 1, ' s')} ({d['crops']} crops) | "
            f"{_fmt(n['classify_s'] / d['warm_classify'] if d['warm_classify'] else None, 1, '×')} |"
        ),
        (
            f"| whole | {n['total_s']:.1f} s | {d['warm_wall']:.1f} s | "
            f"{_fmt(d.get('speedup'), 2, '×')} (cold, with model load: "
            f"{_fmt(d.get('speedup_cold'), 2, '×')}) |"
        ),
        "",
    ]


def _classifier(r: dict, d: dict) -> list[str]:
    t, f = r.get("throughput", {}), r.get("floor", {})
    lines = ["## Classifier", ""]
    if "rows" in t:
        lines += [
            (
                f"{t['arch']} at {t['input_size']} px through `FrameClassifier.predict` "
                f"({t.get('runtime', 'keras')}; load "
                f"{t['load_s']} s), median of {r['plan']['throughput_repeats']}:"
            ),
            "",
            "| batch | faces/s | s/face | peak RSS |",
            "|---|---|---|---|",
            *(
                f"| {row['batch']} | {row['faces_per_s']:.2f} | {row['s_per_face']:.3f} | "
                f"{row['peak_rss_mb_so_far']} MB |"
                for row in t["rows"]
            ),
            "",
        ]
    if "sgemm_gflops" in f:
        floor_32 = d["floor_s_per_face"] * max(d["crops"], 1)
        lines += [
            (
                f"FLOP floor: {f['gflop_per_face']:.2f} GFLOP per face ({f['flops_source']}) over "
                f"this machine's SGEMM rate, {f['sgemm_gflops']:.1f} GFLOP/s (numpy float32 "
                f"{f['sgemm_n']}² matmul, all cores), is {d['floor_s_per_face']:.3g} s per face, "
                f"{floor_32:.1f} s for the {d['crops']} crops of the headline clip. The analysis's "
                f"classify stage took {_fmt(d['warm_classify'], 1, ' s')}: "
                f"{_fmt(d.get('floor_multiple'), 1, '×')} the floor (resizing and preprocessing "
                "included)."
            ),
            "",
        ]
        if d.get("best_floor_multiple", 1.0) < 1.0:
            lines += [
                (
                    "A multiple below 1 means the SGEMM rate was taken at a busier moment than "
                    "that batch: on a shared machine the floor drifts with the load, so read "
                    "these multiples as ±2× and the differences between batch sizes as noise."
                ),
                "",
            ]
    return lines


def _tracking(r: dict) -> list[str]:
    t = r.get("tracking", {})
    if "frames" not in t:
        return []
    lines = [
        "## Face tracking",
        "",
        (
            f"The headline clip's {t['frames']} frames scanned at 15 fps: decoding alone "
            f"{t['decode_fps']} frames/s; decoding plus the pipeline's tracking (dlib HOG every "
            f"{t.get('detect_every', 5)} frames at ≤ 640 px with one upsampling, 68 landmarks on every "
            f"frame, {t['tracks']} tracks) {t['decode_and_track_fps']} frames/s; tracking alone "
            f"{t['track_only_fps']} frames/s."
        ),
    ]
    what_if = t.get("what_if")
    if what_if:
        lines.append(
            f"With detection every {what_if['detect_every']} frames instead (not what ml/ "
            f"does; {what_if['tracks']} tracks): {what_if['decode_and_track_fps']} frames/s."
        )
    return [*lines, ""]


HEATMAP_LABEL = "Drawing heatmaps"  # ml.pipeline's progress label of the heatmaps stage


def _heatmap_memory(r: dict) -> list[str]:
    """The headline analysis's peak RSS before its heatmaps stage and at its end."""
    runs = r["analyses"].get("headline", {}).get("runs", [])
    if not runs or HEATMAP_LABEL not in runs[0].get("peak_rss_mb_before_label", {}):
        return []
    first = runs[0]
    return [
        (
            f"In the headline analysis (first run of the process), the peak RSS was "
            f"{first['peak_rss_mb_before_label'][HEATMAP_LABEL]} MB when the heatmaps stage began "
            f"(models loaded, faces tracked and scored) and {first['peak_rss_mb_so_far']} MB "
            f"at its end; the stage took {first['timings_s'].get('heatmaps', 0.0):.1f} s."
        ),
        "",
    ]


def _heatmaps(r: dict) -> list[str]:
    cost = r.get("heatmaps")
    if not cost:
        return []
    lines = ["## Grad-CAM heatmaps of the lead model", ""]
    if "first_s" in cost:
        lines.append(
            f"`FrameClassifier.heatmap` (ml/models/heatmap.py) on {cost['faces']} scored crops in a "
            f"fresh process: {cost['first_s']:.2f} s for the first face (the head's first "
            "gradient included; the compiled pass is the one that scored), "
            f"{cost['later_s_per_face']:.2f} s per later face; peak RSS "
            f"{cost['peak_rss_mb_before']} MB after scoring, {cost['peak_rss_mb']} MB after "
            "the heatmaps."
        )
    else:
        lines.append(f"Failed: {_code(cost.get('error', '?'), 200)}")
    return [*lines, "", *_heatmap_memory(r)]


def _gpu() -> list[str]:
    return [
        "## GPU",
        "",
        (
            "Not measured by this run. `benchmarks/run --gpu` on a machine with an NVIDIA GPU "
            "measures EfficientNet-B7 at 380 px, batch 64, built under the mixed_float16 and "
            "mixed_bfloat16 policies, and through the worker's own path (a saved model loaded "
            "by `FrameClassifier.load`); the target is at least 1000 faces/s on an H100. A "
            "model saved in float32, as every model trained on a CPU is, keeps float32 "
            "compute when loaded after the worker switches on mixed_float16, so the worker's "
            "path can fall short of the half-precision numbers."
        ),
        "",
    ]


def kept_sections(page: str) -> str:
    """Everything of an existing page from its first `KEPT_FROM` mark onward ("" if none)."""
    starts = [page.find(mark) for mark in KEPT_FROM if mark in page]
    return page[min(starts) :] if starts else ""


def render(r: dict, existing: str = "") -> str:
    """The page for one run; the hand-written sections of `existing` follow unchanged."""
    d = derived(r)
    sections = [
        _header(r),
        _targets(r, d),
        _analysis_rows(r),
        _comparison(r, d),
        _classifier(r, d),
        export_lines(r),
        cold_cli_lines(r),
        _heatmaps(r),
        _tracking(r),
        _gpu(),
    ]
    page = "\n".join(line for section in sections for line in section)
    kept = kept_sections(existing)
    return f"{page}\n{kept}" if kept else page
