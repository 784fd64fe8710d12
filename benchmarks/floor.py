"""Child side: the two numbers of the FLOP floor, measured on this machine.

The floor of scoring N faces is (FLOPs per face x N) / (the machine's float32 matrix-multiply
rate): no implementation on this CPU does the arithmetic faster than a large SGEMM.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

# EfficientNet-B7: 37 GMAC at 600 px (Tan & Le, 2019), so about 2 x 37 x (380/600)^2 = 30 GFLOP.
B7_380_GFLOP_CITED = 30.0


def sgemm_gflops(n: int = 2048, repeats: int = 5) -> float:
    """numpy float32 n x n matmul rate (GFLOP/s), median of repeats, all cores."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up: thread pool start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def keras_flops(arch: str, input_size: int) -> float:
    """FLOPs of one forward pass (batch 1), counted by TensorFlow's profiler on the frozen
    concrete function; multiply-adds count as 2."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    from ml.models.archs import get_arch

    model = get_arch(arch).build(input_size=input_size, init="none")
    spec = tf.TensorSpec([1, input_size, input_size, 3], tf.float32)
    concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    graph = convert_variables_to_constants_v2(concrete).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(
        graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op", options=options
    )
    return float(profile.total_float_ops)


def flop_floor_inputs(arch: str, input_size: int, sgemm_n: int = 2048) -> dict[str, Any]:
    result: dict[str, Any] = {"arch": arch, "input_size": input_size}
    try:
        result["gflop_per_face"] = round(keras_flops(arch, input_size) / 1e9, 3)
        result["flops_source"] = "counted (TensorFlow profiler, frozen graph, batch 1)"
    except Exception as exc:
        if arch != "efficientnet_b7":
            raise
        result["gflop_per_face"] = B7_380_GFLOP_CITED * (input_size / 380) ** 2
        result["flops_source"] = f"cited (counting failed: {type(exc).__name__})"
    result["sgemm_gflops"] = round(sgemm_gflops(sgemm_n), 2)
    result["sgemm_n"] = sgemm_n
    return result
