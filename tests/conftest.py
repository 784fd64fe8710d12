"""Fixtures shared by the whole suite: users, logged-in clients, private media, a real RQ worker."""

from __future__ import annotations

import io
from collections.abc import Callable

import django_rq
import pytest
from rq import SimpleWorker

QUEUE_NAMES = ("default", "gpu")
PASSWORD = "correct-Horse-battery-42"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores uploads and derived files in its own empty folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.org", PASSWORD)


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.org", PASSWORD)


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        "carol", "carol@example.org", PASSWORD, is_staff=True
    )


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def other_client(other_user):
    from django.test import Client

    other = Client()
    other.force_login(other_user)
    return other


@pytest.fixture
def rq_worker() -> Callable[[], bool]:
    """Run the analysis queues' jobs now, in this process: a real RQ worker in burst mode.

    The queues start empty; call the returned function after the jobs are enqueued.
    """
    queues = [django_rq.get_queue(name) for name in QUEUE_NAMES]
    for queue in queues:
        queue.empty()

    def run() -> bool:
        worker = SimpleWorker(queues, connection=queues[0].connection)
        return worker.work(burst=True)

    yield run
    for queue in queues:
        queue.empty()


# Generated media -------------------------------------------------------------------------


def astronaut_rgb(side: int = 256):
    """A public-domain face photo shipped inside scikit-image, resized to side x side."""
    import numpy as np
    from PIL import Image
    from skimage import data

    picture = Image.fromarray(data.astronaut()).resize((side, side))
    return np.asarray(picture)


def image_bytes(fmt: str = "JPEG", side: int = 256) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(astronaut_rgb(side)).save(out, fmt)
    return out.getvalue()


def video_file(path, *, seconds: float = 2.0, fps: float = 10.0, side: int = 256):
    """An MJPG .avi of the astronaut drifting slowly (cv2.VideoWriter), written to path."""
    import cv2
    import numpy as np

    rgb = astronaut_rgb(side)
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (side, side)
    )
    try:
        for index in range(int(seconds * fps)):
            shifted = np.roll(rgb, index % 4, axis=1)
            writer.write(cv2.cvtColor(shifted, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


@pytest.fixture
def jpeg_bytes() -> bytes:
    return image_bytes("JPEG")


@pytest.fixture
def png_bytes() -> bytes:
    return image_bytes("PNG")


@pytest.fixture
def video_bytes(tmp_path) -> bytes:
    return video_file(tmp_path / "clip.avi").read_bytes()
