"""Fixtures for the detector tests: uploads and analyses made through the real services."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from detector import services
from ml.report import ClassifierInfo, Report
from tests.support.photos import write_training_photos


def as_upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def report_dict(verdict: str = "real", probability: float | None = 0.1, **extra) -> dict:
    return Report(
        media_type="image",
        verdict=verdict,
        fake_probability=probability,
        reasons=[f"Test verdict {verdict}."],
        version="test-1",
        **extra,
    ).to_dict()


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
    from tests.servers import RedisServer

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
