"""Install a trained model: `manage.py install_model PATH_OR_URL [--sha256 HEX] [--name] [--activate]`.

The card must sit next to the model as NAME.card.json (for a URL: the same address ending in
.card.json instead of .keras). A refused model leaves nothing installed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from detector.registry import model_install
from ml.errors import ModelError


class Command(BaseCommand):
    help = "Check and install a detector model (.keras + card) from a path or an http(s) URL."

    def add_arguments(self, parser):
        parser.add_argument("source", help="path or URL of NAME.keras")
        parser.add_argument(
            "--sha256", default=None, help="expected sha256 of the .keras file"
        )
        parser.add_argument(
            "--name", default=None, help="install under this name instead of the card's"
        )
        parser.add_argument(
            "--activate", action="store_true", help="use it for new analyses"
        )

    def handle(self, *args, **opts):
        try:
            model = model_install(
                source=opts["source"],
                sha256=opts["sha256"],
                name=opts["name"],
                activate=opts["activate"],
            )
        except ModelError as exc:
            raise CommandError(f"Model refused: {exc}") from exc
        state = (
            "active"
            if model.active
            else "inactive (activate it in the admin or with --activate)"
        )
        self.stdout.write(
            f"Installed {model.name} {model.version} ({model.arch}, {model.kind}), {state}."
        )
