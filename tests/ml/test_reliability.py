"""What a model may say follows the evidence on its card, checked through ml.analyze."""

from __future__ import annotations

import pytest

from ml import analyze
from ml.errors import ModelError
from ml.models.cards import validate_card
from ml.models.catalog import CATALOG, catalog_card
from ml.verdict.fusion import LOW_SCORE_WORDS
from ml.verdict.reliability import card_reliability
from tests.support import mediagen
from tests.support.networks import STRONG_EVIDENCE, WEAK_EVIDENCE, constant_spec


def _analyze(tmp_path, *, logit, reliability):
    spec = constant_spec(tmp_path, logit=logit, reliability=reliability)
    return analyze(mediagen.write_image(tmp_path / "a.jpg"), {"models": [spec]})


def test_a_weak_model_cannot_make_a_real(tmp_path):
    report = _analyze(tmp_path, logit=-5.0, reliability=WEAK_EVIDENCE)
    assert report.verdict == "inconclusive"
    first = report.evidence[0]
    assert first["code"] == "classifier.weak_model_low_score"
    assert report.reasons[0].startswith(
        "no sign of manipulation found by a detector that misses many modern fakes"
    )
    assert first["params"]["reliability"] == "weak" and first["params"]["auc"] == 0.56
    assert report.fake_probability == pytest.approx(0.0067, abs=1e-3)
    assert report.policy_version == "default"


def test_a_strong_model_can_make_a_real(tmp_path):
    report = _analyze(tmp_path, logit=-5.0, reliability=STRONG_EVIDENCE)
    assert report.verdict == "real"
    assert report.evidence[0]["code"] == "classifier.below_threshold"


def test_a_weak_model_still_makes_a_fake_at_its_high_end(tmp_path):
    report = _analyze(tmp_path, logit=5.0, reliability=WEAK_EVIDENCE)
    assert report.verdict == "fake"
    assert report.evidence[0]["code"] == "classifier.above_threshold"


def test_unknown_evidence_counts_as_weak(tmp_path):
    report = _analyze(tmp_path, logit=-5.0, reliability=None)
    assert report.verdict == "inconclusive"
    assert report.reasons[0].startswith(LOW_SCORE_WORDS["unknown"])
    assert report.evidence[0]["params"]["reliability"] == "unknown"


def test_an_evaluation_on_platform_data_outweighs_published_numbers():
    card = {"reliability": WEAK_EVIDENCE, "platform_evaluation": {"auc": 0.95, "items": 80}}
    assert card_reliability(card).level == "strong"
    too_few = {**card, "platform_evaluation": {"auc": 0.95, "items": 10}}
    assert card_reliability(too_few).level == "weak"
    # evaluate_model's records count too (video level, enough files).
    evaluated = {"evaluations": [{"dataset": "mine", "video": {"auc": 0.93, "count": 60}}]}
    assert card_reliability(evaluated).supports_real


def test_the_catalog_cards_carry_cited_evidence():
    meso = catalog_card(CATALOG["meso4-df"], CATALOG["meso4-df"].files[0])
    validate_card({**meso, "input_size": 256, "preprocessing": "unit"})
    found = card_reliability(meso)
    assert (found.level, found.auc) == ("weak", 0.56) and "DFDC" in found.basis
    cross = meso["reliability"]["cross_dataset"]
    assert {e["dataset"] for e in cross} == {"Celeb-DF v2", "DFDC"}
    assert all("DeepfakeBench" in e["source"] for e in cross)
    for name in ("mesoinception4-df", "dfdc-b7"):
        entry = CATALOG[name]
        assert card_reliability(catalog_card(entry, entry.files[0])).level == "unknown"


@pytest.mark.parametrize(
    "reliability",
    [
        [],
        {"cross_dataset": [{"dataset": "DFDC", "auc": 0.6}]},  # no source
        {"cross_dataset": [{"dataset": "DFDC", "auc": 1.6, "source": "x"}]},
    ],
)
def test_malformed_evidence_is_refused(reliability):
    card = {
        "name": "m",
        "version": "1",
        "arch": "a",
        "kind": "frame",
        "input_size": 64,
        "preprocessing": "unit",
        "threshold": 0.5,
        "reliability": reliability,
    }
    with pytest.raises(ModelError, match="reliability"):
        validate_card(card)
