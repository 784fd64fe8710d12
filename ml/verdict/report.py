"""The Report: what one analysis found, as dataclasses that serialise to JSON.

The platform stores `Report.to_dict()`; every page, the API and the CLI render that dict.
The schema is documented in docs/report.md: change both together and bump SCHEMA_VERSION.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

SCHEMA_VERSION = 1

VERDICTS = ("real", "fake", "inconclusive")
BLINK_STATUSES = ("ok", "abnormal", "insufficient_evidence", "not_applicable")
C2PA_STATES = ("absent", "valid", "trusted", "invalid", "unverifiable")
AI_GENERATION = ("declared", "declared-composite", "hinted", "none")


@dataclass
class BlinkResult:
    status: str  # one of BLINK_STATUSES
    count: int = 0
    rate_per_minute: float | None = None
    mean_duration_ms: float | None = None
    timestamps_s: list[float] = field(default_factory=list)
    ear_series: list[list[float]] = field(default_factory=list)  # [[t_s, ear], ...] down-sampled
    usable_frames: int = 0
    threshold: float | None = None  # the EAR threshold used (relative to the open-eye baseline)
    baseline_ear: float | None = None
    message: str = ""
    code: str = ""  # the reason code of `message` (ml/signals/blink.py CODES)
    long_closures: list[list[float]] = field(default_factory=list)  # [[start_s, duration_s], ...]


@dataclass
class FragmentSpan:
    """One stretch in which the tracker followed a face without a break."""

    first_frame: int  # decoded frame indices of the first and last sighting
    last_frame: int
    start_s: float
    end_s: float
    frames: int  # scanned frames in which the face was seen
    box: list[int] | None = None  # [x, y, w, h] where this fragment begins


@dataclass
class FaceResult:
    """One person: every fragment in which their face was tracked, merged by identity."""

    track_id: int  # the person's number, 1, 2... in order of appearance
    frames: int  # frames in which this face was seen
    score: float | None  # track fake probability; None when no classifier ran
    thumbnail: str | None = None  # base64 JPEG data (no data: prefix), small crop
    frame_scores: list[float] = field(default_factory=list)
    box: list[int] | None = None  # [x, y, w, h] in the first frame it was seen
    heatmap: str | None = None  # base64 JPEG: Grad-CAM over the face's most suspicious crop
    heatmap_frame: int | None = None  # the decoded frame of that crop (the thumbnail shows it)
    heatmap_time_s: float | None = None
    fragments: list[FragmentSpan] = field(default_factory=list)
    # face_px, sharpness, frontalness, detection_score, frames, seen_s (medians of sightings)
    quality: dict[str, float] | None = None
    judged: bool = True  # False: seen too poorly to decide the verdict (never scored)
    not_judged_reason: str = ""  # e.g. "too blurred (sharpness 7.0; at least 15 is needed)"
    not_judged_code: str = ""  # its reason code, e.g. "quality.too_blurred"
    blink: BlinkResult | None = None  # this person's blinks over all their fragments
    score_times_s: list[float] = field(default_factory=list)  # the time of each frame_scores entry
    # Decoded frames whose crop was framed approximately: the framing's detector (MTCNN) missed
    # the face there, so its box was estimated from dlib's landmarks (ml/faces/mtcnn_boxes.py).
    approximate_framing: list[int] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaceResult:
        values = dict(data)
        values["fragments"] = [FragmentSpan(**f) for f in data.get("fragments") or []]
        if data.get("blink") is not None:
            values["blink"] = BlinkResult(**data["blink"])
        return cls(**values)


@dataclass
class C2paResult:
    """The file's Content Credentials (C2PA), read offline (ml/signals/provenance.py)."""

    state: str = "absent"  # one of C2PA_STATES
    codes: list[str] = field(default_factory=list)  # failure codes; "ingredient:" for the chain
    reason: str = ""  # why invalid or unverifiable, in words
    signer: str | None = None  # the signing certificate's common name
    issuer: str | None = None  # the organisation the signing certificate names
    claim_generator: str | None = None
    signed_at: str | None = None  # ISO 8601
    digital_source_types: list[str] = field(default_factory=list)  # IPTC terms, whole chain
    actions: list[dict[str, Any]] = field(default_factory=list)
    ingredients: list[dict[str, Any]] = field(default_factory=list)  # a tree: "ingredients"
    library: str = ""  # the reader's version: results change between versions
    trust_list: str = ""  # the trust list's source date
    # The manifest store as the reader gave it (the owner's "raw manifest" link), kept when its
    # JSON is at most provenance.MAX_MANIFEST_BYTES; its size in bytes either way (0: none).
    manifest: dict[str, Any] | None = None
    manifest_bytes: int = 0


@dataclass
class ProvenanceResult:
    """Where the file says it came from: signed credentials, and unsigned hints."""

    c2pa: C2paResult = field(default_factory=C2paResult)
    hints: list[dict[str, Any]] = field(default_factory=list)  # {source, key, value, says}
    ai_generation: str = "none"  # one of AI_GENERATION
    summary: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProvenanceResult:
        return cls(
            c2pa=C2paResult(**(data.get("c2pa") or {})),
            hints=list(data.get("hints") or []),
            ai_generation=data.get("ai_generation") or "none",
            summary=data.get("summary") or "",
        )


@dataclass
class GeneratedFrame:
    """One view a whole-image detector scored: the image, a face-centred square, or a frame."""

    time_s: float
    score: float  # P(generated)
    view: str = "whole"  # "whole", or "face N" for the square around face N


@dataclass
class GeneratedDetector:
    """One whole-image detector's finding (ml/signals/generated.py)."""

    name: str
    version: str
    sha256: str
    score: float  # an image: its highest view; a video: the mean over the frames scored
    threshold: float
    frames: list[GeneratedFrame] = field(default_factory=list)
    label: str = ""  # the name a sentence gives it, e.g. "Community Forensics"
    # base64 JPEG: attention rollout over the view that scored highest (a ViT only)
    heatmap: str | None = None
    heatmap_time_s: float | None = None  # that view's time and name (GeneratedFrame)
    heatmap_view: str | None = None


@dataclass
class GeneratedResult:
    """Whether the whole image (or the video's frames) looks AI-generated."""

    score: float | None = None  # the combined P(generated) the verdict used
    detectors: list[GeneratedDetector] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GeneratedResult:
        detectors = [
            GeneratedDetector(
                **{**d, "frames": [GeneratedFrame(**f) for f in d.get("frames") or []]}
            )
            for d in data.get("detectors") or []
        ]
        return cls(score=data.get("score"), detectors=detectors)


@dataclass
class ClassifierInfo:
    name: str
    version: str
    sha256: str
    arch: str = ""
    input_size: int | None = None
    runtime: str = ""  # what ran the network: "keras" or "litert" (its CPU export)


@dataclass
class Report:
    media_type: str  # "image" | "video"
    verdict: str  # one of VERDICTS
    fake_probability: float | None  # None when no classifier ran
    reasons: list[str] = field(default_factory=list)
    # One item per reason, in the same order: its code, the person, the values (Evidence).
    evidence: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    frames_sampled: int = 0
    frames_decoded: int = 0
    faces: list[FaceResult] = field(default_factory=list)
    frame_scores: list[list[float]] = field(default_factory=list)  # [[t_s, p_fake], ...]
    decisive_face: int | None = None  # track_id of the face that decided the verdict
    blink: BlinkResult | None = None
    classifier: ClassifierInfo | None = None
    classifiers: list[ClassifierInfo] = field(default_factory=list)  # all ensemble members
    provenance: ProvenanceResult | None = None  # None: not read (reports made before it was)
    generated: GeneratedResult | None = None  # None: no whole-image detector was active
    timings_s: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    version: str = ""  # code version that produced the report
    # The policy card the verdict was judged under ("default": the rules of ml/verdict/policy.py).
    policy_version: str = "default"
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["faces"] = [FaceResult.from_dict(f) for f in data.get("faces") or []]
        if data.get("blink") is not None:
            values["blink"] = BlinkResult(**data["blink"])
        if data.get("classifier") is not None:
            values["classifier"] = ClassifierInfo(**data["classifier"])
        values["classifiers"] = [ClassifierInfo(**c) for c in data.get("classifiers") or []]
        if data.get("provenance") is not None:
            values["provenance"] = ProvenanceResult.from_dict(data["provenance"])
        if data.get("generated") is not None:
            values["generated"] = GeneratedResult.from_dict(data["generated"])
        return cls(**values)
