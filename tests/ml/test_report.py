"""The Report contract: lossless JSON round trip, and real reports match docs/report.schema.json."""

import json
from dataclasses import asdict
from pathlib import Path

import jsonschema
import pytest

from ml.pipeline import analyze
from ml.verdict.report import BlinkResult, ClassifierInfo, FaceResult, FragmentSpan, Report
from tests.support import mediagen
from tests.support.networks import save_spec

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "report.schema.json").read_text())


def validate(report: Report) -> dict:
    # Through JSON text, as the platform stores it: NaN or numpy values would fail here.
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    if data["evidence"]:  # a report the pipeline made: one coded item per reason
        assert [item["text"] for item in data["evidence"]] == data["reasons"]
    return data


def full_report() -> Report:
    info = ClassifierInfo(
        name="effb7",
        version="2",
        sha256="a" * 64,
        arch="efficientnet_b7",
        input_size=380,
    )
    return Report(
        media_type="video",
        verdict="fake",
        fake_probability=0.91,
        reasons=["classifier: 0.91 fake on 28 of 32 frames of face 1 (threshold 0.50)"],
        duration_s=10.0,
        fps=25.0,
        width=640,
        height=360,
        frames_sampled=32,
        frames_decoded=250,
        faces=[
            FaceResult(
                track_id=1,
                frames=150,
                score=0.91,
                thumbnail="/9j/",
                frame_scores=[0.9, 0.92],
                box=[1, 2, 3, 4],
                heatmap="/9j/",
                fragments=[
                    FragmentSpan(0, 99, 0.0, 3.96, 100),
                    FragmentSpan(125, 174, 5.0, 6.96, 50),
                ],
                quality={
                    "face_px": 120.0,
                    "sharpness": 48.2,
                    "frontalness": 0.93,
                    "detection_score": 1.1,
                    "frames": 150,
                    "seen_s": 6.0,
                },
                blink=BlinkResult(status="ok", count=2, message="2 blinks"),
                approximate_framing=[99],
            ),
            FaceResult(
                track_id=2,
                frames=20,
                score=None,
                judged=False,
                not_judged_reason="too blurred (sharpness 7.0; at least 15 is needed)",
            ),
        ],
        frame_scores=[[0.1, 0.9], [0.4, 0.92]],
        blink=BlinkResult(
            status="abnormal",
            count=1,
            rate_per_minute=2.1,
            timestamps_s=[3.0],
            ear_series=[[0.0, 0.3]],
            usable_frames=150,
            threshold=0.2,
            baseline_ear=0.3,
            message="few blinks",
        ),
        classifier=info,
        classifiers=[info],
        timings_s={"faces": 1.5},
        warnings=["face 2: few blinks"],
        options={"frames": 32, "scan_fps": 15.0, "models": []},
        version="0.1.0+gabc",
    )


def test_round_trip_through_json_is_lossless():
    report = full_report()
    again = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report
    assert isinstance(again.faces[0], FaceResult) and isinstance(again.blink, BlinkResult)
    assert isinstance(again.faces[0].fragments[1], FragmentSpan)
    assert isinstance(again.faces[0].blink, BlinkResult)


def test_reports_stored_before_people_still_load():
    data = full_report().to_dict()
    for face in data["faces"]:
        for key in ("fragments", "quality", "judged", "not_judged_reason", "blink"):
            del face[key]
    again = Report.from_dict(data)
    assert again.faces[0].judged and again.faces[0].fragments == []
    assert again.faces[0].blink is None


def test_crafted_report_matches_the_schema_and_a_broken_one_does_not():
    data = validate(full_report())
    data["verdict"] = "probably fake"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
    data = validate(full_report())
    data["faces"][0]["fragments"][0]["frames"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_real_image_reports_match_the_schema(tmp_path):
    image = mediagen.write_image(tmp_path / "a.jpg")
    validate(analyze(image))
    spec = asdict(save_spec(tmp_path, "tiny"))
    data = validate(analyze(image, {"models": [spec]}))
    assert data["classifier"]["sha256"] == spec["sha256"]


def test_real_video_report_matches_the_schema(tmp_path):
    video = mediagen.write_face_video(tmp_path / "v.mp4", seconds=2.0, fps=15)
    spec = asdict(save_spec(tmp_path, "tiny"))
    data = validate(analyze(video, {"frames": 4, "models": [spec]}))
    assert len(data["frame_scores"]) == 4 and data["blink"]["status"] == "insufficient_evidence"
