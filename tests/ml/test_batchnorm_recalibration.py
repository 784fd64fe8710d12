"""Batch-norm statistics re-estimated after an epoch: the exact mean over training batches."""

import keras
import numpy as np

from ml.training.callbacks import recalibrate_batchnorm


def test_statistics_are_the_mean_over_the_batches_and_the_momentum_is_kept():
    inputs = keras.Input((3,))
    norm = keras.layers.BatchNormalization(momentum=0.99)
    model = keras.Model(inputs, keras.layers.Dense(1)(norm(inputs)))
    rng = np.random.default_rng(0)
    batches = [(rng.normal(k, 1 + k, (8, 3)).astype("float32"), None) for k in range(4)]

    step = recalibrate_batchnorm(model, batches, count=3)

    used = [x for x, _ in batches[:3]]  # `count` batches, not the fourth
    np.testing.assert_allclose(
        norm.moving_mean.numpy(), np.mean([x.mean(0) for x in used], 0), rtol=1e-5
    )
    np.testing.assert_allclose(
        norm.moving_variance.numpy(), np.mean([x.var(0) for x in used], 0), rtol=1e-4
    )
    assert norm.momentum == 0.99
    # The compiled pass is reused: a second call gives the same statistics.
    assert recalibrate_batchnorm(model, batches, count=3, step=step) is step
    np.testing.assert_allclose(
        norm.moving_mean.numpy(), np.mean([x.mean(0) for x in used], 0), rtol=1e-5
    )
