"""Installed detector models: installing them and choosing which ones new analyses use.

Which models an analysis uses (`model_options`) is read in detector.selectors.

A model is a `NAME.keras` file (Keras 3 format) with its card `NAME.card.json` next to it (for a
URL, the card is fetched from the same address with `.keras` replaced by `.card.json`).
`model_install` proves a model usable before it is registered: checksum, then ml's check
(`ml.models.verify.check_model_file`: card, a real Keras load, the network against the card).
Published weights of another format go through ml's converter registry (`ml.models.convert`),
which hands back a checked file and card. The file, the card and the card's plots are then copied
into `MODELS_ROOT/<name>/<version>/`. A refused install leaves nothing behind: no folder, no row.
Every install, from a path, a URL, converted weights or the catalog of published detectors
(services.published_models), ends in the same staged, atomic step: `model_install_checked`.

One model per kind is active at a time. `model_activate(..., ensemble=True)` keeps the others of
its kind active too: active frame models then form an ensemble whose fake probability is the
weighted mean of their scores, weighted by each model's `ensemble_weight` (default 1.0).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db import transaction

from detector.models import DetectorModel
from detector.selectors import model_dir
from ml.errors import ModelError
from ml.models.cards import card_path_for, validate_card
from ml.models.checksum import file_sha256
from ml.models.convert import KERAS, Converter, converter_for
from ml.models.convert.published import convert_file
from ml.models.download import DownloadError, download
from ml.models.verify import check_model_file

# --- install -----------------------------------------------------------------------------------


def _is_url(source: str) -> bool:
    return urlparse(str(source)).scheme in ("http", "https")


def _fetch(source: str, workdir: Path, sha256: str | None) -> tuple[Path, Path]:
    """The model file and its card as local files (downloaded into workdir for a URL)."""
    if not _is_url(source):
        path = Path(source)
        if path.is_dir():
            raise ModelError(f"{path} is a folder; the format {KERAS} takes one .keras file.")
        if not path.is_file():
            raise ModelError(f"There is no model file at {path}.")
        return path, card_path_for(path)
    name = Path(urlparse(source).path).name or "model.keras"
    if not name.endswith(".keras"):
        raise ModelError("A model URL must end in .keras (its card sits next to it as .card.json).")
    card_url = source[: -len(".keras")] + ".card.json" if source.endswith(".keras") else None
    try:
        model_file = download(source, workdir / name, sha256=sha256)
        card_file = download(card_url, workdir / card_path_for(name).name) if card_url else None
    except DownloadError as exc:
        raise ModelError(str(exc)) from exc
    return model_file, card_file or workdir / "missing.card.json"


def _read_card(card_file: Path) -> dict[str, Any]:
    if not card_file.is_file():
        raise ModelError(f"The model card {card_file.name} was not found next to the model file.")
    try:
        card = json.loads(card_file.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"The model card {card_file.name} is not valid JSON.") from exc
    validate_card(card)
    return card


def _copy_plots(card: dict[str, Any], source_dir: Path | None, target_dir: Path) -> dict[str, str]:
    """Copy the plots the card names that exist next to the model; others are dropped."""
    kept = {}
    if source_dir is None:
        return kept
    for key, filename in (card.get("plots") or {}).items():
        candidates = [source_dir / filename, source_dir / f"{card['name']}.{filename}"]
        found = next((p for p in candidates if p.is_file()), None)
        if found:
            shutil.copy2(found, target_dir / Path(filename).name)
            kept[key] = Path(filename).name
    return kept


@dataclass
class Candidate:
    """One model file with its card. Checked (by `candidate_check`, or by ml when ml converted
    it), it is ready for `model_install_checked`."""

    model_file: Path
    card: dict[str, Any]
    source: str
    plots_dir: Path | None = None  # where the plots the card names are found


def _refuse_if_installed(card: dict[str, Any]) -> None:
    if DetectorModel.objects.filter(name=card["name"], version=card["version"]).exists():
        raise ModelError(f"{card['name']} {card['version']} is already installed.")


def candidate_check(candidate: Candidate) -> Candidate:
    """Card valid, name free, file loads as the network the card describes; sha256 recorded."""
    card = candidate.card
    validate_card(card)
    _refuse_if_installed(card)
    check_model_file(candidate.model_file, card)
    candidate.card = {**card, "sha256": file_sha256(candidate.model_file)}
    return candidate


def _stage(candidate: Candidate, workdir: Path) -> tuple[Path, dict[str, Any]]:
    """The model folder, complete, inside workdir: file, card, plots."""
    card = dict(candidate.card)
    staged = Path(tempfile.mkdtemp(dir=workdir, prefix="staged-"))
    target = staged / f"{card['name']}.keras"
    if workdir in candidate.model_file.parents:
        candidate.model_file.rename(target)  # made here (converted): no second copy
    else:
        shutil.copy2(candidate.model_file, target)
    card["plots"] = _copy_plots(card, candidate.plots_dir, staged)
    card["installed"] = {
        "source": candidate.source,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (staged / f"{card['name']}.card.json").write_text(json.dumps(card, indent=2))
    return staged, card


def _activate_all(models: list[DetectorModel]) -> None:
    """One model replaces the active ones of its kind; several become the active ensemble."""
    first, *rest = models
    model_activate(model=first)
    for model in rest:
        model_activate(model=model, ensemble=True)


def model_install_checked(
    *, candidates: list[Candidate], workdir: Path, activate: bool = False
) -> list[DetectorModel]:
    """Install checked candidates all together or not at all.

    Each model folder is staged complete inside workdir (under MODELS_ROOT, so on the same
    filesystem) and renamed into place; the rows are created in one transaction. Whatever
    fails, the folders already moved are removed again and no row remains.
    """
    root = Path(settings.MODELS_ROOT)
    staged = [_stage(c, workdir) for c in candidates]
    placed: list[tuple[Path, dict[str, Any]]] = []
    try:
        for folder, card in staged:
            target = root / card["name"] / card["version"]
            if target.exists():
                raise ModelError(f"{target} already exists; remove it or choose another --name.")
            target.parent.mkdir(parents=True, exist_ok=True)
            folder.rename(target)  # same filesystem: appears complete or not at all
            placed.append((target, card))
        with transaction.atomic():
            models = [
                DetectorModel.objects.create(
                    name=card["name"],
                    version=card["version"],
                    arch=card["arch"],
                    kind=card["kind"],
                    file_path=str(target / f"{card['name']}.keras"),
                    sha256=card["sha256"],
                    card=card,
                )
                for target, card in placed
            ]
            if activate:
                _activate_all(models)
    except Exception:
        for target, _card in placed:
            shutil.rmtree(target, ignore_errors=True)
            _remove_empty_parent(target.parent)
        raise
    return models


def _remove_empty_parent(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # other versions of the model live there
        pass


def incoming_dir() -> tempfile.TemporaryDirectory:
    """A private work folder under MODELS_ROOT, removed with everything in it when done."""
    root = Path(settings.MODELS_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=root, prefix=".incoming-")


def model_install(
    *,
    source: str,
    sha256: str | None = None,
    name: str | None = None,
    activate: bool = False,
    format: str = KERAS,
    version: str | None = None,
) -> DetectorModel:
    """Install a model from a path or URL; raises ModelError with the reason when refused.

    format "keras": NAME.keras with its card beside it. Any other format names a converter
    (ml.models.convert): one file of published weights, or a folder in the Hugging Face layout
    for a converter that reads one, converted here (name and version are then required).
    """
    with incoming_dir() as tmp:
        workdir = Path(tmp)
        if format == KERAS:
            candidate = candidate_check(
                _keras_candidate(str(source), workdir, sha256=sha256, name=name)
            )
        else:
            candidate = _converted_candidate(
                format, str(source), workdir, sha256=sha256, name=name, version=version
            )
        (model,) = model_install_checked(candidates=[candidate], workdir=workdir, activate=activate)
    return model


def _keras_candidate(
    source: str, workdir: Path, *, sha256: str | None, name: str | None
) -> Candidate:
    model_file, card_file = _fetch(source, workdir, sha256)
    card = _read_card(card_file)
    digest = file_sha256(model_file)
    if sha256 and digest != sha256.lower():
        raise ModelError("The model file does not match the sha256 given.")
    if card.get("sha256") and card["sha256"].lower() != digest:
        raise ModelError("The model file does not match the sha256 written on its card.")
    card = {**card, "name": name or card["name"]}
    return Candidate(model_file, card, source, plots_dir=model_file.parent)


def _fetch_file(source: str, workdir: Path, sha256: str | None) -> Path:
    """A local path as it is, or a URL downloaded into workdir (checked against sha256)."""
    if not _is_url(source):
        path = Path(source)
        if not path.is_file():
            raise ModelError(f"There is no file at {path}.")
        if sha256 and file_sha256(path) != sha256.lower():
            raise ModelError(f"{path.name} does not match the sha256 given.")
        return path
    try:
        return download(source, workdir / Path(urlparse(source).path).name, sha256=sha256)
    except DownloadError as exc:
        raise ModelError(str(exc)) from exc


def _weights_in_folder(source: str, converter: Converter) -> str:
    """A local folder → the weights file its converter reads there (the Hugging Face layout)."""
    folder = Path(source)
    if _is_url(source) or not folder.is_dir():
        return source
    if converter.folder_file is None:
        raise ModelError(f"{folder} is a folder; the format {converter.name} takes one file.")
    weights = folder / converter.folder_file
    if not weights.is_file():
        raise ModelError(f"The folder {folder} holds no {converter.folder_file}.")
    return str(weights)


def _converted_candidate(
    format: str,
    source: str,
    workdir: Path,
    *,
    sha256: str | None,
    name: str | None,
    version: str | None,
) -> Candidate:
    """Published weights converted and checked by ml; refused before any download or
    conversion when the format is unknown or the name is taken."""
    converter = converter_for(format)
    if not name or not version:
        raise ModelError(f"A {converter.what} needs --name and --version.")
    _refuse_if_installed({"name": name, "version": version})
    published = _fetch_file(_weights_in_folder(source, converter), workdir, sha256)
    converted = convert_file(format, published, workdir, name=name, version=version, url=source)
    return Candidate(converted.model_file, converted.card, source)


# --- activation and evaluation ---------------------------------------------------------------


@transaction.atomic
def model_activate(
    *, model: DetectorModel, ensemble: bool = False, weight: float | None = None
) -> DetectorModel:
    """Make new analyses use this model; without ensemble=True, the others of its kind stop."""
    if not ensemble:
        DetectorModel.objects.filter(kind=model.kind, active=True).exclude(pk=model.pk).update(
            active=False
        )
    model.active = True
    if weight is not None:
        if weight <= 0:
            raise ModelError("An ensemble weight must be positive.")
        model.ensemble_weight = weight
    model.save(update_fields=["active", "ensemble_weight"])
    return model


def model_deactivate(*, model: DetectorModel) -> DetectorModel:
    model.active = False
    model.save(update_fields=["active"])
    return model


def model_store_evaluation(
    *,
    model: DetectorModel,
    evaluation: dict[str, Any],
    dataset: str,
    plots: dict[str, str] | None = None,
) -> DetectorModel:
    """Append an evaluation (metrics from ml.evaluate) to the card; its plots go beside the model."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    kept = {}
    for key, path in (plots or {}).items():
        target = model_dir(model) / f"eval-{stamp}-{Path(path).name}"
        shutil.copy2(path, target)
        kept[key] = target.name
    record = {
        "dataset": dataset,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "frame": evaluation.get("frame"),
        "video": evaluation.get("video"),
        "plots": kept,
    }
    card = dict(model.card)
    card["evaluations"] = [*card.get("evaluations", []), record]
    if "platform_evaluation" in card:
        card["platform_evaluation"] = f"evaluated on {dataset} at {record['at']} (see evaluations)"
    model.card = card
    model.save(update_fields=["card"])
    card_file = card_path_for(model.file_path)
    card_file.write_text(json.dumps(card, indent=2))
    return model
