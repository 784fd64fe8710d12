"""Refresh the trust lists Content Credentials are checked against.

    manage.py update_trust_list                      the official lists' current versions
    manage.py update_trust_list --from DIR|URL       a mirror holding the same file names

The C2PA trust list, the C2PA TSA trust list and the signer-EKU configuration are fetched,
checked and installed under MODELS_ROOT/trust (ml/signals/provenance_trust.py), which the reader
prefers to the lists bundled in the package; each file's source and date go in its SOURCES.json.
Like install_model, the mirror defaults to the MODELS_MIRROR setting. A refused or interrupted
refresh leaves the current lists in place.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml.signals import provenance_trust


class Command(BaseCommand):
    help = (
        "Refresh the C2PA trust list, TSA list and EKU configuration used to check Content "
        "Credentials, from their official addresses or a mirror folder or http(s) address."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from",
            dest="source",
            default=None,
            help="folder or http(s) address holding "
            + ", ".join(provenance_trust.FILES)
            + " (default: the MODELS_MIRROR setting, else the official addresses)",
        )

    def handle(self, *args, **opts):
        source = opts["source"] or settings.MODELS_MIRROR or None
        root = Path(settings.MODELS_ROOT)
        try:
            record = provenance_trust.update(source, root, progress=self._progress)
        except provenance_trust.TrustListError as exc:
            raise CommandError(f"Trust lists not updated (the current ones stay): {exc}") from exc
        except OSError as exc:
            raise CommandError(
                f"Trust lists not updated (the current ones stay): {root} is not writable ({exc})."
            ) from exc
        for name, entry in record["files"].items():
            self.stdout.write(f"{name}: {entry['holds']}, from {entry['source']}")
        self.stdout.write(
            f"Trust lists of {record['updated']} installed in {root / provenance_trust.LINK}; "
            "new analyses check Content Credentials against them."
        )

    def _progress(self, name: str, done: int, total: int | None) -> None:
        if total and done >= total:
            self.stderr.write(f"{name}: {done} bytes")
