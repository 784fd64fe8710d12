"""A temporal classifier: per-frame CNN features of one face track, an LSTM over them, one score.

Input shape (frames, size, size, 3) raw 0-255 pixels; the per-frame backbone is EfficientNet-B0
applied to every frame (PerFrame) so every frame shares its weights.
"""

from __future__ import annotations

import keras

from ml.models.archs.efficientnet import is_weights_file, load_local_weights, make_backbone
from ml.models.archs.per_frame import PerFrame

FRAMES = 16
LSTM_UNITS = 128


def build(*, input_size: int = 224, init: str = "none", frames: int = FRAMES) -> keras.Model:
    backbone = make_backbone(keras.applications.EfficientNetB0, input_size=input_size, init=init)
    frame_encoder = keras.Sequential(
        [backbone, keras.layers.GlobalAveragePooling2D()], name="frame_encoder"
    )
    inputs = keras.Input((frames, input_size, input_size, 3), name="track")
    features = PerFrame(frame_encoder, name="per_frame")(inputs)
    x = keras.layers.LSTM(LSTM_UNITS, name="lstm")(features)
    x = keras.layers.Dropout(0.3, name="dropout")(x)
    output = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="fake")(x)
    model = keras.Model(inputs, output, name="efficientnet_lstm")
    if is_weights_file(init):
        load_local_weights(model, backbone, init)
    return model
