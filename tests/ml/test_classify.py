"""FrameClassifier and Ensemble against small randomly initialised Keras models built here.

The random weights exist only inside these tests; the product never scores with them.
"""

import keras
import numpy as np
import pytest

from ml.errors import ModelError
from ml.models.cards import ModelSpec
from ml.models.checksum import file_sha256
from ml.models.classify import Ensemble, FrameClassifier, load_ensemble, unload_models_except
from tests.support.networks import SIZE, save_spec


@pytest.fixture
def crops():
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, size=(5, SIZE, SIZE, 3), dtype=np.uint8)


def test_scores_are_probabilities_and_batching_does_not_change_them(tmp_path, crops):
    classifier = FrameClassifier.load(save_spec(tmp_path, "m"))
    batched = classifier.predict(crops, batch_size=2)
    one_by_one = np.array([classifier.predict(c[None], batch_size=1)[0] for c in crops])
    assert batched.shape == (5,)
    assert np.all((batched >= 0) & (batched <= 1))
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-5, atol=1e-6)
    # Different crops get different scores: the network really looks at the pixels.
    assert np.ptp(batched) > 0


def test_preprocessing_follows_the_card(tmp_path, crops):
    spec = save_spec(tmp_path, "m")
    model = keras.saving.load_model(spec.path, compile=False)
    unit = FrameClassifier.load(spec).predict(crops)
    np.testing.assert_allclose(
        unit, np.asarray(model(crops.astype("float32") / 255.0))[:, 0], rtol=1e-5
    )
    raw_spec = ModelSpec(**{**spec.__dict__, "card": {**spec.card, "preprocessing": "raw255"}})
    raw = FrameClassifier.load(raw_spec).predict(crops)
    np.testing.assert_allclose(raw, np.asarray(model(crops.astype("float32")))[:, 0], rtol=1e-5)


def test_crops_of_another_size_are_resized(tmp_path, crops):
    classifier = FrameClassifier.load(save_spec(tmp_path, "m"))
    big = np.repeat(np.repeat(crops, 2, axis=1), 2, axis=2)  # 64 px, same content
    np.testing.assert_allclose(classifier.predict(big), classifier.predict(crops), atol=1e-5)
    assert classifier.predict(np.zeros((0, SIZE, SIZE, 3), np.uint8)).shape == (0,)


def test_two_unit_softmax_gives_the_fake_column(tmp_path, crops):
    spec = save_spec(tmp_path, "soft", softmax=True)
    model = keras.saving.load_model(spec.path, compile=False)
    expected = np.asarray(model(crops.astype("float32") / 255.0))[:, 1]
    np.testing.assert_allclose(FrameClassifier.load(spec).predict(crops), expected, rtol=1e-5)


def test_info_records_what_scored(tmp_path):
    spec = save_spec(tmp_path, "m", threshold=0.35)
    classifier = FrameClassifier.load(spec)
    assert classifier.info.name == "m" and classifier.info.sha256 == spec.sha256
    assert classifier.info.arch == "tiny-cnn" and classifier.info.input_size == SIZE
    assert classifier.threshold == 0.35 and classifier.input_size == SIZE


def test_checksum_mismatch_is_refused(tmp_path):
    spec = save_spec(tmp_path, "m")
    spec.sha256 = "0" * 64
    with pytest.raises(ModelError, match="sha256"):
        FrameClassifier.load(spec)


def test_missing_file_is_refused(tmp_path):
    spec = save_spec(tmp_path, "m")
    spec.path = str(tmp_path / "gone.keras")
    with pytest.raises(ModelError, match="missing"):
        FrameClassifier.load(spec)


def test_corrupt_file_with_matching_checksum_is_refused(tmp_path):
    spec = save_spec(tmp_path, "m")
    path = tmp_path / "broken.keras"
    path.write_bytes(b"not a keras archive")
    spec.path, spec.sha256 = str(path), file_sha256(path)
    with pytest.raises(ModelError, match="cannot be loaded"):
        FrameClassifier.load(spec)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"threshold": 1.5}, "threshold"),
        ({"preprocessing": "bgr"}, "preprocessing"),
        ({"framing": {"kind": "oval"}}, "framing"),
        ({"framing": {"kind": "box", "margin": 2}}, "margin"),
        ({"input_size": 64}, "card says 64x64"),
        ({"kind": "temporal"}, "is a temporal model"),
    ],
)
def test_bad_card_is_refused(tmp_path, change, message):
    spec = save_spec(tmp_path, "m", **change)
    with pytest.raises(ModelError, match=message):
        FrameClassifier.load(spec)


def test_card_missing_fields_is_refused(tmp_path):
    spec = save_spec(tmp_path, "m")
    del spec.card["threshold"]
    with pytest.raises(ModelError, match="lacks threshold"):
        FrameClassifier.load(spec)


def test_ensemble_is_the_weighted_mean(tmp_path, crops):
    a = save_spec(tmp_path, "a", seed=1, weight=3.0, threshold=0.6)
    b = save_spec(tmp_path, "b", seed=2, weight=1.0, threshold=0.2)
    ensemble = load_ensemble([a, b.__dict__])  # dicts, as they travel in job options, work too
    pa = FrameClassifier.load(a).predict(crops)
    pb = FrameClassifier.load(b).predict(crops)
    assert not np.allclose(pa, pb)
    spec = ensemble.crop_specs[0]
    np.testing.assert_allclose(ensemble.predict({spec: crops}), (3 * pa + pb) / 4, rtol=1e-5)
    assert ensemble.threshold == pytest.approx((3 * 0.6 + 0.2) / 4)
    assert [i.name for i in ensemble.infos] == ["a", "b"]
    assert ensemble.info.name == "a+b" and len(ensemble.info.sha256) == 64
    assert ensemble.info.sha256 not in {a.sha256, b.sha256}


def test_single_model_ensemble_reports_that_model(tmp_path):
    spec = save_spec(tmp_path, "only")
    assert load_ensemble([spec]).info.sha256 == spec.sha256
    assert load_ensemble([]) is None


def test_ensemble_refuses_non_positive_weights(tmp_path):
    classifier = FrameClassifier.load(save_spec(tmp_path, "m"))
    with pytest.raises(ModelError, match="positive"):
        Ensemble([classifier], [0.0])


def test_each_member_scores_the_crops_of_its_own_framing(tmp_path, crops):
    aligned = save_spec(tmp_path, "aligned", seed=1)
    boxed = save_spec(tmp_path, "boxed", seed=1, framing={"kind": "box", "margin": 1 / 3})
    ensemble = load_ensemble([aligned, boxed])
    assert [s.framing.kind for s in ensemble.crop_specs] == ["aligned", "box"]
    # The same network given different pictures per framing: its rows differ accordingly.
    other = crops[::-1].copy()
    rows = ensemble.predict_members(dict(zip(ensemble.crop_specs, [crops, other])))
    single = FrameClassifier.load(aligned)
    np.testing.assert_allclose(rows[0], single.predict(crops), rtol=1e-6)
    np.testing.assert_allclose(rows[1], single.predict(other), rtol=1e-6)
    assert ensemble.lead.spec.name == "aligned"  # equal weights: the first member leads


def test_imagenet_preprocessing_normalises_by_mean_and_std():
    from ml.models.archs import preprocess

    pixel = np.array([[[[255, 0, 128]]]], dtype=np.uint8)
    x = preprocess(pixel, "imagenet")[0, 0, 0]
    expected = [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (128 / 255 - 0.406) / 0.225]
    np.testing.assert_allclose(x, expected, rtol=1e-5)
    assert preprocess(pixel, "unit")[0, 0, 0, 0] == 1.0
    assert preprocess(pixel, "raw255")[0, 0, 0, 2] == 128.0


def test_a_model_is_loaded_once_and_again_after_it_was_unloaded(tmp_path, caplog):
    kept, dropped = save_spec(tmp_path, "kept", seed=1), save_spec(tmp_path, "dropped", seed=2)
    caplog.set_level("INFO", logger="ml.models.classify")
    unload_models_except([])  # nothing loaded, as in a fresh process
    first = FrameClassifier.load(kept)
    assert FrameClassifier.load(kept)._forward is first._forward  # from the cache, not the file
    FrameClassifier.load(dropped)

    # The active set became {kept}: `dropped` is forgotten, `kept` stays loaded.
    assert unload_models_except([kept.sha256]) == 1
    assert FrameClassifier.load(kept)._forward is first._forward
    FrameClassifier.load(dropped)
    loads = [r.getMessage() for r in caplog.records if "Loaded detector models" in r.getMessage()]
    assert [m.split()[3] for m in loads] == ["kept", "dropped", "dropped"]
