"""The load test's verdict and page: checks against the database, percentiles, and the
"## Load test" section of docs/performance.md (only between its markers)."""

from __future__ import annotations

import collections
import os
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path

import psutil

from benchmarks.load_stack import UPLOAD_RATE
from benchmarks.load_traffic import FINAL, Record

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- load-test:begin -->", "<!-- load-test:end -->"


def check_database(records: list[Record], usernames: list[str]) -> list[str]:
    """Every accepted upload is exactly one row of its user; every row final, with a reason."""
    from django.contrib.auth import get_user_model

    from detector.models import Analysis

    problems = []
    users = {u.username: u for u in get_user_model().objects.filter(username__in=usernames)}
    for username, record in zip(usernames, records, strict=True):
        rows = list(Analysis.objects.filter(owner=users[username]))
        ids = {str(row.id) for row in rows}
        if len(rows) != len(record.accepted) or ids != set(record.accepted):
            problems.append(
                f"{username}: {len(record.accepted)} uploads accepted, {len(rows)} rows"
            )
        for row in rows:
            if row.status not in FINAL:
                problems.append(f"{row.id}: still {row.status} ({row.stage})")
            elif row.status == "failed" and not row.error_message.strip():
                problems.append(f"{row.id}: failed without a reason")
            elif row.status == "done" and not row.verdict:
                problems.append(f"{row.id}: done without a verdict")
    return problems


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:  # quantiles need two values
        only = values[0] if values else 0.0
        return {"p50": only, "p95": only, "p99": only, "max": only}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(values)}


def server_side_times() -> dict:
    """Queue wait and analysis time per final analysis, from the rows' own timestamps."""
    from detector.models import Analysis

    rows = Analysis.objects.exclude(started=None).exclude(finished=None)
    wait = [(r.started - r.created).total_seconds() for r in rows]
    work = [(r.finished - r.started).total_seconds() for r in rows]
    # The pipeline's own stage times (Report timings_s); the rest of "work" is job overhead.
    pipeline = [sum(r.result["timings_s"].values()) for r in rows if r.result]
    stages = collections.defaultdict(list)
    for row in rows:
        for stage, seconds in (row.result or {}).get("timings_s", {}).items():
            stages[stage].append(seconds)
    by_status = collections.Counter(Analysis.objects.values_list("status", flat=True))
    reasons = collections.Counter(
        Analysis.objects.filter(status="failed").values_list("error_message", flat=True)
    )
    finished = [r.finished for r in rows]
    created = [r.created for r in rows]
    span = (max(finished) - min(created)).total_seconds() if rows else 0.0
    return {
        "queue_wait_s": percentiles(wait),
        "analysis_s": percentiles(work),
        "pipeline_s": percentiles(pipeline),
        "stage_median_s": {k: statistics.median(v) for k, v in stages.items()},
        "by_status": dict(by_status),
        "failure_reasons": dict(reasons),
        "span_s": span,
        "finished": len(finished),
    }


def summarise(*, args, records, problems, server, wall, load, tracebacks) -> dict:
    statuses = collections.Counter()
    for record in records:
        statuses.update(record.statuses)
    upload_ms = [v for r in records for v in r.upload_ms]
    poll_ms = [v for r in records for v in r.poll_ms]
    to_final = [v for r in records for v in r.to_final_s]
    unexpected = [u for r in records for u in r.unexpected]
    not_final = [n for r in records for n in r.not_final]
    accepted = sum(len(r.accepted) for r in records)
    server_errors = sum(n for key, n in statuses.items() if key.split()[1].startswith("5"))
    requests_total = sum(statuses.values())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}), "
        f"{psutil.virtual_memory().total / 2**30:.0f} GB, Python {platform.python_version()}",
        "command": "benchmarks/load "
        + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k not in {"no_write"}
        ),
        "args": vars(args),
        "wall_s": wall,
        "load": load,
        "uploads_sent": len(upload_ms),
        "accepted": accepted,
        "final": sum(len(r.final) for r in records),
        "client_final_status": dict(
            collections.Counter(d["status"] for r in records for d in r.final.values())
        ),
        "requests": requests_total,
        "requests_per_s": requests_total / wall if wall else 0.0,
        "analyses_per_min": server["finished"] / server["span_s"] * 60 if server["span_s"] else 0.0,
        "statuses": dict(sorted(statuses.items())),
        "server_errors": server_errors,
        "upload_ms": percentiles(upload_ms),
        "poll_ms": percentiles(poll_ms),
        "to_final_s": percentiles(to_final),
        "server": server,
        "unexpected": unexpected,
        "not_final": not_final,
        "problems": problems,
        "tracebacks": tracebacks,
        "passed": not (problems or unexpected or not_final or server_errors),
    }


# --- the report ---------------------------------------------------------------------------


def _row(name: str, p: dict[str, float], unit: str, digits: int = 0) -> str:
    cells = " | ".join(f"{p[k]:.{digits}f}" for k in ("p50", "p95", "p99", "max"))
    return f"| {name} ({unit}) | {cells} |"


def render(result: dict) -> str:
    a, server = result["args"], result["server"]
    load_before, load_peak, load_after = result["load"]
    measured = (
        f"Measured by `{result['command']}` on {result['date']}: {result['machine']}. "
        f"1-minute load average {load_before[0]:.1f} before, {load_peak:.1f} at its peak "
        f"during the run, {load_after[0]:.1f} after."
    )
    setup = (
        "The production stack on 127.0.0.1: gunicorn through `scripts/serve` with "
        f"{a['web_workers']} web workers (`DEBUG=false`), {a['rq_workers']} RQ workers "
        "(`manage.py rqworker default gpu`), a throwaway PostgreSQL database on the machine's "
        "server and a redis-server of its own. No classifier is installed, so each analysis is "
        f"the face pipeline (dlib) and the verdict rules. {a['users']} users upload "
        f"{a['uploads_per_user']} files each, one client thread per user, polling each upload "
        f"every {a['poll_interval']} s until it is done or failed, then uploading the next. "
        "The files cycle through a 256 px and a 320 px JPEG, a 1 s 320 px AVI with a face and "
        "one without (10 frames each), and three files the API must refuse with 400 (zero "
        "bytes, random bytes, a corrupt AVI). The API upload throttle (`API_UPLOAD_RATE`, "
        f"60/hour per user by default) was set to {UPLOAD_RATE} for the run."
    )
    table = [
        "| request | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|",
        _row("upload `POST /api/v1/analyses/`", result["upload_ms"], "ms"),
        _row("poll `GET /api/v1/analyses/{id}/`", result["poll_ms"], "ms"),
        _row(
            "upload accepted → final state seen by the client",
            result["to_final_s"],
            "s",
            1,
        ),
        _row("queue wait (row created → started)", server["queue_wait_s"], "s", 1),
        _row("analysis (started → finished)", server["analysis_s"], "s", 1),
        _row(
            "of which pipeline stages (Report `timings_s`)",
            server["pipeline_s"],
            "s",
            1,
        ),
    ]
    return (
        "\n".join(
            [
                BEGIN,
                "## Load test",
                "",
                measured,
                "",
                setup,
                "",
                *table,
                "",
                *_notes(result),
                "",
                "Re-run with `benchmarks/load` (`--help` for the sizes).",
                END,
            ]
        )
        + "\n"
    )


def _notes(result: dict) -> list[str]:
    server = result["server"]
    reasons = "; ".join(f"{n}× “{text}”" for text, n in server["failure_reasons"].items())
    failures = result["problems"] + result["unexpected"] + result["not_final"]
    checks = "all passed" if result["passed"] else "FAILED: " + "; ".join(failures[:10])
    statuses = ", ".join(f"{k}: {v}" for k, v in result["statuses"].items())
    traces = result["tracebacks"]
    stage_times = ", ".join(
        f"{stage} {seconds:.2f}" for stage, seconds in server["stage_median_s"].items()
    )
    return [
        (
            f"- {result['uploads_sent']} uploads sent, {result['accepted']} accepted (202), "
            f"{result['final']} seen final by their clients "
            f"({_fmt(result['client_final_status'])}); {result['requests']} requests in "
            f"{result['wall_s']:.0f} s: {result['requests_per_s']:.1f} requests/s; "
            f"{result['analyses_per_min']:.1f} analyses/min (first upload to last finish)."
        ),
        (
            f"- Responses by status: {statuses}. 5xx: {result['server_errors']}. Tracebacks "
            f"in the logs: web {traces['web']}, workers {traces['workers']}."
        ),
        f"- Failure reasons recorded: {reasons or 'none'}.",
        f"- Median seconds per pipeline stage: {stage_times}.",
        (
            "- Checks (per user, the accepted uploads against the database rows: each exactly "
            "once; every row done with a verdict or failed with a reason; every bad file "
            f"refused with 400; no 5xx): {checks}."
        ),
        *_reading(result),
    ]


def _reading(result: dict) -> list[str]:
    """What the numbers say, worked out from them (so a re-run cannot contradict its text)."""
    server, workers = result["server"], result["args"]["rq_workers"]
    to_final, wait = result["to_final_s"]["p50"], server["queue_wait_s"]["p50"]
    analysis = server["analysis_s"]["p50"]
    ceiling = 60 * workers / analysis if analysis else 0.0
    share = 100 * wait / to_final if to_final else 0.0
    if result["analyses_per_min"] >= 0.8 * ceiling:
        limit = "The analysis workers are the limit, not the web tier."
    else:
        limit = (
            "The rest of the workers' time lies between one job's end and the next one's start "
            "(dequeue, the fork of a work-horse, bookkeeping), on cores shared with the web "
            "workers and the clients."
        )
    lines = [
        (
            f"- Reading: the queue wait is {share:.0f}% of the median time to a final state. "
            f"{workers} workers at a median {analysis:.1f} s an analysis can finish at most "
            f"{ceiling:.1f} analyses/min; the run reached {result['analyses_per_min']:.1f}. "
            f"{limit} Uploads take longer than polls because each upload is checked by its "
            "content inside the request (images opened, videos probed and decoded)."
        ),
        (
            f"- The 1-minute load average peaked at {result['load'][1]:.1f} on "
            f"{os.cpu_count()} cores: the machine was shared with other work during the run, "
            "so absolute times are pessimistic; the checks do not depend on speed."
        ),
    ]
    if not server["failure_reasons"]:
        lines.append(
            "- No accepted upload failed in analysis (the bad files are refused at upload), "
            "so this run does not exercise the workers' failure path (the test suite does)."
        )
    return lines


def _fmt(counter: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"


def write_section(section: str) -> None:
    """Replace this file's load-test section (between its markers), or append it."""
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text)
