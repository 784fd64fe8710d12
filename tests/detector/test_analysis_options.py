"""The upload form, the API and the command line enforce the bounds of ml/options.py."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from rest_framework.exceptions import ValidationError as ApiValidationError

from detector.api.serializers import AnalysisCreateSerializer
from detector.forms import AnalysisUploadForm
from ml.options import DEFAULT_FRAMES, FRAMES, UPLOAD_FRAMES


def form_accepts(frames: int) -> bool:
    try:
        AnalysisUploadForm().fields["frames"].clean(frames)
    except ValidationError:
        return False
    return True


def api_accepts(frames: int) -> bool:
    try:
        AnalysisCreateSerializer().fields["frames"].run_validation(frames)
    except ApiValidationError:
        return False
    return True


@pytest.mark.parametrize(
    "frames",
    [
        UPLOAD_FRAMES.low - 1,
        UPLOAD_FRAMES.low,
        DEFAULT_FRAMES,
        UPLOAD_FRAMES.high,
        UPLOAD_FRAMES.high + 1,
    ],
)
def test_form_and_api_accept_the_same_frames(frames):
    assert form_accepts(frames) == api_accepts(frames) == (frames in UPLOAD_FRAMES)


def test_the_form_offers_the_default():
    assert AnalysisUploadForm().fields["frames"].initial == DEFAULT_FRAMES


@pytest.mark.django_db
def test_the_command_line_refuses_frames_the_pipeline_would(tmp_path):
    with pytest.raises(CommandError, match=f"between {FRAMES.low} and {FRAMES.high}"):
        call_command("analyze", str(tmp_path / "any.jpg"), frames=FRAMES.high + 1)
