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
