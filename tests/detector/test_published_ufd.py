"""UniversalFakeDetect installed by name from a mirror: two published files (OpenAI's CLIP
archive and UFD's head) become one image detector, with the catalog's guarantees (sha256,
resume, a missing file refused, nothing left behind).

The real ViT-L/14 cannot be fetched here; the mirror holds the small CLIP in OpenAI's format
(tests/fixtures/ufd), whose conversion is checked against OpenAI's code elsewhere. Its sha256
stands in for the published one, so the check itself is the real one.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from detector.models import DetectorModel
from detector.selectors import model_options
from ml import analyze
from ml.models.catalog import CATALOG
from ml.models.checksum import file_sha256
from ml.models.download import CHUNK
from ml.options import ModelSpecs
from tests.fixtures.dfdc.synthetic import write_torch_checkpoint
from tests.fixtures.ufd import synthetic
from tests.support import mediagen
from tests.support.httpmirror import serve

pytestmark = pytest.mark.django_db
NAME = "ufd-clip-vit-l14"
CLIP, HEAD = "ViT-L-14.pt", "fc_weights.pth"


@pytest.fixture(autouse=True)
def models_root(settings, tmp_path) -> Path:
    settings.MODELS_ROOT = tmp_path / "models"
    settings.MODELS_MIRROR = ""
    return settings.MODELS_ROOT


@pytest.fixture
def mirror(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "mirror"
    folder.mkdir()
    shutil.copy(synthetic.HERE / "clip_small.pt", folder / CLIP)
    shutil.copy(synthetic.HERE / "fc_weights.pth", folder / HEAD)
    entry = CATALOG[NAME]
    files = tuple(
        dataclasses.replace(f, sha256=file_sha256(folder / CLIP)) if f.filename == CLIP else f
        for f in entry.files
    )
    monkeypatch.setitem(CATALOG, NAME, dataclasses.replace(entry, files=files))
    return folder


def assert_nothing_installed(models_root: Path) -> None:
    assert DetectorModel.objects.count() == 0
    leftovers = list(models_root.rglob("*")) if models_root.exists() else []
    assert leftovers == []


def test_the_catalog_names_openai_and_the_authors_published_files():
    entry = CATALOG[NAME]
    clip, head = entry.files
    assert clip.url == (
        "https://openaipublic.azureedge.net/clip/models/"
        "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836/ViT-L-14.pt"
    )
    assert clip.sha256 == clip.url.split("/")[-2]  # clip.load checks the same
    assert head.url.startswith("https://github.com/WisconsinAIVision/UniversalFakeDetect/raw/")
    assert head.url.endswith("/pretrained_weights/fc_weights.pth")
    assert entry.models == {NAME: (clip, head)} and entry.converter == "ufd"
    assert "JPEG" in entry.card["caveats"] and entry.card["kind"] == "image"


def test_ufd_installs_from_a_mirror_folder_as_one_active_image_detector(mirror, tmp_path, capsys):
    call_command("install_model", NAME, "--mirror", str(mirror), "--activate")
    assert f"Installed {NAME}" in capsys.readouterr().out
    model = DetectorModel.objects.get()
    assert (model.name, model.kind, model.active) == (NAME, DetectorModel.Kind.IMAGE, True)
    card = model.card
    assert (card["input_size"], card["preprocessing"]) == (224, "clip")
    assert card["image_transform"] == {"resize": "none", "crop": "center"}
    assert card["licence"].startswith("MIT") and "Ojha" in card["citation"]
    assert "P(fake)" in card["label_convention"] and card["threshold"] == 0.5
    parts = card["source"]["parts"]
    assert [p["file"] for p in parts] == [CLIP, HEAD]
    assert parts[1]["file_sha256"] == file_sha256(mirror / HEAD)
    assert (mirror / CLIP).exists()  # a mirror folder's files are never consumed

    ys, xs = np.mgrid[0:300, 0:400]
    rgb = np.stack([xs % 256, ys % 256, (xs + ys) % 256], axis=-1).astype(np.uint8)
    image = mediagen.write_image(tmp_path / "scene.png", fmt="PNG", rgb=rgb)
    report = analyze(image, models=ModelSpecs.from_dict(model_options()))
    (detector,) = report.generated.detectors
    assert detector.name == NAME and 0 < detector.score < 1
    assert "face.none_found" in [e["code"] for e in report.evidence]
    assert report.verdict in ("fake", "inconclusive")  # a generated score never says "real"


def test_a_download_cut_short_resumes_and_both_files_arrive(mirror, models_root):
    with serve(mirror) as http:
        http.cuts[f"/{CLIP}"] = [CHUNK]
        call_command("install_model", NAME, "--mirror", http.url)
    assert http.requests_seen == [
        (f"/{CLIP}", None),
        (f"/{CLIP}", f"bytes={CHUNK}-"),
        (f"/{HEAD}", None),
    ]
    model = DetectorModel.objects.get()
    assert model.card["installed"]["source"] == f"{http.url}/{CLIP} + {http.url}/{HEAD}"
    assert not (models_root / ".downloads").exists()


def test_a_wrong_sha256_installs_nothing(mirror, models_root):
    data = (mirror / CLIP).read_bytes()
    (mirror / CLIP).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(CommandError, match="does not match the sha256 published for ViT-L-14"):
        call_command("install_model", NAME, "--mirror", str(mirror))
    with serve(mirror) as http, pytest.raises(CommandError, match="expected sha256"):
        call_command("install_model", NAME, "--mirror", http.url)
    assert_nothing_installed(models_root)


def test_a_mirror_without_the_head_installs_nothing(mirror, models_root):
    (mirror / HEAD).unlink()
    with pytest.raises(CommandError, match="fc_weights.pth is not in the mirror folder"):
        call_command("install_model", NAME, "--mirror", str(mirror))
    assert_nothing_installed(models_root)


def test_a_user_trained_checkpoint_installs_with_format_ufd(tmp_path):
    clip = synthetic.random_state_dict(synthetic.read_manifest("manifest_small.json"))
    state = {f"model.{k}": v for k, v in clip.items()}
    state.update({f"fc.{k}": v for k, v in synthetic.head_state().items()})
    checkpoint = tmp_path / "model_epoch_best.pth"
    write_torch_checkpoint(checkpoint, {"model": state, "total_steps": 3})
    call_command(
        "install_model", str(checkpoint), "--format", "ufd", "--name", "mine", "--version", "2"
    )
    model = DetectorModel.objects.get(name="mine")
    assert model.kind == DetectorModel.Kind.IMAGE and model.card["preprocessing"] == "clip"
