"""MesoNet MesoInception-4 (Afchar et al., WIFS 2018): two inception blocks, then the last two
conv blocks and the dense head of Meso-4. Takes pixels scaled to 0..1 ("unit"), 256 px faces.

Each inception block has four branches concatenated along the channels: 1×1; 1×1 → 3×3;
1×1 → 3×3 dilated 2; 1×1 → 3×3 dilated 3 (all `same`, ReLU). Layers are created in the order of
the authors' code, so the weights of their published MesoInception_*.h5 files load by layer
order; unlike Meso-4, that saved layer list does have a LeakyReLU after Dense 16.
"""

from __future__ import annotations

import keras

from ml.models.archs.meso4 import conv_block, dense_head, load_init

# Branch widths (a, b, c, d) of the two inception blocks.
INCEPTION_WIDTHS = ((1, 4, 4, 2), (2, 4, 4, 2))


def inception_block(x, widths: tuple[int, int, int, int], *, index: int):
    a, b, c, d = widths

    def conv(y, filters, kernel, name, dilation=1):
        return keras.layers.Conv2D(
            filters,
            kernel,
            padding="same",
            activation="relu",
            dilation_rate=dilation,
            name=f"inception{index}_{name}",
        )(y)

    x1 = conv(x, a, 1, "1x1")
    x2 = conv(conv(x, b, 1, "b_1x1"), b, 3, "b_3x3")
    x3 = conv(conv(x, c, 1, "c_1x1"), c, 3, "c_3x3_d2", dilation=2)
    x4 = conv(conv(x, d, 1, "d_1x1"), d, 3, "d_3x3_d3", dilation=3)
    y = keras.layers.Concatenate(axis=-1, name=f"inception{index}")([x1, x2, x3, x4])
    y = keras.layers.BatchNormalization(name=f"inception{index}_bn")(y)
    return keras.layers.MaxPooling2D(2, padding="same", name=f"inception{index}_pool")(y)


def build(*, input_size: int = 256, init: str = "none") -> keras.Model:
    inputs = keras.Input((input_size, input_size, 3), name="face")
    x = inputs
    for i, widths in enumerate(INCEPTION_WIDTHS, start=1):
        x = inception_block(x, widths, index=i)
    x = conv_block(x, 16, 5, 2, index=3)
    x = conv_block(x, 16, 5, 4, index=4)
    output = dense_head(x, leaky=True)
    return load_init(keras.Model(inputs, output, name="mesoinception4"), init)
