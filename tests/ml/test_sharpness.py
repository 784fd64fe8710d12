"""The sharpness gate on video as the web delivers it: H.264 at 480p, 720p and 1080p.

Each clip goes through the whole analysis (the scan measures the face, the quality rules judge
it), so these hold for the code that judges users' files.
"""

import cv2
import numpy as np
import pytest
from skimage.measure import blur_effect

from ml.faces.quality import sharpness
from ml.pipeline import analyze
from ml.verdict import policy
from tests.support import astronaut
from tests.support.renditions import SIZES, write_h264_face_video

HEIGHTS = sorted(SIZES)


def _the_face(path):
    """The astronaut: the face seen all through the clip (a badge on her suit is sometimes
    taken for a face in a few frames, which is not what is measured here)."""
    report = analyze(path)
    face = max(report.faces, key=lambda f: f.frames)
    assert report.media_type == "video" and face.frames >= 20
    return face


@pytest.mark.parametrize("height", HEIGHTS)
def test_a_sharp_h264_face_is_judged_at_every_size(tmp_path, height):
    face = _the_face(write_h264_face_video(tmp_path / "sharp.mp4", height=height))
    assert face.judged, face.not_judged_reason
    assert face.quality["sharpness"] >= policy.MIN_JUDGED_SHARPNESS + 5


@pytest.mark.parametrize("height", HEIGHTS)
def test_the_same_face_blurred_by_sigma_2_is_too_blurred_at_every_size(tmp_path, height):
    path = write_h264_face_video(tmp_path / "blurred.mp4", height=height, blur_sigma=2.0)
    face = _the_face(path)
    assert not face.judged and face.not_judged_code == "quality.too_blurred"
    assert face.quality["sharpness"] < policy.MIN_JUDGED_SHARPNESS
    assert face.not_judged_reason.startswith("too blurred (sharpness")


def test_dim_flat_footage_at_a_low_bitrate_is_still_sharp(tmp_path):
    """Half the contrast and half the bitrate: the variance of the Laplacian falls about
    fourfold on such footage; this measure, a ratio of edge strengths, does not."""
    path = write_h264_face_video(
        tmp_path / "dim.mp4", height=1080, contrast=0.5, bitrate_kbps=SIZES[1080][1] // 2
    )
    face = _the_face(path)
    assert face.judged, face.not_judged_reason


def test_sharpness_is_crete_s_blur_effect_and_ignores_contrast():
    chip = cv2.resize(astronaut.astronaut_rgb()[60:260, 130:330], (150, 150))
    grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    assert sharpness(chip) == pytest.approx(100 * (1 - blur_effect(grey, h_size=11)), abs=0.01)
    flat = np.clip(128 + (chip.astype(np.float32) - 128) * 0.4, 0, 255).astype(np.uint8)
    assert sharpness(flat) == pytest.approx(sharpness(chip), abs=2.0)
    blurred = [sharpness(cv2.GaussianBlur(chip, (0, 0), sigma)) for sigma in (1, 2, 3)]
    assert sharpness(chip) > blurred[0] > blurred[1] > blurred[2]
