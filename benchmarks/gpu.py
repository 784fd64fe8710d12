"""Child side: EfficientNet-B7 faces per second on a GPU in half precision, one B7 or the seven.

The network is built under the mixed-precision policy (float16 or bfloat16 compute, float32
weights), with random weights: timing only.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np


def gpu_names() -> dict[str, Any]:
    import tensorflow as tf

    return {"gpus": [gpu.name for gpu in tf.config.list_physical_devices("GPU")]}


def gpu_throughput(
    policy: str, batch: int, batches: int, repeats: int, input_size: int = 380
) -> dict[str, Any]:
    import keras
    import tensorflow as tf

    from ml.models.archs import get_arch

    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)
    keras.mixed_precision.set_global_policy(policy)
    model = get_arch("efficientnet_b7").build(input_size=input_size, init="none")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (batch, input_size, input_size, 3)).astype(np.float32)
    seconds = _median_seconds(model, x, batches, repeats)
    return {
        "policy": policy,
        "batch": batch,
        "input_size": input_size,
        "faces_per_s": round(batch * batches / seconds, 1),
        "device": _device_name(),
    }


def gpu_ensemble_throughput(
    policy: str, members: int, batch: int, batches: int, repeats: int, input_size: int = 380
) -> dict[str, Any]:
    """The DFDC winner's ensemble on a GPU: `members` B7s in one graph, each batch of crops fed to
    every member in one call (batched across members), the members' probabilities averaged."""
    import keras
    import tensorflow as tf

    from ml.models.archs import get_arch

    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)
    keras.mixed_precision.set_global_policy(policy)
    crops = keras.Input((input_size, input_size, 3))
    arch = get_arch("efficientnet_b7")
    scores = []
    for i in range(members):
        member = arch.build(input_size=input_size, init="none")
        member.name = f"member_{i + 1}"  # one graph needs unique names
        scores.append(member(crops))
    mean = keras.layers.Average(dtype="float32")(scores) if members > 1 else scores[0]
    model = keras.Model(crops, mean)
    x = np.random.default_rng(0).integers(0, 256, (batch, input_size, input_size, 3))
    seconds = _median_seconds(model, x.astype(np.float32), batches, repeats)
    return {
        "policy": policy,
        "members": members,
        "batch": batch,
        "input_size": input_size,
        "faces_per_s": round(batch * batches / seconds, 1),
        "device": _device_name(),
    }


def _median_seconds(model: Any, x: np.ndarray, batches: int, repeats: int) -> float:
    for _ in range(3):  # tracing and autotuning are not throughput
        model.predict_on_batch(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batches):
            out = model.predict_on_batch(x)
        np.asarray(out)  # wait for the device
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _device_name() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")


def gpu_worker_path(spec: dict[str, Any], crops: int, repeats: int) -> dict[str, Any]:
    """The worker's path on a GPU: a saved model loaded by `FrameClassifier.load` (which
    switches on memory growth and the mixed_float16 policy first), scored in its batches."""
    import keras

    from ml.models.classify import FrameClassifier, default_batch_size

    classifier = FrameClassifier.load(spec)
    size = classifier.input_size
    pixels = np.random.default_rng(0).integers(0, 256, (crops, size, size, 3), np.uint8)
    classifier.predict(pixels[: default_batch_size()])  # tracing is not throughput
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        classifier.predict(pixels)
        times.append(time.perf_counter() - start)
    layers = classifier._forward.model.layers
    return {
        "policy": keras.mixed_precision.global_policy().name,
        "compute_dtype": layers[1].compute_dtype if len(layers) > 1 else None,
        "batch": default_batch_size(),
        "input_size": size,
        "faces_per_s": round(crops / statistics.median(times), 1),
    }
