"""Check MEDIA_ROOT against the database: `manage.py media_audit [--fix]`.

Lists files no analysis owns, analyses whose file is missing and temp files of interrupted
uploads; `--fix` deletes the orphans and the temp files and marks those analyses as having no media (their results stay). Exit status 1
when something was found and not fixed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from detector.media_audit import media_audit, media_audit_fix


class Command(BaseCommand):
    help = "Find orphaned media files and analyses whose media is missing; --fix repairs both."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fix",
            action="store_true",
            help="delete orphaned files, mark analyses with missing media",
        )

    def handle(self, *args, **opts):
        audit = media_audit()
        for path in audit.orphans:
            self.stdout.write(f"orphan: {path.relative_to(settings.MEDIA_ROOT)}")
        for media_file in audit.missing:
            self.stdout.write(f"missing: {media_file}")
        for path in audit.stale_temp:
            self.stdout.write(f"interrupted upload: {path}")
        self.stdout.write(f"{len(audit.orphans)} orphaned, {len(audit.missing)} missing.")
        if audit.stale_temp:
            self.stdout.write(f"{len(audit.stale_temp)} temp files of interrupted uploads.")
        if audit.clean:
            return
        if opts["fix"]:
            media_audit_fix(audit)
            self.stdout.write(
                "Fixed: orphans and temp files deleted, analyses with missing media marked."
            )
        else:
            raise SystemExit(1)
