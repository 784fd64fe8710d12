"""Upload handling: stream to disk under a size limit, judge the type by content, clean the name.

Nothing here trusts what the client says: not the file name, not its extension, not its
Content-Type. The stored name is random (see `detector.services`); the original name is
kept only for display.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

from ml.errors import MediaError
from ml.media.reader import MediaInfo, sniff

# The extension a stored file gets, from the type its content showed.
EXTENSION_FOR_MIME = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/x-msvideo": ".avi",
    "video/avi": ".avi",
    "video/x-matroska": ".mkv",
    "video/webm": ".webm",
}
SUPPORTED_TYPES_TEXT = "JPEG, PNG or WebP images and MP4, MOV, AVI, MKV or WebM videos"
HASH_CHUNK = 1024 * 1024
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class UploadRejected(Exception):
    """The upload cannot be accepted; `message` is safe to show the user as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Django refuses a multipart part whose headers pass 1024 bytes; in practice, a long file name.
FILENAME_TOO_LONG = (
    "The file name is too long (several hundred characters). Rename the file to something "
    "shorter and upload it again."
)
UNREADABLE_UPLOAD = "The upload could not be read. Choose the file and send it again."


def upload_parse_error_message(error: Exception) -> str:
    """What to tell the user about a multipart body Django could not parse."""
    return FILENAME_TOO_LONG if "header size" in str(error) else UNREADABLE_UPLOAD


def max_upload_bytes() -> int:
    return settings.MAX_UPLOAD_MB * 1024 * 1024


def too_large_message() -> str:
    return f"The file is larger than the {settings.MAX_UPLOAD_MB} MB upload limit."


def upload_temp_dir() -> Path:
    """FILE_UPLOAD_TEMP_DIR (MEDIA_ROOT/tmp), made private if missing: uploads stream there,
    next to the media, where `media_audit` sweeps what an interrupted upload leaves."""
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


class SizeLimitedUploadHandler(TemporaryFileUploadHandler):
    """Streams each uploaded file to a temporary file and stops once it passes MAX_UPLOAD_MB.

    The rejection is left on the request (`request.upload_rejected`) so that the view can
    say "too large" instead of "no file", and the rest of the body is drained, not stored.
    """

    def new_file(self, *args, **kwargs) -> None:
        upload_temp_dir()  # Django's temporary file fails if its folder went missing
        return super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if start + len(raw_data) > max_upload_bytes():
            self.request.upload_rejected = UploadRejected(too_large_message())
            self.upload_interrupted()
            raise StopUpload(connection_reset=False)
        return super().receive_data_chunk(raw_data, start)


def display_filename(name: str | None) -> str:
    """The name to show for an upload: its last path part, without control characters.

    Only ever displayed; the file is stored under a random name, so "../../etc/passwd"
    becomes the harmless label "passwd".
    """
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = _UNSAFE_CHARACTERS.sub("", base).strip().lstrip(".")
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = f"{stem[: 200 - len(ext) - 1]}.{ext}" if dot and len(ext) <= 10 else base[:200]
    return base or "upload"


@contextmanager
def upload_on_disk(uploaded_file: UploadedFile) -> Iterator[Path]:
    """A path to the upload's bytes: its temporary file, or a copy for in-memory uploads."""
    if hasattr(uploaded_file, "temporary_file_path"):
        yield Path(uploaded_file.temporary_file_path())
        return
    with tempfile.NamedTemporaryFile(suffix=".upload", dir=upload_temp_dir()) as copy:
        uploaded_file.seek(0)
        for chunk in uploaded_file.chunks():
            copy.write(chunk)
        copy.flush()
        yield Path(copy.name)


def upload_sha256(uploaded_file: UploadedFile) -> str:
    digest = hashlib.sha256()
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks(HASH_CHUNK):
        digest.update(chunk)
    uploaded_file.seek(0)
    return digest.hexdigest()


def validate_upload(uploaded_file: UploadedFile) -> MediaInfo:
    """Check an upload by its content; raise UploadRejected with a specific message."""
    if uploaded_file is None:
        raise UploadRejected("Choose an image or video file to upload.")
    if not uploaded_file.size:
        raise UploadRejected("The file is empty.")
    if uploaded_file.size > max_upload_bytes():
        raise UploadRejected(too_large_message())
    with upload_on_disk(uploaded_file) as path:
        try:
            info = sniff(path)
        except MediaError as error:
            raise UploadRejected(str(error)) from error
    if info.mime not in EXTENSION_FOR_MIME:
        raise UploadRejected(
            f"This file type ({info.mime}) is not supported. Upload {SUPPORTED_TYPES_TEXT}."
        )
    uploaded_file.seek(0)
    return info
