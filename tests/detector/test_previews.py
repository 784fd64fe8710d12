"""Browser-playable previews of video uploads: made with the bundled ffmpeg, owner-only."""

from __future__ import annotations

import cv2
import pytest

from detector import previews
from detector.models import Analysis
from tests.support.mediagen import write_face_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def wide_video(make_analysis, user, tmp_path) -> Analysis:
    # MJPEG in AVI, 1600 x 900: browsers cannot play it, and it is above 720p.
    path = write_face_video(tmp_path / "wide.avi", seconds=1.0, fps=10, size=(1600, 900))
    return make_analysis(user, name="wide.avi", content=path.read_bytes())


def test_video_preview_is_h264_mp4_within_720p(wide_video):
    preview = previews.analysis_preview_make(analysis=wide_video)
    assert preview.name == previews.PREVIEW_VIDEO
    head = preview.read_bytes()[:64]
    assert head[4:8] == b"ftyp" and b"avc1" in preview.read_bytes()  # H.264 in MP4
    capture = cv2.VideoCapture(str(preview))
    ok, frame = capture.read()
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    assert ok and frame.shape[:2] == (720, 1280) and frames == 10
    assert previews.analysis_preview_path(wide_video) == preview


def test_a_frame_strip_stands_in_when_ffmpeg_cannot_decode(wide_video, monkeypatch, tmp_path):
    # An ffmpeg that fails, as a broken install would: the strip is made with OpenCV instead.
    broken = tmp_path / "ffmpeg"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(previews.imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(broken))
    preview = previews.analysis_preview_make(analysis=wide_video)
    assert preview.name == previews.PREVIEW_STRIP
    strip = cv2.imread(str(preview))
    assert strip.shape[0] == previews.PREVIEW_STRIP_HEIGHT
    assert strip.shape[1] > 4 * strip.shape[0]  # several frames side by side


def test_images_get_no_preview(make_analysis, user):
    assert previews.analysis_preview_make(analysis=make_analysis(user)) is None


def test_the_owner_plays_the_preview_on_the_detail_page(user_client, wide_video):
    previews.analysis_preview_make(analysis=wide_video)
    page = user_client.get(f"/analyses/{wide_video.pk}/").content.decode()
    assert f'src="/analyses/{wide_video.pk}/preview/" data-preview' in page
    response = user_client.get(f"/analyses/{wide_video.pk}/preview/")
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    assert "sandbox" in response["Content-Security-Policy"]


def test_without_a_preview_the_page_offers_the_original(user_client, wide_video):
    # The upload is stored, but no preview was made (the job has not run yet).
    page = user_client.get(f"/analyses/{wide_video.pk}/").content.decode()
    assert f'src="/analyses/{wide_video.pk}/media/"' in page
    assert user_client.get(f"/analyses/{wide_video.pk}/preview/").status_code == 404
