"""A DFDC-format checkpoint installed with `install_model --format dfdc` scores uploads the way
its authors framed faces: detector box plus a third each side, padded square, 380 px.

The checkpoint holds the seeded random b0 weights of tests/fixtures/dfdc (timing and format
checks only: such a model never scores a user's file).
"""

import numpy as np
import pytest
from django.core.management import call_command

import ml
from detector.models import DetectorModel
from detector.selectors import model_options, model_spec
from ml.faces.detect import FaceAnalyzer
from ml.faces.framing import Framing
from ml.media.reader import load_image
from ml.models.classify import FrameClassifier
from tests.fixtures.dfdc import synthetic
from tests.support.mediagen import write_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkpoint(tmp_path):
    state = synthetic.random_state_dict(synthetic.read_manifest("b0_manifest.json"))
    path = tmp_path / "final_999_DeepFakeClassifier_tf_efficientnet_b0_ns_0_23"
    synthetic.write_torch_checkpoint(path, synthetic.dfdc_checkpoint(state))
    return path


def test_a_converted_checkpoint_scores_the_box_framed_face(checkpoint, tmp_path, settings):
    settings.MODELS_ROOT = tmp_path / "models"
    call_command(
        "install_model",
        str(checkpoint),
        format="dfdc",
        name="dfdc-b0-test",
        version="1",
        activate=True,
    )
    model = DetectorModel.objects.get(name="dfdc-b0-test", active=True)
    assert model.card["framing"] == {"kind": "box", "margin": pytest.approx(1 / 3)}
    assert (model.arch, model.card["input_size"]) == ("efficientnet_b0", 380)

    image = write_image(tmp_path / "face.jpg")
    report = ml.analyze(image, model_options())
    assert report.classifier.name == "dfdc-b0-test"
    [face] = report.faces
    assert face.heatmap  # Grad-CAM reaches inside the converted model's nested backbone

    # The same score from the crop cut by hand the DFDC way, through the worker's classifier.
    rgb = load_image(str(image))
    detected = FaceAnalyzer().detect(rgb)[0]
    crop = Framing("box", 1 / 3).crop(rgb, detected, 380)
    expected = FrameClassifier.load(model_spec(model)).predict(crop[None])[0]
    assert face.frame_scores == [round(float(expected), 4)]
    aligned = Framing().crop(rgb, detected, 380)
    other = FrameClassifier.load(model_spec(model)).predict(aligned[None])[0]
    assert not np.isclose(other, expected, atol=1e-4)  # the framing made a difference
