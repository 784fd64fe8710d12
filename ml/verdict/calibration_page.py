"""The calibration report: `calibration.json`, a reliability diagram (PNG, matplotlib's Agg
backend) and an `index.html` page that shows both, written into one folder."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from ml.verdict.report import VERDICTS


def write_report(result: dict[str, Any], folder: Path | str) -> dict[str, Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / "calibration.json",
        "diagram": folder / "reliability.png",
        "html": folder / "index.html",
    }
    paths["json"].write_text(json.dumps(result, indent=2))
    _diagram(result["metrics"]["reliability"], paths["diagram"])
    paths["html"].write_text(_page(result, paths["diagram"].name))
    return paths


def _diagram(bins: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfectly calibrated")
    if bins:
        ax.plot(
            [b["mean_score"] for b in bins],
            [b["fake_share"] for b in bins],
            marker="o",
            label="this data",
        )
        for b in bins:
            ax.annotate(str(b["items"]), (b["mean_score"], b["fake_share"]), fontsize=7)
    ax.set(
        xlabel="Fake probability (bin mean)",
        ylabel="Share of files that are fake",
        title="Reliability diagram",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _number(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else escape(str(value))


def _confusion_table(confusion: dict[str, Any]) -> str:
    head = "".join(f"<th>called {v}</th>" for v in VERDICTS)
    rows = "".join(
        f"<tr><th>{truth}</th>" + "".join(f"<td>{row[v]}</td>" for v in VERDICTS) + "</tr>"
        for truth, row in confusion["table"].items()
    )
    return (
        f"<table><tr><th>truth</th>{head}</tr>{rows}</table>"
        f"<p>Coverage (confident ÷ all): {_number(confusion['coverage'])} · accuracy among "
        f"confident verdicts: {_number(confusion['accuracy'])} (95 % lower bound "
        f"{_number(confusion['accuracy_lower_95'])}) · {confusion['confident']} of "
        f"{confusion['items']} confident</p>"
    )


def _page(result: dict[str, Any], diagram: str) -> str:
    metrics, proposal = result["metrics"], result["proposal"]
    signals = "".join(
        f"<tr><td>{name}</td><td>{_number(v['auc'])}</td><td>{v['items']}</td></tr>"
        for name, v in metrics["signals"].items()
    )
    if proposal is None:
        proposed = (
            f"<p>No bounds reach {result['target']:.0%} accuracy among confident verdicts.</p>"
        )
    else:
        proposed = (
            f"<p>Real at or below {_number(proposal['real_below'])}, fake at or above "
            f"{_number(proposal['fake_from'])}"
            f"{' (provisional: few labelled files)' if proposal['provisional'] else ''}.</p>"
            + _confusion_table(proposal["confusion"])
        )
    skipped = "".join(
        f"<li>{escape(s['path'])}: {escape(s['reason'])}</li>" for s in result.get("skipped", [])
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Calibration {escape(result["created"])}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto}}td,th{{padding:.2rem .6rem;
border-bottom:1px solid #ddd;text-align:left}}</style></head><body>
<h1>Calibration of the whole verdict</h1>
<p>{escape(result["data"]["source"])} · {metrics["items"]} files ({metrics["real"]} real,
{metrics["fake"]} fake) · policy judged under: {escape(result["policy_version"])} ·
{escape(result["created"])}</p>
<h2>AUC of the fake probability</h2><p>{_number(metrics["auc"]["auc"])} over
{metrics["auc"]["items"]} scored files</p>
<h2>At the current policy</h2>{_confusion_table(metrics["current"])}
<h2>Per signal</h2><table><tr><th>signal</th><th>AUC</th><th>files measured</th></tr>{signals}</table>
<h2>Proposed bounds (target {result["target"]:.0%} among confident verdicts)</h2>{proposed}
<h2>Reliability diagram</h2><img src="{escape(diagram)}" alt="Reliability diagram">
{f"<h2>Not judged</h2><ul>{skipped}</ul>" if skipped else ""}
</body></html>
"""
