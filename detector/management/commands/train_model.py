"""Train a detector model: `manage.py train_model --arch efficientnet_b7 --data DIR [...]`.

Writes `<out>/<name>.keras` and `<out>/<name>.card.json`; with --install the model is registered
(and with --activate used by new analyses). See docs/models.md for datasets and recipes.
"""

from __future__ import annotations

import sys
from argparse import BooleanOptionalAction
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from detector.services import model_install
from ml.errors import MediaError, ModelError
from ml.training import TrainConfig, train


def render_progress(write, event: dict) -> None:
    """One line, rewritten in place: a bar, the epoch, the loss, the last validation AUC, the ETA."""
    if "stage" in event:
        done, total = event["done"], event["total"]
        write(f"\r{event['stage']}: {done}/{total} files")
        if done == total:
            write("\n")
        return
    fraction = event["batch"] / event["steps"]
    bar = "#" * int(fraction * 30)
    auc = event["metrics"].get("val_auc")
    minutes, seconds = divmod(int(event["eta_s"]), 60)
    write(
        f"\repoch {event['epoch']}/{event['epochs']} [{bar:<30}] loss {event['loss']:.4f}"
        f" val_auc {'-' if auc is None else f'{auc:.4f}'} ETA {minutes}:{seconds:02d}"
    )
    if event["batch"] == event["steps"]:
        write("\n")


def _value_type(annotation: Any) -> type:
    """int for `int` and `int | None`; the type argparse converts a value with."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    return args[0] if args else annotation


def add_config_arguments(parser) -> None:
    """One option per TrainConfig field, with the field's help; defaults stay on the field
    (an option left out is not passed, so the field's default applies)."""
    hints = get_type_hints(TrainConfig)
    for f in fields(TrainConfig):
        meta = dict(f.metadata)
        if meta.pop("skip", False):
            continue
        flag = meta.pop("flag", "--" + f.name.replace("_", "-"))
        kind = _value_type(hints[f.name])
        if f.default is MISSING and f.default_factory is MISSING:
            meta["required"] = True
        elif f.default is not None and not isinstance(f.default, bool):
            meta["help"] += f" (default {f.default})"
        if kind is bool:
            action = "store_true" if f.default is False else BooleanOptionalAction
            parser.add_argument(flag, dest=f.name, action=action, default=None, **meta)
        else:
            parser.add_argument(flag, dest=f.name, type=kind, default=None, **meta)


def config_from_options(opts: dict[str, Any]) -> TrainConfig:
    given = {f.name: opts[f.name] for f in fields(TrainConfig) if opts.get(f.name) is not None}
    if "out" not in given:  # the default folder, inside the project rather than the cwd
        given["out"] = Path(settings.BASE_DIR) / TrainConfig.__dataclass_fields__["out"].default
    dataset_options = {}
    if opts["methods"]:
        dataset_options["methods"] = opts["methods"].split(",")
    if opts["compression"]:
        dataset_options["compression"] = opts["compression"]
    return TrainConfig(**given, dataset_options=dataset_options)


class Command(BaseCommand):
    help = "Train a deepfake detector on a dataset folder and write the model file and its card."

    def add_arguments(self, parser):
        add_config_arguments(parser)
        parser.add_argument(
            "--methods", default=None, help="FaceForensics++ methods, comma separated"
        )
        parser.add_argument("--compression", default=None, help="FaceForensics++ raw, c23 or c40")
        parser.add_argument("--install", action="store_true", help="register the trained model")
        parser.add_argument(
            "--activate",
            action="store_true",
            help="register it and use it for new analyses",
        )

    def handle(self, *args, **opts):
        config = config_from_options(opts)
        stream = self.stdout if self.stdout.isatty() else sys.stderr

        def write(text):
            stream.write(text)
            stream.flush()

        try:
            result = train(config, progress=lambda event: render_progress(write, event))
        except (MediaError, ModelError) as exc:
            raise CommandError(str(exc)) from exc
        frame = result.card["metrics"]["validation"]["frame"]
        self.stdout.write(
            f"Wrote {result.model_path} and {result.card_path}\n"
            f"Validation: AUC {frame['auc']:.4f}, accuracy {frame['accuracy']:.4f}, "
            f"threshold {result.card['threshold']:.3f}"
        )
        if opts["install"] or opts["activate"]:
            try:
                model = model_install(source=str(result.model_path), activate=opts["activate"])
            except ModelError as exc:
                raise CommandError(str(exc)) from exc
            state = "installed and active" if model.active else "installed"
            self.stdout.write(f"{model.name} {model.version} {state}.")
