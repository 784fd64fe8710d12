"""The DFDC winner's catalog entries installed by name from a mirror: `dfdc-b7-single` (one of
the seven checkpoints) and `dfdc-b7` (all seven), each exported for the CPU at install, so that
no analysis exports; the seven-member analysis scores one member at a time in bounded memory.

The mirror holds stand-ins in the published DFDC format under the published file names: seeded
random EfficientNet-B0 weights (tests/fixtures/dfdc), a twelfth of a B7's size. Such a model
never scores a user's file.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from detector.models import DetectorModel
from detector.selectors import model_spec
from ml.models import litert
from ml.models.catalog import CATALOG
from ml.models.checksum import file_sha256
from tests.fixtures.dfdc import synthetic
from tests.support import lean_analysis
from tests.support.mediagen import write_face_video

pytestmark = pytest.mark.django_db

# Peak RSS of the seven stand-ins' analysis in a fresh process, against what they need one at
# a time: measured (2026-12-07, 2 s two-person clip) 436 MB with one stand-in, 457 MB with the
# seven one after another, 912 MB with the seven held at once.
SEVEN_MEMBERS_CAP_MB = 600


@pytest.fixture(autouse=True)
def models_root(settings, tmp_path) -> Path:
    settings.MODELS_ROOT = tmp_path / "models"
    settings.MODELS_MIRROR = ""
    return settings.MODELS_ROOT


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    """The release's seven file names, each a different seeded B0 stand-in."""
    folder = tmp_path_factory.mktemp("dfdc-mirror")
    manifest = synthetic.read_manifest("b0_manifest.json")
    for number, file in enumerate(CATALOG["dfdc-b7"].files):
        state = synthetic.random_state_dict(manifest, seed=synthetic.SEED + number)
        synthetic.write_torch_checkpoint(folder / file.filename, synthetic.dfdc_checkpoint(state))
    return folder


def exports_under(root: Path) -> list[Path]:
    return sorted(root.rglob("*.tflite"))


def test_the_single_member_installs_from_a_mirror_exported_and_says_how_it_was_chosen(
    mirror, models_root, capsys
):
    call_command("install_model", "dfdc-b7-single", "--mirror", str(mirror), "--activate")
    out = capsys.readouterr().out
    model = DetectorModel.objects.get(name="dfdc-b7-single", active=True)
    (file,) = CATALOG["dfdc-b7-single"].files
    assert file.filename.startswith("final_111_") and file.filename.endswith("_36")
    card = json.loads(Path(model.file_path).with_suffix(".card.json").read_text())
    assert card == model.card
    assert card["source"]["url"] == file.url
    assert card["source"]["file_sha256"] == file_sha256(mirror / file.filename)
    assert "no per-checkpoint validation numbers" in card["member_choice"]
    assert "not of this member alone" in card["published_metrics"]["source"]
    assert card["framing"] == {"kind": "box", "margin": pytest.approx(1 / 3), "detector": "mtcnn"}
    assert (mirror / file.filename).is_file(), "a mirror folder's files stay"

    # Exported at install, with a line saying so; nothing is left for the first analysis.
    assert "Exporting dfdc-b7-single for the CPU" in out and "exported dfdc-b7-single in" in out
    assert not litert.missing(Path(model.file_path), model.sha256)
    assert litert.cam_path(litert.export_path(Path(model.file_path), model.sha256)).is_file()


def test_too_little_memory_for_the_export_says_so_in_one_line_and_keeps_keras(
    mirror, models_root, capsys, monkeypatch
):
    """A machine whose free memory is below what an export needs (here: a need above any
    machine's memory) installs the model, says why it is not exported, and scores through
    Keras."""
    monkeypatch.setattr(litert, "EXPORT_BASE_BYTES", 2**50)
    call_command("install_model", "dfdc-b7-single", "--mirror", str(mirror), "--activate")
    lines = [line for line in capsys.readouterr().out.splitlines() if "export" in line.lower()]
    assert len(lines) == 1 and lines[0].startswith("Not exporting for the CPU: an export needs")
    assert "--export-missing" in lines[0]
    model = DetectorModel.objects.get(name="dfdc-b7-single", active=True)
    assert litert.missing(Path(model.file_path), model.sha256)
    assert exports_under(models_root) == []


def test_a_mirror_without_the_single_member_installs_nothing(tmp_path, models_root):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CommandError, match="final_111_.* is not in the mirror folder"):
        call_command("install_model", "dfdc-b7-single", "--mirror", str(empty))
    assert DetectorModel.objects.count() == 0
    assert not models_root.exists() or not any(models_root.rglob("*.keras"))


@pytest.mark.slow
def test_seven_members_export_at_install_and_analyse_one_at_a_time_in_bounded_memory(
    mirror, models_root, tmp_path, capsys
):
    call_command("install_model", "dfdc-b7", "--mirror", str(mirror), "--activate")
    out = capsys.readouterr().out
    members = list(DetectorModel.objects.filter(active=True).order_by("pk"))
    assert len(members) == 7
    for number in range(1, 8):
        assert f"(member {number}/7)" in out
    exports = exports_under(models_root)
    assert len([p for p in exports if ".cam." not in p.name]) == 7  # one per member

    # Members installed earlier without exports get them from --export-missing; with none
    # missing it has nothing to do and says nothing.
    call_command("install_model", "--export-missing")
    assert capsys.readouterr().out == ""

    clip = write_face_video(tmp_path / "two.mp4", seconds=2.0, two_faces=True)
    # MTCNN, the catalog cards' face framing, runs on TensorFlow itself; the exports' own path
    # is checked TensorFlow-free with the same box cut around dlib's faces.
    specs = [asdict(model_spec(m)) for m in members]
    for spec in specs:
        spec["card"]["framing"] = {"kind": "box", "margin": 1 / 3}
    result = lean_analysis.run_fresh(clip, specs)
    assert result["runtime"] == "+".join(["litert"] * 7) and result["scored"]
    assert not result["tensorflow"]
    assert exports_under(models_root) == exports, "the analysis made no export"
    assert result["peak_rss_mb"] < SEVEN_MEMBERS_CAP_MB, result
