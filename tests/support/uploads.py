"""Uploaded files as Django hands them to views and services."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.support.mediagen import write_image

IMAGE_SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


def as_upload(
    name: str, content: bytes, content_type: str = "application/octet-stream"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def image_bytes(folder, fmt: str = "JPEG", side: int = 256) -> bytes:
    """The astronaut photo as fmt, side x side pixels (written in `folder`)."""
    path = folder / f"face{IMAGE_SUFFIXES[fmt]}"
    return write_image(path, fmt=fmt, size=(side, side)).read_bytes()


def analysis_upload(owner, name: str, content: bytes):
    """An analysis created as an upload makes it (queued once its transaction commits)."""
    from detector import services  # models: the root conftest imports this module early

    return services.analysis_create(owner=owner, uploaded_file=as_upload(name, content))
