"""The per-frame network of a temporal model, run on all frames of a batch of tracks at once.

Keras' TimeDistributed unrolls a fixed-length track into one copy of the frame network per frame:
a 16-frame EfficientNet or InceptionV3 track became a graph sixteen networks long, which took
minutes to trace before the first training step. Folding the frames into the batch keeps one
copy, traced once, and batch normalisation sees every frame of the batch while training.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="deepfake")
class PerFrame(keras.layers.Wrapper):
    """(batch, frames, ...) -> the wrapped layer on (batch × frames, ...) -> (batch, frames, ...)."""

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build((None, *input_shape[2:]))
        self.built = True

    def call(self, inputs, training=None):
        frames = keras.ops.reshape(inputs, (-1, *inputs.shape[2:]))
        features = self.layer(frames, training=training)
        return keras.ops.reshape(features, (-1, inputs.shape[1], *features.shape[1:]))

    def compute_output_shape(self, input_shape):
        per_frame = self.layer.compute_output_shape((None, *input_shape[2:]))
        return (input_shape[0], input_shape[1], *per_frame[1:])
