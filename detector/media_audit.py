"""Compare MEDIA_ROOT with the database: files no analysis owns, analyses whose file is gone.

Only the folders the platform writes are looked at (`uploads/`, `derived/`, and the upload
temp dir, FILE_UPLOAD_TEMP_DIR). Files younger than AUDIT_GRACE are left alone: an upload is
stored a moment before its analysis is saved, and a temp file grows while its upload streams in.
An older temp file is an upload whose process died (a killed web worker never removes its own).
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from detector.models import Analysis
from detector.services import analysis_media_remove

AUDIT_GRACE = timedelta(hours=1)


@dataclass
class MediaAudit:
    orphans: list[Path] = field(default_factory=list)  # files and derived folders, absolute
    missing: list[str] = field(default_factory=list)  # media_file values whose file is gone
    stale_temp: list[Path] = field(default_factory=list)  # interrupted uploads' temp files

    @property
    def clean(self) -> bool:
        return not self.orphans and not self.missing and not self.stale_temp


def media_audit() -> MediaAudit:
    root = Path(settings.MEDIA_ROOT)
    settled_before = time.time() - AUDIT_GRACE.total_seconds()
    with_media = Analysis.objects.filter(media_removed_at=None)
    known_files = set(with_media.values_list("media_file", flat=True))
    known_ids = {str(pk) for pk in Analysis.objects.values_list("pk", flat=True)}
    audit = MediaAudit()
    uploads = root / "uploads"
    if uploads.is_dir():
        for path in sorted(uploads.rglob("*")):
            relative = path.relative_to(root).as_posix()
            orphan = path.is_file() and relative not in known_files
            if orphan and path.stat().st_mtime < settled_before:
                audit.orphans.append(path)
    derived = root / "derived"
    if derived.is_dir():
        for folder in sorted(derived.iterdir()):
            orphan = _analysis_id(folder.name) not in known_ids
            if orphan and folder.stat().st_mtime < settled_before:
                audit.orphans.append(folder)
    audit.missing = sorted(f for f in known_files if not (root / f).is_file())
    audit.stale_temp = _stale_temp_files(settled_before)
    return audit


def _stale_temp_files(settled_before: float) -> list[Path]:
    temp = Path(settings.FILE_UPLOAD_TEMP_DIR)
    if not temp.is_dir():
        return []
    return sorted(
        path for path in temp.iterdir() if path.is_file() and path.stat().st_mtime < settled_before
    )


def media_audit_fix(audit: MediaAudit) -> None:
    """Delete the orphans and stale temp files; mark the analyses whose file is missing as having no media."""
    for path in audit.stale_temp:
        path.unlink(missing_ok=True)
    for path in audit.orphans:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    for media_file in audit.missing:
        analysis_media_remove(media_file=media_file)
    _prune_empty_folders(Path(settings.MEDIA_ROOT) / "uploads")


def _analysis_id(name: str) -> str | None:
    try:
        return str(uuid.UUID(name))
    except ValueError:
        return None


def _prune_empty_folders(top: Path) -> None:
    if not top.is_dir():
        return
    for folder in sorted((p for p in top.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
