"""Train a detector model: `manage.py train_model --arch efficientnet_b7 --data DIR [...]`.

Writes `<out>/<name>.keras` and `<out>/<name>.card.json`; with --install the model is registered
(and with --activate used by new analyses). See docs/models.md for datasets and recipes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from detector.registry import model_install
from ml.archs import ARCH_NAMES
from ml.errors import MediaError, ModelError
from ml.train import TrainConfig, train


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


class Command(BaseCommand):
    help = "Train a deepfake detector on a dataset folder and write the model file and its card."

    def add_arguments(self, parser):
        parser.add_argument("--arch", default="efficientnet_b7", choices=ARCH_NAMES)
        parser.add_argument("--data", required=True, help="dataset folder")
        parser.add_argument(
            "--layout",
            default="auto",
            help="auto, folders, faceforensics, dfdc, celebdf",
        )
        parser.add_argument("--epochs", type=int, default=20)
        parser.add_argument("--batch", type=int, default=16)
        parser.add_argument("--input-size", type=int, default=None)
        parser.add_argument(
            "--frames", type=int, default=32, help="faces taken per video"
        )
        parser.add_argument(
            "--sequence-length",
            type=int,
            default=16,
            help="temporal architectures: crops per face track the network sees",
        )
        parser.add_argument("--pseudo-fakes", choices=["sbi"], default=None)
        parser.add_argument("--resume", action="store_true")
        parser.add_argument(
            "--init", default="auto", help="imagenet, none or a weights file"
        )
        parser.add_argument("--mixed-precision", action="store_true")
        parser.add_argument("--name", default=None)
        parser.add_argument(
            "--model-version", default=None, help="default: the UTC date and time"
        )
        parser.add_argument(
            "--out", default=None, help="output folder (default var/training)"
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--val-fraction", type=float, default=0.2)
        parser.add_argument("--patience", type=int, default=3)
        parser.add_argument("--learning-rate", type=float, default=None)
        parser.add_argument(
            "--methods", default=None, help="FaceForensics++ methods, comma separated"
        )
        parser.add_argument(
            "--compression", default="c23", help="FaceForensics++ raw, c23 or c40"
        )
        parser.add_argument("--install", action="store_true")
        parser.add_argument("--activate", action="store_true")

    def handle(self, *args, **opts):
        dataset_options = {}
        if opts["methods"]:
            dataset_options["methods"] = opts["methods"].split(",")
        if opts["compression"] != "c23":
            dataset_options["compression"] = opts["compression"]
        config = TrainConfig(
            data=Path(opts["data"]),
            arch=opts["arch"],
            layout=opts["layout"],
            epochs=opts["epochs"],
            batch_size=opts["batch"],
            input_size=opts["input_size"],
            frames=opts["frames"],
            sequence_length=opts["sequence_length"],
            pseudo_fakes=opts["pseudo_fakes"],
            resume=opts["resume"],
            init=opts["init"],
            mixed_precision=opts["mixed_precision"],
            name=opts["name"],
            version=opts["model_version"],
            out=Path(opts["out"] or Path(settings.BASE_DIR) / "var" / "training"),
            seed=opts["seed"],
            val_fraction=opts["val_fraction"],
            patience=opts["patience"],
            learning_rate=opts["learning_rate"],
            dataset_options=dataset_options,
        )
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
                model = model_install(
                    source=str(result.model_path), activate=opts["activate"]
                )
            except ModelError as exc:
                raise CommandError(str(exc)) from exc
            state = "installed and active" if model.active else "installed"
            self.stdout.write(f"{model.name} {model.version} {state}.")
