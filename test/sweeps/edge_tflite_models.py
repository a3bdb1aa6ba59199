"""Look-alikes of the trained .tflite models edge users deploy (issue 13's held-out set), built in
Keras with seeded weights from what the published models are made of, and the converter settings
that make each of the formats people ship: float32, float16 weights, hybrid (dynamic-range), full
int8 with int8 or float input and output, and uint8 input and output over int8 internals.

Imported by the edge-tflite sweep and by the tests' TensorFlow subprocesses; never by pytest itself.
Each builder returns (model, input shape with batch 1). Inputs keep a free batch (shape signature
-1), as models exported from Keras have them, except the recurrent ones: TFLite's converter
converts a recurrent layer only at a fixed batch (their published files have batch 1 too)."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Tuple

SEED = 0
CALIBRATION_SAMPLES = 8


def _seeded():
    import keras

    keras.utils.set_random_seed(SEED)
    return keras, keras.layers


def _seed_batch_norm(model) -> None:
    """Seeded statistics, so batch norm is not an identity (and folds into something real)."""
    import keras
    import numpy as np

    rng = np.random.default_rng(SEED)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, layer.moving_variance.shape).astype("float32"))


def seed_biases(model) -> None:
    """Keras starts biases at zero, and the converter drops an add of zeros; trained models' biases are not zero."""
    import numpy as np

    rng = np.random.default_rng(SEED + 2)
    for layer in model.layers:
        bias = getattr(layer, "bias", None)
        if bias is not None and getattr(layer, "use_bias", True):
            bias.assign(rng.uniform(-0.2, 0.2, bias.shape).astype("float32"))


def _seed_prelu(model) -> None:
    """PReLU slopes start at zero (a ReLU); real trained ones are not."""
    import keras
    import numpy as np

    rng = np.random.default_rng(SEED + 1)
    for layer in model.layers:
        if isinstance(layer, keras.layers.PReLU):
            layer.alpha.assign(rng.uniform(0.05, 0.4, layer.alpha.shape).astype("float32"))


def _padded_shortcut_block(layers, x, channels: int, stride: int, kernel: int, name: str, activation_name: str, activation):
    """MediaPipe's residual block: a depthwise KERNELxKERNEL and a 1x1 conv, added to a shortcut that is 2x2
    max-pooled when the block strides and padded with zero channels (PAD on the channel axis) when it widens,
    then activation(activation_name)."""
    import tensorflow as tf

    h = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", name=f"{name}_dw")(x)
    h = layers.Conv2D(channels, 1, name=f"{name}_pw")(h)
    skip = layers.MaxPooling2D(2, name=f"{name}_pool")(x) if stride == 2 else x
    extra = channels - x.shape[-1]
    if extra > 0:
        skip = layers.Lambda(lambda t: tf.pad(t, [[0, 0], [0, 0], [0, 0], [0, extra]]), name=f"{name}_chpad")(skip)
    return activation(activation_name)(layers.Add(name=f"{name}_add")([h, skip]))


def blazeface(size: int = 128):
    """MediaPipe's short-range face detector: 5x5 depthwise + 1x1 "BlazeBlocks" whose skip path is
    a 2x2 max pool (stride 2) and zero channel padding, ReLU, two anchor heads (16x16 x 2 and 8x8 x 6)
    whose regressors and scores are reshaped to [anchors, k] and concatenated."""
    keras, layers = _seeded()

    def blaze_block(x, out_channels, stride=1, name=""):
        return _padded_shortcut_block(layers, x, out_channels, stride, 5, name, f"{name}_relu", lambda n: layers.ReLU(name=n))

    inp = keras.Input((size, size, 3), name="input")
    h = layers.Conv2D(24, 5, strides=2, padding="same", activation="relu", name="stem")(inp)
    h = blaze_block(h, 24, name="b1")
    h = blaze_block(h, 28, name="b2")
    h = blaze_block(h, 32, stride=2, name="b3")
    h = blaze_block(h, 36, name="b4")
    h = blaze_block(h, 42, name="b5")
    h = blaze_block(h, 48, stride=2, name="b6")
    f16 = blaze_block(h, 56, name="b7")
    h = blaze_block(f16, 64, stride=2, name="b8")
    f8 = blaze_block(h, 96, name="b9")
    cells16, cells8 = (size // 8) ** 2, (size // 16) ** 2
    scores = layers.Concatenate(axis=1, name="classificators")([
        layers.Reshape((cells16 * 2, 1), name="cls16_flat")(layers.Conv2D(2, 1, name="cls16")(f16)),
        layers.Reshape((cells8 * 6, 1), name="cls8_flat")(layers.Conv2D(6, 1, name="cls8")(f8))])
    boxes = layers.Concatenate(axis=1, name="regressors")([
        layers.Reshape((cells16 * 2, 16), name="reg16_flat")(layers.Conv2D(32, 1, name="reg16")(f16)),
        layers.Reshape((cells8 * 6, 16), name="reg8_flat")(layers.Conv2D(96, 1, name="reg8")(f8))])
    return keras.Model(inp, [boxes, scores], name="blazeface"), (1, size, size, 3)


def hand_landmark(size: int = 128):
    """MediaPipe's face mesh / hand landmark: a MobileNet-like trunk with PReLU (shared over height
    and width), strided depthwise, residual adds, then dense heads: 21 x 3 landmarks, a sigmoid
    presence score and a sigmoid handedness."""
    keras, layers = _seeded()

    def block(x, channels, stride, name):
        h = layers.DepthwiseConv2D(3, strides=stride, padding="same", name=f"{name}_dw")(x)
        h = layers.BatchNormalization(name=f"{name}_bn")(h)
        h = layers.Conv2D(channels, 1, name=f"{name}_pw")(h)
        if stride == 1 and x.shape[-1] == channels:
            h = layers.Add(name=f"{name}_add")([h, x])
        return layers.PReLU(shared_axes=[1, 2], name=f"{name}_prelu")(h)

    inp = keras.Input((size, size, 3), name="input_1")
    h = layers.Conv2D(16, 3, strides=2, padding="same", name="stem")(inp)
    h = layers.PReLU(shared_axes=[1, 2], name="stem_prelu")(h)
    for i, (channels, stride) in enumerate([(16, 1), (32, 2), (32, 1), (48, 2), (48, 1), (64, 2), (64, 1), (96, 2)]):
        h = block(h, channels, stride, f"block{i}")
    flat = layers.Flatten(name="flatten")(h)
    landmarks = layers.Dense(63, name="ld_21_3d")(flat)
    presence = layers.Dense(1, activation="sigmoid", name="output_handflag")(layers.GlobalAveragePooling2D(name="gap")(h))
    handed = layers.Dense(1, activation="sigmoid", name="output_handedness")(layers.GlobalAveragePooling2D(name="gap2")(h))
    model = keras.Model(inp, [landmarks, presence, handed], name="hand_landmark")
    _seed_batch_norm(model)
    _seed_prelu(model)
    return model, (1, size, size, 3)


def selfie_segmentation(size: int = 128):
    """MediaPipe's selfie segmentation: a MobileNetV3-ish encoder (hard-swish, inverted residuals with
    squeeze-excite: global mean, two dense, hard-sigmoid, multiply), a decoder of bilinear 2x
    upsampling with skip adds and a final transposed convolution, a sigmoid mask."""
    keras, layers = _seeded()

    def hard_swish(x, name):
        return layers.Activation("hard_swish", name=name)(x)

    def inverted(x, expand, out_channels, stride, squeeze, name):
        h = layers.Conv2D(expand, 1, use_bias=False, name=f"{name}_expand")(x)
        h = layers.BatchNormalization(name=f"{name}_expand_bn")(h)
        h = hard_swish(h, f"{name}_expand_hs")
        h = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(h)
        h = layers.BatchNormalization(name=f"{name}_dw_bn")(h)
        h = hard_swish(h, f"{name}_dw_hs")
        if squeeze:
            s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_mean")(h)
            s = layers.Conv2D(max(8, expand // 4), 1, activation="relu", name=f"{name}_se_reduce")(s)
            s = layers.Conv2D(expand, 1, activation="hard_sigmoid", name=f"{name}_se_expand")(s)
            h = layers.Multiply(name=f"{name}_se_mul")([h, s])
        h = layers.Conv2D(out_channels, 1, use_bias=False, name=f"{name}_project")(h)
        h = layers.BatchNormalization(name=f"{name}_project_bn")(h)
        if stride == 1 and x.shape[-1] == out_channels:
            h = layers.Add(name=f"{name}_add")([h, x])
        return h

    inp = keras.Input((size, size, 3), name="input_1")
    h = hard_swish(layers.Conv2D(16, 3, strides=2, padding="same", name="stem")(inp), "stem_hs")  # /2
    s2 = inverted(h, 16, 16, 1, True, "ir1")
    s4 = inverted(s2, 64, 24, 2, False, "ir2")
    s4 = inverted(s4, 72, 24, 1, False, "ir3")
    s8 = inverted(s4, 96, 32, 2, True, "ir4")
    s8 = inverted(s8, 128, 32, 1, True, "ir5")
    s16 = inverted(s8, 160, 48, 2, True, "ir6")
    d = layers.Conv2D(32, 1, activation="relu", name="dec16")(s16)
    d = layers.UpSampling2D(2, interpolation="bilinear", name="up8")(d)
    d = layers.Add(name="skip8")([d, s8])
    d = layers.Conv2D(24, 1, activation="relu", name="dec8")(d)
    d = layers.UpSampling2D(2, interpolation="bilinear", name="up4")(d)
    d = layers.Add(name="skip4")([d, s4])
    d = layers.Conv2D(16, 1, activation="relu", name="dec4")(d)
    d = layers.UpSampling2D(2, interpolation="bilinear", name="up2")(d)
    d = layers.Add(name="skip2")([d, s2])
    mask = layers.Conv2DTranspose(1, 2, strides=2, activation="sigmoid", name="segment")(d)
    model = keras.Model(inp, mask, name="selfie_segmentation")
    _seed_batch_norm(model)
    return model, (1, size, size, 3)


def wake_word(frames: int = 49, coefficients: int = 40):
    """A wake-word / keyword spotter over MFCC frames: a 1-D convolution stack (conv, batch norm,
    ReLU, a strided and a dilated layer, depthwise-separable 1-D), global average pooling, a
    dense softmax."""
    keras, layers = _seeded()
    inp = keras.Input((frames, coefficients), name="mfcc")
    h = layers.Conv1D(32, 5, strides=2, padding="same", name="conv1")(inp)
    h = layers.ReLU(name="relu1")(layers.BatchNormalization(name="bn1")(h))
    h = layers.Conv1D(32, 3, dilation_rate=2, padding="same", activation="relu", name="conv2")(h)
    h = layers.SeparableConv1D(48, 3, padding="same", activation="relu", name="sep3")(h)
    h = layers.MaxPooling1D(2, name="pool3")(h)
    h = layers.Conv1D(48, 3, padding="valid", activation="relu", name="conv4")(h)
    h = layers.GlobalAveragePooling1D(name="gap")(h)
    out = layers.Dense(12, activation="softmax", name="keywords")(layers.Dense(32, activation="relu", name="fc")(h))
    model = keras.Model(inp, out, name="wake_word")
    _seed_batch_norm(model)
    return model, (1, frames, coefficients)


def ocr_crnn(height: int = 32, width: int = 96, classes: int = 37, unroll: bool = True):
    """A CRNN text recognizer: a convolution stack with 2x2 and 2x1 max pools, the feature map
    reshaped to a sequence over the width, a bidirectional LSTM, a dense softmax per time step.
    Unrolled by default; without it the converter writes each direction as a WHILE loop."""
    keras, layers = _seeded()
    inp = keras.Input((height, width, 1), batch_size=1, name="image")  # the converter fuses LSTMs at a fixed batch only
    h = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inp)
    h = layers.MaxPooling2D(2, name="pool1")(h)  # 16 x 48
    h = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(h)
    h = layers.MaxPooling2D(2, name="pool2")(h)  # 8 x 24
    h = layers.Conv2D(48, 3, padding="same", name="conv3")(h)
    h = layers.ReLU(name="relu3")(layers.BatchNormalization(name="bn3")(h))
    h = layers.MaxPooling2D((2, 1), name="pool3")(h)  # 4 x 24
    h = layers.Permute((2, 1, 3), name="width_first")(h)  # 24 x 4 x 48
    h = layers.Reshape((width // 4, (height // 8) * 48), name="to_sequence")(h)
    h = layers.Dense(32, activation="relu", name="embed")(h)
    h = layers.Bidirectional(layers.LSTM(24, return_sequences=True, unroll=unroll, name="lstm"), name="bilstm")(h)
    out = layers.Dense(classes, activation="softmax", name="chars")(h)
    model = keras.Model(inp, out, name="ocr_crnn")
    _seed_batch_norm(model)
    return model, (1, height, width, 1)


def voice_activity(frames: int = 32, features: int = 40, unroll: bool = True):
    """A voice-activity detector: a small 1-D convolution over frames, a GRU and an LSTM over the
    sequence, a sigmoid speech probability per frame."""
    keras, layers = _seeded()
    inp = keras.Input((frames, features), batch_size=1, name="frames")  # recurrent layers convert at a fixed batch only
    h = layers.Conv1D(24, 3, padding="same", activation="relu", name="conv")(inp)
    h = layers.GRU(24, return_sequences=True, unroll=unroll, name="gru")(h)
    h = layers.LSTM(16, return_sequences=True, unroll=unroll, name="lstm")(h)
    out = layers.Dense(1, activation="sigmoid", name="speech")(h)
    return keras.Model(inp, out, name="voice_activity"), (1, frames, features)


def face_mesh(size: int = 64):
    """MediaPipe's face landmark (face mesh) model: a conv stem with PReLU, residual blocks of a 3x3 depthwise and
    a 1x1 conv with PReLU, stride-2 blocks whose shortcut is a 2x2 max pool padded with zero channels (PAD on
    the channel axis), and two heads: 468 x 3 landmarks as a 1x1 conv output [1, 1, 1, 1404] and a face score
    [1, 1, 1, 1]."""
    keras, layers = _seeded()

    def block(x, channels, stride, name):
        return _padded_shortcut_block(layers, x, channels, stride, 3, name, f"{name}_prelu",
                                      lambda n: layers.PReLU(shared_axes=[1, 2], name=n))

    inp = keras.Input((size, size, 3), name="input_1")
    h = layers.PReLU(shared_axes=[1, 2], name="stem_prelu")(layers.Conv2D(16, 3, strides=2, padding="same", name="stem")(inp))
    for i, (channels, stride) in enumerate([(16, 1), (32, 2), (32, 1), (48, 2), (48, 1), (64, 2), (64, 1)]):
        h = block(h, channels, stride, f"block{i}")
    side = h.shape[1]
    mesh = layers.Conv2D(32, 3, padding="same", name="mesh_conv")(h)
    mesh = layers.PReLU(shared_axes=[1, 2], name="mesh_prelu")(mesh)
    landmarks = layers.Conv2D(1404, side, name="conv2d_21")(mesh)
    score = layers.Conv2D(1, side, name="conv2d_31")(layers.PReLU(shared_axes=[1, 2], name="flag_prelu")(
        layers.Conv2D(16, 3, padding="same", name="flag_conv")(h)))
    model = keras.Model(inp, [landmarks, score], name="face_mesh")
    _seed_prelu(model)
    return model, (1, size, size, 3)


def palm_detection(size: int = 64):
    """MediaPipe's palm detector: BlazeBlocks (5x5 depthwise, 1x1 conv, a max-pooled and channel-padded shortcut,
    ReLU), a feature pyramid whose coarse level is resized bilinearly and added to the finer one, and per-level
    anchor heads reshaped to [1, anchors, k] and concatenated: scores [1, N, 1] and boxes with 7 keypoints
    [1, N, 18]."""
    keras, layers = _seeded()

    def blaze(x, channels, stride, name):
        return _padded_shortcut_block(layers, x, channels, stride, 5, name, f"{name}_relu", lambda n: layers.ReLU(name=n))

    inp = keras.Input((size, size, 3), name="input")
    h = layers.Conv2D(16, 5, strides=2, padding="same", activation="relu", name="stem")(inp)  # /2
    h = blaze(h, 16, 1, "b1")
    h = blaze(h, 24, 2, "b2")  # /4
    s8 = blaze(blaze(h, 32, 2, "b3"), 32, 1, "b4")  # /8
    s16 = blaze(blaze(s8, 48, 2, "b5"), 48, 1, "b6")  # /16
    up = layers.UpSampling2D(2, interpolation="bilinear", name="fpn_up")(s16)
    up = layers.Conv2D(32, 1, activation="relu", name="fpn_lateral")(up)
    p8 = blaze(layers.Add(name="fpn_add")([s8, up]), 32, 1, "fpn_smooth")
    heads = []
    for level, (feature, anchors) in enumerate([(p8, 2), (s16, 6)]):
        scores = layers.Conv2D(anchors, 1, name=f"classificator_{level}")(feature)
        boxes = layers.Conv2D(anchors * 18, 1, name=f"regressor_{level}")(feature)
        heads.append((layers.Reshape((-1, 1), name=f"cls_flat_{level}")(scores),
                      layers.Reshape((-1, 18), name=f"reg_flat_{level}")(boxes)))
    classificators = layers.Concatenate(axis=1, name="classificators")([c for c, _ in heads])
    regressors = layers.Concatenate(axis=1, name="regressors")([r for _, r in heads])
    return keras.Model(inp, [regressors, classificators], name="palm_detection"), (1, size, size, 3)


def db_text_detector(size: int = 64):
    """PaddleOCR's DB text detector as a .tflite (Paddle -> ONNX -> TF exports): a MobileNetV3 backbone with
    hard-swish and squeeze-excite gated by a hard sigmoid, an FPN with nearest upsampling and additions, all
    levels upsampled and concatenated, a head of conv, batch norm, ReLU and two transposed convolutions, a
    sigmoid probability map at the input's size."""
    keras, layers = _seeded()

    def inverted(x, expand, out_channels, kernel, stride, squeeze, act, name):
        activation = "hard_swish" if act == "hs" else "relu"
        h = layers.Conv2D(expand, 1, use_bias=False, name=f"{name}_expand")(x)
        h = layers.Activation(activation, name=f"{name}_expand_act")(layers.BatchNormalization(name=f"{name}_expand_bn")(h))
        h = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(h)
        h = layers.Activation(activation, name=f"{name}_dw_act")(layers.BatchNormalization(name=f"{name}_dw_bn")(h))
        if squeeze:
            s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_pool")(h)
            s = layers.Conv2D(expand // 4, 1, activation="relu", name=f"{name}_se_reduce")(s)
            s = layers.Conv2D(expand, 1, activation="hard_sigmoid", name=f"{name}_se_expand")(s)
            h = layers.Multiply(name=f"{name}_se_mul")([h, s])
        h = layers.BatchNormalization(name=f"{name}_project_bn")(layers.Conv2D(out_channels, 1, use_bias=False, name=f"{name}_project")(h))
        return layers.Add(name=f"{name}_add")([h, x]) if stride == 1 and x.shape[-1] == out_channels else h

    inp = keras.Input((size, size, 3), name="x")
    h = layers.Activation("hard_swish", name="stem_act")(layers.BatchNormalization(name="stem_bn")(
        layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="stem")(inp)))
    c2 = inverted(inverted(h, 16, 8, 3, 1, False, "relu", "b1"), 24, 12, 3, 2, False, "relu", "b2")  # /4
    c3 = inverted(c2, 36, 16, 5, 2, True, "relu", "b3")  # /8
    c4 = inverted(inverted(c3, 48, 24, 3, 2, False, "hs", "b4"), 48, 24, 3, 1, True, "hs", "b5")  # /16
    c5 = inverted(c4, 72, 32, 5, 2, True, "hs", "b6")  # /32
    inner = [layers.Conv2D(16, 1, use_bias=False, name=f"in{i}")(c) for i, c in enumerate((c2, c3, c4, c5))]
    up = lambda t, k, name: layers.UpSampling2D(k, interpolation="nearest", name=name)(t)  # noqa: E731
    out4 = layers.Add(name="fpn4")([inner[2], up(inner[3], 2, "up5")])
    out3 = layers.Add(name="fpn3")([inner[1], up(out4, 2, "up4")])
    out2 = layers.Add(name="fpn2")([inner[0], up(out3, 2, "up3")])
    outs = [layers.Conv2D(4, 3, padding="same", use_bias=False, name=f"out{i}")(t) for i, t in enumerate((out2, out3, out4, inner[3]))]
    fused = layers.Concatenate(name="fuse")([up(outs[3], 8, "p5"), up(outs[2], 4, "p4"), up(outs[1], 2, "p3"), outs[0]])
    h = layers.ReLU(name="head_relu1")(layers.BatchNormalization(name="head_bn1")(layers.Conv2D(4, 3, padding="same", use_bias=False, name="head_conv")(fused)))
    h = layers.ReLU(name="head_relu2")(layers.BatchNormalization(name="head_bn2")(layers.Conv2DTranspose(4, 2, strides=2, name="head_up1")(h)))
    out = layers.Conv2DTranspose(1, 2, strides=2, activation="sigmoid", name="head_up2")(h)
    model = keras.Model(inp, out, name="db_text_detector")
    _seed_batch_norm(model)
    return model, (1, size, size, 3)


def svtr_recognizer(height: int = 32, width: int = 64, dim: int = 32, characters: int = 40):
    """PaddleOCR's PP-OCRv3 recognizer (SVTR neck) as a .tflite: a conv stem with hard-swish pooled to height 1,
    the 1 x W map as a sequence, two transformer blocks (LayerNormalization, Keras MultiHeadAttention, a GELU
    MLP, residual adds), a 1x1 conv with hard-swish, a CTC head (Dense softmax per step)."""
    keras, layers = _seeded()
    inp = keras.Input((height, width, 3), name="x")
    h = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="stem1")(inp)
    h = layers.Activation("hard_swish", name="stem1_act")(layers.BatchNormalization(name="stem1_bn")(h))
    h = layers.Conv2D(dim, 3, strides=(2, 1), padding="same", use_bias=False, name="stem2")(h)
    h = layers.Activation("hard_swish", name="stem2_act")(layers.BatchNormalization(name="stem2_bn")(h))
    h = layers.AveragePooling2D((height // 4, 2), name="to_height_1")(h)  # [1, 1, W/4, dim]
    steps = width // 4
    seq = layers.Reshape((steps, dim), name="to_sequence")(h)
    for i in range(2):
        a = layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_norm1")(seq)
        a = layers.MultiHeadAttention(num_heads=4, key_dim=dim // 4, name=f"block{i}_attention")(a, a)
        seq = layers.Add(name=f"block{i}_add1")([seq, a])
        m = layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_norm2")(seq)
        m = layers.Dense(2 * dim, activation="gelu", name=f"block{i}_mlp1")(m)
        seq = layers.Add(name=f"block{i}_add2")([seq, layers.Dense(dim, name=f"block{i}_mlp2")(m)])
    seq = layers.LayerNormalization(epsilon=1e-6, name="norm")(seq)
    h = layers.Reshape((1, steps, dim), name="to_map")(seq)
    h = layers.Activation("hard_swish", name="fuse_act")(layers.BatchNormalization(name="fuse_bn")(
        layers.Conv2D(dim, 1, use_bias=False, name="fuse")(h)))
    out = layers.Dense(characters, activation="softmax", name="ctc")(layers.Reshape((steps, dim), name="ctc_sequence")(h))
    model = keras.Model(inp, out, name="svtr_recognizer")
    _seed_batch_norm(model)
    return model, (1, height, width, 3)


def melspectrogram(samples: int = 1280, fft: int = 128, hop: int = 64, mels: int = 16):
    """openWakeWord's melspectrogram front end as a .tflite: framing and the DFT as a Conv1D with fixed
    Hann-windowed cosine and sine kernels, power (square, add), a Dense with a mel filterbank (no bias),
    10 * log10 of the power clamped from below (MAXIMUM, LOG, MUL), openWakeWord's x / 10 + 2."""
    keras, layers = _seeded()
    import numpy as np
    import tensorflow as tf

    bins = fft // 2 + 1
    n = np.arange(fft)
    k = np.arange(bins)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / fft)
    kernel = np.concatenate([np.cos(2 * np.pi * k * n / fft) * window, -np.sin(2 * np.pi * k * n / fft) * window]).T
    centers = np.linspace(0, bins - 1, mels + 2)
    ramp = np.arange(bins)[:, None]
    bank = np.clip(np.minimum((ramp - centers[:-2]) / (centers[1:-1] - centers[:-2]),
                              (centers[2:] - ramp) / (centers[2:] - centers[1:-1])), 0, None)
    inp = keras.Input((samples,), name="input")
    frames = layers.Reshape((samples, 1), name="to_channels")(inp)
    dft = layers.Conv1D(2 * bins, fft, strides=hop, use_bias=False, name="stft")
    spectrum = dft(frames)
    dft.set_weights([kernel[:, None, :].astype("float32")])
    real = layers.Lambda(lambda t: t[..., :bins], name="real")(spectrum)
    imag = layers.Lambda(lambda t: t[..., bins:], name="imag")(spectrum)
    power = layers.Add(name="power")([layers.Multiply(name="real2")([real, real]), layers.Multiply(name="imag2")([imag, imag])])
    mel_layer = layers.Dense(mels, use_bias=False, name="melbank")
    mel = mel_layer(power)
    mel_layer.set_weights([bank.astype("float32")])
    db = layers.Lambda(lambda t: 10.0 * tf.math.log(tf.maximum(t, 1e-10)) / np.log(10.0), name="log10")(mel)
    out = layers.Lambda(lambda t: t / 10.0 + 2.0, name="scale")(db)
    out = layers.Reshape((1, -1, mels), name="to_image")(out)
    return keras.Model(inp, out, name="melspectrogram"), (1, samples)


MODELS: Dict[str, Callable] = {
    "blazeface": blazeface,
    "hand_landmark": hand_landmark,
    "selfie_segmentation": selfie_segmentation,
    "wake_word": wake_word,
    "ocr_crnn": ocr_crnn,
    "voice_activity": voice_activity,
    "face_mesh": face_mesh,
    "palm_detection": palm_detection,
    "db_text_detector": db_text_detector,
    "svtr_recognizer": svtr_recognizer,
    "melspectrogram": melspectrogram,
}

FORMATS: List[str] = ["float32", "float16", "hybrid", "int8", "int8-float-io", "uint8-io"]


def calibration(shape: Sequence[int]):
    import numpy as np

    return lambda: ([np.random.default_rng(SEED + 100 + i).uniform(-1, 1, shape).astype(np.float32)]
                    for i in range(CALIBRATION_SAMPLES))


def convert(model, shape: Sequence[int], form: str) -> bytes:
    """The .tflite of MODEL in FORM (one of FORMATS)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if form == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif form == "hybrid":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif form in ("int8", "int8-float-io", "uint8-io"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = calibration(shape)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        io = {"int8": tf.int8, "uint8-io": tf.uint8}.get(form)
        if io is not None:
            converter.inference_input_type = io
            converter.inference_output_type = io
    elif form == "float16-mediapipe":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
        return with_mediapipe_transpose_conv(converter.convert())
    elif form != "float32":
        raise ValueError(f"unknown format {form}")
    return converter.convert()


def with_mediapipe_transpose_conv(flat: bytes) -> bytes:
    """FLAT with each TRANSPOSE_CONV that has a bias written as MediaPipe's segmentation models have it: the custom
    op Convolution2DTransposeBias (data, weights, bias; options: int32 padding 1 SAME / 2 VALID, stride w, stride h)."""
    import struct

    import numpy as np
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flat))
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    code.customCode = "Convolution2DTransposeBias"
    code.version = 1
    custom = len(model.operatorCodes)
    rewritten = 0
    for graph in model.subgraphs:
        for op in graph.operators:
            opcode = model.operatorCodes[op.opcodeIndex]
            if max(opcode.builtinCode, opcode.deprecatedBuiltinCode) != schema.BuiltinOperator.TRANSPOSE_CONV:
                continue
            if len(op.inputs) < 4 or op.inputs[3] < 0:
                continue
            o = op.builtinOptions
            padding = 1 if o.padding == schema.Padding.SAME else 2
            op.opcodeIndex = custom
            op.inputs = np.asarray([op.inputs[2], op.inputs[1], op.inputs[3]], np.int32)
            op.builtinOptionsType, op.builtinOptions = 0, None
            op.customOptions = np.frombuffer(struct.pack("<iii", padding, o.strideW, o.strideH), np.uint8)
            rewritten += 1
    if not rewritten:
        raise ValueError("the model has no TRANSPOSE_CONV with a bias")
    model.operatorCodes.append(code)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def with_mediapipe_argmax_pooling(flat: bytes, filter_size: int = 2) -> bytes:
    """FLAT with each MAX_POOL_2D written as MediaPipe's custom MaxPoolingWithArgmax2D (a second output: the float32
    position of each window's maximum) and each RESIZE_NEAREST_NEIGHBOR after it as MaxUnpooling2D of that pool's
    indices (data, indices). Their options: TfLitePoolParams as int32s (padding 1 SAME / 2 VALID, stride w, stride h,
    filter w, filter h, activation, then four of computed padding). `filter_size` != the stride writes overlapping
    windows (which edgespec refuses)."""
    import struct

    import numpy as np
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flat))
    codes = {}
    for name in ("MaxPoolingWithArgmax2D", "MaxUnpooling2D"):
        code = schema.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
        code.customCode = name
        code.version = 1
        model.operatorCodes.append(code)
        codes[name] = len(model.operatorCodes) - 1
    graph = model.subgraphs[0]
    pending = []  # (indices tensor, stride) of the pools written so far
    for op in graph.operators:
        builtin = max(model.operatorCodes[op.opcodeIndex].builtinCode, model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode)
        if builtin == schema.BuiltinOperator.MAX_POOL_2D:
            o = op.builtinOptions
            pooled = graph.tensors[op.outputs[0]]
            indices = schema.TensorT()
            indices.name, indices.type, indices.shape = b"argmax_indices", schema.TensorType.FLOAT32, np.array(pooled.shape)
            buffer = schema.BufferT()
            model.buffers.append(buffer)
            indices.buffer = len(model.buffers) - 1
            graph.tensors.append(indices)
            pending.append((len(graph.tensors) - 1, o.strideW))
            padding = 1 if o.padding == schema.Padding.SAME else 2
            options = struct.pack("<10i", padding, o.strideW, o.strideH, filter_size, filter_size, o.fusedActivationFunction,
                                  0, 0, 0, 0)
            op.opcodeIndex = codes["MaxPoolingWithArgmax2D"]
            op.outputs = np.asarray([op.outputs[0], len(graph.tensors) - 1], np.int32)
        elif builtin == schema.BuiltinOperator.RESIZE_NEAREST_NEIGHBOR and pending:
            indices, stride = pending.pop()
            options = struct.pack("<10i", 2, stride, stride, stride, stride, 0, 0, 0, 0, 0)
            op.opcodeIndex = codes["MaxUnpooling2D"]
            op.inputs = np.asarray([op.inputs[0], indices], np.int32)
        else:
            continue
        op.builtinOptionsType, op.builtinOptions = 0, None
        op.customOptions = np.frombuffer(options, np.uint8)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def build(name: str, **options) -> Tuple[object, Tuple[int, ...]]:
    model, shape = MODELS[name](**options)
    seed_biases(model)
    return model, shape


def write(name: str, form: str, path, **options) -> Dict[str, object]:
    """Writes NAME's look-alike in FORM to PATH; returns its batch-1 input shape and parameter count."""
    model, shape = build(name, **options)
    from pathlib import Path

    Path(path).write_bytes(convert(model, shape, form))
    return {"input": list(shape), "parameters": int(model.count_params())}


def main(argv: Optional[List[str]] = None) -> None:
    """python edge_tflite_models.py NAME FORMAT OUT.tflite [OPTIONS-JSON]: writes the file and prints its facts as JSON
    (the sweep converts in a child process: TFLite's converter can crash on a model it cannot quantize)."""
    import json
    import sys

    args = sys.argv[1:] if argv is None else argv
    facts = write(args[0], args[1], args[2], **(json.loads(args[3]) if len(args) > 3 else {}))
    print("FACTS " + json.dumps(facts))


if __name__ == "__main__":
    main()
