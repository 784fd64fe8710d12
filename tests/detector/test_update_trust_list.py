"""`manage.py update_trust_list`: the trust lists refreshed from a folder or a real HTTP mirror
on 127.0.0.1, checked, recorded in SOURCES.json and switched in one step under MODELS_ROOT;
the reader then uses them. A bad or partial download leaves the current lists as they were.
The lists are the official ones from shared/provenance/trust (attributed in its LICENSES.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ml.signals import provenance, provenance_trust
from tests.support import mediagen
from tests.support import provenance as files
from tests.support.httpmirror import serve

NAMES = tuple(provenance_trust.FILES)


@pytest.fixture
def models_root(tmp_path, settings, monkeypatch) -> Path:
    """MODELS_ROOT of this test, for the command (settings) and the reader (environment)."""
    root = tmp_path / "models"
    settings.MODELS_ROOT = root
    settings.MODELS_MIRROR = ""
    monkeypatch.setenv("MODELS_ROOT", str(root))
    monkeypatch.delenv(provenance.TRUST_DIR_ENV, raising=False)
    return root


def official(folder: Path, *, with_test_root: bool = False) -> Path:
    """A mirror folder holding the official lists; with_test_root adds the C2PA test root to
    the trust list (tests only: its private keys are public)."""
    trust = files.provenance_folder() / "trust"
    folder.mkdir(parents=True)
    for name in NAMES:
        shutil.copyfile(trust / name, folder / name)
    if with_test_root:
        anchors = folder / "C2PA-TRUST-LIST.pem"
        extra = (trust / "c2pa-test-root-bundle.pem").read_text()
        anchors.write_text(anchors.read_text() + "\n" + extra)
    return folder


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(root: Path) -> dict[str, str]:
    """Every file the reader would see now, with its hash."""
    folder = provenance.trust_dir()
    return {"folder": str(folder), **{p.name: sha(p) for p in sorted(folder.iterdir())}}


def test_without_a_refresh_the_reader_uses_the_bundled_lists(models_root):
    assert provenance.trust_dir() == provenance.TRUST_DIR
    assert provenance.trust_date(provenance.trust_dir()) == "2026-08-21"


def test_from_a_folder_installs_checks_and_records(models_root, tmp_path):
    mirror = official(tmp_path / "mirror")
    out = _run("--from", str(mirror))
    link = models_root / "trust"
    assert link.is_symlink() and provenance.trust_dir() == link.resolve()
    for name in NAMES:
        assert sha(link / name) == sha(mirror / name)
    record = json.loads((link / "SOURCES.json").read_text())
    today = dt.date.today().isoformat()
    assert record["updated"] == today
    trust = record["files"]["C2PA-TRUST-LIST.pem"]
    assert trust["source"] == str(mirror.resolve() / "C2PA-TRUST-LIST.pem")
    assert trust["date"] == today and trust["sha256"] == sha(mirror / "C2PA-TRUST-LIST.pem")
    assert trust["holds"] == "30 certificates" and "CC-BY-4.0" in trust["licence"]
    assert record["files"]["valid_eku_oids.cfg"]["role"] == "trust_config"
    assert "30 certificates" in out and "installed in" in out
    assert provenance.trust_date(provenance.trust_dir()) == today


def test_from_an_http_mirror_the_reader_trusts_the_new_list(models_root, tmp_path):
    signed = files.sign(
        Path(mediagen.write_image(tmp_path / "face.jpg")),
        tmp_path / "signed.jpg",
        "image/jpeg",
        "trainedAlgorithmicMedia",
    )
    # The bundled lists do not hold the test root: the signature is valid, not trusted.
    assert provenance.read(signed, "image/jpeg").c2pa.state == "valid"
    with serve(official(tmp_path / "mirror", with_test_root=True)) as mirror:
        _run("--from", mirror.url + "/")
    assert [path for path, _ in mirror.requests_seen] == [f"/{name}" for name in NAMES]
    record = json.loads((models_root / "trust" / "SOURCES.json").read_text())
    assert record["files"]["C2PA-TSA-TRUST-LIST.pem"]["source"] == (
        f"{mirror.url}/C2PA-TSA-TRUST-LIST.pem"
    )
    result = provenance.read(signed, "image/jpeg")
    assert result.c2pa.state == "trusted" and result.ai_generation == "declared"
    assert result.c2pa.trust_list == dt.date.today().isoformat()


def test_the_mirror_setting_is_the_default_source(models_root, tmp_path, settings):
    settings.MODELS_MIRROR = str(official(tmp_path / "mirror"))
    _run()
    assert provenance.trust_dir() == (models_root / "trust").resolve()


def spoil(folder: Path, how: str) -> None:
    eku = folder / "valid_eku_oids.cfg"
    if how == "missing":
        eku.unlink()
    elif how == "not a list":
        (folder / "C2PA-TSA-TRUST-LIST.pem").write_text("<html>Rate limited</html>")
    elif how == "bad oid":
        eku.write_text("// C2PA Signing\n1.3.6.1.4.1.62558.2.1\nrm -rf /\n")
    elif how == "huge":
        eku.write_bytes(b"1.3.6.1\n" * (provenance_trust.MAX_BYTES // 8 + 1))


@pytest.mark.parametrize("how", ["missing", "not a list", "bad oid", "huge"])
@pytest.mark.parametrize("over", ["folder", "http"])
def test_a_bad_set_leaves_the_current_lists(models_root, tmp_path, how, over):
    _run("--from", str(official(tmp_path / "good")))
    before = snapshot(models_root)
    bad = official(tmp_path / "bad", with_test_root=True)
    spoil(bad, how)
    with pytest.raises(CommandError, match="the current ones stay"):
        if over == "folder":
            _run("--from", str(bad))
        else:
            with serve(bad) as mirror:
                _run("--from", mirror.url)
    assert snapshot(models_root) == before
    assert sorted(p.name for p in models_root.iterdir() if p.name.startswith(".trust-")) == [
        Path(before["folder"]).name  # no staging folder left behind
    ]


def test_a_download_cut_short_leaves_the_current_lists(models_root, tmp_path):
    first = official(tmp_path / "first")
    _run("--from", str(first))
    before = snapshot(models_root)
    with serve(official(tmp_path / "second", with_test_root=True)) as mirror:
        mirror.cuts["/C2PA-TRUST-LIST.pem"] = [1000]  # the connection drops after 1000 bytes
        with pytest.raises(CommandError, match="C2PA-TRUST-LIST.pem.*cut short"):
            _run("--from", mirror.url)
    assert snapshot(models_root) == before


def test_a_second_refresh_keeps_the_previous_set_and_a_folder_by_hand(models_root, tmp_path):
    by_hand = models_root / "trust"
    official(by_hand)
    (by_hand / "SOURCES.json").write_text('{"updated": "by hand"}')
    assert provenance.trust_date(provenance.trust_dir()) == "by hand"
    mirror = official(tmp_path / "mirror")
    _run("--from", str(mirror))
    first = provenance.trust_dir()
    _run("--from", str(mirror))
    second = provenance.trust_dir()
    _run("--from", str(mirror))
    kept = {p.name for p in models_root.iterdir()}
    assert first.name not in kept and second.name in kept  # the previous one, for readers
    assert provenance.trust_dir().name in kept
    aside = [name for name in kept if name.startswith("trust.by-hand-")]
    assert len(aside) == 1
    assert json.loads((models_root / aside[0] / "SOURCES.json").read_text())["updated"] == "by hand"


def _run(*args: str) -> str:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("update_trust_list", *args, stdout=out, stderr=err)
    return out.getvalue()
