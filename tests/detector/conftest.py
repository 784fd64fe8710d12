"""Fixtures for the detector tests: uploads and analyses made through the real services."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from detector import services
from ml.verdict.report import ClassifierInfo
from tests.support.api import api_client_for
from tests.support.photos import write_training_photos
from tests.support.uploads import as_upload


@pytest.fixture
def make_analysis(jpeg_bytes):
    """Create an analysis through analysis_create (queueing waits for a commit)."""

    def make(owner, *, name: str = "face.jpg", content: bytes | None = None, **kwargs):
        return services.analysis_create(
            owner=owner, uploaded_file=as_upload(name, content or jpeg_bytes), **kwargs
        )

    return make


@pytest.fixture
def classifier_info() -> ClassifierInfo:
    return ClassifierInfo(name="effnet", version="1", sha256="ab" * 32, arch="efficientnet_b7")


@pytest.fixture
def own_redis(tmp_path, settings):
    """A redis-server of this test's own (spare port) holding the analysis queues; the test
    may stop and start it. Never the machine's shared Redis."""
    from tests.support.servers import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    settings.RQ_QUEUES = {
        name: {"URL": server.url, "DEFAULT_TIMEOUT": settings.RQ_JOB_TIMEOUT}
        for name in ("default", "gpu")
    }
    yield server
    server.stop()


@pytest.fixture
def photos(tmp_path) -> Path:
    """A handful of real photos (one face, slightly turned and scaled) to train a tiny model."""
    return write_training_photos(tmp_path / "data")


# --- API clients ---------------------------------------------------------------------------


@pytest.fixture
def alice(user):
    return user


@pytest.fixture
def bob(other_user):
    return other_user


@pytest.fixture
def api(alice):
    """An API client signed in with alice's token."""
    return api_client_for(alice)


@pytest.fixture
def jpeg_upload(jpeg_bytes):
    """Makes a fresh uploaded JPEG (the astronaut) each call."""

    def make(name: str = "astronaut.jpg") -> SimpleUploadedFile:
        return SimpleUploadedFile(name, jpeg_bytes, content_type="image/jpeg")

    return make
