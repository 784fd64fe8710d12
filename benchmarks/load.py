"""Load test of the production setup, outside the test suite: many API clients at once.

Starts a stack of its own on 127.0.0.1 only: a throwaway PostgreSQL database on the machine's
server, a redis-server on a spare port, gunicorn through scripts/serve (DEBUG off) and RQ
workers (`manage.py rqworker default gpu`). Then USERS clients, one thread each, upload
generated media (small JPEGs, a short AVI, and a few bad files: empty, junk, a corrupt AVI)
through the token API and poll every analysis until it is done or failed. The run is bounded in
uploads and in time and stops by itself.

Afterwards it checks, against the database: every accepted upload is exactly one row of its
user (no lost and no duplicated rows), every analysis ended done or failed with a reason, and no
request answered 5xx. It reports latency percentiles, throughput and time to final state, and
writes them into docs/performance.md, section "## Load test" (only between its markers).
Everything it started or created is removed again, also when the run fails or is interrupted.

Usage: benchmarks/load [--users 20] [--uploads-per-user 10] [--web-workers 3] [--rq-workers 2]
                       [--time-limit 420] [--no-write]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import mediagen
from tests.support.servers import RedisServer, free_port, wait_for

PG = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
FINAL = {"done", "failed"}
UPLOAD_RATE = "100000/hour"  # the API throttle (default 60/hour per user), lifted for the run
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- load-test:begin -->", "<!-- load-test:end -->"


# --- the stack ----------------------------------------------------------------------------


class Stack:
    """PostgreSQL database, Redis, gunicorn and RQ workers of this run; `close` removes all."""

    def __init__(self, *, web_workers: int, rq_workers: int):
        self.dir = Path(tempfile.mkdtemp(prefix="deepfake-load-"))
        self.db = f"deepfake_load_{os.getpid()}_{secrets.token_hex(4)}"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web_workers = web_workers
        self.rq_workers = rq_workers
        self.redis: RedisServer | None = None
        self.processes: list[subprocess.Popen] = []
        self.db_created = False
        self.secret_key = secrets.token_urlsafe(50)

    def env(self) -> dict[str, str]:
        assert self.redis is not None
        redis_base = self.redis.url.rsplit("/", 1)[0]
        return {
            "DJANGO_SETTINGS_MODULE": "deepfake_site.settings",
            "DEBUG": "false",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{self.db}",
            "REDIS_URL": f"{redis_base}/0",
            "CACHE_URL": f"{redis_base}/1",
            "MEDIA_ROOT": str(self.dir / "media"),
            "MODELS_ROOT": str(self.dir / "models"),
            "STATIC_ROOT": str(self.dir / "static"),
            "API_UPLOAD_RATE": UPLOAD_RATE,
            "WEB_CONCURRENCY": str(self.web_workers),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }

    def start(self) -> None:
        self.redis = RedisServer(self.dir)
        self.redis.start()
        subprocess.run(["createdb", *PG, self.db], check=True, timeout=60)
        self.db_created = True
        env = {**os.environ, **self.env()}
        os.environ.update(self.env())  # this process reads the same database afterwards
        self._spawn(["scripts/serve"], env, "web.log")
        wait_for(self._healthy, timeout=180, what="gunicorn /healthz")
        for index in range(self.rq_workers):
            # Exactly one worker runs the scheduler (docs/deploy.md).
            scheduler = ["--with-scheduler"] if index == 0 else []
            command = [
                sys.executable,
                "manage.py",
                "rqworker",
                "default",
                "gpu",
                *scheduler,
            ]
            self._spawn(command, env, f"rqworker-{index}.log")

    def _spawn(self, command: list[str], env: dict[str, str], log: str) -> None:
        with open(self.dir / log, "ab") as out:
            self.processes.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def _healthy(self) -> bool:
        if any(p.poll() is not None for p in self.processes):
            raise RuntimeError(f"scripts/serve exited; see {self.dir / 'web.log'}")
        try:
            return requests.get(f"{self.base}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def log_text(self, name: str) -> str:
        path = self.dir / name
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        for process in reversed(self.processes):
            _stop(process)
        self.processes.clear()
        if self.db_created:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            subprocess.run(
                ["dropdb", *PG, "--force", "--if-exists", self.db],
                check=False,
                timeout=60,
            )
            self.db_created = False
        if self.redis is not None:
            self.redis.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (graceful: gunicorn and RQ finish cleanly), then SIGKILL, children included."""
    if process.poll() is not None:
        return
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    for child in children:  # RQ's work-horses live in process groups of their own
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


# --- media --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Media:
    name: str
    path: Path
    expect: int  # the upload's expected HTTP status


def make_media(folder: Path) -> list[Media]:
    """Small files: each analysis runs the dlib face pipeline on a busy 2-core machine."""
    folder.mkdir()
    jpeg_small = mediagen.write_image(folder / "face-256.jpg", fmt="JPEG", size=(256, 256))
    jpeg = mediagen.write_image(folder / "face-320.jpg", fmt="JPEG", size=(320, 320))
    video = mediagen.write_face_video(folder / "face.avi", seconds=1.0, fps=10)
    noface = mediagen.write_noface_video(folder / "noface.avi", seconds=1.0, fps=10)
    corrupt = mediagen.write_corrupt_video(folder / "corrupt.avi")
    empty = folder / "empty.jpg"
    empty.write_bytes(b"")
    junk = folder / "junk.jpg"
    junk.write_bytes(os.urandom(4096))
    return [
        Media("jpeg 256 px", jpeg_small, 202),
        Media("avi 1 s", video, 202),
        Media("jpeg 320 px", jpeg, 202),
        Media("empty file", empty, 400),
        Media("jpeg 256 px", jpeg_small, 202),
        Media("junk bytes", junk, 400),
        Media("avi without a face", noface, 202),
        Media("corrupt avi", corrupt, 400),
    ]


# --- clients ------------------------------------------------------------------------------


class Deadline:
    """The end of the client phase: after `seconds`, or at once when cancelled."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = float("inf")
        self.cancelled = threading.Event()

    def start(self) -> None:
        self.end = time.monotonic() + self.seconds

    def cancel(self) -> None:
        self.cancelled.set()

    def passed(self) -> bool:
        return self.cancelled.is_set() or time.monotonic() > self.end

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when the deadline has passed."""
        self.cancelled.wait(seconds)
        return self.passed()


@dataclass
class Record:
    """What one client saw; lists are appended from one thread each, merged at the end."""

    upload_ms: list[float] = field(default_factory=list)
    poll_ms: list[float] = field(default_factory=list)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    accepted: dict[str, str] = field(default_factory=dict)  # analysis id -> media name
    unexpected: list[str] = field(default_factory=list)
    final: dict[str, dict] = field(default_factory=dict)  # id -> last document
    to_final_s: list[float] = field(default_factory=list)
    not_final: list[str] = field(default_factory=list)


def run_client(
    *, base: str, token: str, plan: list[Media], deadline: Deadline, poll_s: float
) -> Record:
    """Upload the plan's files one after another, polling each to a final state."""
    record = Record()
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    for media in plan:
        if deadline.passed():
            break
        with open(media.path, "rb") as handle:
            response = _timed(
                record,
                record.upload_ms,
                "POST",
                functools.partial(
                    session.post,
                    f"{base}/api/v1/analyses/",
                    files={"file": (media.path.name, handle)},
                    timeout=60,
                ),
            )
        if response is None or response.status_code != media.expect:
            status = "no answer" if response is None else response.status_code
            text = "" if response is None else response.text[:200]
            record.unexpected.append(f"upload of {media.name}: {status} {text}")
        if response is None or response.status_code != 202:
            continue
        analysis_id = response.json()["id"]
        if analysis_id in record.accepted:
            record.unexpected.append(f"the same id answered twice: {analysis_id}")
        record.accepted[analysis_id] = media.name
        _poll(session, f"{base}/api/v1/analyses/{analysis_id}/", record, deadline, poll_s)
    return record


def _timed(
    record: Record,
    times: list[float],
    method: str,
    send: Callable[[], requests.Response],
) -> requests.Response | None:
    """Send one request, recording its latency and its status (or why there was none)."""
    start = time.perf_counter()
    try:
        response = send()
    except requests.RequestException as error:
        record.statuses[f"{method} {type(error).__name__}"] += 1
        return None
    times.append((time.perf_counter() - start) * 1000)
    record.statuses[f"{method} {response.status_code}"] += 1
    return response


def _poll(
    session: requests.Session,
    url: str,
    record: Record,
    deadline: Deadline,
    poll_s: float,
) -> None:
    accepted_at = time.monotonic()
    analysis_id = url.rstrip("/").rsplit("/", 1)[1]
    while not deadline.wait(poll_s):
        response = _timed(record, record.poll_ms, "GET", lambda: session.get(url, timeout=60))
        if response is None or response.status_code != 200:
            status = "no answer" if response is None else response.status_code
            record.unexpected.append(f"poll of {analysis_id}: {status}")
            continue
        document = response.json()
        if document["status"] in FINAL:
            record.final[analysis_id] = document
            record.to_final_s.append(time.monotonic() - accepted_at)
            return
    record.not_final.append(analysis_id)


# --- the run ------------------------------------------------------------------------------


def create_users(count: int, base: str) -> dict[str, str]:
    """Users made in the database; their tokens fetched through the API, as a client would."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    tokens = {}
    for index in range(count):
        username, password = f"load{index:03d}", secrets.token_urlsafe(12)
        get_user_model().objects.create_user(username=username, password=password)
        response = requests.post(
            f"{base}/api/v1/auth/token/",
            data={"username": username, "password": password},
            timeout=60,
        )
        response.raise_for_status()
        tokens[username] = response.json()["token"]
    return tokens


class LoadSampler(threading.Thread):
    """The 1-minute load average every few seconds, to report what the machine was doing."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(5):
            self.samples.append(os.getloadavg()[0])


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


def run(args: argparse.Namespace) -> dict:
    stack = Stack(web_workers=args.web_workers, rq_workers=args.rq_workers)
    deadline = Deadline(args.time_limit)
    try:
        stack.start()
        media = make_media(stack.dir / "upload-files")
        tokens = create_users(args.users, stack.base)
        usernames = list(tokens)
        plans = [
            [media[(user + k) % len(media)] for k in range(args.uploads_per_user)]
            for user in range(args.users)
        ]
        sampler = LoadSampler()
        sampler.start()
        load_before = os.getloadavg()
        started = time.monotonic()
        deadline.start()
        client = functools.partial(
            run_client, base=stack.base, deadline=deadline, poll_s=args.poll_interval
        )
        with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
            try:
                records = list(
                    pool.map(
                        lambda pair: client(token=pair[0], plan=pair[1]),
                        zip(tokens.values(), plans),
                    )
                )
            finally:
                deadline.cancel()  # on an interrupt, the clients stop at their next step
        wall = time.monotonic() - started
        sampler.stopped.set()
        problems = check_database(records, usernames)
        server = server_side_times()
        web_log = stack.log_text("web.log")
        worker_logs = "".join(stack.log_text(f"rqworker-{i}.log") for i in range(args.rq_workers))
        return summarise(
            args=args,
            records=records,
            problems=problems,
            server=server,
            wall=wall,
            load=(load_before, max(sampler.samples, default=0.0), os.getloadavg()),
            tracebacks={
                "web": web_log.count("Traceback"),
                "workers": worker_logs.count("Traceback"),
            },
        )
    finally:
        stack.close()


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


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the stack is still cleaned up."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help="clients, one user each")
    parser.add_argument(
        "--uploads-per-user", type=int, default=10, help="files each client uploads"
    )
    parser.add_argument("--web-workers", type=int, default=3, help="WEB_CONCURRENCY")
    parser.add_argument("--rq-workers", type=int, default=2, help="rqworker processes")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds between polls")
    parser.add_argument(
        "--time-limit", type=float, default=420, help="seconds for the client phase"
    )
    parser.add_argument("--no-write", action="store_true", help="leave docs/ alone")
    args = parser.parse_args()
    with terminate_as_interrupt():
        result = run(args)
    print(json.dumps(result, indent=2, default=str))
    section = render(result)
    print(section)
    if not args.no_write:
        write_section(section)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
