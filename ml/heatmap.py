"""Grad-CAM: which parts of a face crop pushed the classifier toward "fake".

Grad-CAM (Selvaraju et al., ICCV 2017) weights the last spatial feature map of the network by the
gradient of the fake probability with respect to it, keeps the positive part and scales it up to
the crop. It shows where the network looked, not proof of a manipulation; the report says so.

Gradients need a backend-specific tape: this runs on the TensorFlow backend and returns None on
the others (the report then simply has no heatmap).
"""

from __future__ import annotations

import base64
from typing import Any

import cv2
import numpy as np

HEATMAP_SIZE = 128  # pixels of the overlay image in the report
OVERLAY_ALPHA = 0.45  # how strongly the heat colours cover the face


def _last_spatial_layer(model: Any) -> Any | None:
    """The last top-level layer with a (batch, h, w, channels) output: the final feature map.

    A nested backbone (a Keras Applications model used as one layer) counts as one layer.
    """
    import keras

    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):  # a layer used more than once has no single output
            continue
        if len(shape) == 4 and (shape[1] or 0) > 1:
            return layer
    return None


def gradient_model(model: Any) -> Any | None:
    """A model giving (final feature map, output), for `grad_cam`; None if there is no map or
    the backend cannot take gradients here."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    layer = _last_spatial_layer(model)
    if layer is None:
        return None
    try:
        return keras.Model(model.inputs, [layer.output, model.output])
    except ValueError:
        return _rechained(model, layer)


def _rechained(model: Any, feature_layer: Any) -> Any:
    """(feature map, output) for a chain whose feature layer is a nested backbone, as the
    `ml.archs` EfficientNets are. After loading, such a layer's `output` belongs to the
    backbone's own graph, so the top-level layers are called again in order on a fresh input
    (sharing their weights), split at the feature map: the backbone part runs compiled, and only
    the head runs under Grad-CAM's tape. The gradient with respect to the map flows through the
    head alone, so it is the same; a tape over a whole EfficientNet-B7 kept every activation
    alive and took the worker from 1.4 GB to 3.8 GB."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    split = layers.index(feature_layer) + 1
    inputs = keras.Input(model.inputs[0].shape[1:])
    x = inputs
    for layer in layers[:split]:
        x = layer(x)
    return _HeadGradients(keras.Model(inputs, x), layers[split:])


class _HeadGradients:
    """Called like a gradient model: (feature map, output) for a batch."""

    def __init__(self, features: Any, head: list[Any]) -> None:
        self.features = features
        self.head = head

    def __call__(self, x: Any, training: bool = False) -> tuple[Any, Any]:
        import tensorflow as tf

        # A trainable variable is watched by the caller's tape without being told.
        maps = tf.Variable(self.features.predict_on_batch(x), trainable=True)
        output = maps
        for layer in self.head:
            output = layer(output, training=training)
        return maps, output


def grad_cam(gradients: Any, x: np.ndarray) -> np.ndarray:
    """Heat (S, S) in 0..1 for one preprocessed input x of shape (1, S, S, 3).

    `gradients` comes from `gradient_model`.
    """
    import tensorflow as tf

    # The fake probability: one sigmoid unit, or the last ("fake") softmax column.
    with tf.GradientTape() as tape:
        maps, output = gradients(tf.convert_to_tensor(x, dtype=tf.float32), training=False)
        fake = tf.cast(output, tf.float32)[:, -1]
    grads = tf.cast(tape.gradient(fake, maps), tf.float32)
    weights = tf.reduce_mean(grads, axis=(1, 2))  # one weight per channel
    weighted = tf.cast(maps, tf.float32) * weights[:, None, None, :]
    cam = tf.nn.relu(tf.reduce_sum(weighted, axis=-1)).numpy()[0]
    peak = float(cam.max())
    if peak <= 0:
        return np.zeros(x.shape[1:3], dtype=np.float32)
    return cv2.resize(cam / peak, (x.shape[2], x.shape[1]), interpolation=cv2.INTER_LINEAR)


def overlay_jpeg(crop: np.ndarray, heat: np.ndarray) -> str:
    """The crop with the heat drawn over it, as base64 JPEG data (no data: prefix)."""
    size = (HEATMAP_SIZE, HEATMAP_SIZE)
    face = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), size, interpolation=cv2.INTER_AREA)
    heat = cv2.resize(np.clip(heat, 0.0, 1.0), size, interpolation=cv2.INTER_LINEAR)
    colours = cv2.applyColorMap(np.uint8(255 * heat), cv2.COLORMAP_JET)
    blended = cv2.addWeighted(colours, OVERLAY_ALPHA, face, 1.0 - OVERLAY_ALPHA, 0.0)
    ok, jpeg = cv2.imencode(".jpg", blended, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return base64.b64encode(jpeg.tobytes()).decode("ascii")
