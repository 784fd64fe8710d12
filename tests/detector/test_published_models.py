"""Published detectors installed by name (ml/models/catalog.py), from the authors' real MesoNet files.

The files are the published weights kept beside the repository (shared/models/mesonet, or the
folder MESONET_MIRROR names). Each installed model is checked against the authors' network built
here from their code's layer list, with the .h5 weights set by layer name: the platform's
converted model must give bit-identical outputs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from detector import services
from detector.models import Analysis, DetectorModel
from ml.errors import ModelError
from ml.models.catalog import CATALOG
from ml.models.download import CHUNK
from tests.support.detector_models import detector_model_create
from tests.support.httpmirror import serve
from tests.support.mesonet import mesonet_folder, reference_network, sample_inputs
from tests.support.servers import free_port
from tests.support.uploads import as_upload

pytestmark = pytest.mark.django_db

MESONET_NAMES = ("meso4-df", "meso4-f2f", "mesoinception4-df", "mesoinception4-f2f")


@pytest.fixture(scope="module")
def mesonet() -> Path:
    return mesonet_folder()


@pytest.fixture(autouse=True)
def models_root(settings, tmp_path) -> Path:
    settings.MODELS_ROOT = tmp_path / "models"
    settings.MODELS_MIRROR = ""
    return settings.MODELS_ROOT


def assert_nothing_installed(models_root: Path) -> None:
    assert DetectorModel.objects.count() == 0
    leftovers = list(models_root.rglob("*")) if models_root.exists() else []
    assert leftovers == []


# --- install from a mirror folder ------------------------------------------------------------


@pytest.mark.parametrize("name", MESONET_NAMES)
def test_mesonet_installs_from_a_mirror_and_matches_the_published_weights(name, mesonet, capsys):
    call_command("install_model", name, "--mirror", str(mesonet), "--activate")
    assert f"Installed {name} 2144d56" in capsys.readouterr().out
    model = DetectorModel.objects.get(name=name)
    entry = CATALOG[name]
    card = json.loads(Path(model.file_path).with_suffix(".card.json").read_text())
    assert card == model.card and model.active
    assert card["family"] == name and card["arch"] == entry.arch == model.arch
    assert card["framing"] == {"kind": "eyes_mouth", "scale": 2.86, "pad": "reflect"}
    assert (card["preprocessing"], card["input_size"]) == ("unit", 256)
    assert card["licence"] == "Apache-2.0" and "MesoNet" in card["citation"]
    assert card["source"]["url"] == entry.files[0].url
    assert card["source"]["sha256"] == entry.files[0].sha256
    assert card["source"]["file_sha256"] == entry.files[0].sha256
    assert card["platform_evaluation"] == "not evaluated on platform data"
    assert "negated" in card["conversion"] and card["label_convention"].endswith("P(fake)")

    installed = keras.saving.load_model(model.file_path, compile=False)
    assert installed.name == entry.arch
    reference = reference_network(mesonet / entry.files[0].filename)
    x = sample_inputs(mesonet)
    ours = keras.ops.convert_to_numpy(installed(x, training=False))
    theirs = keras.ops.convert_to_numpy(reference(x, training=False))
    np.testing.assert_array_equal(ours, theirs)
    assert len(np.unique(ours)) == len(x), "each image gets its own score"


def test_list_shows_every_entry_and_whether_it_is_installed(mesonet, capsys):
    call_command("install_model", "meso4-df", "--mirror", str(mesonet))
    capsys.readouterr()
    call_command("install_model", "--list")
    out = capsys.readouterr().out
    states = dict(re.findall(r"^(\S+) \[([a-z ]+)\]$", out, flags=re.MULTILINE))
    assert states == {
        "meso4-df": "installed",
        "meso4-f2f": "not installed",
        "mesoinception4-df": "not installed",
        "mesoinception4-f2f": "not installed",
        "dfdc-b7": "not installed",
        "dfdc-b7-single": "not installed",
        "commfor-vit-s-384": "not installed",
        "ufd-clip-vit-l14": "not installed",
    }
    assert "download: 156 kB" in out and "download: 198 kB" in out
    assert "download: about 1.9 GB in 7 files" in out
    assert "download: about 933 MB in 2 files" in out and "UniversalFakeDetect" in out
    assert "7 x EfficientNet-B7" in out and "GPU recommended" in out
    assert out.count("licence:  Apache-2.0") == 4 and "licence:  MIT" in out
    assert "Afchar" in out and "Seferbekov" in out

    DetectorModel.objects.get(name="meso4-df").delete()
    call_command("install_model", "--list")
    assert "meso4-df [not installed]" in capsys.readouterr().out


def test_the_admin_shows_where_a_published_detector_comes_from(mesonet, admin_client):
    call_command("install_model", "meso4-df", "--mirror", str(mesonet))
    model = DetectorModel.objects.get(name="meso4-df")
    page = admin_client.get(f"/admin/detector/detectormodel/{model.pk}/change/")
    html = page.content.decode()
    assert CATALOG["meso4-df"].files[0].url in html and "Apache-2.0" in html
    assert "not evaluated on platform data" in html


def test_the_same_detector_twice_is_refused(mesonet):
    call_command("install_model", "meso4-df", "--mirror", str(mesonet))
    with pytest.raises(CommandError, match="meso4-df 2144d56 is already installed"):
        call_command("install_model", "meso4-df", "--mirror", str(mesonet))
    assert DetectorModel.objects.count() == 1


def test_file_options_are_refused_for_a_published_detector(models_root):
    with pytest.raises(CommandError, match="meso4-df is a published detector"):
        call_command("install_model", "meso4-df", "--name", "mine")
    assert_nothing_installed(models_root)


def test_mirror_without_the_file_fails_in_one_line(tmp_path, models_root, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CommandError) as refused:
        call_command("install_model", "meso4-df", "--mirror", str(empty))
    message = str(refused.value)
    assert message == f"Model refused: Meso4_DF.h5 is not in the mirror folder {empty}."
    assert refused.value.returncode != 0
    assert capsys.readouterr() == ("", "")
    assert_nothing_installed(models_root)


def tampered_copy(mesonet: Path, folder: Path) -> Path:
    folder.mkdir()
    data = (mesonet / "Meso4_DF.h5").read_bytes()
    (folder / "Meso4_DF.h5").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    return folder


def test_wrong_sha256_in_a_mirror_folder_installs_nothing(mesonet, tmp_path, models_root):
    folder = tampered_copy(mesonet, tmp_path / "bad")
    with pytest.raises(CommandError, match="does not match the sha256 published"):
        call_command("install_model", "meso4-df", "--mirror", str(folder))
    assert_nothing_installed(models_root)


def test_wrong_sha256_over_http_installs_nothing(mesonet, tmp_path, models_root):
    with (
        serve(tampered_copy(mesonet, tmp_path / "bad")) as mirror,
        pytest.raises(CommandError, match="does not match the expected sha256"),
    ):
        call_command("install_model", "meso4-df", "--mirror", mirror.url)
    assert_nothing_installed(models_root)


# --- downloads -------------------------------------------------------------------------------


def test_a_download_cut_short_resumes_where_it_stopped(mesonet, models_root, capsys):
    with serve(mesonet) as mirror:
        mirror.cuts["/Meso4_DF.h5"] = [CHUNK]
        call_command("install_model", "meso4-df", "--mirror", mirror.url)
    assert mirror.requests_seen == [
        ("/Meso4_DF.h5", None),
        ("/Meso4_DF.h5", f"bytes={CHUNK}-"),
    ]
    model = DetectorModel.objects.get(name="meso4-df")
    assert model.card["installed"]["source"] == f"{mirror.url}/Meso4_DF.h5"
    err = capsys.readouterr().err
    assert err.startswith("meso4-df: 156 kB to download (Apache-2.0).\n")
    assert "Meso4_DF.h5: 156 kB of 156 kB (100 %)" in err
    assert not (models_root / ".downloads").exists()


def test_a_download_that_stops_keeps_its_bytes_and_the_next_run_resumes(mesonet, models_root):
    part = models_root / ".downloads" / "Meso4_DF.h5.part"
    with serve(mesonet) as mirror:
        # Two chunks arrive, then the server drops the connection before any byte.
        mirror.cuts["/Meso4_DF.h5"] = [2 * CHUNK, 0]
        with pytest.raises(CommandError, match=f"stopped after {2 * CHUNK} bytes.*resume"):
            call_command("install_model", "meso4-df", "--mirror", mirror.url)
        assert DetectorModel.objects.count() == 0
        assert not (models_root / "meso4-df").exists()
        assert part.stat().st_size == 2 * CHUNK

        call_command("install_model", "meso4-df", "--mirror", mirror.url)
    assert mirror.requests_seen[-1] == ("/Meso4_DF.h5", f"bytes={2 * CHUNK}-")
    model = DetectorModel.objects.get(name="meso4-df")
    assert model.card["source"]["sha256"] == CATALOG["meso4-df"].files[0].sha256
    assert not part.parent.exists()


# --- first run -------------------------------------------------------------------------------


def test_first_run_installs_and_activates_meso4_df_once(mesonet, settings, capsys):
    settings.MODELS_MIRROR = str(mesonet)
    call_command("install_model", "--first-run")
    assert "Installed and activated meso4-df (Apache-2.0)." in capsys.readouterr().out
    model = DetectorModel.objects.get()
    assert (model.name, model.active) == ("meso4-df", True)

    call_command("install_model", "--first-run")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert DetectorModel.objects.count() == 1


@pytest.mark.parametrize("mirror", ["empty folder", "unreachable address"])
def test_first_run_offline_says_so_in_one_line_and_goes_on(
    mirror, settings, tmp_path, models_root, capsys
):
    if mirror == "empty folder":
        settings.MODELS_MIRROR = str(tmp_path)
    else:
        settings.MODELS_MIRROR = f"http://127.0.0.1:{free_port()}"
    call_command("install_model", "--first-run")  # no exception: exit status 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("No detector installed: ")
    assert captured.err == ""
    assert "install_model meso4-df --activate" in lines[0]
    if mirror == "unreachable address":
        assert "could not be reached" in lines[0]
    assert_nothing_installed(models_root)


def test_first_run_with_an_unknown_detector_name_says_so(settings, capsys):
    settings.DETECTORS = "nope"
    call_command("install_model", "--first-run")
    assert "DETECTORS='nope' is not a published detector" in capsys.readouterr().out
    assert DetectorModel.objects.count() == 0


# --- DFDC checkpoints and routing ------------------------------------------------------------


def test_dfdc_format_needs_a_name_and_a_version(tmp_path, models_root):
    checkpoint = tmp_path / "final_111_DeepFakeClassifier_tf_efficientnet_b7_ns_0_36"
    checkpoint.write_bytes(b"not read: the arguments are checked first")
    with pytest.raises(CommandError, match="needs --name and --version"):
        call_command("install_model", str(checkpoint), "--format", "dfdc")
    assert_nothing_installed(models_root)


def test_an_unknown_format_is_refused_before_anything_is_read(tmp_path, models_root):
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"never read")
    with pytest.raises(ModelError, match="No converter reads the format 'onnx'"):
        services.model_install(source=str(weights), format="onnx", name="n", version="1")
    assert_nothing_installed(models_root)


def test_mesonet_weights_from_elsewhere_install_with_format_mesonet(mesonet, models_root):
    source = mesonet / "MesoInception_DF.h5"
    call_command(
        "install_model", str(source), "--format", "mesonet", "--name", "mine", "--version", "2"
    )
    model = DetectorModel.objects.get(name="mine", version="2")
    assert model.arch == "mesoinception4" and model.card["framing"]["kind"] == "eyes_mouth"
    assert model.card["source"] == {
        "url": str(source),
        "sha256": CATALOG["mesoinception4-df"].files[0].sha256,
    }
    assert source.is_file(), "the given file is left where it was"
    assert [p.name for p in models_root.iterdir()] == ["mine"]


@pytest.mark.django_db(transaction=True)
def test_gpu_recommended_models_send_analyses_to_the_gpu_queue(
    settings, user, jpeg_bytes, rq_worker
):
    import django_rq

    settings.GPU_QUEUE = "gpu"
    settings.ANALYSIS_QUEUE = "default"
    gpu, default = django_rq.get_queue("gpu"), django_rq.get_queue("default")

    def queued_in():
        services.analysis_create(owner=user, uploaded_file=as_upload("a.jpg", jpeg_bytes))
        counts = (default.count, gpu.count)
        default.empty()
        gpu.empty()
        return counts

    assert queued_in() == (1, 0)
    heavy = detector_model_create(card={"compute": "gpu_recommended"}, active=True)
    assert queued_in() == (0, 1)
    settings.GPU_QUEUE = ""
    assert queued_in() == (1, 0)
    settings.GPU_QUEUE = "gpu"
    heavy.active = False
    heavy.save()
    assert queued_in() == (1, 0)


# --- end to end ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_uploads_through_web_and_api_are_scored_by_meso4_df(
    mesonet, user, user_client, jpeg_bytes, rq_worker
):
    call_command("install_model", "meso4-df", "--mirror", str(mesonet), "--activate")
    model = DetectorModel.objects.get(name="meso4-df")

    web = user_client.post(
        reverse("detector:analysis-create"),
        {"file": as_upload("face.jpg", jpeg_bytes)},
    )
    assert web.status_code == 302
    api = APIClient()
    api.force_authenticate(user)
    response = api.post(
        "/api/v1/analyses/",
        {"file": as_upload("face.jpg", jpeg_bytes)},
        format="multipart",
    )
    assert response.status_code == 202
    rq_worker()

    for analysis in Analysis.objects.filter(owner=user):
        assert analysis.status == Analysis.Status.DONE, analysis.error_message
        assert 0.0 <= analysis.fake_probability <= 1.0
        classifier = analysis.result["classifier"]
        assert (classifier["name"], classifier["version"], classifier["sha256"]) == (
            "meso4-df",
            "2144d56",
            model.sha256,
        )
        assert list(analysis.detector_models.all()) == [model]

        page = user_client.get(reverse("detector:analysis-detail", args=[analysis.pk]))
        html = page.content.decode()
        assert "Model card: meso4-df 2144d56" in html and model.sha256[:16] in html
        assert reverse("api:model-list") in html

        detail = api.get(f"/api/v1/analyses/{analysis.pk}/").json()
        assert detail["fake_probability"] == analysis.fake_probability
        (ref,) = detail["models"]
        assert (ref["name"], ref["version"], ref["sha256"]) == (
            "meso4-df",
            "2144d56",
            model.sha256,
        )
        cards = api.get(ref["card"]).json()["results"]
        assert [c["card"]["family"] for c in cards] == ["meso4-df"]
        assert cards[0]["card"]["licence"] == "Apache-2.0"
    assert Analysis.objects.filter(owner=user).count() == 2


def test_the_shared_mesonet_folder_is_what_the_catalog_expects(mesonet):
    """The mirror holds the published files under their names, with the published hashes."""
    sums = dict(
        reversed(line.split()) for line in (mesonet / "SHA256SUMS").read_text().splitlines()
    )
    for name in MESONET_NAMES:
        (file,) = CATALOG[name].files
        assert sums[file.filename] == file.sha256
        assert (mesonet / file.filename).stat().st_size == file.size


def test_a_late_failure_leaves_no_row_and_no_work_files(mesonet, models_root):
    """The install fails after converting (a stray folder holds the target): all is undone."""
    stray = models_root / "meso4-df" / "2144d56"
    stray.mkdir(parents=True)
    with pytest.raises(CommandError, match="already exists"):
        call_command("install_model", "meso4-df", "--mirror", str(mesonet))
    assert DetectorModel.objects.count() == 0
    assert list(models_root.rglob("*")) == [models_root / "meso4-df", stray]
