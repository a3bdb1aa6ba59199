"""Issue 13's windows and resampling from TFLite: a Keras model converted to float .tflite
with TRANSPOSE_CONV (SAME and VALID), DEPTH_TO_SPACE, SPACE_TO_DEPTH, RESIZE_NEAREST_NEIGHBOR and
RESIZE_BILINEAR (align_corners, half_pixel_centers, neither) and MIRROR_PAD (REFLECT, SYMMETRIC) is captured, agrees with TFLite in the NumPy interpreter,
and its host build agrees with TFLite within 1e-4; a full-int8 .tflite's RESIZE_NEAREST_NEIGHBOR,
RESIZE_BILINEAR (half-pixel, align_corners, neither) and MIRROR_PAD run es_resize_nearest_s8,
es_resize_bilinear_s8 and es_pad_mirror_s8 and agree with TFLite bit for bit. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bundle_checks import assert_interpreter_agrees, load_graph
from conftest import REPO, cli_result, run_python

CLI = str(REPO / "bin" / "edgespec")

KERAS_MODEL = """
import sys
import numpy as np, tensorflow as tf, keras
from keras import layers
keras.utils.set_random_seed(0)
inp = keras.Input((5, 6, 3), batch_size=1)
h = layers.Conv2DTranspose(4, 3, strides=2, padding="same", name="up_same")(inp)
h = layers.Conv2DTranspose(3, (2, 3), strides=(2, 1), padding="valid", activation="relu", name="up_valid")(h)
h = layers.Conv2DTranspose(2, 4, strides=3, padding="same", use_bias=False, name="up_odd")(h)
d = layers.Conv2D(8, 1, name="mix")(inp)
d = layers.Lambda(lambda t: tf.nn.depth_to_space(t, 2), name="d2s")(d)
d = layers.Conv2D(4, 3, padding="same", name="post")(d)
d = layers.Lambda(lambda t: tf.nn.space_to_depth(t, 2), name="s2d")(d)
r = layers.Conv2D(3, 1, name="pre")(inp)
resized = [
    layers.Lambda(lambda t: tf.image.resize(t, (10, 12), method="nearest"), name="up_nearest")(r),
    layers.UpSampling2D((3, 2), interpolation="bilinear", name="up_bilinear")(r),
    layers.Lambda(lambda t: tf.compat.v1.image.resize_bilinear(t, (9, 11), align_corners=True), name="corners")(r),
    layers.Lambda(lambda t: tf.compat.v1.image.resize_bilinear(t, (7, 4)), name="legacy")(r),
    layers.Lambda(lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, (9, 11), align_corners=True), name="nn_corners")(r),
    layers.Lambda(lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, (7, 13)), name="nn_legacy")(r),
    layers.Lambda(lambda t: tf.image.resize(t, (3, 4), method="nearest"), name="nn_shrink")(r),
    layers.Lambda(lambda t: tf.pad(t, [[0, 0], [2, 1], [1, 3], [0, 0]], mode="REFLECT"), name="reflect")(r),
    layers.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 2], [3, 0], [0, 0]], mode="SYMMETRIC"), name="symmetric")(r),
]
model = keras.Model(inp, [h, d] + resized)
open(sys.argv[1], "wb").write(tf.lite.TFLiteConverter.from_keras_model(model).convert())

inp = keras.Input((5, 6, 3), batch_size=1)
q = layers.Conv2D(4, 3, padding="same", name="conv")(inp)
q = layers.Lambda(lambda t: tf.image.resize(t, (10, 12), method="nearest"), name="up")(q)
q = layers.Lambda(lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, (13, 17), align_corners=True), name="nn")(q)
q = layers.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 2], [2, 1], [0, 0]], mode="REFLECT"), name="mirror")(q)
q = layers.Lambda(lambda t: tf.image.resize(t, (21, 15), method="bilinear"), name="bilinear")(q)
q = layers.Lambda(lambda t: tf.compat.v1.image.resize_bilinear(t, (30, 31), align_corners=True), name="bl_corners")(q)
q = layers.Lambda(lambda t: tf.compat.v1.image.resize_bilinear(t, (11, 40)), name="bl_legacy")(q)
q = layers.Conv2D(2, 1, name="post")(q)
model = keras.Model(inp, q)
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 5, 6, 3)).astype(np.float32)] for i in range(16))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
open(sys.argv[2], "wb").write(c.convert())
"""


def _cli(args, timeout=600):
    proc = subprocess.run(["node", CLI, *args, "--json"], capture_output=True, text=True, timeout=timeout, cwd=REPO)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


def _build_and_run(bundle: Path, out: Path) -> dict:
    code, events, stderr = _cli(["build", str(bundle), "--target", "host", "--out", str(out)])
    assert code == 0 and not [e for e in events if e["event"] == "error"], stderr[-2000:] + str(events[-3:])
    code, events, stderr = _cli(["run", str(out)])
    [result] = [e for e in events if e["event"] == "result"]
    report = result["data"]
    assert report["status"] == "ok" and report["exit_code"] == 0, report
    return report


@pytest.fixture(scope="module")
def float_bundle(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("keras_windows")
    run_python(KERAS_MODEL, str(directory / "float.tflite"), str(directory / "int8.tflite"), cwd=directory)
    bundle = directory / "bundle"
    cli_result([str(directory / "float.tflite"), "--out", str(bundle)], directory)
    return bundle


def test_float_tflite_windows_are_captured_built_and_agree(float_bundle, tmp_path):
    graph = load_graph(float_bundle)
    assert graph["op_inventory"].get("tflite.TRANSPOSE_CONV") == 3
    transposed = [n["attrs"] for n in graph["nodes"] if n["op"] == "conv_transpose2d"]
    assert [a["weight_layout"] for a in transposed] == ["OHWI"] * 3
    assert graph["op_inventory"].get("tflite.DEPTH_TO_SPACE") == 1 and graph["op_inventory"].get("tflite.SPACE_TO_DEPTH") == 1
    assert [n["attrs"]["perm"] for n in graph["nodes"] if n["op"] == "transpose"] == [[0, 1, 3, 2, 4, 5]] * 2
    assert_interpreter_agrees(float_bundle)
    build = tmp_path / "build"
    agreement = _build_and_run(float_bundle, build)["agreement"]
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"]
    model_c = next(build.rglob("model.c")).read_text()
    assert model_c.count("es_conv_transpose2d_f32(") == 3
    assert model_c.count("es_resize_nearest_f32(") == 4 and model_c.count("es_resize_bilinear_f32(") == 3
    assert graph["op_inventory"].get("tflite.MIRROR_PAD") == 2 and model_c.count("es_pad_mirror_f32(") == 2
    coordinates = sorted((n["attrs"]["mode"], n["attrs"]["coordinate_transformation"]) for n in graph["nodes"] if n["op"] == "resize")
    assert coordinates == [("bilinear", "align_corners"), ("bilinear", "asymmetric"), ("bilinear", "half_pixel"),
                           ("nearest", "align_corners"), ("nearest", "asymmetric"), ("nearest", "tf_half_pixel_for_nn"),
                           ("nearest", "tf_half_pixel_for_nn")]


def test_int8_tflite_resizes_and_mirror_pad_run_the_int8_kernels_bit_for_bit(float_bundle, tmp_path):
    bundle = tmp_path / "bundle"
    cli_result([str(float_bundle.parent / "int8.tflite"), "--out", str(bundle)], tmp_path)
    assert load_graph(bundle)["op_inventory"].get("tflite.RESIZE_NEAREST_NEIGHBOR") == 2
    build = tmp_path / "build"
    report = _build_and_run(bundle, build)
    model_c = next(build.rglob("model.c")).read_text()
    assert model_c.count("es_resize_nearest_s8(") == 2 and model_c.count("es_pad_mirror_s8(") == 1
    assert model_c.count("es_resize_bilinear_s8(") == 3 and "_f32(" not in model_c.replace("quantize_s8(", "")
    assert report["agreement"]["max_abs_error"] == 0
