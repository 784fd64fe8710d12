"""`manage.py analyze FILE`: the platform's analysis, on the command line.

Runs the same `ml.analyze` as the worker, with the same installed models, so what the command
prints is what the platform would store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import ml
from detector.models import DetectorModel
from detector.selectors import model_options, policy_card_active
from ml.errors import MediaError
from ml.faces.saved_crops import CropFolder
from ml.media import reader as media
from ml.options import DEFAULT_FRAMES, FRAMES, AnalysisOptions, ModelSpecs
from ml.verdict.report import FaceResult, Report


class Command(BaseCommand):
    help = "Analyse one image or video file and print the verdict (or the full report as JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the image or video to analyse")
        parser.add_argument("--json", action="store_true", help="print the report JSON")
        parser.add_argument(
            "--frames",
            type=int,
            default=DEFAULT_FRAMES,
            help=f"face crops scored per face ({FRAMES})",
        )
        parser.add_argument(
            "--model",
            help="name of an installed detector model (newest version); default: the active ones",
        )
        parser.add_argument(
            "--save-crops",
            metavar="DIR",
            help="write every face crop each model scored to DIR as PNG, listed in DIR/crops.json",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            chosen = AnalysisOptions(frames=options["frames"])
        except ValueError as exc:
            raise CommandError(f"--{exc}.") from exc
        # A cheap look at the file first: refuse bad input before loading any model.
        _refuse_media_errors(path, media.sniff)
        models = ModelSpecs.from_dict(_chosen_models(options["model"]))
        folder = _crop_folder(options["save_crops"])
        report = _refuse_media_errors(
            path, ml.analyze, chosen, models=models, policy=policy_card_active(), crops=folder
        )
        if folder is not None:
            index = folder.close()
            self.stderr.write(f"{len(folder.entries)} crops saved; listed in {index}")
        if options["json"]:
            self.stdout.write(json.dumps(report.to_dict(), indent=2))
        else:
            self.stdout.write(summary(report))


def _refuse_media_errors(path: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run function(path, ...); unusable media becomes one clear line, not a traceback."""
    try:
        return function(path, *args, **kwargs)
    except MediaError as exc:
        raise CommandError(f"{path}: {exc}") from exc


def _crop_folder(folder: str | None) -> CropFolder | None:
    if folder is None:
        return None
    try:
        return CropFolder(folder)
    except ValueError as exc:
        raise CommandError(f"--save-crops: {exc}.") from exc


def _chosen_models(name: str | None) -> dict[str, list[dict]]:
    """The active models (as the worker uses them), or the newest model of that name."""
    if not name:
        return model_options()
    model = DetectorModel.objects.filter(name=name).order_by("-created").first()
    if model is None:
        raise CommandError(f"No installed detector model is named {name!r}.")
    return model_options([model])


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _face_line(face: FaceResult) -> str:
    line = f"  face {face.track_id}: seen in {face.frames} frame(s)"
    if len(face.fragments) > 1:
        line += f" in {len(face.fragments)} stretches"
    if not face.judged:
        return f"{line}, not judged: {face.not_judged_reason}"
    if face.approximate_framing:
        line += f", approximate framing in {len(face.approximate_framing)} frame(s)"
    return f"{line}, score {_score(face.score)}"


def summary(report: Report) -> str:
    """The report in a few readable lines."""
    size = f"{report.width}x{report.height}"
    length = f", {report.duration_s:.1f} s" if report.duration_s else ""
    lines = [
        f"Verdict: {report.verdict}",
        f"Fake probability: {_score(report.fake_probability)}",
        f"Media: {report.media_type} {size}{length}",
        f"Faces: {len(report.faces)}",
    ]
    lines += [_face_line(f) for f in report.faces]
    if report.blink is not None:
        lines.append(f"Blinks: {report.blink.status.replace('_', ' ')} ({report.blink.count})")
    model = report.classifier
    lines.append(f"Classifier: {model.name} {model.version}" if model else "Classifier: none")
    lines.append("Reasons:")
    lines += [f"  - {reason}" for reason in report.reasons]
    if report.warnings:
        lines.append("Warnings:")
        lines += [f"  - {warning}" for warning in report.warnings]
    lines.append(f"Code version: {report.version}")
    return "\n".join(lines)
