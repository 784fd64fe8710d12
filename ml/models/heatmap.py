"""Grad-CAM: which parts of a face crop pushed the classifier toward "fake".

Grad-CAM (Selvaraju et al., ICCV 2017) weights the last spatial feature map of the network by the
gradient of the fake probability with respect to it, keeps the positive part and scales it up to
the crop. It shows where the network looked, not proof of a manipulation; the report says so.

The gradient comes from TensorFlow's tape over a Keras model's head, or from the gradient a LiteRT
export carries (`ml.models.litert`), so an exported model draws heatmaps without TensorFlow. On
another Keras backend `ml.models.forward` gives no feature map and the report has no heatmap.
"""

from __future__ import annotations

import base64
from typing import Any

import cv2
import numpy as np

HEATMAP_SIZE = 128  # pixels of the overlay image in the report
OVERLAY_ALPHA = 0.45  # how strongly the heat colours cover the face


def grad_cam(head: Any, maps: np.ndarray, size: int) -> np.ndarray:
    """Heat (size, size) in 0..1 for one crop's final feature map `maps` (1, h, w, channels),
    through a Keras `head` (`ml.models.forward.Forward.head`)."""
    return cam(maps, keras_channel_weights(head, maps), size)


def keras_channel_weights(head: Any, maps: np.ndarray) -> np.ndarray:
    """The fake probability's mean gradient per channel (1, channels) over the feature map.

    Only the head (the layers after the map) runs under the tape, so the backbone is never
    differentiated. A LiteRT export computes the same from its exported gradient
    (`ml.models.litert`).
    """
    import tensorflow as tf

    maps = tf.convert_to_tensor(maps)
    with tf.GradientTape() as tape:
        tape.watch(maps)
        # The fake probability: one sigmoid unit, or the last ("fake") softmax column.
        fake = tf.cast(head(maps, training=False), tf.float32)[:, -1]
    grads = tf.cast(tape.gradient(fake, maps), tf.float32)
    return tf.reduce_mean(grads, axis=(1, 2)).numpy()


def cam(maps: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """Heat (size, size) in 0..1: the feature map weighted per channel, its positive part,
    scaled to its peak."""
    weighted = np.asarray(maps, dtype=np.float32)[0] * np.asarray(weights, np.float32)[0]
    heat = np.maximum(weighted.sum(axis=-1), 0.0)
    peak = float(heat.max())
    if peak <= 0:
        return np.zeros((size, size), dtype=np.float32)
    return cv2.resize(heat / peak, (size, size), interpolation=cv2.INTER_LINEAR)


def overlay_jpeg(crop: np.ndarray, heat: np.ndarray, side: int = HEATMAP_SIZE) -> str:
    """The crop with the heat drawn over it, `side` px square, as base64 JPEG data (no data:
    prefix)."""
    size = (side, side)
    face = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), size, interpolation=cv2.INTER_AREA)
    heat = cv2.resize(np.clip(heat, 0.0, 1.0), size, interpolation=cv2.INTER_LINEAR)
    colours = cv2.applyColorMap(np.uint8(255 * heat), cv2.COLORMAP_JET)
    blended = cv2.addWeighted(colours, OVERLAY_ALPHA, face, 1.0 - OVERLAY_ALPHA, 0.0)
    ok, jpeg = cv2.imencode(".jpg", blended, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return base64.b64encode(jpeg.tobytes()).decode("ascii")
