"""Faces that fill the picture: what fills a model's crop past the frame's edge is the card's."""

import cv2
import numpy as np
import pytest

from ml.errors import ModelError
from ml.faces.detect import Face
from ml.faces.framing import Framing
from ml.models.catalog import CATALOG
from tests.support import astronaut

PAD = 60  # more than any of these crops reaches past the tight picture


@pytest.fixture(scope="module")
def tight(face_analyzer):
    """The astronaut's face cut out as tightly as the MesoNet authors' samples: the picture ends
    at her brows and chin, so any face square reaches past it."""
    points = astronaut.astronaut_landmarks()
    (x0, y0), (x1, y1) = points.min(axis=0).astype(int), points.max(axis=0).astype(int)
    rgb = np.ascontiguousarray(astronaut.astronaut_rgb()[y0:y1, x0:x1])
    return rgb, face_analyzer.detect(rgb)[0]


def _shifted(face: Face, by: int) -> Face:
    x, y, w, h = face.box
    return Face((x + by, y + by, w, h), face.landmarks + by, face.score)


@pytest.mark.parametrize("kind", ["eyes_mouth", "aligned"])
def test_reflect_padding_mirrors_the_picture_instead_of_black_bars(tight, kind):
    rgb, face = tight
    zero = Framing(kind, 0.3, "zero").crop(rgb, face, 256)
    reflect = Framing(kind, 0.3, "reflect").crop(rgb, face, 256)
    black = (zero.sum(axis=2) == 0).mean()
    assert black > 0.05, "the zero-padded crop really reaches past the picture"
    assert (reflect.sum(axis=2) == 0).mean() < black / 20  # only her own darkest pixels
    # Exactly what the crop would be had the picture been mirrored at its edges beforehand.
    mirrored = cv2.copyMakeBorder(rgb, PAD, PAD, PAD, PAD, cv2.BORDER_REFLECT_101)
    expected = Framing(kind, 0.3, "zero").crop(mirrored, _shifted(face, PAD), 256)
    assert np.abs(reflect.astype(int) - expected).max() <= 1


def test_inside_the_picture_the_pad_mode_changes_nothing(face_analyzer):
    rgb = astronaut.astronaut_rgb()
    face = face_analyzer.detect(rgb)[0]
    for kind in ("eyes_mouth", "aligned"):
        zero = Framing(kind, 0.3, "zero").crop(rgb, face, 128)
        assert np.array_equal(zero, Framing(kind, 0.3, "reflect").crop(rgb, face, 128))


def test_eyes_mouth_framing_is_a_nose_centred_square_of_the_card_s_scale(tight):
    rgb, face = tight
    wide = Framing("eyes_mouth", scale=4.0, pad="zero").crop(rgb, face, 200)
    narrow = Framing("eyes_mouth", scale=2.0, pad="zero").crop(rgb, face, 200)
    # Twice the scale: the same face at half the size, the nose tip near the centre in both.
    assert np.abs(cv2.resize(narrow, (100, 100), interpolation=cv2.INTER_AREA).astype(int)
                  - wide[50:150, 50:150]).mean() < 12  # fmt: skip
    assert (narrow.sum(axis=2) == 0).mean() < (wide.sum(axis=2) == 0).mean()


def test_every_mesonet_card_mirrors_as_its_authors_code_did():
    for name in ("meso4-df", "meso4-f2f", "mesoinception4-df", "mesoinception4-f2f"):
        framing = Framing.from_card(CATALOG[name].card)
        assert framing == Framing("eyes_mouth", pad="reflect", scale=2.86)
    dfdc = Framing.from_card({"framing": {"kind": "box", "margin": 1 / 3}})
    assert dfdc.pad == "zero", "the DFDC winner zero-padded its squares in training"


@pytest.mark.parametrize(
    "framing, message",
    [
        ({"kind": "aligned", "pad": "wrap"}, "pad must be zero or reflect"),
        ({"kind": "eyes_mouth", "scale": 0.5}, "scale must lie between 1 and 6"),
        ({"kind": "eyes_mouth", "scale": True}, "scale"),
    ],
)
def test_a_card_s_pad_and_scale_are_checked(framing, message):
    with pytest.raises(ModelError, match=message):
        Framing.from_card({"framing": framing})
