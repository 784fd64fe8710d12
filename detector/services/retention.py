"""Keeping uploaded media only as long as needed: results stay, files go."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from detector.models import Analysis
from detector.services.analyses import UNFINISHED
from detector.services.files import derived_dir, file_remove

logger = logging.getLogger(__name__)


def analysis_media_remove(*, media_file: str) -> int:
    """Delete an uploaded file and everything made from it; the analyses that used it keep
    their results and record when the media was removed. Returns how many analyses used it."""
    with transaction.atomic():
        users = Analysis.objects.filter(media_file=media_file, media_removed_at=None)
        pks = list(users.values_list("pk", flat=True))
        users.update(media_removed_at=timezone.now())

        def remove() -> None:
            file_remove(Path(settings.MEDIA_ROOT) / media_file)
            for pk in pks:
                shutil.rmtree(derived_dir(pk), ignore_errors=True)

        transaction.on_commit(remove)
    return len(pks)


def media_retention_apply(*, days: int, now: datetime | None = None) -> int:
    """Remove uploaded files older than `days` (counted from the upload); results stay.

    A file that a queued or running analysis still needs waits for the next run.
    Returns how many files were removed.
    """
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with_media = Analysis.objects.filter(media_removed_at=None).order_by()
    busy = with_media.filter(status__in=UNFINISHED).values("media_file")
    expired = (
        with_media.values("media_file")
        .annotate(uploaded=Min("created"))
        .filter(uploaded__lt=cutoff)
        .exclude(media_file__in=busy)
    )
    files = [row["media_file"] for row in expired]
    for media_file in files:
        analysis_media_remove(media_file=media_file)
    if files:
        logger.info("Media retention (%s days): removed %s files", days, len(files))
    return len(files)
