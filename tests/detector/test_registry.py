"""Installing, refusing, activating and evaluating detector models, with real files and Keras.

The model here is a tiny Meso-4 with random weights, built inside the test only to have a real
`.keras` file to install; nothing in the product ships it.
"""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from detector.models import DetectorModel
from detector.selectors import model_options
from detector.services.models import (
    Candidate,
    candidate_check,
    incoming_dir,
    model_activate,
    model_deactivate,
    model_install,
    model_install_checked,
    model_store_evaluation,
)
from ml.errors import ModelError
from ml.models.archs import get_arch
from ml.models.download import DownloadError, download
from tests.support.httpmirror import serve

pytestmark = pytest.mark.django_db
SIZE = 32


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_card(model_file: Path, **overrides) -> dict:
    card = {
        "name": model_file.stem,
        "version": "1.0",
        "arch": "meso4",
        "kind": "frame",
        "input_size": SIZE,
        "preprocessing": "unit",
        "threshold": 0.5,
        "metrics": {"validation": {"frame": {"auc": 0.9}, "video": {"auc": 0.95}}},
        "plots": {"roc": "roc.png"},
        "sha256": sha256(model_file),
    }
    card.update(overrides)
    (model_file.parent / f"{model_file.stem}.card.json").write_text(json.dumps(card))
    return card


@pytest.fixture(scope="module")
def built_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("built")
    path = folder / "tiny.keras"
    get_arch("meso4").build(input_size=SIZE, init="none").save(path)
    return path


@pytest.fixture
def model_file(built_model, tmp_path) -> Path:
    """A fresh copy of the model with its card and a plot, in a folder of its own."""
    folder = tmp_path / "release"
    folder.mkdir()
    path = folder / "tiny.keras"
    shutil.copy(built_model, path)
    (folder / "roc.png").write_bytes(b"\x89PNG\r\n\x1a\n fake plot bytes")
    write_card(path)
    return path


@pytest.fixture(autouse=True)
def models_root(settings, tmp_path) -> Path:
    settings.MODELS_ROOT = tmp_path / "models"
    return settings.MODELS_ROOT


def assert_nothing_installed(models_root: Path):
    assert DetectorModel.objects.count() == 0
    leftovers = [p for p in models_root.rglob("*")] if models_root.exists() else []
    assert leftovers == []


def test_install_from_path_copies_file_card_and_plots(model_file, models_root):
    model = model_install(source=str(model_file), activate=True)
    target = models_root / "tiny" / "1.0"
    assert Path(model.file_path) == target / "tiny.keras"
    assert sha256(target / "tiny.keras") == sha256(model_file) == model.sha256
    assert (target / "roc.png").is_file() and model.card["plots"] == {"roc": "roc.png"}
    stored = json.loads((target / "tiny.card.json").read_text())
    assert stored["installed"]["source"] == str(model_file)
    assert (model.arch, model.kind, model.active) == ("meso4", "frame", True)
    specs = model_options()["models"]
    assert [s["name"] for s in specs] == ["tiny"] and specs[0]["path"] == model.file_path


def test_install_under_another_name(model_file, models_root):
    model = model_install(source=str(model_file), name="renamed")
    assert model.name == "renamed" and model.card["name"] == "renamed" and not model.active
    assert (models_root / "renamed" / "1.0" / "renamed.keras").is_file()


def test_same_name_and_version_twice_is_refused(model_file):
    model_install(source=str(model_file))
    with pytest.raises(ModelError, match="already installed"):
        model_install(source=str(model_file))
    assert DetectorModel.objects.count() == 1


def test_wrong_checksum_is_refused(model_file, models_root):
    with pytest.raises(ModelError, match="sha256"):
        model_install(source=str(model_file), sha256="0" * 64)
    assert_nothing_installed(models_root)


def test_file_not_matching_its_card_checksum_is_refused(model_file, models_root):
    with open(model_file, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelError, match="sha256 written on its card"):
        model_install(source=str(model_file))
    assert_nothing_installed(models_root)


def test_corrupt_file_is_refused(model_file, models_root):
    data = model_file.read_bytes()
    model_file.write_bytes(data[: len(data) // 2])  # a truncated download
    write_card(model_file)  # the card even vouches for the broken bytes
    with pytest.raises(ModelError, match="damaged or not a Keras model"):
        model_install(source=str(model_file))
    assert_nothing_installed(models_root)


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"arch": "efficientnet_b0"}, "holds a meso4 network"),
        ({"input_size": 64}, "64x64"),
        ({"kind": "temporal"}, "face tracks"),
        ({"threshold": 1.5}, "threshold"),
        ({"preprocessing": "bgr"}, "preprocessing"),
    ],
)
def test_card_that_does_not_match_the_network_is_refused(
    model_file, models_root, overrides, message
):
    write_card(model_file, **overrides)
    with pytest.raises(ModelError, match=message):
        model_install(source=str(model_file))
    assert_nothing_installed(models_root)


def test_missing_card_is_refused(model_file, models_root):
    (model_file.parent / "tiny.card.json").unlink()
    with pytest.raises(ModelError, match="card"):
        model_install(source=str(model_file))
    assert_nothing_installed(models_root)


def test_several_models_install_together_or_not_at_all(model_file, models_root):
    cards = [
        {**json.loads(model_file.with_suffix(".card.json").read_text()), "name": n}
        for n in ("first", "second")
    ]
    (models_root / "second" / "1.0").mkdir(parents=True)  # the second cannot be placed
    with incoming_dir() as tmp, pytest.raises(ModelError, match="already exists"):
        model_install_checked(
            candidates=[candidate_check(Candidate(model_file, card, "test")) for card in cards],
            workdir=Path(tmp),
            activate=True,
        )
    assert DetectorModel.objects.count() == 0
    assert not (models_root / "first").exists()
    (models_root / "second" / "1.0").rmdir()

    with incoming_dir() as tmp:
        models = model_install_checked(
            candidates=[candidate_check(Candidate(model_file, card, "test")) for card in cards],
            workdir=Path(tmp),
            activate=True,
        )
    assert [m.name for m in models] == ["first", "second"]
    assert {s["name"] for s in model_options()["models"]} == {"first", "second"}


# --- over HTTP ----------------------------------------------------------------------------


@pytest.fixture
def server(model_file):
    with serve(model_file.parent) as mirror:
        yield mirror


def test_install_from_url(model_file, server, models_root):
    model = model_install(source=f"{server.url}/tiny.keras", sha256=sha256(model_file))
    assert model.sha256 == sha256(model_file)
    assert Path(model.file_path).is_file()
    assert [p for p, _ in server.requests_seen] == [
        "/tiny.keras",
        "/tiny.card.json",
    ]
    assert not list(models_root.glob(".incoming-*")), "the download folder is cleaned up"


def test_url_with_wrong_checksum_is_refused(model_file, server, models_root):
    with pytest.raises(ModelError, match="sha256"):
        model_install(source=f"{server.url}/tiny.keras", sha256="f" * 64)
    assert_nothing_installed(models_root)


def test_url_that_does_not_exist_is_refused(server, models_root):
    with pytest.raises(ModelError, match="Could not download"):
        model_install(source=f"{server.url}/absent.keras")
    assert_nothing_installed(models_root)


def test_download_resumes_a_partial_file(model_file, server, tmp_path):
    data = model_file.read_bytes()
    dest = tmp_path / "dl" / "tiny.keras"
    dest.parent.mkdir()
    (dest.parent / "tiny.keras.part").write_bytes(data[:1000])
    seen = []
    download(
        f"{server.url}/tiny.keras",
        dest,
        sha256=sha256(model_file),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert dest.read_bytes() == data
    assert server.requests_seen[-1] == ("/tiny.keras", "bytes=1000-")
    assert seen[-1] == (len(data), len(data))
    assert not (dest.parent / "tiny.keras.part").exists()


def test_download_with_wrong_checksum_leaves_nothing(server, tmp_path):
    dest = tmp_path / "dl" / "tiny.keras"
    with pytest.raises(DownloadError, match="sha256"):
        download(f"{server.url}/tiny.keras", dest, sha256="0" * 64)
    assert not dest.exists() and not dest.with_name("tiny.keras.part").exists()


# --- activation, evaluation, command ----------------------------------------------------------


def test_one_active_model_per_kind_unless_ensemble(model_file):
    first = model_install(source=str(model_file), name="first", activate=True)
    second = model_install(source=str(model_file), name="second")
    model_activate(model=second)
    first.refresh_from_db()
    assert not first.active and second.active
    model_activate(model=first, ensemble=True, weight=2.0)
    specs = {s["name"]: s["weight"] for s in model_options()["models"]}
    assert specs == {"first": 2.0, "second": 1.0}
    model_deactivate(model=second)
    assert [s["name"] for s in model_options()["models"]] == ["first"]
    assert model_options()["temporal_models"] == []
    with pytest.raises(ModelError, match="positive"):
        model_activate(model=first, weight=0)


def test_store_evaluation_appends_to_the_card(model_file, tmp_path):
    write_card(model_file, platform_evaluation="not evaluated on platform data")
    model = model_install(source=str(model_file))
    plot = tmp_path / "roc.png"
    plot.write_bytes(b"\x89PNG\r\n\x1a\n")
    evaluation = {"frame": {"auc": 0.8}, "video": {"auc": 0.85}}
    model_store_evaluation(
        model=model, evaluation=evaluation, dataset="celebdf", plots={"roc": str(plot)}
    )
    model.refresh_from_db()
    record = model.card["evaluations"][-1]
    assert record["frame"]["auc"] == 0.8 and record["dataset"] == "celebdf"
    assert (Path(model.file_path).parent / record["plots"]["roc"]).is_file()
    on_disk = json.loads((Path(model.file_path).parent / "tiny.card.json").read_text())
    assert on_disk["evaluations"] == model.card["evaluations"]
    assert on_disk["platform_evaluation"] == (
        f"evaluated on celebdf at {record['at']} (see evaluations)"
    )


def test_install_command(model_file, models_root, capsys):
    call_command("install_model", str(model_file), "--activate")
    assert DetectorModel.objects.get(name="tiny").active
    write_card(model_file, version="2.0", arch="efficientnet_b7")
    with pytest.raises(CommandError, match="Model refused"):
        call_command("install_model", str(model_file))
    assert DetectorModel.objects.count() == 1


def test_admin_shows_card_metrics_and_plots(model_file, admin_client):
    model = model_install(source=str(model_file))
    listing = admin_client.get("/admin/detector/detectormodel/")
    assert listing.status_code == 200 and b"0.900" in listing.content
    page = admin_client.get(f"/admin/detector/detectormodel/{model.pk}/change/")
    assert page.status_code == 200
    assert b"data:image/png;base64," in page.content
    response = admin_client.post(
        "/admin/detector/detectormodel/",
        {"action": "activate", "_selected_action": [model.pk]},
    )
    assert response.status_code == 302
    model.refresh_from_db()
    assert model.active
