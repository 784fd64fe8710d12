"""Published weights on this machine → checked Keras model files with honest cards, in one call.

Each file is converted by the registry's converter for its format (ml.models.convert), given its
card, and proven usable (ml.models.verify.check_model_file) before the platform sees it. Fetching
the files and registering the models are the platform's work, not this module's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.models.catalog import NOT_EVALUATED, CatalogEntry, CatalogFile, catalog_card
from ml.models.checksum import file_sha256
from ml.models.convert import convert
from ml.models.verify import check_model_file


@dataclass
class Converted:
    """A converted model file and its card: checked against each other, the sha256 recorded."""

    model_file: Path
    card: dict[str, Any]


def convert_published(
    entry: CatalogEntry, sources: Sequence[Path], workdir: Path, *, consume: bool = False
) -> list[Converted]:
    """The files of a catalog entry (`sources`, in the order of `entry.files`) → one checked
    `workdir/NAME.keras` each. With `consume`, each source is removed once converted, so that
    an ensemble of large checkpoints needs the disk of one raw file at a time."""
    by_file = dict(zip(entry.files, map(Path, sources), strict=True))
    return [
        _convert_catalog_model(entry, files, [by_file[f] for f in files], workdir, consume=consume)
        for files in entry.models.values()
    ]


def _convert_catalog_model(
    entry: CatalogEntry,
    files: tuple[CatalogFile, ...],
    paths: list[Path],
    workdir: Path,
    *,
    consume: bool,
) -> Converted:
    file = files[0]
    dest = workdir / f"{file.model_name}.keras"
    card = catalog_card(entry, file)
    source = paths[0]
    if len(files) > 1:  # one model from several files (a backbone and a head): their folder
        source = workdir / f"{file.model_name}.parts"
        source.mkdir()
        for part, path in zip(files, paths, strict=True):
            (source / part.filename).symlink_to(path.resolve())
    card.update(convert(entry.converter, source, dest, arch=entry.arch))
    # What the catalog knows about the family wins over what a converter assumes.
    card.update({key: entry.card[key] for key in ("framing", "compute") if key in entry.card})
    card["family"] = entry.name
    # What was actually converted (the release may publish no checksum to compare with).
    card["source"]["file_sha256"] = file_sha256(paths[0])
    if len(files) > 1:
        card["source"]["parts"] = [
            {"file": f.filename, "url": f.url, "file_sha256": file_sha256(path)}
            for f, path in zip(files, paths, strict=True)
        ]
    if consume:
        for path in paths:
            path.unlink()
    return _checked(dest, card)


def convert_file(
    format: str, source: Path, workdir: Path, *, name: str, version: str, url: str
) -> Converted:
    """One file of a converter's `format` (from `url`, a path or an address) → a checked
    `workdir/NAME.keras` with its card."""
    card = {
        "name": name,
        "version": version,
        "kind": "frame",
        "threshold": 0.5,  # the sigmoid midpoint: not tuned on platform data
        "source": {"url": url, "sha256": file_sha256(source)},
        "platform_evaluation": NOT_EVALUATED,
    }
    dest = workdir / f"{name}.keras"
    card.update(convert(format, source, dest))
    return _checked(dest, card)


def _checked(model_file: Path, card: dict[str, Any]) -> Converted:
    check_model_file(model_file, card)
    return Converted(model_file, {**card, "sha256": file_sha256(model_file)})
