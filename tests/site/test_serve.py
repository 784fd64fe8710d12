"""scripts/serve for real: gunicorn with two workers on the test database, then stopped."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def database_url() -> str:
    db = settings.DATABASES["default"]  # the test database, already migrated
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def wait_until_up(url: str, server: subprocess.Popen, log: Path) -> requests.Response:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            return requests.get(url, timeout=5)
        except (requests.ConnectionError, requests.Timeout):  # still booting
            time.sleep(0.5)
    raise AssertionError(f"not serving after 90 s:\n{log.read_text()}")


def children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def test_serve_runs_gunicorn_with_workers_static_files_and_healthz(tmp_path, free_port):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DEBUG"},
        "DJANGO_SETTINGS_MODULE": "deepfake_site.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_URL": settings.CACHE_URL,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "HOST": "127.0.0.1",
        "PORT": str(free_port),
        "WEB_CONCURRENCY": "2",
    }
    log = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{free_port}"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(ROOT / "scripts" / "serve")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one below
        )
    try:
        health = wait_until_up(f"{base}/healthz", server, log)
        assert health.status_code == 200, log.read_text()
        assert health.json() == {"database": "ok", "redis": "ok"}

        css = requests.get(f"{base}/static/css/app.css", timeout=5)
        assert css.status_code == 200
        assert css.content == (ROOT / "static" / "css" / "app.css").read_bytes()
        assert "text/css" in css.headers["Content-Type"]

        login = requests.get(f"{base}/accounts/login/", timeout=5)
        assert login.status_code == 200 and "Log in" in login.text
        assert requests.get(f"{base}/nowhere/", timeout=5).status_code == 404

        assert len(children(server.pid)) == 2  # the gunicorn master and two workers
        server.send_signal(signal.SIGTERM)  # graceful stop
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert "Booting worker" in log.read_text()
