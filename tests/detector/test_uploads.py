"""Upload validation judges files by their content and cleans the names it shows."""

from __future__ import annotations

import pytest

from detector.uploads import (
    UploadRejected,
    display_filename,
    upload_sha256,
    validate_upload,
)
from ml.media.reader import DAMAGED_IMAGE_MESSAGE, UNSUPPORTED_MESSAGE
from tests.support.uploads import as_upload


def test_jpeg_is_accepted_as_an_image(jpeg_bytes):
    info = validate_upload(as_upload("face.jpg", jpeg_bytes))
    assert (info.media_type, info.mime, info.width, info.height) == (
        "image",
        "image/jpeg",
        256,
        256,
    )


def test_png_is_accepted(png_bytes):
    assert validate_upload(as_upload("face.png", png_bytes)).mime == "image/png"


def test_video_is_accepted(video_bytes):
    info = validate_upload(as_upload("clip.avi", video_bytes))
    assert info.media_type == "video"
    assert info.mime == "video/x-msvideo"


def test_the_content_decides_the_type_not_the_extension(jpeg_bytes):
    info = validate_upload(as_upload("holiday.mp4", jpeg_bytes, "video/mp4"))
    assert (info.media_type, info.mime) == ("image", "image/jpeg")


def test_text_named_like_an_image_is_rejected():
    with pytest.raises(UploadRejected) as rejected:
        validate_upload(
            as_upload("photo.jpg", b"just some text, not a picture\n" * 10, "image/jpeg")
        )
    assert rejected.value.message == UNSUPPORTED_MESSAGE


def test_empty_file_is_rejected():
    with pytest.raises(UploadRejected, match="empty"):
        validate_upload(as_upload("empty.jpg", b""))


def test_corrupt_image_is_rejected(jpeg_bytes):
    corrupt = jpeg_bytes[:200] + bytes(range(256)) * 8
    with pytest.raises(UploadRejected) as rejected:
        validate_upload(as_upload("broken.jpg", corrupt))
    assert rejected.value.message == DAMAGED_IMAGE_MESSAGE  # shown as it is


def test_over_the_limit_is_rejected(settings):
    settings.MAX_UPLOAD_MB = 1
    with pytest.raises(UploadRejected, match="larger than the 1 MB"):
        validate_upload(as_upload("big.jpg", b"\xff\xd8\xff" + b"0" * (1024 * 1024)))


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/abs/path/clip.mp4", "clip.mp4"),
        ("bad\x00name\x1b.jpg", "badname.jpg"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        (".hidden.jpg", "hidden.jpg"),
    ],
)
def test_display_filename_keeps_only_a_harmless_last_part(name, shown):
    assert display_filename(name) == shown


def test_display_filename_shortens_long_names_but_keeps_the_extension():
    shown = display_filename("a" * 400 + ".jpeg")
    assert len(shown) == 200 and shown.endswith(".jpeg")


def test_upload_sha256_matches_hashlib(jpeg_bytes):
    import hashlib

    assert upload_sha256(as_upload("a.jpg", jpeg_bytes)) == hashlib.sha256(jpeg_bytes).hexdigest()
