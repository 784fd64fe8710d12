"""The database's choices are the values `ml` produces: a change on either side fails here."""

from __future__ import annotations

from detector.models import Analysis, DetectorModel
from ml.models.cards import KINDS
from ml.verdict.report import VERDICTS


def test_an_analysis_verdict_is_one_the_report_gives():
    assert sorted(Analysis.Verdict.values) == sorted(VERDICTS)


def test_a_detector_model_kind_is_one_a_model_card_may_name():
    assert sorted(DetectorModel.Kind.values) == sorted(KINDS)
