"""Generated media shared by the ml tests, written once per test session."""

from pathlib import Path

import pytest

from ml.faces.detect import FaceAnalyzer
from tests.support import mediagen


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def face_analyzer() -> FaceAnalyzer:
    return FaceAnalyzer()


@pytest.fixture(scope="session")
def face_jpeg(media_dir) -> Path:
    return mediagen.write_image(media_dir / "face.jpg")


@pytest.fixture(scope="session")
def face_png(media_dir) -> Path:
    return mediagen.write_image(media_dir / "face.png", fmt="PNG", size=(256, 256))


@pytest.fixture(scope="session")
def blink_video(media_dir) -> Path:
    return mediagen.write_face_video(
        media_dir / "blinks.avi",
        seconds=6.0,
        fps=mediagen.BLINK_VIDEO_FPS,
        blinks_at_s=mediagen.BLINK_TIMES_S,
    )


@pytest.fixture(scope="session")
def still_eyes_video(media_dir) -> Path:
    """The same 6-second clip as blink_video, without any blink."""
    return mediagen.write_face_video(
        media_dir / "no-blinks.avi", seconds=6.0, fps=mediagen.BLINK_VIDEO_FPS
    )


@pytest.fixture(scope="session")
def face_mp4(media_dir) -> Path:
    return mediagen.write_face_video(media_dir / "face.mp4", seconds=2.0, fps=25)


@pytest.fixture(scope="session")
def two_face_video(media_dir) -> Path:
    return mediagen.write_face_video(media_dir / "two-faces.mp4", seconds=2.0, two_faces=True)


@pytest.fixture(scope="session")
def noface_video(media_dir) -> Path:
    return mediagen.write_noface_video(media_dir / "noface.avi", seconds=2.0)


@pytest.fixture(scope="session")
def corrupt_video(media_dir) -> Path:
    return mediagen.write_corrupt_video(media_dir / "corrupt.avi")
