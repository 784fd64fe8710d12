"""Fixtures shared by the whole suite: users, logged-in clients, private media, a real RQ worker."""

from __future__ import annotations

from collections.abc import Callable

import django_rq
import pytest
from rq import SimpleWorker

from tests.support.accounts import PASSWORD
from tests.support.resolver import PATH as RESOLVER_PATH
from tests.support.uploads import image_bytes

QUEUE_NAMES = ("default", "gpu")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores uploads and derived files in its own empty folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(settings.MEDIA_ROOT / "tmp")
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def no_outside_dns(settings):
    """Callback URLs are looked up in a table (tests/support/resolver.py), never in real DNS."""
    settings.CALLBACK_RESOLVER = RESOLVER_PATH


@pytest.fixture(autouse=True)
def fresh_cache():
    """Counts kept in the shared cache (upload budgets, failed sign-ins) start at zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


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


# Generated media (tests/support/mediagen.py: the public-domain astronaut photo) ----------


@pytest.fixture
def jpeg_bytes(tmp_path) -> bytes:
    return image_bytes(tmp_path, "JPEG")


@pytest.fixture
def png_bytes(tmp_path) -> bytes:
    return image_bytes(tmp_path, "PNG")


@pytest.fixture
def video_bytes(tmp_path) -> bytes:
    """Two seconds of the astronaut swaying and blinking once, MJPG in .avi."""
    from tests.support.mediagen import write_face_video

    path = write_face_video(tmp_path / "clip.avi", seconds=2.0, fps=10, blinks_at_s=(1.0,))
    return path.read_bytes()
