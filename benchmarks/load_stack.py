"""The load test's own stack: a throwaway PostgreSQL database, a redis-server on a spare port,
gunicorn through scripts/serve and RQ workers, all on 127.0.0.1 and all removed by `close`."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import requests

from tests.servers import RedisServer, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
PG = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
UPLOAD_RATE = "100000/hour"  # the API throttle (default 60/hour per user), lifted for the run


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
    for child in children:  # RQ job processes live in process groups of their own
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
