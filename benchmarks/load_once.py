"""Load once: N analyses through one real worker (`manage.py rqworker`), one after another.

Starts a stack of its own: a SQLite database and media in a temp folder, a redis-server on a
spare port, a detector model (by default a tiny Meso-4 trained here for one epoch on generated
photos; `--model FILE` installs a model file with its card instead), and one worker. Each job's
report gives its `load_models` seconds; the worker's log says how often it loaded a model.
Prints one line per job and removes everything it made.

Usage: .venv/bin/python -m benchmarks.load_once [--jobs 3] [--model FILE] [--video SECONDS]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import mediagen
from tests.servers import RedisServer, django_process, stop_process, wait_for
from tests.support.photos import write_training_photos

LOADED = re.compile(r"Loaded detector models: .*\(load \d+ of process \d+\)")
JOB_LIMIT_S = 1800


def stack_env(folder: Path, redis: RedisServer) -> dict[str, str]:
    base = redis.url.rsplit("/", 1)[0]
    return {
        "DJANGO_SETTINGS_MODULE": "deepfake_site.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "REDIS_URL": f"{base}/0",
        "CACHE_URL": f"{base}/1",
        "MEDIA_ROOT": str(folder / "media"),
        "MODELS_ROOT": str(folder / "models"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def install_model(folder: Path, model: str | None) -> None:
    if model:
        manage("install_model", model, "--activate")
        return
    photos = write_training_photos(folder / "photos")
    manage(
        "train_model",
        *("--arch", "meso4", "--data", str(photos), "--pseudo-fakes", "sbi"),
        *("--epochs", "1", "--batch", "4", "--input-size", "64", "--frames", "1"),
        *("--name", "tiny", "--model-version", "1", "--out", str(folder / "trained")),
        *("--init", "none", "--install", "--activate"),
    )


def media_file(folder: Path, video_s: float | None) -> Path:
    if video_s:
        return mediagen.write_face_video(folder / "clip.avi", seconds=video_s, fps=10)
    return mediagen.write_image(folder / "face.jpg")


def run_jobs(count: int, media: Path) -> list[dict]:
    """Upload the file `count` times, each after the last ended; time each until it ends."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from detector import services
    from detector.models import Analysis

    owner = get_user_model().objects.create_user(username="bench", password="bench-load-once")
    rows = []
    for _ in range(count):
        upload = SimpleUploadedFile(media.name, media.read_bytes())
        started = time.monotonic()
        analysis = services.analysis_create(owner=owner, uploaded_file=upload)

        def finished(pk=analysis.pk):
            row = Analysis.objects.get(pk=pk)
            return row if row.is_finished else None

        row = wait_for(finished, timeout=JOB_LIMIT_S, what="the analysis to end")
        wall = time.monotonic() - started
        if row.status != Analysis.Status.DONE:
            raise RuntimeError(f"analysis failed: {row.error_message}")
        rows.append({"wall_s": wall, "load_models_s": row.result["timings_s"]["load_models"]})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=3, help="analyses, one after another")
    parser.add_argument("--model", help="a model file (.keras, card beside it) to install")
    parser.add_argument("--video", type=float, help="analyse a face video this long, not a JPEG")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="deepfake-load-once-"))
    redis = RedisServer(folder)
    worker = None
    try:
        redis.start()
        os.environ.update(stack_env(folder, redis))
        manage("migrate", "--noinput", "-v", "0")
        install_model(folder, args.model)
        media = media_file(folder, args.video)
        log = folder / "worker.log"
        worker = django_process(["rqworker", "default", "gpu"], env={}, log=log)
        load_before = os.getloadavg()
        rows = run_jobs(args.jobs, media)
        loads = LOADED.findall(log.read_text())
    finally:
        if worker is not None:
            stop_process(worker)
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.jobs} jobs, media {media.name}")
    print(f"# load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    for number, row in enumerate(rows, 1):
        print(f"job {number}: load_models {row['load_models_s']:.3f} s, wall {row['wall_s']:.1f} s")
    print(f"model loads logged by the worker: {len(loads)}")
    for line in loads:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
