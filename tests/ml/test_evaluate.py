"""Evaluation metrics on labels and scores whose answers are known by hand."""

import pytest

from ml.errors import ModelError
from ml.evaluate import (
    choose_threshold,
    equal_error_rate,
    evaluate_model,
    score_metrics,
)
from ml.models.cards import ModelSpec


def test_perfect_separation():
    labels, scores = [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]
    metrics = score_metrics(labels, scores, threshold=0.5)
    assert metrics["auc"] == 1.0 and metrics["accuracy"] == 1.0 and metrics["eer"] == 0.0
    assert metrics["confusion_matrix"] == {"tn": 2, "fp": 0, "fn": 0, "tp": 2}
    # Youden's J is 1 from the lowest fake score (0.8) down to just above the highest real
    # one; roc_curve's thresholds are the scores, so the highest such threshold is chosen.
    assert choose_threshold(labels, scores) == 0.8


def test_one_mistake_each_way():
    labels, scores = [0, 0, 0, 1, 1, 1], [0.1, 0.2, 0.7, 0.3, 0.8, 0.9]
    metrics = score_metrics(labels, scores, threshold=0.5)
    assert metrics["confusion_matrix"] == {"tn": 2, "fp": 1, "fn": 1, "tp": 2}
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)
    # Of the 9 (real, fake) pairs only fake 0.3 below real 0.7 is out of order.
    assert metrics["auc"] == pytest.approx(8 / 9)
    assert equal_error_rate(labels, scores) == pytest.approx(1 / 3)


def test_one_class_has_no_auc_and_a_neutral_threshold():
    metrics = score_metrics([1, 1], [0.6, 0.9], threshold=0.5)
    assert metrics["auc"] is None and metrics["eer"] is None
    assert choose_threshold([1, 1], [0.6, 0.9]) == 0.5


def test_threshold_is_kept_away_from_the_ends():
    # Unclipped, the best thresholds would be 1.0 and 0.001 (the lowest fake score each time).
    assert choose_threshold([0, 1], [0.0, 1.0]) == 0.99
    assert choose_threshold([0, 1, 1], [0.0, 0.001, 0.5]) == 0.01


def test_a_temporal_model_is_refused_with_a_reason(tmp_path):
    with pytest.raises(ModelError, match="temporal model"):
        evaluate_model(
            ModelSpec(
                "track",
                "1",
                "0" * 64,
                str(tmp_path / "none.keras"),
                {"kind": "temporal"},
            ),
            [],
            out_dir=tmp_path,
        )
