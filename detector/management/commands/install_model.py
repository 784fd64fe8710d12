"""Install a detector model.

    manage.py install_model --list                        the published detectors (ml/models/catalog.py)
    manage.py install_model NAME [--mirror DIR|URL] [--activate]
    manage.py install_model PATH_OR_URL [--sha256 HEX] [--name N] [--activate]
    manage.py install_model PATH_OR_URL --format CONVERTER --name N --version V [--activate]
    manage.py install_model --first-run                   DETECTORS (default meso4-df), once
    manage.py install_model --export-missing              the CPU exports installed models lack

For a .keras file the card must sit next to it as NAME.card.json (for a URL: the same address
ending in .card.json). The other formats are those ml's converters read (ml.models.convert).
A refused model leaves nothing installed. A large frame model gets its CPU (LiteRT) export right
after it is installed, so that no analysis waits for one (services.model_exports).
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from detector.selectors import frame_model_installed, published_model_state
from detector.services import model_exports_make, model_install, published_model_install
from detector.services.published_models import FIRST_RUN_TIMEOUT
from ml.errors import ModelError
from ml.models.catalog import CATALOG, CatalogEntry, human_size
from ml.models.convert import CONVERTERS, FORMATS, KERAS


class Command(BaseCommand):
    _entry: CatalogEntry | None = None  # announced with the first downloaded bytes
    _shown: tuple[str, int] | None = None  # the progress line last written
    help = (
        "Install a published detector by name (see --list), or a model (.keras + card, "
        "or published weights a converter reads) from a path or an http(s) URL."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the model's version here, replacing Django's version flag.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            "source",
            nargs="?",
            help="a catalog name, or the path or URL of a model file",
        )
        parser.add_argument("--list", action="store_true", help="list the published detectors")
        parser.add_argument(
            "--mirror",
            default=None,
            help="folder or http(s) address holding the catalog's file names "
            "(default: the MODELS_MIRROR setting, else the upstream addresses)",
        )
        parser.add_argument(
            "--first-run",
            action="store_true",
            help="install and activate DETECTORS if no frame model is installed; "
            "never fails (one line when it cannot)",
        )
        parser.add_argument(
            "--export-missing",
            action="store_true",
            help="make the CPU exports that installed frame models lack (one at a time)",
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default=KERAS,
            help=f"{KERAS}: NAME.keras with its card; "
            + "; ".join(f"{c.name}: a {c.what}, converted" for c in CONVERTERS.values()),
        )
        parser.add_argument("--sha256", default=None, help="expected sha256 of the file")
        parser.add_argument(
            "--name", default=None, help="install under this name instead of the card's"
        )
        parser.add_argument(
            "--version",
            dest="model_version",
            default=None,
            help="version (a --format other than keras)",
        )
        parser.add_argument("--activate", action="store_true", help="use it for new analyses")

    def handle(self, *args, **opts):
        if opts["list"]:
            return self._list()
        if opts["first_run"]:
            return self._first_run()
        if opts["export_missing"]:
            return self._export()
        source = opts["source"]
        if not source:
            raise CommandError("Name a published detector (see --list), a path or a URL.")
        try:
            if source in CATALOG:
                models = self._install_published(source, opts)
            else:
                models = [
                    model_install(
                        source=source,
                        sha256=opts["sha256"],
                        name=opts["name"],
                        activate=opts["activate"],
                        format=opts["format"],
                        version=opts["model_version"],
                    )
                ]
        except ModelError as exc:
            raise CommandError(f"Model refused: {exc}") from exc
        for model in models:
            state = (
                "active"
                if model.active
                else "inactive (activate it in the admin or with --activate)"
            )
            self.stdout.write(
                f"Installed {model.name} {model.version} ({model.arch}, {model.kind}), {state}."
            )
        self._export(models)

    def _export(self, models: list | None = None) -> None:
        """The CPU exports of the models just installed (else of every installed one)."""
        model_exports_make(models=models, say=self._say)

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    # --- catalog ---------------------------------------------------------------------------

    def _mirror(self, given: str | None) -> str | None:
        return given or settings.MODELS_MIRROR or None

    def _install_published(self, name: str, opts) -> list:
        file_options = ("sha256", "name", "model_version")
        if opts["format"] != KERAS or any(opts[key] for key in file_options):
            raise CommandError(
                "--sha256, --name, --version and --format apply to model files; "
                f"{name} is a published detector (see --list)."
            )
        self._entry = CATALOG[name]
        return published_model_install(
            name=name,
            mirror=self._mirror(opts["mirror"]),
            activate=opts["activate"],
            progress=self._progress,
        )

    def _announce(self, entry: CatalogEntry) -> None:
        size = human_size(entry.download_size, exact=entry.size_is_exact)
        files = f"{len(entry.files)} files, " if entry.ensemble else ""
        self.stderr.write(f"{entry.name}: {files}{size} to download ({entry.licence}).")

    def _progress(self, filename: str, done: int, total: int | None) -> None:
        # The total size once the first bytes arrive (so that a machine that is offline
        # only gets the one line saying so), then one line per file, rewritten in place.
        if self._entry is not None:
            self._announce(self._entry)
            self._entry = None
        percent = 100 * done // total if total else done >> 20
        if (filename, percent) == self._shown:
            return
        self._shown = (filename, percent)
        stream = sys.stderr
        if total:
            stream.write(f"\r{filename}: {human_size(done)} of {human_size(total)} ({percent} %)")
        else:
            stream.write(f"\r{filename}: {human_size(done)}")
        if total and done >= total:
            stream.write("\n")
        stream.flush()

    def _list(self) -> None:
        for entry in CATALOG.values():
            size = human_size(entry.download_size, exact=entry.size_is_exact)
            self.stdout.write(
                f"{entry.name} [{published_model_state(entry)}]\n"
                f"  network:  {entry.network}: {entry.summary}\n"
                f"  trained:  {entry.training_data}\n"
                f"  licence:  {entry.licence}\n"
                f"  citation: {entry.citation}\n"
                f"  download: {size}" + (f" in {len(entry.files)} files" if entry.ensemble else "")
            )

    def _first_run(self) -> None:
        """Never fails: without a detector the platform still runs, and says so."""
        name = settings.DETECTORS
        if name not in CATALOG:
            self.stdout.write(
                f"DETECTORS={name!r} is not a published detector ({', '.join(CATALOG)}); "
                "no detector installed."
            )
            return
        if frame_model_installed():
            self._export()  # an install of an earlier version may lack its exports
            return
        entry = self._entry = CATALOG[name]
        try:
            models = published_model_install(
                name=name,
                mirror=self._mirror(None),
                activate=True,
                progress=self._progress,
                timeout=FIRST_RUN_TIMEOUT,
            )
        except ModelError as exc:
            self.stdout.write(
                f"No detector installed: {exc} The platform runs without one; "
                f"install it later with `manage.py install_model {name} --activate`."
            )
            return
        self.stdout.write(f"Installed and activated {name} ({entry.licence}).")
        self._export(models)
