"""One compiled forward pass per loaded model, giving both the probability and, for a frame
model, its last spatial feature map: scoring and Grad-CAM share the same graph.

Grad-CAM needs the gradient of the fake probability with respect to that feature map. It flows
through the head alone (pooling and dense layers after the map), so the map comes from the
compiled pass and only the small head runs under a gradient tape (`ml.models.heatmap.grad_cam`): the
backbone is never differentiated and no second graph of it is built. A separate gradient model
of an EfficientNet-B7 took the worker from 1.9 GB to 3.1 GB.

Compiled passes need TensorFlow; on another Keras backend the model's own `predict_on_batch`
scores and there is no feature map (no heatmap).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Forward:
    """A loaded Keras model's compiled pass: `(feature map or None, outputs)` for a batch.

    `head` maps the feature map to the outputs (None when the model has no spatial map or
    maps were not asked for).
    """

    runtime = "keras"

    def __init__(self, model: Any, *, feature_map: bool) -> None:
        import keras

        self.model = model
        self.head = None
        if keras.backend.backend() != "tensorflow":
            self._pass = None
            return
        maps = _last_feature_map(model) if feature_map else None
        if maps is not None:
            self.head = keras.Model(maps, model.output)
            model = keras.Model(model.inputs, [maps, model.output])
        self._pass = _compiled(model, model.inputs[0].shape)

    def release(self) -> None:
        """Nothing to give back: a Keras model stays loaded (`ml.models.litert` frees its own)."""

    @property
    def has_heatmap(self) -> bool:
        return self.head is not None

    def channel_weights(self, maps: np.ndarray) -> np.ndarray:
        """Grad-CAM's weight per channel (1, channels) for one crop's feature map."""
        from ml.models.heatmap import keras_channel_weights

        return keras_channel_weights(self.head, maps)

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Feature maps (or None) and float32 outputs of a preprocessed batch."""
        if self._pass is None:
            return None, np.asarray(self.model.predict_on_batch(x), dtype=np.float32)
        results = self._pass(np.asarray(x, dtype=np.float32))
        if self.head is None:
            return None, np.asarray(results, dtype=np.float32)
        maps, outputs = results
        return maps.numpy(), np.asarray(outputs, dtype=np.float32)


def _compiled(model: Any, input_shape: tuple) -> Any:
    """One graph for every batch size: a fixed signature with a free batch dimension, so the
    same trace serves scoring batches and single heatmap crops."""
    import tensorflow as tf

    spec = tf.TensorSpec((None, *input_shape[1:]), tf.float32)

    # Calling the model eagerly keeps every intermediate tensor alive and took 7.9 GB for four
    # EfficientNet-B7 crops; the compiled graph frees them as it goes.
    @tf.function(input_signature=[spec], reduce_retracing=True)
    def run(x: Any) -> Any:
        return model(x, training=False)

    return run


def _last_feature_map(model: Any) -> Any | None:
    """The output tensor, in the model's own graph, of its last top-level layer with a
    (batch, h, w, channels) output: the final feature map. A nested backbone (a Keras
    Applications model used as one layer) counts as one layer."""
    import keras

    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        # A nested model's `output` belongs to its own graph; the node of its call inside this
        # model gives the tensor here. A layer called more than once has no single map.
        nodes = layer._inbound_nodes
        if len(nodes) != 1 or len(nodes[0].output_tensors) != 1:
            continue
        tensor = nodes[0].output_tensors[0]
        if len(tensor.shape) == 4 and (tensor.shape[1] or 0) > 1:
            return tensor
    return None
