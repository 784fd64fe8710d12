"""Calibrate the whole verdict on labelled files: `manage.py calibrate DIR` (any layout
ml.datasets reads), `--csv FILE` (path,label) or `--reviewed` (staff-reviewed analyses).

Runs every file through `ml.analyze` with the active models and the active policy, writes a
report (HTML page, JSON, reliability diagram) under MEDIA_ROOT/reports/, and proposes the
bounds that reach `--target` accuracy among confident verdicts at the highest coverage.
`--apply` stores them as a new policy card; without it nothing changes.
"""

from __future__ import annotations

import csv
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from detector.models import Analysis
from detector.selectors import model_options, policy_card_active
from detector.services import analysis_media_path, policy_card_next_version, policy_card_write
from ml.datasets import load_dataset
from ml.errors import MediaError, ModelError
from ml.options import DEFAULT_FRAMES, AnalysisOptions, ModelSpecs
from ml.verdict import calibration
from ml.verdict.calibration_page import write_report
from ml.verdict.policy import DEFAULT_POLICY_VERSION

LABEL_WORDS = {"real": 0, "0": 0, "fake": 1, "1": 1}
REVIEWED = {
    Analysis.ReviewLabel.CONFIRMED_REAL: 0,
    Analysis.ReviewLabel.CONFIRMED_FAKE: 1,
}


class Command(BaseCommand):
    help = "Measure the whole verdict on labelled files and propose calibrated decision bounds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("data", nargs="?", help="a labelled folder (real/ and fake/, …)")
        parser.add_argument("--layout", default="auto")
        parser.add_argument("--csv", help="a CSV file of path,label (real or fake)")
        parser.add_argument("--reviewed", action="store_true", help="staff-reviewed analyses")
        parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES)
        parser.add_argument("--target", type=float, default=0.95, help="accuracy to reach")
        parser.add_argument("--apply", action="store_true", help="store the proposal")
        parser.add_argument("--by", default=None, help="who calibrates (default: OS user)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not 0.5 < opts["target"] < 1.0:
            raise CommandError("--target is an accuracy between 0.5 and 1.")
        items, source = self._items(opts)
        if len({label for _, label in items}) < 2:
            raise CommandError("Calibration needs labelled real and fake files.")
        models = ModelSpecs.from_dict(model_options())
        active = policy_card_active()
        outcomes, skipped = self._run(items, opts, models, active)
        if len({o.label for o in outcomes}) < 2:
            raise CommandError("Too few files could be analysed to measure anything.")
        now = datetime.now(UTC)
        result = {
            **calibration.calibrate(outcomes, target=opts["target"]),
            "created": now.isoformat(timespec="seconds"),
            "data": {"source": source, "items": len(items)},
            "target": opts["target"],
            "policy_version": _judging_version(active, models),
            "models": [s.name + " " + s.version for s in (*models.frame, *models.temporal)],
            "skipped": skipped,
        }
        folder = Path(settings.MEDIA_ROOT) / "reports" / f"calibration-{now:%Y%m%d-%H%M%S}"
        paths = write_report(result, folder)
        if opts["apply"]:
            result["applied"] = self._apply(result, opts, models, now)
            paths["json"].write_text(json.dumps(result, indent=2))
        self._print(result, paths, opts["json"])

    def _items(self, opts: dict[str, Any]) -> tuple[list[tuple[str, int]], str]:
        chosen = [bool(opts["data"]), bool(opts["csv"]), opts["reviewed"]]
        if sum(chosen) != 1:
            raise CommandError("Give exactly one of: a folder, --csv FILE or --reviewed.")
        if opts["csv"]:
            return _csv_items(Path(opts["csv"])), f"CSV {opts['csv']}"
        if opts["reviewed"]:
            return _reviewed_items(), "staff-reviewed analyses"
        try:
            dataset = load_dataset(opts["data"], opts["layout"])
        except MediaError as exc:
            raise CommandError(str(exc)) from exc
        items = [(str(i.path), i.label) for i in dataset.items]
        return items, f"{dataset.root} ({dataset.layout} layout)"

    def _run(self, items, opts, models, active):
        try:
            options = AnalysisOptions(frames=opts["frames"])
        except ValueError as exc:
            raise CommandError(f"--{exc}.") from exc
        with tqdm(total=len(items), unit="file", file=sys.stderr, desc="Calibrating") as bar:
            try:
                return calibration.run(
                    items,
                    options=options,
                    models=models,
                    policy_card=active,
                    progress=lambda done, path: bar.update(done - bar.n),
                )
            except ModelError as exc:
                raise CommandError(f"The installed detector model is unusable: {exc}") from exc

    def _apply(self, result, opts, models, now) -> dict[str, Any]:
        if result["proposal"] is None:
            raise CommandError(
                f"No bounds reach {opts['target']:.0%} accuracy among confident verdicts on "
                "this data; nothing was applied."
            )
        card = calibration.policy_card_dict(
            result,
            version=policy_card_next_version(),
            created_by=opts["by"] or getpass.getuser(),
            created=now.isoformat(timespec="seconds"),
            data=result["data"],
            models=models,
        )
        path = policy_card_write(card=card)
        return {"version": card["version"], "path": str(path)}

    def _print(self, result: dict[str, Any], paths: dict[str, Path], as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(result, indent=2))
            return
        metrics, current = result["metrics"], result["metrics"]["current"]
        self.stdout.write(
            f"{metrics['items']} files ({metrics['real']} real, {metrics['fake']} fake); "
            f"AUC {_fmt(metrics['auc']['auc'])}; coverage {_fmt(current['coverage'])}, "
            f"accuracy among confident verdicts {_fmt(current['accuracy'])} "
            f"(policy {result['policy_version']})"
        )
        proposal = result["proposal"]
        if proposal is None:
            self.stdout.write(f"No bounds reach {result['target']:.0%} accuracy.")
        else:
            after = proposal["confusion"]
            self.stdout.write(
                f"Proposed: real at or below {_fmt(proposal['real_below'])}, fake at or above "
                f"{_fmt(proposal['fake_from'])}: coverage {_fmt(after['coverage'])}, accuracy "
                f"{_fmt(after['accuracy'])}"
            )
        if "applied" in result:
            self.stdout.write(f"Applied as policy {result['applied']['version']}.")
        self.stdout.write(f"Report: {paths['html']}")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _judging_version(active, models: ModelSpecs) -> str:
    if active is not None and active.applies_to(models.sha256s()):
        return active.version
    return DEFAULT_POLICY_VERSION


def _csv_items(path: Path) -> list[tuple[str, int]]:
    if not path.is_file():
        raise CommandError(f"{path} does not exist.")
    items = []
    with path.open(newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or (number == 1 and row[-1].strip().lower() == "label"):
                continue
            if len(row) != 2 or row[1].strip().lower() not in LABEL_WORDS:
                raise CommandError(f"{path}, line {number}: expected path,label (real or fake).")
            file = Path(row[0].strip())
            items.append((str(file if file.is_absolute() else path.parent / file), _label(row)))
    return items


def _label(row: list[str]) -> int:
    return LABEL_WORDS[row[1].strip().lower()]


def _reviewed_items() -> list[tuple[str, int]]:
    reviewed = Analysis.objects.filter(
        review_label__in=list(REVIEWED), media_removed_at__isnull=True
    ).order_by("created")
    # One file analysed again and again is one labelled item.
    items = {str(analysis_media_path(a)): REVIEWED[a.review_label] for a in reviewed}
    return [(path, label) for path, label in items.items() if Path(path).is_file()]
