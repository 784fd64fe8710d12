"""A proposed fix for Grad-CAM on networks with a nested backbone, applied only when asked.

`ml.heatmap.gradient_model` builds `keras.Model(model.inputs, [layer.output, model.output])`.
When the last feature map is the output of a nested model (the EfficientNet backbones of
`ml.archs` are used as one layer), `layer.output` belongs to the backbone's own graph and Keras 3
refuses: "Output with path 0 is not connected to inputs". Every analysis with an EfficientNet
frame model then fails at the heatmaps stage. The fix re-applies the outer model's layers to a
fresh input, keeping the feature map on the way (the `ml.archs` classifiers are a plain chain).

The benchmark measures analyses as shipped first; with `--heatmap-fix` it also times them with
this function in place, so the cost (time and memory) of B7 heatmaps is known before the fix
lands in ml/.
"""

from __future__ import annotations

from typing import Any


def chained_gradient_model(model: Any) -> Any | None:
    import keras

    from ml import heatmap

    if keras.backend.backend() != "tensorflow":
        return None
    target = heatmap._last_spatial_layer(model)
    if target is None:
        return None
    inputs = keras.Input(model.input_shape[1:])
    x, maps = inputs, None
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        x = layer(x)
        if layer is target:
            maps = x
    return keras.Model(inputs, [maps, x])


def apply() -> None:
    from ml import heatmap

    heatmap.gradient_model = chained_gradient_model


class HeadOnlyGradients:
    """Grad-CAM without a tape over the backbone: the feature map comes from a compiled
    forward pass, and only the head (pooling, dense) runs under `grad_cam`'s tape. The
    gradient of the output with respect to the map is the same, since it only flows through
    the head; the eager backbone pass and the activations it keeps alive are gone."""

    def __init__(self, features: Any, head: list[Any]) -> None:
        self.features = features
        self.head = head

    def __call__(self, x: Any, training: bool = False) -> tuple[Any, Any]:
        import tensorflow as tf

        maps = tf.Variable(self.features.predict_on_batch(x), trainable=True)
        out = maps
        for layer in self.head:
            out = layer(out, training=training)
        return maps, out


def head_only_gradient_model(model: Any) -> Any | None:
    import keras

    from ml import heatmap

    if keras.backend.backend() != "tensorflow":
        return None
    target = heatmap._last_spatial_layer(model)
    if target is None:
        return None
    layers = [x for x in model.layers if not isinstance(x, keras.layers.InputLayer)]
    cut = layers.index(target) + 1
    inputs = keras.Input(model.input_shape[1:])
    x = inputs
    for layer in layers[:cut]:
        x = layer(x)
    return HeadOnlyGradients(keras.Model(inputs, x), layers[cut:])


VARIANTS = {"chained": chained_gradient_model, "head_only": head_only_gradient_model}


def heatmap_cost(spec: dict[str, Any], variant: str, faces: int) -> dict[str, Any]:
    """Child side: seconds and peak memory of `faces` Grad-CAM heatmaps of the lead model,
    with ml.heatmap as shipped or with one of the proposed gradient models."""
    import time

    import numpy as np

    from ml import heatmap
    from ml.classify import FrameClassifier
    from tests.support.fullsize import peak_rss_mb

    if variant != "shipped":
        heatmap.gradient_model = VARIANTS[variant]
    classifier = FrameClassifier.load(spec)
    size = classifier.input_size
    crops = np.random.default_rng(0).integers(0, 256, (faces, size, size, 3), np.uint8)
    classifier.predict(crops)  # as in an analysis, scoring comes first
    before = peak_rss_mb()
    start = time.perf_counter()
    try:
        for crop in crops:
            classifier.heatmap(crop)
    except Exception as exc:  # noqa: BLE001  (the shipped code fails on nested backbones)
        return {"variant": variant, "error": f"{type(exc).__name__}: {exc}"}
    return {
        "variant": variant,
        "faces": faces,
        "s_per_face": round((time.perf_counter() - start) / faces, 2),
        "peak_rss_mb_before": round(before),
    }
