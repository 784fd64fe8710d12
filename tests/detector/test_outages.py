"""Outages, for real: a web server and a worker (`manage.py runserver`, `manage.py rqworker`)
on a PostgreSQL cluster and a redis-server of this test's own, which it restarts and stops.

The web server runs single-threaded, so it keeps one persistent database connection across
requests, as a production web worker does.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from tests.support.servers import (
    REPO,
    PostgresCluster,
    RedisServer,
    django_process,
    free_port,
    stop_process,
    wait_for,
)

pytestmark = pytest.mark.slow

# Bounds for the waits below; limits for a loaded machine, not measurements.
JOB_S = 120


@pytest.fixture
def cluster():
    try:
        postgres = PostgresCluster()
    except FileNotFoundError as missing:
        pytest.skip(str(missing))
    postgres.start()
    postgres.createdb("deepfake")
    yield postgres
    postgres.destroy()


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def platform(cluster, own_redis, tmp_path):
    """Migrated database, a user's API token, a running web server and worker."""
    (tmp_path / "site-media").mkdir()
    env = {
        "DATABASE_URL": cluster.url("deepfake"),
        "REDIS_URL": own_redis.url,
        "CACHE_URL": "locmem://",
        "MEDIA_ROOT": str(tmp_path / "site-media"),
        "MODELS_ROOT": str(tmp_path / "models"),
        "SWEEP_INTERVAL_S": "2",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "deepfake_site.settings",
    }
    manage = [sys.executable, "manage.py"]
    full_env = {**os.environ, **env}
    subprocess.run(
        [*manage, "migrate", "--noinput"],
        cwd=REPO,
        env=full_env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    create_token = (
        "from django.contrib.auth import get_user_model;"
        "from rest_framework.authtoken.models import Token;"
        "u = get_user_model().objects.create_user('ops', 'ops@example.org', 'x-Pass-42');"
        "print(Token.objects.create(user=u).key)"
    )
    token = subprocess.run(
        [*manage, "shell", "-c", create_token],
        cwd=REPO,
        env=full_env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    port = free_port()
    web = django_process(
        ["runserver", f"127.0.0.1:{port}", "--nothreading", "--noreload"],
        env=env,
        log=tmp_path / "web.log",
    )
    worker = django_process(["rqworker", "default", "gpu"], env=env, log=tmp_path / "worker.log")
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token.stdout.strip().splitlines()[-1]}"
    base = f"http://127.0.0.1:{port}/api/v1/analyses/"
    wait_for(lambda: _answers(api, base), timeout=60, what="the web server")
    yield api, base, web, worker
    stop_process(web)
    stop_process(worker)


def _answers(api: requests.Session, url: str) -> bool:
    try:
        return api.get(url, timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def test_web_and_worker_ride_out_a_postgresql_restart_and_a_redis_outage(
    platform, cluster, own_redis, jpeg_bytes, png_bytes, tmp_path
):
    from tests.support.uploads import image_bytes

    api, base, web, worker = platform

    def upload(name: str, content: bytes) -> str:
        response = api.post(base, files={"file": (name, content)}, timeout=30)
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def state(analysis_id: str) -> dict:
        response = api.get(f"{base}{analysis_id}/", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def done(analysis_id: str) -> None:
        wait_for(
            lambda: state(analysis_id)["status"] in {"done", "failed"},
            timeout=JOB_S,
            what=f"analysis {analysis_id}",
        )
        assert state(analysis_id)["status"] == "done", state(analysis_id)["error"]

    first = upload("a.jpg", jpeg_bytes)
    done(first)

    # PostgreSQL restarts: the web server's open connection and the worker's are gone.
    cluster.stop()
    cluster.start()
    assert state(first)["status"] == "done"  # the very next request already works
    second = upload("b.png", png_bytes)
    done(second)

    # Redis goes away: the upload is stored and waits as "queued", never "failed".
    own_redis.stop()
    third = upload("c.jpg", image_bytes(tmp_path, "JPEG", side=200))
    waiting = state(third)
    assert (waiting["status"], waiting["error"]) == ("queued", "")
    own_redis.start()
    done(third)  # the worker's sweep queues it once Redis is back

    assert web.poll() is None and worker.poll() is None
