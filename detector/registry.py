"""The model registry: installing detector models and choosing which ones new analyses use.

A model is a `NAME.keras` file (Keras 3 format) with its card `NAME.card.json` next to it (for a
URL, the card is fetched from the same address with `.keras` replaced by `.card.json`).
`model_install` proves a model usable before it is registered: checksum, card, a real Keras load,
and the loaded network's architecture and input size against the card. It then copies the file,
the card and the card's plots into `MODELS_ROOT/<name>/<version>/`. A refused install leaves
nothing behind: no folder, no row.

One model per kind is active at a time. `model_activate(..., ensemble=True)` keeps the others of
its kind active too: active frame models then form an ensemble whose fake probability is the
weighted mean of their scores, weighted by each model's `ensemble_weight` (default 1.0).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db import transaction

from detector.models import DetectorModel
from ml.archs import ARCH_NAMES
from ml.cards import ModelSpec, card_path_for, validate_card
from ml.checksum import file_sha256
from ml.download import DownloadError, download
from ml.errors import ModelError


def model_spec(model: DetectorModel) -> ModelSpec:
    return ModelSpec(
        name=model.name,
        version=model.version,
        sha256=model.sha256,
        path=model.file_path,
        card=model.card,
        weight=model.ensemble_weight,
    )


def model_options(models: list[DetectorModel] | None = None) -> dict[str, list[dict]]:
    """The "models" and "temporal_models" options of ml.analyze: the given models sorted by
    kind, or else the active ones. The worker and the analyze command both use this, so the
    command line scores with exactly what the platform would."""
    if models is None:
        models = list(DetectorModel.objects.filter(active=True))
    by_kind = {
        "models": DetectorModel.Kind.FRAME,
        "temporal_models": DetectorModel.Kind.TEMPORAL,
    }
    return {
        option: [asdict(model_spec(m)) for m in models if m.kind == kind]
        for option, kind in by_kind.items()
    }


def model_dir(model: DetectorModel) -> Path:
    return Path(model.file_path).parent


# --- install -----------------------------------------------------------------------------------


def _is_url(source: str) -> bool:
    return urlparse(str(source)).scheme in ("http", "https")


def _fetch(source: str, workdir: Path, sha256: str | None) -> tuple[Path, Path]:
    """The model file and its card as local files (downloaded into workdir for a URL)."""
    if not _is_url(source):
        path = Path(source)
        if not path.is_file():
            raise ModelError(f"There is no model file at {path}.")
        return path, card_path_for(path)
    name = Path(urlparse(source).path).name or "model.keras"
    if not name.endswith(".keras"):
        raise ModelError(
            "A model URL must end in .keras (its card sits next to it as .card.json)."
        )
    card_url = (
        source[: -len(".keras")] + ".card.json" if source.endswith(".keras") else None
    )
    try:
        model_file = download(source, workdir / name, sha256=sha256)
        card_file = (
            download(card_url, workdir / card_path_for(name).name) if card_url else None
        )
    except DownloadError as exc:
        raise ModelError(str(exc)) from exc
    return model_file, card_file or workdir / "missing.card.json"


def _read_card(card_file: Path) -> dict[str, Any]:
    if not card_file.is_file():
        raise ModelError(
            f"The model card {card_file.name} was not found next to the model file."
        )
    try:
        card = json.loads(card_file.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"The model card {card_file.name} is not valid JSON.") from exc
    validate_card(card)
    return card


def check_loaded_model(model: Any, card: dict[str, Any]) -> None:
    """The network must be what the card says: architecture, input size, one output."""
    size = card["input_size"]
    expected = (size, size, 3)
    shape = tuple(model.input_shape)
    if card["kind"] == "frame" and shape[1:] != expected:
        raise ModelError(
            f"The card says {size}x{size} RGB input but the network takes {shape[1:]}."
        )
    if card["kind"] == "temporal" and (len(shape) != 5 or shape[2:] != expected):
        raise ModelError(
            f"The card says face tracks of {size}x{size} but the network takes {shape[1:]}."
        )
    if tuple(model.output_shape)[1:] != (1,):
        raise ModelError("The network must output one fake probability per input.")
    # Networks built by ml.archs carry the architecture's name; others are checked by shape only.
    if card["arch"] in ARCH_NAMES and model.name != card["arch"]:
        raise ModelError(
            f"The card says {card['arch']} but the file holds a {model.name} network."
        )


def _load_and_check(model_file: Path, card: dict[str, Any]) -> None:
    import keras

    try:
        model = keras.saving.load_model(model_file, compile=False)
    except Exception as exc:  # a corrupt file raises anything from zip to HDF5 errors
        raise ModelError(
            f"Keras cannot load {model_file.name}: the file is damaged or not a Keras model."
        ) from exc
    check_loaded_model(model, card)


def _copy_plots(
    card: dict[str, Any], source_dir: Path, target_dir: Path
) -> dict[str, str]:
    """Copy the plots the card names that exist next to the model; others are dropped."""
    kept = {}
    for key, filename in (card.get("plots") or {}).items():
        candidates = [source_dir / filename, source_dir / f"{card['name']}.{filename}"]
        found = next((p for p in candidates if p.is_file()), None)
        if found:
            shutil.copy2(found, target_dir / Path(filename).name)
            kept[key] = Path(filename).name
    return kept


def model_install(
    *,
    source: str,
    sha256: str | None = None,
    name: str | None = None,
    activate: bool = False,
) -> DetectorModel:
    """Install a model from a path or URL; raises ModelError with the reason when refused."""
    root = Path(settings.MODELS_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".incoming-") as tmp:
        workdir = Path(tmp)
        model_file, card_file = _fetch(str(source), workdir, sha256)
        card = _read_card(card_file)
        digest = file_sha256(model_file)
        if sha256 and digest != sha256.lower():
            raise ModelError("The model file does not match the sha256 given.")
        if card.get("sha256") and card["sha256"].lower() != digest:
            raise ModelError(
                "The model file does not match the sha256 written on its card."
            )
        card = {**card, "name": name or card["name"], "sha256": digest}
        if DetectorModel.objects.filter(
            name=card["name"], version=card["version"]
        ).exists():
            raise ModelError(f"{card['name']} {card['version']} is already installed.")
        _load_and_check(model_file, card)

        staged = workdir / "staged"
        staged.mkdir()
        shutil.copy2(model_file, staged / f"{card['name']}.keras")
        card["plots"] = _copy_plots(card, model_file.parent, staged)
        card["installed"] = {
            "source": str(source),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (staged / f"{card['name']}.card.json").write_text(json.dumps(card, indent=2))
        target = root / card["name"] / card["version"]
        if target.exists():
            raise ModelError(
                f"{target} already exists; remove it or choose another --name."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.rename(
            target
        )  # same filesystem: the folder appears complete or not at all
    try:
        with transaction.atomic():
            model = DetectorModel.objects.create(
                name=card["name"],
                version=card["version"],
                arch=card["arch"],
                kind=card["kind"],
                file_path=str(target / f"{card['name']}.keras"),
                sha256=digest,
                card=card,
            )
            if activate:
                model_activate(model=model)
    except Exception:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return model


# --- activation and evaluation ---------------------------------------------------------------


@transaction.atomic
def model_activate(
    *, model: DetectorModel, ensemble: bool = False, weight: float | None = None
) -> DetectorModel:
    """Make new analyses use this model; without ensemble=True, the others of its kind stop."""
    if not ensemble:
        DetectorModel.objects.filter(kind=model.kind, active=True).exclude(
            pk=model.pk
        ).update(active=False)
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
    model.card = card
    model.save(update_fields=["card"])
    card_file = card_path_for(model.file_path)
    card_file.write_text(json.dumps(card, indent=2))
    return model
