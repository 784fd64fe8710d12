"""Where an analysis' files live: the stored upload and what is made from it.

Uploads are kept under a random name, private to the server; derived files (thumbnails,
previews) sit in a folder per analysis and go with it.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from detector.models import Analysis
from detector.uploads import EXTENSION_FOR_MIME, HASH_CHUNK


def analysis_media_path(analysis: Analysis) -> Path:
    return Path(settings.MEDIA_ROOT) / analysis.media_file


def analysis_derived_dir(analysis: Analysis) -> Path:
    """Files made from an analysis (thumbnails); removed with it or with its media."""
    return derived_dir(analysis.pk)


def derived_dir(analysis_id: Any) -> Path:
    return Path(settings.MEDIA_ROOT) / "derived" / str(analysis_id)


def media_folder(folder: Path) -> Path:
    """Make `folder` under MEDIA_ROOT, it and every level above it up to MEDIA_ROOT mode 0700,
    as docs/deploy.md promises (mkdir's own `parents` would leave the levels above 0755)."""
    root = Path(settings.MEDIA_ROOT)
    levels = [root, *(root / part for part in _parts_below(root, folder))]
    for level in levels:
        level.mkdir(exist_ok=True, mode=0o700)
        if level.stat().st_mode & 0o077:
            try:
                level.chmod(0o700)
            except PermissionError:  # made by someone else (an operator): theirs to set
                pass
    return folder


def _parts_below(root: Path, folder: Path) -> list[Path]:
    relative = folder.relative_to(root)
    return [Path(*relative.parts[: n + 1]) for n in range(len(relative.parts))]


def file_replace_private(partial: Path, target: Path) -> None:
    """Move a finished file into place as 0600: a reader never sees half of it, nor another
    account on the server any of it."""
    partial.chmod(0o600)
    partial.replace(target)


def media_store(
    *, owner: AbstractBaseUser, uploaded_file: UploadedFile, mime: str
) -> tuple[str, str, int]:
    """Copy the upload to a random name under uploads/<user id>/, hashing while copying.

    Returns the path relative to MEDIA_ROOT, the sha256 and the size in bytes.
    """
    relative = Path("uploads") / str(owner.pk) / (secrets.token_hex(16) + EXTENSION_FOR_MIME[mime])
    target = Path(settings.MEDIA_ROOT) / relative
    media_folder(target.parent)
    digest, size = hashlib.sha256(), 0
    uploaded_file.seek(0)
    with open(target, "xb") as out:
        for chunk in uploaded_file.chunks(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    target.chmod(0o600)
    return relative.as_posix(), digest.hexdigest(), size


def file_remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def analysis_files_remove(*, analysis_id: Any, media_file: str) -> None:
    """After a deleted analysis commits: remove its derived files, and its media unless
    another analysis (a re-analysis of the same upload) still uses it.

    Runs for every deletion, also a user's deletion taking their analyses with it
    (`detector.signals`). Files go only after the commit: a rollback must not lose them.
    """

    def remove() -> None:
        shutil.rmtree(derived_dir(analysis_id), ignore_errors=True)
        if not Analysis.objects.filter(media_file=media_file).exists():
            file_remove(Path(settings.MEDIA_ROOT) / media_file)

    transaction.on_commit(remove)
