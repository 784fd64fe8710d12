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
import contextlib
import functools
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load_report import (
    check_database,
    render,
    server_side_times,
    summarise,
    write_section,
)
from benchmarks.load_stack import Stack
from benchmarks.load_traffic import Deadline, LoadSampler, create_users, make_media, run_client


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
