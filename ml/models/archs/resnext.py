"""ResNeXt-50 32x4d per frame of a face track, an LSTM over the frames, one score per track.

Source: the "DeepFake Detection System" project (PyTorch; abhijitjadhav1998/
Deepfake_detection_using_deep_learning), one of the platform's seed projects. Checked against its
code (`Model` in the training notebook and the Django app's `ml_app/views.py`): torchvision's
`resnext50_32x4d` (ImageNet weights) without its pooling and classifier, adaptive average pooling
to 2048 features per frame, `nn.LSTM(2048, 2048, 1)`, the LSTM outputs averaged over time
(`torch.mean(x_lstm, dim=1)`; the app's later copy takes the last step instead), a linear layer to
two classes and dropout 0.4. Face crops are resized to 112 px and normalised with the ImageNet mean
and std; one checkpoint is trained per sequence length (10 to 100 frames), and class 1 is REAL.

Three things of that code are not copied, because they are slips rather than design: its LSTM call
passes `bidirectional` in the position of `bias` (so that LSTM has no biases), it leaves
`batch_first` False, so the LSTM runs across the videos of a batch instead of along each video's
frames, and its dropout acts on the two logits. Here the LSTM runs along the frames with biases,
dropout comes before the classifier, and the classifier is one sigmoid unit (P(fake)) instead of
two softmax classes, as for every network the platform trains. No trained weights of it are in
the platform's catalog: users train their own (`train_model --arch resnext50_lstm`).

The backbone is torchvision's network layer for layer: bottleneck blocks (3, 4, 6, 3) with the
stride on the grouped 3x3 convolution (`Conv2D(groups=32)`), batch-norm epsilon 1e-5 and
PyTorch's symmetric zero padding, so the ImageNet checkpoint converts exactly
(`ml.models.convert.resnext`). Layer names are torchvision's module names with "_" for ".".

`init`: "none" (random), the path of torchvision's `resnext50_32x4d` checkpoint (.pth, read
without PyTorch), or a weights file of this model or of the converted backbone (.keras or
.weights.h5). Keras publishes no ResNeXt weights, so "imagenet" asks for the torchvision file.
"""

from __future__ import annotations

from pathlib import Path

import keras

from ml.errors import ModelError
from ml.models.archs.efficientnet import is_weights_file, load_local_weights
from ml.models.archs.per_frame import PerFrame

FRAMES = 16  # the platform's default sequence length (train_model --sequence-length)
LSTM_UNITS = 2048
DROPOUT = 0.4
GROUPS = 32
WIDTH_PER_GROUP = 4
STAGES = (3, 4, 6, 3)  # bottleneck blocks per stage, as in ResNet-50
BN_EPSILON = 1e-5  # PyTorch's default, not Keras' 1e-3
TORCHVISION_FILE = "resnext50_32x4d-1a0047aa.pth"  # torchvision's IMAGENET1K_V1 weights
TORCH_SUFFIXES = (".pth", ".pt")


def conv_bn(x, filters: int, kernel: int, *, name: str, bn: str, stride: int = 1, groups=1):
    """Zero padding as PyTorch pads (kernel // 2 on every side), convolution, batch norm."""
    if kernel > 1:
        x = keras.layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
    x = keras.layers.Conv2D(
        filters, kernel, strides=stride, groups=groups, use_bias=False, name=name
    )(x)
    return keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=bn)(x)


def bottleneck(x, planes: int, *, stride: int, name: str, downsample: bool):
    width = planes * WIDTH_PER_GROUP * GROUPS // 64
    shortcut = x
    y = conv_bn(x, width, 1, name=f"{name}_conv1", bn=f"{name}_bn1")
    y = keras.layers.ReLU(name=f"{name}_relu1")(y)
    y = conv_bn(y, width, 3, name=f"{name}_conv2", bn=f"{name}_bn2", stride=stride, groups=GROUPS)
    y = keras.layers.ReLU(name=f"{name}_relu2")(y)
    y = conv_bn(y, planes * 4, 1, name=f"{name}_conv3", bn=f"{name}_bn3")
    if downsample:
        shortcut = conv_bn(
            x,
            planes * 4,
            1,
            name=f"{name}_downsample_0",
            bn=f"{name}_downsample_1",
            stride=stride,
        )
    y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_out")(y)


def build_backbone(input_size: int) -> keras.Model:
    """ResNeXt-50 32x4d without pooling and classifier: (size, size, 3) → feature map of 2048."""
    inputs = keras.Input((input_size, input_size, 3), name="face")
    x = conv_bn(inputs, 64, 7, name="conv1", bn="bn1", stride=2)
    x = keras.layers.ReLU(name="relu")(x)
    # Zero padding equals PyTorch's -inf padding here: the values pooled are ReLU outputs (>= 0).
    x = keras.layers.ZeroPadding2D(1, name="maxpool_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="maxpool")(x)
    for stage, blocks in enumerate(STAGES, start=1):
        planes = 64 * 2 ** (stage - 1)
        for block in range(blocks):
            x = bottleneck(
                x,
                planes,
                stride=2 if stage > 1 and block == 0 else 1,
                name=f"layer{stage}_{block}",
                downsample=block == 0,
            )
    return keras.Model(inputs, x, name="resnext50_32x4d")


def build(*, input_size: int = 112, init: str = "none", frames: int = FRAMES) -> keras.Model:
    if init == "imagenet":
        raise ModelError(
            "Keras publishes no ResNeXt-50 weights. Download torchvision's ImageNet checkpoint "
            f"({TORCHVISION_FILE}) and pass it with --init PATH, or use --init none."
        )
    if is_weights_file(init) and not Path(init).is_file():
        raise ModelError(f"The initial weights file {init} does not exist.")
    backbone = build_backbone(input_size)
    frame_encoder = keras.Sequential(
        [backbone, keras.layers.GlobalAveragePooling2D(name="pool")], name="frame_encoder"
    )
    inputs = keras.Input((frames, input_size, input_size, 3), name="track")
    features = PerFrame(frame_encoder, name="per_frame")(inputs)
    x = keras.layers.LSTM(LSTM_UNITS, return_sequences=True, name="lstm")(features)
    x = keras.layers.GlobalAveragePooling1D(name="mean_over_time")(x)
    x = keras.layers.Dropout(DROPOUT, name="dropout")(x)
    output = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="fake")(x)
    model = keras.Model(inputs, output, name="resnext50_lstm")
    if is_weights_file(init):
        load_init_file(model, backbone, init)
    return model


def load_init_file(model: keras.Model, backbone: keras.Model, path: str) -> None:
    """A torchvision checkpoint initialises the backbone; a Keras file the model or backbone."""
    if Path(path).suffix in TORCH_SUFFIXES:
        from ml.models.convert.resnext_state import assign_backbone, read_state_dict

        assign_backbone(backbone, read_state_dict(Path(path)))
    else:
        load_local_weights(model, backbone, path)
