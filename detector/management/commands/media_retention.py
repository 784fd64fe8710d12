"""Delete uploaded files older than MEDIA_RETENTION_DAYS: `manage.py media_retention [--days N]`.

Results stay; each analysis records when its media was removed. The worker runs this once a
day by itself when MEDIA_RETENTION_DAYS is set.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from detector.services import media_retention_apply


class Command(BaseCommand):
    help = "Delete uploaded media older than the retention period; keep the results."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="retention in days (default: MEDIA_RETENTION_DAYS)",
        )

    def handle(self, *args, **opts):
        days = opts["days"] if opts["days"] is not None else settings.MEDIA_RETENTION_DAYS
        if days <= 0:
            raise CommandError(
                "No retention period: set MEDIA_RETENTION_DAYS or pass --days N (N > 0)."
            )
        removed = media_retention_apply(days=days)
        self.stdout.write(f"{removed} uploaded files older than {days} days removed.")
