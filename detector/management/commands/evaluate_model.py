"""Evaluate an installed model on a dataset: `manage.py evaluate_model NAME --data DIR`.

Prints frame- and video-level metrics and stores them, with ROC and histogram plots, on the
model's card (shown in the admin).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from detector.models import DetectorModel
from detector.selectors import model_spec
from detector.services import model_store_evaluation
from ml.datasets import load_dataset
from ml.datasets.extract import extract_faces, loose_size_for
from ml.errors import MediaError, ModelError
from ml.evaluate import evaluate_model
from ml.models.cards import METRICS
from ml.options import DEFAULT_FRAMES


class Command(BaseCommand):
    help = "Measure an installed model on a dataset and store the metrics on its card."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--model-version",
            default=None,
            help="default: the newest installed version",
        )
        parser.add_argument("--data", required=True)
        parser.add_argument("--layout", default="auto")
        parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES)
        parser.add_argument(
            "--split",
            choices=["all", "test"],
            default="all",
            help="test: only the items the dataset's official test list names",
        )
        parser.add_argument("--cache", default=None, help="face cache folder")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        models = DetectorModel.objects.filter(name=opts["name"])
        if opts["model_version"]:
            models = models.filter(version=opts["model_version"])
        model = models.order_by("-created").first()
        if model is None:
            raise CommandError(f"No installed model named {opts['name']}.")
        card = model.card
        try:
            dataset = load_dataset(opts["data"], opts["layout"])
            items = [i for i in dataset.items if opts["split"] == "all" or i.subset == "test"]
            with tempfile.TemporaryDirectory() as tmp:
                cache = Path(opts["cache"] or Path(tmp) / "faces")
                samples = extract_faces(
                    items,
                    cache,
                    frames=opts["frames"],
                    loose_size=loose_size_for(card["input_size"]),
                )
                if not samples:
                    raise MediaError("No faces were found in the dataset.")
                result = evaluate_model(model_spec(model), samples, out_dir=Path(tmp) / "plots")
                model_store_evaluation(
                    model=model,
                    evaluation=result,
                    dataset=f"{dataset.root} ({dataset.layout})",
                    plots=result["plots"],
                )
        except (MediaError, ModelError) as exc:
            raise CommandError(str(exc)) from exc
        if opts["json"]:
            self.stdout.write(json.dumps({k: result[k] for k in ("frame", "video")}, indent=2))
            return
        for level in ("frame", "video"):
            values = result[level]
            shown = ", ".join(f"{k} {values[k]:.4f}" for k in METRICS if values.get(k) is not None)
            self.stdout.write(f"{level} ({values['count']}): {shown}")
        self.stdout.write(f"Stored on the card of {model.name} {model.version}.")
