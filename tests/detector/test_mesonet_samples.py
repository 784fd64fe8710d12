"""The MesoNet authors' own labelled sample faces, through `manage.py analyze` with the published
meso4-df installed: tight 256 px crops whose face squares reach past the picture's edge."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from ml.faces.framing import Framing
from tests.support.mesonet import mesonet_folder

pytestmark = pytest.mark.django_db


@pytest.fixture
def installed(settings, tmp_path) -> Path:
    settings.MODELS_ROOT = tmp_path / "models"
    settings.MODELS_MIRROR = ""
    folder = mesonet_folder()
    call_command(
        "install_model", "meso4-df", "--mirror", str(folder), "--activate", stdout=StringIO()
    )
    return folder


def _analyze(path: Path) -> dict:
    out = StringIO()
    call_command("analyze", str(path), "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_authors_samples_are_judged_right_through_the_cli(installed):
    samples = sorted((installed / "samples").glob("*.jpg"))
    assert [p.name[:2] for p in samples] == ["df", "df", "re", "re"]
    for path in samples:
        report = _analyze(path)
        face = report["faces"][0]
        assert len(report["faces"]) == 1 and face["judged"], (path.name, face)
        assert report["classifier"]["name"] == "meso4-df"
        score = report["fake_probability"]
        assert score == face["score"]
        if path.name.startswith("df"):
            assert score > 0.5, (path.name, score)
        else:
            assert score < 0.5, (path.name, score)


def test_the_installed_card_asks_for_the_authors_cut(installed):
    from detector.models import DetectorModel

    card = DetectorModel.objects.get(name="meso4-df").card
    assert Framing.from_card(card) == Framing("eyes_mouth", pad="reflect", scale=2.86)
