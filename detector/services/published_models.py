"""Installing the published detectors of the catalog (ml/models/catalog.py) by name.

Files come from their upstream addresses, or from a mirror: a local folder holding the same file
names, or an http(s) address serving them (`install_model NAME --mirror`, or MODELS_MIRROR).
Downloads resume where they stopped (HTTP Range) and are checked against the catalog's sha256
where it is known. One call to ml (`ml.models.convert.published.convert_published`) turns the
files into checked Keras models with honest cards; they are installed through services.models'
one staged, atomic step, and a catalog entry of several files (an ensemble) whole or not at all.

Only an interrupted download leaves something behind on failure: what arrived, under
MODELS_ROOT/.downloads/, so that running the same command again resumes it. Once the files
are converted, installed or refused, the downloads are removed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings

from detector.models import DetectorModel
from detector.services.models import Candidate, incoming_dir, model_install_checked
from ml.errors import ModelError
from ml.models.catalog import CatalogEntry, CatalogFile, catalog_entry
from ml.models.checksum import file_sha256
from ml.models.convert.published import convert_published
from ml.models.download import TIMEOUT_S, DownloadError, Timeout, download

# progress(file name, bytes done, bytes expected or None)
Progress = Callable[[str, int, int | None], None]
# First run: a machine that is offline must not hold up the start for long.
FIRST_RUN_TIMEOUT: Timeout = (5, 30)


def _is_url(text: str) -> bool:
    return urlparse(text).scheme in ("http", "https")


def downloads_dir() -> Path:
    return Path(settings.MODELS_ROOT) / ".downloads"


def _from_folder(file: CatalogFile, folder: Path) -> Path:
    path = folder / file.filename
    if not path.is_file():
        raise ModelError(f"{file.filename} is not in the mirror folder {folder}.")
    if file.sha256 and file_sha256(path) != file.sha256:
        raise ModelError(f"{path} does not match the sha256 published for {file.filename}.")
    return path


def _is_folder(mirror: str | None) -> bool:
    return bool(mirror) and not _is_url(mirror)


def _fetch(
    file: CatalogFile,
    *,
    mirror: str | None,
    progress: Progress | None,
    timeout: Timeout,
) -> tuple[Path, str]:
    """The file on this machine, and where it came from."""
    if _is_folder(mirror):
        path = _from_folder(file, Path(mirror).resolve())
        return path, str(path)
    url = f"{mirror.rstrip('/')}/{file.filename}" if mirror else file.url
    dest = downloads_dir() / file.filename
    if dest.is_file() and (not file.sha256 or file_sha256(dest) == file.sha256):
        return dest, url  # completed by an earlier run that stopped at a later file
    report = (lambda done, total: progress(file.filename, done, total)) if progress else None
    try:
        path = download(
            url,
            dest,
            sha256=file.sha256,
            progress=report,
            timeout=timeout,
        )
    except DownloadError as exc:
        raise ModelError(str(exc)) from exc
    return path, url


def _refuse_if_installed(entry: CatalogEntry) -> None:
    """Before downloading anything: the entry's model names must be free."""
    names = [f.model_name for f in entry.files]
    taken = DetectorModel.objects.filter(name__in=names, version=entry.version)
    if taken.exists():
        raise ModelError(f"{entry.name} {entry.version} is already installed.")


def _remove_downloads(entry: CatalogEntry) -> None:
    """Complete downloads are consumed by the install (or useless after a refusal)."""
    for file in entry.files:
        (downloads_dir() / file.filename).unlink(missing_ok=True)
    _remove_empty_downloads_dir()


def _remove_empty_downloads_dir() -> None:
    try:
        downloads_dir().rmdir()
    except OSError:  # absent, or it holds a download to resume
        pass


def published_model_install(
    *,
    name: str,
    mirror: str | None = None,
    activate: bool = False,
    progress: Progress | None = None,
    timeout: Timeout = TIMEOUT_S,
) -> list[DetectorModel]:
    """Install the catalog entry `name`; raises ModelError with the reason when refused.

    With activate, a single model replaces the active frame model; the files of an ensemble
    entry replace the active frame models and are active together.
    """
    entry = catalog_entry(name)
    _refuse_if_installed(entry)
    try:
        fetched = [
            _fetch(f, mirror=mirror, progress=progress, timeout=timeout) for f in entry.files
        ]
    except ModelError:
        _remove_empty_downloads_dir()  # what arrived stays, so that the next run resumes
        raise
    try:
        with incoming_dir() as tmp:
            workdir = Path(tmp)
            # Downloads are consumed as they are converted; a mirror folder's files stay.
            converted = convert_published(
                entry, [path for path, _ in fetched], workdir, consume=not _is_folder(mirror)
            )
            origins = {f.filename: origin for f, (_, origin) in zip(entry.files, fetched)}
            candidates = [
                Candidate(c.model_file, c.card, " + ".join(origins[f.filename] for f in files))
                for c, files in zip(converted, entry.models.values(), strict=True)
            ]
            return model_install_checked(candidates=candidates, workdir=workdir, activate=activate)
    finally:
        _remove_downloads(entry)
