"""`manage.py calibrate`: the whole verdict measured on a generated labelled folder; `--apply`
stores a policy card that judges later analyses; without it nothing changes."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from detector.models import Analysis, DetectorModel
from detector.queue.jobs import run_analysis
from tests.support import astronaut, mediagen
from tests.support.detector_models import detector_model_create
from tests.support.networks import WEAK_EVIDENCE, brightness_spec

# Brightness factors of the astronaut: the tiny model scores darker faces real, brighter fake.
REAL_FACTORS = (0.6, 0.7, 0.8)  # scores about 0.01-0.09
FAKE_FACTORS = (1.1, 1.2, 1.3)  # scores about 0.61-0.9


def _face(path: Path, factor: float) -> Path:
    rgb = np.clip(astronaut.astronaut_rgb().astype(float) * factor, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    return mediagen.write_image(path, rgb=rgb)


@pytest.fixture
def labelled(tmp_path) -> Path:
    root = tmp_path / "labelled"
    for factor in REAL_FACTORS:
        _face(root / "real" / f"{factor}.jpg", factor)
    for factor in FAKE_FACTORS:
        _face(root / "fake" / f"{factor}.jpg", factor)
    return root


@pytest.fixture
def weak_model(tmp_path, settings) -> DetectorModel:
    """The only active model: it separates the generated files, but its card's evidence is
    weak, so by default its low scores cannot make a "real"."""
    settings.MODELS_ROOT = tmp_path / "models"
    spec = brightness_spec(tmp_path, centre=0.5, gain=20, reliability=WEAK_EVIDENCE)
    return detector_model_create(spec, active=True)


def _real_upload_judged(user, make_analysis, tmp_path) -> Analysis:
    content = _face(tmp_path / "upload" / "real.jpg", 0.7).read_bytes()
    analysis = make_analysis(user, name="real.jpg", content=content)
    run_analysis(str(analysis.pk))
    analysis.refresh_from_db()
    return analysis


def _report_folder(media_root: Path) -> Path:
    (folder,) = (media_root / "reports").iterdir()
    return folder


@pytest.mark.django_db
def test_calibrate_measures_the_whole_verdict_and_changes_nothing(
    labelled, weak_model, media_root, settings, user, make_analysis, tmp_path
):
    out = StringIO()
    call_command("calibrate", str(labelled), stdout=out)
    folder = _report_folder(media_root)
    assert {p.name for p in folder.iterdir()} == {
        "index.html",
        "calibration.json",
        "reliability.png",
    }
    result = json.loads((folder / "calibration.json").read_text())
    metrics = result["metrics"]
    assert (metrics["items"], metrics["real"], metrics["fake"]) == (6, 3, 3)
    assert metrics["auc"] == {"auc": 1.0, "items": 6}
    # At the default policy the weak model calls the fakes fake and leaves the reals open.
    current = metrics["current"]
    assert current["table"]["real"] == {"real": 0, "fake": 0, "inconclusive": 3}
    assert current["table"]["fake"] == {"real": 0, "fake": 3, "inconclusive": 0}
    assert (current["coverage"], current["accuracy"]) == (0.5, 1.0)
    assert metrics["signals"]["classifier"] == {"auc": 1.0, "items": 6}
    assert metrics["signals"]["blinks"] == {"auc": None, "items": 0}  # still images
    assert sum(b["items"] for b in metrics["reliability"]) == 6
    proposal = result["proposal"]
    assert proposal["confusion"]["coverage"] == 1.0 and proposal["confusion"]["accuracy"] == 1.0
    assert 0.09 <= proposal["real_below"] < proposal["fake_from"] <= 0.61
    assert proposal["provisional"] and result["policy_version"] == "default"
    page = (folder / "index.html").read_text()
    assert "reliability.png" in page and "called inconclusive" in page
    assert "Proposed: real at or below" in out.getvalue()
    # Without --apply: no policy card, and a new analysis is judged as before.
    assert not (settings.MODELS_ROOT / "policies").exists()
    analysis = _real_upload_judged(user, make_analysis, tmp_path)
    assert analysis.verdict == "inconclusive"
    assert analysis.result["evidence"][0]["code"] == "classifier.weak_model_low_score"
    assert analysis.result["policy_version"] == "default"


@pytest.mark.django_db
def test_apply_writes_a_policy_card_that_judges_later_analyses(
    labelled, weak_model, settings, user, other_user, make_analysis, tmp_path, client
):
    call_command("calibrate", str(labelled), "--apply", "--by", "carol", stdout=StringIO())
    card = json.loads((settings.MODELS_ROOT / "policies" / "policy-1.json").read_text())
    assert card["version"] == "1" and card["created_by"] == "carol" and card["created"]
    assert card["data"]["source"].endswith("(folders layout)") and card["data"]["items"] == 6
    assert card["models"] == [{"name": "brightness", "version": "1", "sha256": weak_model.sha256}]
    assert card["metrics"]["after"]["coverage"] == 1.0
    weak_model.refresh_from_db()
    assert weak_model.card["platform_evaluation"]["policy_version"] == "1"

    analysis = _real_upload_judged(user, make_analysis, tmp_path)
    assert analysis.verdict == "real"
    assert analysis.result["policy_version"] == "1"
    assert analysis.result["evidence"][0]["params"]["policy_version"] == "1"

    link = reverse("detector:policy-card", args=[1])
    client.force_login(user)
    assert link in client.get(reverse("detector:analysis-detail", args=[analysis.pk])).text
    assert client.get(link).json()["decision"] == card["decision"]
    client.force_login(other_user)  # judged nothing under it, not staff
    assert client.get(link).status_code == 404


@pytest.mark.django_db
def test_calibrate_reads_a_csv_of_paths_and_labels(labelled, weak_model, media_root, tmp_path):
    rows = ["path,label"] + [
        f"{p.relative_to(labelled)},{p.parent.name}" for p in sorted(labelled.rglob("*.jpg"))
    ]
    (labelled / "labels.csv").write_text("\n".join(rows) + "\n")
    out = StringIO()
    call_command("calibrate", "--csv", str(labelled / "labels.csv"), "--json", stdout=out)
    assert json.loads(out.getvalue())["metrics"]["auc"]["auc"] == 1.0
