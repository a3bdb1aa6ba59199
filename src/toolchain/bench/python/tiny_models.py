"""The bench's tiny-model set: the four MLPerf Tiny architectures, written in Keras from their
published layer lists, with seeded weights and seeded batch-norm statistics, each converted by
TFLite's converter as fp32 and as full int8 (int8 inputs and outputs, as MLPerf Tiny's reference
files are; a seeded representative dataset).

    python tiny_models.py --out DIR [--models kws,vww,resnet8,autoencoder] [--seed 0] [--result FILE]

Writes DIR/<model>/<model>.float32.tflite and DIR/<model>/<model>.int8.tflite (a file that exists
is left as it is); with --bundles also captures each into DIR/<model>/bundle-<dtype> with edgespec's
TFLite capture (the same call as `edgespec capture FILE.tflite --seed SEED`: its reference output is
tf.lite.Interpreter's on a seeded input), in this one process, so TensorFlow is imported once; with
--result, a JSON list of what it wrote (file, bytes, parameters, converter version, seconds). TensorFlow runs in this process only: the bench calls it
as a subprocess, never beside PyTorch.

The architectures (github.com/mlcommons/tiny, benchmark/training):
- kws: DS-CNN of keyword_spotting/keras_model.py: 49x10x1 MFCC; Conv2D 64 (10x4, stride 2, same),
  BN, ReLU; four times DepthwiseConv2D 3x3 + BN + ReLU, Conv2D 64 1x1 + BN + ReLU; AveragePooling
  (24x5); Dense 12, softmax.
- vww: MobileNetV1 alpha 0.25 of visual_wake_words/vww_model.py: 96x96x3; Conv2D 8 3x3 stride 2,
  then 13 depthwise-separable blocks (16, 32/2, 32, 64/2, 64, 128/2, 128 x5, 256/2, 256), each
  DepthwiseConv2D 3x3 + BN + ReLU, Conv2D 1x1 + BN + ReLU; global average pooling; Dense 2, softmax.
- resnet8: image_classification/keras_model.py resnet_v1_eembc: 32x32x3; Conv2D 16 3x3 + BN +
  ReLU; three residual stacks of 16, 32/2, 64/2 filters (two Conv2D 3x3 with BN, a 1x1 stride-2
  Conv2D shortcut where the shape changes, add, ReLU); AveragePooling 8x8; Dense 10, softmax.
- autoencoder: anomaly_detection/keras_model.py: 640 inputs; Dense 128 + BN + ReLU four times,
  Dense 8 + BN + ReLU, Dense 128 + BN + ReLU four times, Dense 640.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

MODELS = ("kws", "vww", "resnet8", "autoencoder")
INPUT_SHAPES = {"kws": (49, 10, 1), "vww": (96, 96, 3), "resnet8": (32, 32, 3), "autoencoder": (640,)}
REPRESENTATIVE_SAMPLES = 32


def _bn_relu(layers, x):
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def kws(keras):
    layers = keras.layers
    inputs = keras.Input(shape=INPUT_SHAPES["kws"])
    x = layers.Conv2D(64, (10, 4), strides=(2, 2), padding="same")(inputs)
    x = _bn_relu(layers, x)
    x = layers.Dropout(0.2)(x)
    for _ in range(4):
        x = layers.DepthwiseConv2D((3, 3), padding="same")(x)
        x = _bn_relu(layers, x)
        x = layers.Conv2D(64, (1, 1), padding="same")(x)
        x = _bn_relu(layers, x)
    x = layers.Dropout(0.4)(x)
    x = layers.AveragePooling2D(pool_size=(24, 5))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(12, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="kws")


def vww(keras):
    layers = keras.layers
    inputs = keras.Input(shape=INPUT_SHAPES["vww"])
    x = layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same", use_bias=False)(inputs)
    x = _bn_relu(layers, x)
    blocks = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)] + [(128, 1)] * 5 + [(256, 2), (256, 1)]
    for filters, stride in blocks:
        x = layers.DepthwiseConv2D((3, 3), strides=(stride, stride), padding="same", use_bias=False)(x)
        x = _bn_relu(layers, x)
        x = layers.Conv2D(filters, (1, 1), padding="same", use_bias=False)(x)
        x = _bn_relu(layers, x)
    x = layers.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="vww")


def resnet8(keras):
    layers = keras.layers
    inputs = keras.Input(shape=INPUT_SHAPES["resnet8"])
    x = layers.Conv2D(16, (3, 3), padding="same")(inputs)
    x = _bn_relu(layers, x)
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = layers.Conv2D(filters, (3, 3), strides=(stride, stride), padding="same")(x)
        y = _bn_relu(layers, y)
        y = layers.Conv2D(filters, (3, 3), padding="same")(y)
        y = layers.BatchNormalization()(y)
        if stride != 1:
            x = layers.Conv2D(filters, (1, 1), strides=(stride, stride), padding="same")(x)
        x = layers.Activation("relu")(layers.Add()([x, y]))
    x = layers.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="resnet8")


def autoencoder(keras):
    layers = keras.layers
    inputs = keras.Input(shape=INPUT_SHAPES["autoencoder"])
    x = inputs
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = layers.Dense(units)(x)
        x = _bn_relu(layers, x)
    outputs = layers.Dense(640)(x)
    return keras.Model(inputs, outputs, name="autoencoder")


BUILDERS = {"kws": kws, "vww": vww, "resnet8": resnet8, "autoencoder": autoencoder}


def seeded_model(keras, name: str, seed: int):
    """The Keras model with Keras's seeded initializers and seeded batch-norm parameters and
    statistics (gamma, beta, moving mean, moving variance), so BatchNorm is not the identity."""
    keras.utils.set_random_seed(seed)
    model = BUILDERS[name](keras)
    rng = np.random.default_rng(seed + 1)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([
                rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                rng.normal(0.0, 0.1, beta.shape).astype(np.float32),
                rng.normal(0.0, 0.1, mean.shape).astype(np.float32),
                rng.uniform(0.5, 1.5, var.shape).astype(np.float32),
            ])
    return model


def representative(name: str, seed: int):
    shape = (1,) + INPUT_SHAPES[name]

    def samples():
        rng = np.random.default_rng(seed + 2)
        for _ in range(REPRESENTATIVE_SAMPLES):
            yield [rng.standard_normal(shape).astype(np.float32)]
    return samples


def convert(tf, model, name: str, dtype: str, seed: int) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if dtype == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative(name, seed)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def tflite_path(out: Path, name: str, dtype: str) -> Path:
    return out / name / f"{name}.{dtype}.tflite"


def bundle_path(out: Path, name: str, dtype: str) -> Path:
    return out / name / f"bundle-{dtype}"


def capture(tflite: Path, bundle: Path, name: str, seed: int) -> float:
    """edgespec's TFLite capture of one file into `bundle` (made beside it, then renamed)."""
    import shutil

    from edgespec.capture.tflite.capture import capture_tflite_file

    start = time.perf_counter()
    staging = bundle.with_name(bundle.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    capture_tflite_file(str(tflite), name=name, out=str(staging), seed=seed, entry=str(tflite))
    shutil.rmtree(bundle, ignore_errors=True)
    staging.replace(bundle)
    return time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--dtypes", default="float32,int8")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--result", type=Path)
    ap.add_argument("--bundles", action="store_true", help="also capture each .tflite into an edgespec bundle")
    args = ap.parse_args(argv)
    names = [m for m in args.models.split(",") if m]
    dtypes = [d for d in args.dtypes.split(",") if d]
    bad = [m for m in names if m not in MODELS] + [d for d in dtypes if d not in ("float32", "int8")]
    if bad:
        print(f"tiny_models: unknown {', '.join(bad)} (models: {', '.join(MODELS)}; dtypes: float32, int8)", file=sys.stderr)
        return 2
    written = []
    tf = keras = None
    for name in names:
        wanted = [d for d in dtypes if not tflite_path(args.out, name, d).exists()]
        if not wanted:
            continue
        if tf is None:
            import tensorflow as tf  # noqa: F811 (only when something is to be made)
            import keras  # noqa: F811
        model = seeded_model(keras, name, args.seed)
        for dtype in wanted:
            start = time.perf_counter()
            data = convert(tf, model, name, dtype, args.seed)
            path = tflite_path(args.out, name, dtype)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tflite.partial")
            tmp.write_bytes(data)
            tmp.replace(path)
            written.append({"model": name, "dtype": dtype, "file": str(path), "bytes": len(data),
                            "parameters": int(model.count_params()), "tensorflow": tf.__version__,
                            "seconds": round(time.perf_counter() - start, 2)})
            print(f"tiny_models: {path} {len(data)} bytes", file=sys.stderr)
    for name in names:
        for dtype in dtypes if args.bundles else ():
            bundle = bundle_path(args.out, name, dtype)
            if (bundle / "graph.json").exists():
                continue
            seconds = capture(tflite_path(args.out, name, dtype), bundle, f"{name}_{dtype}", args.seed)
            written.append({"model": name, "dtype": dtype, "bundle": str(bundle), "seconds": round(seconds, 2)})
            print(f"tiny_models: captured {bundle}", file=sys.stderr)
    if args.result:
        args.result.write_text(json.dumps(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
