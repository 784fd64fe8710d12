"""InceptionV3 features per frame of a face track, then GRU layers: one score per track.

Source: the "Deep fake image detection" project, a CNN-RNN over DFDC videos served by a Flask REST
API: ImageNet InceptionV3 (`keras.applications.InceptionV3`, 299 px, global average pooling to
2048 features per frame), then recurrent GRU layers over the frame sequence. Its recorded
configuration goes no further than that, and its code could not be told apart among the many
public InceptionV3 + GRU DFDC projects (they differ in sequence length, 10 to 20 frames, and GRU
width, 8 to 64 units). The head here is that of the Keras CNN-RNN video classification example
most of them are built on (sequences of 20 frames, GRU 16 returning
sequences, GRU 8, dropout 0.4, Dense 8 ReLU), ending in one sigmoid unit (P(fake)) as every
network the platform trains. No trained weights were published: users train their own
(`train_model --arch inceptionv3_gru`).

Takes raw 0-255 pixels ("raw255"): the model scales them to -1..1 itself, as InceptionV3's
`preprocess_input` does. `init` is "imagenet" (Keras' weights, downloaded once into ~/.keras;
offline this fails with advice), "none", or a weights file of this model or of the backbone.
InceptionV3 needs at least 75 px.
"""

from __future__ import annotations

import keras

from ml.models.archs.efficientnet import is_weights_file, load_local_weights, make_backbone
from ml.models.archs.per_frame import PerFrame

FRAMES = 16  # the platform's default sequence length (train_model --sequence-length)
GRU_UNITS = (16, 8)
DROPOUT = 0.4
DENSE_UNITS = 8


def build(*, input_size: int = 299, init: str = "none", frames: int = FRAMES) -> keras.Model:
    backbone = make_backbone(keras.applications.InceptionV3, input_size=input_size, init=init)
    frame_encoder = keras.Sequential(
        [
            keras.Input((input_size, input_size, 3)),
            keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="to_unit_range"),
            backbone,
            keras.layers.GlobalAveragePooling2D(name="pool"),
        ],
        name="frame_encoder",
    )
    inputs = keras.Input((frames, input_size, input_size, 3), name="track")
    x = PerFrame(frame_encoder, name="per_frame")(inputs)
    first, second = GRU_UNITS
    x = keras.layers.GRU(first, return_sequences=True, name="gru1")(x)
    x = keras.layers.GRU(second, name="gru2")(x)
    x = keras.layers.Dropout(DROPOUT, name="dropout")(x)
    x = keras.layers.Dense(DENSE_UNITS, activation="relu", name="dense")(x)
    output = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="fake")(x)
    model = keras.Model(inputs, output, name="inceptionv3_gru")
    if is_weights_file(init):
        load_local_weights(model, backbone, init)
    return model
