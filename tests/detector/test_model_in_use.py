"""The model lifecycle end to end: train_model --install --activate, then a new analysis (real
Redis, a real RQ worker) is scored by that model and records it; evaluate_model stores metrics.

The run is one epoch on a handful of generated photos: this proves the wiring, not accuracy
(tests/ml/test_train.py measures learning).
"""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from detector import services
from detector.models import Analysis, DetectorModel
from tests.detector.conftest import as_upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def models_root(settings, tmp_path):
    settings.MODELS_ROOT = tmp_path / "models"


def analyze(owner, jpeg_bytes, rq_worker) -> Analysis:
    analysis = services.analysis_create(
        owner=owner, uploaded_file=as_upload("face.jpg", jpeg_bytes)
    )
    rq_worker()
    analysis.refresh_from_db()
    assert analysis.status == Analysis.Status.DONE, analysis.error_message
    return analysis


def test_trained_and_installed_model_scores_new_analyses(
    photos, tmp_path, user, jpeg_bytes, rq_worker, capsys
):
    call_command(
        "train_model",
        "--arch",
        "meso4",
        "--data",
        str(photos),
        "--pseudo-fakes",
        "sbi",
        "--epochs",
        "1",
        "--batch",
        "4",
        "--input-size",
        "64",
        "--init",
        "none",
        "--frames",
        "1",
        "--name",
        "tiny",
        "--model-version",
        "1",
        "--out",
        str(tmp_path / "out"),
        "--install",
        "--activate",
    )
    out = capsys.readouterr()
    assert "tiny 1 installed and active" in out.out
    assert "epoch 1/1" in out.err  # the progress bar
    model = DetectorModel.objects.get(name="tiny", version="1")
    assert model.active and Path(model.file_path).is_file()

    analysis = analyze(user, jpeg_bytes, rq_worker)
    assert list(analysis.detector_models.all()) == [model]
    assert analysis.result["classifier"]["sha256"] == model.sha256
    assert analysis.result["classifier"]["name"] == "tiny"
    assert analysis.fake_probability is not None

    call_command("evaluate_model", "tiny", "--data", str(photos), "--frames", "1")
    model.refresh_from_db()
    record = model.card["evaluations"][-1]
    assert record["frame"]["count"] >= 6 and record["frame"]["log_loss"] is not None
    assert (Path(model.file_path).parent / record["plots"]["roc"]).is_file()

    services.model_deactivate(model=model)
    later = analyze(user, jpeg_bytes, rq_worker)
    assert later.detector_models.count() == 0
    assert later.result["classifier"] is None and later.fake_probability is None


def test_evaluate_unknown_model_is_refused(photos):
    with pytest.raises(CommandError, match="No installed model named ghost"):
        call_command("evaluate_model", "ghost", "--data", str(photos))
