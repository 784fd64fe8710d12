"""Three small frame classifiers on face crops: LeNet, MiniVGGNet and a small ResNet.

Source: the "DeepFake-Detection" project, which trains these three networks on faces taken from
every 10th frame of each video and ensembles them (it reports 99 % accuracy on its own split;
no trained weights were published, so users train their own). The networks are the classic
Keras builders that project uses (as taught in Rosebrock's "Deep Learning for Computer Vision
with Python"): LeNet (conv 20 5x5, conv 50 5x5, Dense 500), MiniVGGNet (two conv blocks of 32
and 64 filters with batch norm and dropout, Dense 512) and a pre-activation bottleneck ResNet.
Its recorded configuration gives no face size, and its code was not found among public
repositories to check these against; 64 px crops are used here. The two-class softmax
is one sigmoid unit (P(fake)) here, as for every network the platform trains.

The ensemble recipe, with no catalog entry: `train_model --arch lenet`, `--arch minivggnet`,
`--arch resnet_small` on the same data, install the three, then activate all three in the
ensemble (equal weights, unless an evaluation says otherwise). All take pixels scaled to 0..1
("unit"); `init` is "none" or a weights file (no ImageNet weights exist for them).
"""

from __future__ import annotations

import keras

from ml.models.archs.meso4 import load_init

LENET_FILTERS = (20, 50)
LENET_DENSE = 500
VGG_BLOCKS = (32, 64)
VGG_DENSE = 512
# ResNet: residual modules per stage and filters (the stem's, then each stage's).
RESNET_STAGES = (3, 3, 3)
RESNET_FILTERS = (64, 64, 128, 256)
BN_EPSILON = 2e-5
BN_MOMENTUM = 0.9


def sigmoid_output(x):
    # float32 output keeps the probability exact under mixed precision.
    return keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="fake")(x)


def build_lenet(*, input_size: int = 64, init: str = "none") -> keras.Model:
    inputs = keras.Input((input_size, input_size, 3), name="face")
    x = inputs
    for i, filters in enumerate(LENET_FILTERS, start=1):
        x = keras.layers.Conv2D(filters, 5, padding="same", activation="relu", name=f"conv{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(LENET_DENSE, activation="relu", name="dense")(x)
    return load_init(keras.Model(inputs, sigmoid_output(x), name="lenet"), init)


def build_minivggnet(*, input_size: int = 64, init: str = "none") -> keras.Model:
    inputs = keras.Input((input_size, input_size, 3), name="face")
    x = inputs
    for block, filters in enumerate(VGG_BLOCKS, start=1):
        for i in (1, 2):
            name = f"block{block}_conv{i}"
            x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=name)(x)
            x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
        x = keras.layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
        x = keras.layers.Dropout(0.25, name=f"block{block}_dropout")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(VGG_DENSE, activation="relu", name="dense")(x)
    x = keras.layers.BatchNormalization(name="dense_bn")(x)
    x = keras.layers.Dropout(0.5, name="dropout")(x)
    return load_init(keras.Model(inputs, sigmoid_output(x), name="minivggnet"), init)


def _bn_relu(x, name: str):
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def residual_module(x, filters: int, *, stride: int, reduce: bool, name: str):
    """Pre-activation bottleneck: (BN, ReLU, conv) x 3 with K/4, K/4, K filters; a 1x1
    projection of the first activation as shortcut where the shape changes."""
    act1 = _bn_relu(x, f"{name}_bn1")
    y = keras.layers.Conv2D(filters // 4, 1, use_bias=False, name=f"{name}_conv1")(act1)
    y = _bn_relu(y, f"{name}_bn2")
    y = keras.layers.Conv2D(
        filters // 4, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv2"
    )(y)
    y = _bn_relu(y, f"{name}_bn3")
    y = keras.layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_conv3")(y)
    shortcut = x
    if reduce:
        shortcut = keras.layers.Conv2D(
            filters, 1, strides=stride, use_bias=False, name=f"{name}_shortcut"
        )(act1)
    return keras.layers.Add(name=f"{name}_add")([y, shortcut])


def build_resnet_small(*, input_size: int = 64, init: str = "none") -> keras.Model:
    inputs = keras.Input((input_size, input_size, 3), name="face")
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name="input_bn")(
        inputs
    )
    x = keras.layers.Conv2D(RESNET_FILTERS[0], 3, padding="same", use_bias=False, name="stem")(x)
    for stage, (modules, filters) in enumerate(zip(RESNET_STAGES, RESNET_FILTERS[1:]), start=1):
        for i in range(modules):
            x = residual_module(
                x,
                filters,
                stride=2 if stage > 1 and i == 0 else 1,
                reduce=i == 0,
                name=f"stage{stage}_{i}",
            )
    x = _bn_relu(x, "final_bn")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return load_init(keras.Model(inputs, sigmoid_output(x), name="resnet_small"), init)
