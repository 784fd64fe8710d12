"""Blinks from eye landmarks: the eye aspect ratio (EAR) over time, blink events, the rate.

EAR (Soukupova & Cech, CVWW 2016) = (|p2-p6| + |p3-p5|) / (2 |p1-p4|) over the six landmarks
of one eye; it sits near 0.25-0.35 for an open eye and drops toward 0 as the eye closes. Since
the open level differs between people (and with face size and pose), a blink is a dip below a
fraction of each person's own open-eye baseline rather than below one fixed number.

Only frames where the face looks at the camera count (ml/faces/pose.py): a head pitched down to
read lowers the lids with the gaze and reads "closed" while the eyes are open. A closure that
touches such a frame, a gap in the landmarks or the end of what was seen is unmeasured, not a
blink and not a long closure. Blink evidence is weak: only "no blink at all over a long
stretch" may hold a verdict back (policy.BLINK_HOLDS_BACK_REAL). Every threshold lives in
ml/verdict/policy.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ml.faces.detect import LEFT_EYE, RIGHT_EYE
from ml.verdict import policy
from ml.verdict.evidence import Evidence
from ml.verdict.report import BlinkResult


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """EAR of one eye from its six landmarks p1..p6 (corner, top, top, corner, bottom, bottom)."""
    p = np.asarray(eye, dtype=np.float64)
    width = np.linalg.norm(p[0] - p[3])
    if width < 1e-6:
        return float("nan")
    return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2.0 * width))


def ear_from_landmarks(landmarks: np.ndarray) -> float:
    """Mean EAR of both eyes from 68 face landmarks (NaN when either eye is degenerate)."""
    return (eye_aspect_ratio(landmarks[LEFT_EYE]) + eye_aspect_ratio(landmarks[RIGHT_EYE])) / 2.0


CODES = {
    "blink.still_image": "a still image carries no blink signal",
    "blink.no_face": "no face to measure blinking on",
    "blink.eyes_not_visible": "the eyes were never visible clearly enough to measure",
    "blink.measured_too_seldom": "the eyes were measured too seldom a second to see blinks",
    "blink.eyes_never_open": "the eyes never appeared open",
    "blink.too_short": "the eyes were measurable for too short a time to judge a rate",
    "blink.too_few_frames": "too few usable frames to measure blinking",
    "blink.none_in_short_clip": "no blink, in a clip too short for that to mean anything",
    "blink.absent": "no blink at all over a long stretch of open eyes facing the camera (strong)",
    "blink.counted": "blinks counted over too short a stretch to judge the rate",
    "blink.rate_far_below": "far fewer blinks than people make (weak)",
    "blink.rate_low": "fewer blinks than people make while talking (weak)",
    "blink.rate_high": "more blinks than people make while talking (weak)",
    "blink.long_closure": "the eyes stayed shut longer than a blink (weak)",
    "blink.rate_normal": "a blink rate within the range of people talking",
    "blink.rate_outside_range": "a rate outside the range of people talking (weak)",
    "blink.rate_in_range": "a rate within the range of people talking",
}
# Findings that depart from how people blink, strong or weak: what `calibrate` measures the
# blink signal by. Only `policy.BLINK_HOLDS_BACK_REAL` among them may move a verdict.
ABNORMAL = frozenset(
    {
        "blink.absent",
        "blink.rate_far_below",
        "blink.rate_low",
        "blink.rate_high",
        "blink.long_closure",
        "blink.rate_outside_range",
    }
)
NORMAL = frozenset({"blink.rate_normal", "blink.rate_in_range"})


def not_applicable() -> BlinkResult:
    return BlinkResult(
        status="not_applicable",
        message="A still image carries no blink information.",
        code="blink.still_image",
    )


@dataclass
class _Closure:
    start_s: float  # first sample below the closed threshold
    end_s: float  # last sample below it
    duration_s: float
    measured: bool = True  # False: it touches a gap, a turned head or the end of what was seen

    @property
    def middle_s(self) -> float:
        return (self.start_s + self.end_s) / 2.0


def detect_blinks(
    times_s: Sequence[float], ears: Sequence[float], facing: Sequence[bool] | None = None
) -> BlinkResult:
    """Find blinks in one person's EAR series and judge the rate against human norms.

    ears may hold NaN where a frame had no usable landmarks; those frames are skipped, so they
    can neither create nor split a blink (gaps longer than policy.BLINK_MAX_GAP_S end one).
    facing (default: all True) is False where the face was pitched down or turned away: those
    frames are unmeasured, and a closure near one is no blink.
    """
    times, values = (
        np.asarray(times_s, dtype=np.float64),
        np.asarray(ears, dtype=np.float64),
    )
    toward = np.ones(len(times), bool) if facing is None else np.asarray(facing, dtype=bool)
    if not times.shape == values.shape == toward.shape:
        raise ValueError("times_s, ears and facing must have the same length")
    seen = np.isfinite(times) & np.isfinite(values)
    usable = seen & toward
    turned_t = np.sort(times[seen & ~toward])
    order = np.argsort(times[usable], kind="stable")
    t, ear = times[usable][order], values[usable][order]
    if len(t) < 2:
        return _insufficient(
            t,
            ear,
            "blink.eyes_not_visible",
            "The eyes were never visible clearly enough to measure blinking.",
        )
    period = float(np.median(np.diff(t)))
    fps = 1.0 / period if period > 0 else 0.0
    observed_s = _observed_seconds(t, period)
    if fps < policy.BLINK_MIN_FPS:
        return _insufficient(
            t,
            ear,
            "blink.measured_too_seldom",
            f"The eyes were measured only {fps:.0f} times a second, too seldom to see blinks, "
            "which last about a tenth of a second.",
        )
    too_short = len(t) < policy.BLINK_MIN_USABLE_FRAMES or observed_s < policy.BLINK_MIN_OBSERVED_S
    if fps >= policy.BLINK_SMOOTH_MIN_FPS:
        ear = _smooth(ear)
    baseline = float(np.percentile(ear, policy.BLINK_BASELINE_PERCENTILE))
    if baseline < policy.BLINK_MIN_OPEN_EAR:
        # Eyes that never look open are not "a person who does not blink": the eyes may be shut
        # throughout, hidden (sunglasses, hair, downward gaze) or too small for the landmarks.
        # We cannot tell these apart, so this is missing evidence, not evidence of a fake.
        return _insufficient(
            t,
            ear,
            "blink.eyes_never_open",
            "The eyes never appeared open (eye aspect ratio stayed below "
            f"{policy.BLINK_MIN_OPEN_EAR:.2f}), so blinking could not be measured: they may be "
            "closed throughout, hidden, or too small in the frame.",
            baseline=baseline,
        )
    threshold = baseline * policy.BLINK_CLOSED_RATIO
    closures = _closures(t, ear, threshold, baseline * policy.BLINK_REOPEN_RATIO, period)
    closures = [_unless_turned(c, turned_t) for c in closures]
    measured_closures = [c for c in closures if c.measured]
    blinks = [
        c
        for c in measured_closures
        if policy.BLINK_MIN_DURATION_S <= c.duration_s <= policy.BLINK_MAX_DURATION_S
    ]
    long_closures = [c for c in measured_closures if c.duration_s > policy.BLINK_MAX_DURATION_S]
    measured = {
        "count": len(blinks),
        "mean_duration_ms": round(1000.0 * float(np.mean([b.duration_s for b in blinks])), 1)
        if blinks
        else None,
        "timestamps_s": [round(float(b.middle_s), 3) for b in blinks],
        "ear_series": _downsample(t, ear),
        "usable_frames": len(t),
        "threshold": round(threshold, 4),
        "baseline_ear": round(baseline, 4),
    }
    if too_short:
        # The blinks seen are still shown (a reader sees them in the EAR curve), but a rate
        # over a few seconds means nothing, so there is no judgement.
        return BlinkResult(
            status="insufficient_evidence",
            message=f"The eyes were measurable for only {observed_s:.1f} s ({len(t)} frames); "
            f"at least {policy.BLINK_MIN_OBSERVED_S:.0f} s are needed to judge blinking.",
            code="blink.too_short",
            **measured,
        )
    rate = len(blinks) / (observed_s / 60.0)
    open_s = observed_s - sum(c.duration_s for c in closures)
    status, code, message = _judge(len(blinks), rate, observed_s, open_s, long_closures)
    message += _unmeasured(len(turned_t) * period)
    return BlinkResult(
        status=status,
        rate_per_minute=round(rate, 2),
        message=message,
        code=code,
        long_closures=[[round(c.start_s, 2), round(c.duration_s, 2)] for c in long_closures],
        **measured,
    )


def _judge(
    count: int, rate: float, observed_s: float, open_s: float, long_closures: list[_Closure]
) -> tuple[str, str, str]:
    """(status, code, message). Only "blink.absent" is strong evidence; the other findings are
    shown but weak (policy.BLINK_HOLDS_BACK_REAL)."""
    seen = f"{count} blink{'s' if count != 1 else ''} in {observed_s:.0f} s ({rate:.1f} per minute)"
    norms = (
        f"people talking blink {policy.HUMAN_BLINK_RATE_TALKING_MIN:g}-"
        f"{policy.HUMAN_BLINK_RATE_TALKING_MAX:g} times a minute, about "
        f"{policy.HUMAN_BLINK_RATE_REST:.0f} at rest and {policy.HUMAN_BLINK_RATE_READING} "
        "while reading"
    )
    closed = _long_closures(long_closures)
    if count == 0 and open_s >= policy.BLINK_ABSENT_MIN_S:
        return (
            "abnormal",
            "blink.absent",
            (
                f"No blink at all in {open_s:.0f} s of open eyes facing the camera: far below human "
                f"norms ({norms}). Missing blinks are a known sign of some face-swap videos, though "
                f"a person staring at a screen can go this long.{closed}"
            ),
        )
    if count == 0:
        # Zero blinks over a short stretch happens by chance, so it says nothing either way.
        return (
            "insufficient_evidence",
            "blink.none_in_short_clip",
            (
                f"No blinks in {observed_s:.0f} s. This is too short to judge: {norms}, so a short "
                f"stretch without a blink is common.{closed}"
            ),
        )
    if observed_s < policy.BLINK_MIN_SPAN_FOR_RATE_S:
        code = "blink.counted"
        text = (
            f"{seen.capitalize()}; at least {policy.BLINK_MIN_SPAN_FOR_RATE_S:.0f} s are needed "
            "to compare the rate with human norms."
        )
    elif rate < policy.BLINK_LOW_RATE_PER_MIN:
        return (
            "abnormal",
            "blink.rate_far_below",
            (
                f"{seen.capitalize()}: far below human norms ({norms}). Weak evidence: a few people "
                f"blink this rarely.{closed}"
            ),
        )
    elif rate > policy.HUMAN_BLINK_RATE_TALKING_MAX:
        return (
            "abnormal",
            "blink.rate_high",
            (
                f"{seen.capitalize()}: more than people usually make ({norms}). Weak evidence: "
                f"some people blink this often, more so under bright light or stress.{closed}"
            ),
        )
    elif rate < policy.HUMAN_BLINK_RATE_TALKING_MIN:
        code = "blink.rate_low"
        text = f"{seen.capitalize()}: fewer than people usually make while talking ({norms})."
    else:
        code, text = "blink.rate_normal", f"{seen.capitalize()}; {norms}."
    if long_closures:
        return (
            "abnormal",
            "blink.long_closure",
            (f"{text}{closed} Weak evidence: tired or thoughtful people close their eyes too."),
        )
    return "ok", code, text


def _long_closures(long_closures: list[_Closure]) -> str:
    if not long_closures:
        return ""
    if len(long_closures) == 1:
        (closure,) = long_closures
        where = f"{closure.duration_s:.1f} s at {closure.start_s:.1f} s"
        return f" The eyes also stayed shut longer than a blink ({where})."
    # Several: the result page lists each (start, length) from the report's long_closures.
    longest = max(c.duration_s for c in long_closures)
    return (
        f" The eyes also stayed shut longer than a blink {len(long_closures)} times "
        f"(the longest {longest:.1f} s)."
    )


def _unmeasured(seconds: float) -> str:
    if seconds < policy.BLINK_MIN_DURATION_S:
        return ""
    return (
        f" Not measured: {seconds:.1f} s with the head pitched down or turned away, where "
        "open eyes can look closed."
    )


def _insufficient(
    t: np.ndarray, ear: np.ndarray, code: str, message: str, baseline: float | None = None
) -> BlinkResult:
    return BlinkResult(
        status="insufficient_evidence",
        code=code,
        ear_series=_downsample(t, ear),
        usable_frames=len(t),
        baseline_ear=None if baseline is None else round(baseline, 4),
        message=message,
    )


def evidence(media_type: str, person_blinks: dict[int, BlinkResult]) -> list[Evidence]:
    """What each person's blinks say, as evidence; the sentences name the person."""
    if media_type == "image":
        return [Evidence("blink.still_image", "a still image carries no blink signal")]
    return [
        found
        for subject, blink in sorted(person_blinks.items())
        for found in blink_evidence(blink, subject)
    ]


def blink_evidence(blink: BlinkResult | None, subject: int | None = None) -> list[Evidence]:
    """What one blink measurement says (nothing when blinks were not measured)."""
    if blink is None or blink.status == "not_applicable":
        return []
    values = {"status": blink.status, "count": blink.count, "rate": blink.rate_per_minute}
    if blink.message:
        code, text = blink.code or _status_code(blink), blink.message
    elif blink.rate_per_minute is None:
        code, text = "blink.too_few_frames", "too few usable frames to measure blinking"
    else:
        where = "outside" if blink.status == "abnormal" else "within"
        usual = (
            f"{policy.HUMAN_BLINK_RATE_TALKING_MIN:g}-{policy.HUMAN_BLINK_RATE_TALKING_MAX:g}/min"
        )
        code = blink.code or _status_code(blink)
        text = (
            f"{blink.rate_per_minute:.1f} blinks/min, {where} the range of people talking, {usual}"
        )
    found = Evidence(code, text, subject, values)
    return [found.prefixed(f"Face {subject}: ") if subject is not None else found]


def _status_code(blink: BlinkResult) -> str:
    """The code of a measurement made without one (reports from before codes, hand-made ones)."""
    return {"abnormal": "blink.rate_outside_range", "ok": "blink.rate_in_range"}.get(
        blink.status, "blink.too_few_frames"
    )


def _closures(
    t: np.ndarray, ear: np.ndarray, closed: float, reopen: float, period: float
) -> list[_Closure]:
    """Stretches where the eye is shut: they start below `closed` and last until the EAR is back
    above `reopen` (hysteresis). Only a closure seen to start and to end on open eyes is
    measured: one cut by a gap longer than policy.BLINK_MAX_GAP_S, or by the start or end of
    the series, may be a cut or a turned head rather than shut eyes."""
    found: list[_Closure] = []
    start = last = None
    clean_start = False
    previous_t = None
    for time, value in zip(t, ear, strict=True):
        gap = previous_t is not None and time - previous_t > policy.BLINK_MAX_GAP_S
        if start is not None and gap:
            found.append(_Closure(start, last, last - start + period, measured=False))
            start = None
        if value < closed:
            if start is None:
                start, clean_start = time, previous_t is not None and not gap
            last = time
        elif value >= reopen and start is not None:
            found.append(_Closure(start, last, last - start + period, measured=clean_start))
            start = None
        previous_t = time
    if start is not None:
        found.append(_Closure(start, last, last - start + period, measured=False))
    return found


def _unless_turned(closure: _Closure, turned_t: np.ndarray) -> _Closure:
    """The closure, unmeasured if the head was pitched down or turned away during it or within
    policy.BLINK_MAX_GAP_S of it (the eyes drop as the head goes down)."""
    margin = policy.BLINK_MAX_GAP_S
    low, high = np.searchsorted(turned_t, [closure.start_s - margin, closure.end_s + margin])
    if high > low:
        closure.measured = False
    return closure


def _observed_seconds(t: np.ndarray, period: float) -> float:
    """Time covered by usable frames; gaps longer than the gap limit do not count."""
    steps = np.diff(t)
    return float(steps[steps <= policy.BLINK_MAX_GAP_S].sum() + period)


def _smooth(ear: np.ndarray) -> np.ndarray:
    padded = np.concatenate([ear[:1], ear, ear[-1:]])
    return (padded[:-2] + 2.0 * padded[1:-1] + padded[2:]) / 4.0


def _downsample(t: np.ndarray, ear: np.ndarray) -> list[list[float]]:
    """At most BLINK_SERIES_MAX_POINTS [t, ear] pairs; each bin keeps its lowest point so the
    blinks stay visible in a chart."""
    if len(t) == 0:
        return []
    bins = np.array_split(np.arange(len(t)), min(len(t), policy.BLINK_SERIES_MAX_POINTS))
    picks = [b[np.argmin(ear[b])] for b in bins if len(b)]
    return [[round(float(t[i]), 3), round(float(ear[i]), 4)] for i in picks]
