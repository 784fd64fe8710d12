"""Self-blended images on a real face: dlib landmarks of the public-domain astronaut photo."""

import numpy as np
import pytest
import skimage.data

from ml.faces.detect import FaceAnalyzer
from ml.training.sbi import hull_mask, self_blend


@pytest.fixture(scope="module")
def face():
    rgb = np.ascontiguousarray(skimage.data.astronaut()[:320, 80:400])
    faces = FaceAnalyzer().detect(rgb)
    assert faces, "dlib should find the astronaut's face"
    return rgb, faces[0].landmarks


@pytest.mark.parametrize("seed", range(6))
def test_mask_stays_inside_the_landmark_hull(face, seed):
    rgb, landmarks = face
    _, mask = self_blend(rgb, landmarks, rng=np.random.default_rng(seed))
    hull = hull_mask(rgb.shape[:2], landmarks)
    assert mask.dtype == np.float32 and mask.shape == rgb.shape[:2]
    assert 0.0 <= mask.min() and mask.max() <= 1.0
    assert mask.max() > 0.2, "the blend must cover part of the face"
    assert not (mask[hull == 0] > 0).any(), "no blending outside the face hull"
    # The edge is soft: the mask takes intermediate values, not only 0 and its maximum.
    assert ((mask > 0.05 * mask.max()) & (mask < 0.95 * mask.max())).sum() > 50


@pytest.mark.parametrize("seed", range(6))
def test_blended_face_differs_from_the_source(face, seed):
    rgb, landmarks = face
    fake, mask = self_blend(rgb, landmarks, rng=np.random.default_rng(seed))
    assert fake.shape == rgb.shape and fake.dtype == np.uint8
    inside = mask > 0.5 * mask.max()
    diff = np.abs(fake.astype(int) - rgb.astype(int)).sum(axis=2)
    assert diff[inside].mean() > 2.0, "the blended region must change"


def test_same_seed_same_image_other_seed_other_image(face):
    rgb, landmarks = face
    a, mask_a = self_blend(rgb, landmarks, rng=np.random.default_rng(7))
    b, mask_b = self_blend(rgb, landmarks, rng=np.random.default_rng(7))
    c, _ = self_blend(rgb, landmarks, rng=np.random.default_rng(8))
    assert np.array_equal(a, b) and np.array_equal(mask_a, mask_b)
    assert not np.array_equal(a, c)


def test_source_image_is_left_untouched(face):
    rgb, landmarks = face
    before = rgb.copy()
    self_blend(rgb, landmarks, rng=np.random.default_rng(1))
    assert np.array_equal(rgb, before)
