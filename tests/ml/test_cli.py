"""`manage.py analyze`: a readable summary, the Report JSON, and one clear line for bad input."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import cv2
import jsonschema
import pytest
from django.core.management import CommandError, call_command

from detector.models import DetectorModel
from tests.support import mediagen
from tests.support.detector_models import detector_model_create
from tests.support.networks import save_spec, save_temporal_spec

ROOT = Path(__file__).parents[2]
CROPS_SCHEMA = json.loads((ROOT / "docs" / "crops.schema.json").read_text())


def run(*args: str) -> str:
    out = StringIO()
    call_command("analyze", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def image(tmp_path):
    return str(mediagen.write_image(tmp_path / "face.jpg"))


@pytest.mark.django_db
def test_summary_of_a_good_file(image):
    text = run(image)
    assert "Verdict: inconclusive" in text
    assert "Faces: 1" in text and "face 1: seen in 1 frame(s), score n/a" in text
    assert "Classifier: none" in text
    assert "no trained classifier is installed" in text


@pytest.mark.django_db
def test_json_is_the_report(image):
    data = json.loads(run(image, "--json"))
    assert data["media_type"] == "image" and data["verdict"] == "inconclusive"
    assert len(data["faces"]) == 1 and data["schema_version"] == 1


@pytest.mark.django_db
def test_active_models_are_used_and_model_picks_one(tmp_path, image):
    spec = save_spec(tmp_path, "tiny")
    detector_model_create(spec, active=True)
    data = json.loads(run(image, "--json", "--frames", "4"))
    assert data["classifier"]["sha256"] == spec.sha256 and data["fake_probability"] is not None
    assert data["options"]["frames"] == 4
    DetectorModel.objects.update(active=False)
    assert json.loads(run(image, "--json"))["classifier"] is None
    assert "Classifier: tiny 1" in run(image, "--model", "tiny")
    with pytest.raises(CommandError, match="No installed detector model is named 'other'"):
        run(image, "--model", "other")


@pytest.mark.django_db
def test_active_temporal_model_is_used_as_the_worker_uses_it(tmp_path):
    spec = save_temporal_spec(tmp_path, "track", logit=5.0)
    detector_model_create(spec, active=True)
    video = str(mediagen.write_face_video(tmp_path / "clip.avi", seconds=2.0))
    data = json.loads(run(video, "--json", "--frames", "4"))
    assert [c["sha256"] for c in data["classifiers"]] == [spec.sha256]
    assert data["verdict"] == "fake"
    # Named with --model, a temporal model is used as one, not among the frame models.
    data = json.loads(run(video, "--json", "--frames", "4", "--model", "track"))
    assert data["verdict"] == "fake" and data["warnings"] == []


@pytest.mark.django_db
def test_save_crops_writes_one_png_per_scored_crop_listed_in_a_valid_index(tmp_path):
    mtcnn = {"kind": "box", "margin": 1 / 3, "detector": "mtcnn"}
    for spec in (save_spec(tmp_path, "boxed", framing=mtcnn), save_spec(tmp_path, "aligned")):
        detector_model_create(spec, active=True)
    video = str(mediagen.write_face_video(tmp_path / "clip.mp4", seconds=1.0))
    folder = tmp_path / "crops"
    report = json.loads(run(video, "--json", "--frames", "4", "--save-crops", str(folder)))
    index = json.loads((folder / "crops.json").read_text())
    jsonschema.Draft202012Validator(CROPS_SCHEMA).validate(index)
    (face,) = report["faces"]
    assert len(face["frame_scores"]) == 4
    assert sorted(e["model"] for e in index) == ["aligned"] * 4 + ["boxed"] * 4
    assert sorted(p.name for p in folder.glob("*.png")) == sorted(e["file"] for e in index)
    for entry in index:
        assert cv2.imread(str(folder / entry["file"])).shape == (32, 32, 3)
        assert entry["time_s"] in face["score_times_s"] and entry["person"] == 1
        x1, y1, x2, y2 = entry["crop_box"]
        assert 0 <= x1 < x2 <= report["width"] and 0 <= y1 < y2 <= report["height"]
    with pytest.raises(CommandError, match="--save-crops: .* already holds saved crops"):
        run(video, "--save-crops", str(folder))


def test_bad_file_exits_non_zero_with_one_line_and_no_traceback(tmp_path):
    bad = mediagen.write_corrupt_video(tmp_path / "bad.avi")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "deepfake_site.settings_test",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "analyze", str(bad)],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"CommandError: {bad}: The video cannot be decoded")
    assert "Traceback" not in result.stderr


def test_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("analyze", str(tmp_path / "nothing.jpg"))
