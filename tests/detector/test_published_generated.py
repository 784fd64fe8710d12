"""Community Forensics installed by name from a mirror, then judging a face-free image.

The real weights cannot be fetched here; the mirror holds random weights in the published
layout (tests/fixtures/commfor), which the converter is checked against timm with elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from detector.flags import FAKE, review_reasons
from detector.models import DetectorModel
from detector.selectors import model_options
from ml import analyze
from ml.models.catalog import CATALOG
from ml.models.checksum import file_sha256
from ml.options import ModelSpecs
from tests.fixtures.commfor import synthetic
from tests.support import mediagen

pytestmark = pytest.mark.django_db
NAME = "commfor-vit-s-384"


@pytest.fixture(autouse=True)
def models_root(settings, tmp_path) -> Path:
    settings.MODELS_ROOT = tmp_path / "models"
    settings.MODELS_MIRROR = ""
    return settings.MODELS_ROOT


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mirror")
    state = synthetic.random_state_dict(synthetic.read_manifest())
    synthetic.write_safetensors(folder / CATALOG[NAME].files[0].filename, state)
    return folder


def test_commfor_installs_from_a_mirror_as_an_active_image_detector(mirror, tmp_path, capsys):
    call_command("install_model", NAME, "--mirror", str(mirror), "--activate")
    assert f"Installed {NAME}" in capsys.readouterr().out
    model = DetectorModel.objects.get(name=NAME)
    assert model.kind == DetectorModel.Kind.IMAGE and model.active
    card = json.loads(Path(model.file_path).with_suffix(".card.json").read_text())
    assert card == model.card
    assert (card["kind"], card["input_size"], card["preprocessing"]) == ("image", 384, "imagenet")
    assert card["image_transform"] == {"resize_short_side": 440, "crop": "center"}
    assert card["licence"] == "MIT" and "Park" in card["citation"]
    assert card["source"]["url"].startswith("https://huggingface.co/OwensLab/commfor-model-384/")
    assert "P(generated)" in card["label_convention"]
    options = model_options()
    assert [m["name"] for m in options["image_models"]] == [NAME] and options["models"] == []

    # A face-free image: the whole-image detector alone gives the verdict.
    ys, xs = np.mgrid[0:300, 0:400]
    rgb = np.stack([xs % 256, ys % 256, (xs + ys) % 256], axis=-1).astype(np.uint8)
    image = mediagen.write_image(tmp_path / "scene.png", fmt="PNG", rgb=rgb)
    report = analyze(image, models=ModelSpecs.from_dict(options))
    (detector,) = report.generated.detectors
    assert detector.name == NAME and detector.threshold == 0.5
    codes = [e["code"] for e in report.evidence]
    assert "face.none_found" in codes
    expected = {"generated.detected": "fake", "generated.not_detected": "inconclusive"}
    assert report.verdict == expected.get(codes[0], "inconclusive")
    assert report.reasons[0].startswith(("the whole image", "Community Forensics"))
    assert (FAKE in review_reasons(report.to_dict())) == (report.verdict == "fake")


def test_a_mirror_without_the_file_installs_nothing(tmp_path, models_root):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CommandError, match="commfor-model-384.safetensors is not in the mirror"):
        call_command("install_model", NAME, "--mirror", str(empty))
    assert DetectorModel.objects.count() == 0


def test_a_user_trained_model_installs_with_format_commfor(mirror, capsys):
    source = mirror / CATALOG[NAME].files[0].filename
    call_command(
        "install_model", str(source), "--format", "commfor", "--name", "mine", "--version", "2"
    )
    model = DetectorModel.objects.get(name="mine")
    assert model.kind == DetectorModel.Kind.IMAGE and model.version == "2"
    assert model.card["image_transform"]["resize_short_side"] == 440
    assert "converted to Keras without PyTorch" in model.card["conversion"]


def test_a_hub_folder_installs_with_format_commfor(tmp_path):
    folder = synthetic.write_hub_folder(tmp_path / "commfor-384", synthetic.small_state_dict())
    call_command(
        "install_model", str(folder), "--format", "commfor", "--name", "hub", "--version", "1"
    )
    model = DetectorModel.objects.get(name="hub")
    assert model.kind == DetectorModel.Kind.IMAGE
    assert model.card["source"]["sha256"] == file_sha256(folder / "model.safetensors")
    assert model.card["conversion"].startswith(
        "model.safetensors: timm ViT-S/16 at 384 px, 1 blocks"
    )


@pytest.mark.parametrize(
    ("format", "error"),
    [
        ("commfor", r"^Model refused: The folder \S+ holds no model\.safetensors\.$"),
        ("dfdc", r"^Model refused: \S+ is a folder; the format dfdc takes one file\.$"),
        ("keras", r"^Model refused: \S+ is a folder; the format keras takes one \.keras file\.$"),
    ],
)
def test_a_folder_the_format_cannot_read_is_refused_in_one_line(tmp_path, format, error):
    with pytest.raises(CommandError, match=error):
        call_command(
            "install_model", str(tmp_path), "--format", format, "--name", "x", "--version", "1"
        )
    assert DetectorModel.objects.count() == 0
