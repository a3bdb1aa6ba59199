"""Write the fuzzers' seed corpora (test/fuzz/corpus/<target>/) and the bundle the graph.json
fuzzer validates against (test/fuzz/fixture_bundle/), all made here in code: tiny Keras
models converted to .tflite (float and int8), a small ONNX graph built with onnx.helper,
the bundles edgespec captures from them, and safetensors files of every dtype.

    .venv/bin/python test/fuzz/make_corpus.py

Regression seeds (regression-*) that the fuzzers found are kept; everything else is
rewritten. TensorFlow and onnx run in separate processes (one framework per process).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
FIXTURE = HERE / "fixture_bundle"
ROOT = HERE.parent.parent


def _fresh(target: str) -> Path:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("seed-*"):
        old.unlink()
    return folder


def _keras_models():
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 3), batch_size=1)
    h = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inp)
    d = layers.DepthwiseConv2D(3, padding="same", name="dw")(h)
    h = layers.Add(name="residual")([h, d])
    h = layers.MaxPooling2D(2, name="pool")(h)
    h = layers.ReLU(6.0, name="relu6")(h)
    flat = layers.Reshape((64,), name="flat")(h)
    mean = layers.GlobalAveragePooling2D(name="gap")(h)
    h = layers.Concatenate(name="cat")([flat, mean])
    out = layers.Dense(5, activation="softmax", name="fc")(h)
    float_model = keras.Model(inp, out)

    small = keras.Input((6, 6, 2), batch_size=1)
    g = layers.Conv2D(3, 3, strides=2, activation="relu", name="conv")(small)
    g = layers.AveragePooling2D(2, padding="same", name="avg")(g)
    int8_model = keras.Model(small, layers.Dense(4, name="fc")(layers.Flatten()(g)))
    return float_model, int8_model


def make_tflite(scratch: Path) -> None:
    import numpy as np
    import tensorflow as tf

    from edgespec.capture.tflite.capture import capture_tflite_file

    float_model, int8_model = _keras_models()
    folder = _fresh("tflite")
    float_bytes = tf.lite.TFLiteConverter.from_keras_model(float_model).convert()
    converter = tf.lite.TFLiteConverter.from_keras_model(int8_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    converter.representative_dataset = lambda: ([rng.random((1, 6, 6, 2), dtype=np.float32)] for _ in range(8))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    int8_bytes = converter.convert()
    (folder / "seed-float.tflite").write_bytes(float_bytes)
    (folder / "seed-int8.tflite").write_bytes(int8_bytes)

    # the fixture bundle is the float model's capture; the int8 one adds quantization records to the graph seeds
    float_file, int8_file = scratch / "float.tflite", scratch / "int8.tflite"
    float_file.write_bytes(float_bytes)
    int8_file.write_bytes(int8_bytes)
    fixture = capture_tflite_file(float_file, name="fuzz_fixture", out=scratch / "fixture", seed=0,
                                  entry="fuzz_fixture.tflite").path
    int8_bundle = capture_tflite_file(int8_file, name="fuzz_int8", out=scratch / "int8", seed=0,
                                     entry="fuzz_int8.tflite").path
    if FIXTURE.exists():
        shutil.rmtree(FIXTURE)
    FIXTURE.mkdir()
    for name in ("weights.safetensors", "reference.safetensors"):
        shutil.copyfile(fixture / name, FIXTURE / name)
    graphs = _fresh("graph_json")
    shutil.copyfile(fixture / "graph.json", graphs / "seed-fixture.json")
    shutil.copyfile(int8_bundle / "graph.json", graphs / "seed-int8.json")
    safetensors = _fresh("safetensors")
    for bundle, label in ((fixture, "float"), (int8_bundle, "int8")):
        shutil.copyfile(bundle / "weights.safetensors", safetensors / f"seed-{label}-weights.safetensors")
    shutil.copyfile(fixture / "reference.safetensors", safetensors / "seed-reference.safetensors")


def make_onnx(scratch: Path) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from edgespec.capture.onnx.capture import capture_onnx_file

    rng = np.random.default_rng(3)
    f = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    init = lambda name, array: numpy_helper.from_array(np.asarray(array), name)  # noqa: E731
    initializers = [
        init("w", f(4, 2, 3, 3)), init("b", f(4)), init("w_dw", f(4, 1, 3, 3)),
        init("scale", rng.uniform(0.5, 1.5, 4).astype(np.float32)), init("bias", f(4)),
        init("mean", f(4) * 0.1), init("var", rng.uniform(0.5, 1.5, 4).astype(np.float32)),
        init("lo", np.array(0.0, np.float32)), init("hi", np.array(6.0, np.float32)),
        init("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)), init("axes", np.array([2, 3], np.int64)),
        init("sizes", np.array([1, 3], np.int64)), init("shape", np.array([1, -1], np.int64)),
        init("fc_w", f(16, 3)), init("fc_b", f(3)), init("mm", f(3, 3)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="stem/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["n"], name="stem/bn"),
        helper.make_node("Clip", ["n", "lo", "hi"], ["r6"], name="stem/Clip"),
        helper.make_node("Conv", ["r6", "w_dw"], ["dw"], name="dw/Conv", group=4, strides=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("HardSwish", ["dw"], ["hs"], name="dw/HardSwish"),
        helper.make_node("MaxPool", ["r6"], ["mp"], name="pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Add", ["hs", "mp"], ["sum"], name="res/Add"),
        helper.make_node("Pad", ["sum", "pads"], ["padded"], name="pad/Pad"),
        helper.make_node("AveragePool", ["padded"], ["avg"], name="avg/AveragePool", kernel_shape=[3, 3], strides=[3, 3]),
        helper.make_node("Split", ["avg", "sizes"], ["s1", "s2"], name="split/Split", axis=1),
        helper.make_node("Concat", ["s2", "s1"], ["cat"], name="cat/Concat", axis=1),
        helper.make_node("Transpose", ["cat"], ["t"], name="t/Transpose", perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["t", "shape"], ["flat"], name="flat/Reshape"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc/Gemm"),
        helper.make_node("MatMul", ["logits", "mm"], ["proj"], name="proj/MatMul"),
        helper.make_node("Sigmoid", ["proj"], ["sig"], name="proj/Sigmoid"),
        helper.make_node("Softmax", ["sig"], ["y"], name="out/Softmax", axis=-1),
        helper.make_node("ReduceMean", ["sum", "axes"], ["pooled"], name="head/ReduceMean", keepdims=0),
        helper.make_node("Relu", ["pooled"], ["z"], name="head/Relu"),
    ]
    graph = helper.make_graph(nodes, "fuzz_seed", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3]),
                               helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9, producer_name="edgespec-fuzz")
    onnx.checker.check_model(model)
    folder = _fresh("onnx")
    (folder / "seed-model.onnx").write_bytes(model.SerializeToString())
    symbolic = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
         helper.make_node("GlobalAveragePool", ["c"], ["y"], name="gap")], "symbolic",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, 1, 1])], [init("w", f(4, 2, 3, 3))])
    symbolic_model = helper.make_model(symbolic, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)
    (folder / "seed-symbolic-batch.onnx").write_bytes(symbolic_model.SerializeToString())
    model_file = scratch / "model.onnx"
    model_file.write_bytes(model.SerializeToString())
    bundle = capture_onnx_file(model_file, name="fuzz_onnx", out=scratch / "onnx", seed=0,
                                entry="fuzz_onnx.onnx").path
    shutil.copyfile(bundle / "graph.json", _fresh_keep(CORPUS / "graph_json") / "seed-onnx.json")


def _fresh_keep(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def make_safetensors() -> None:
    import numpy as np
    from safetensors.numpy import save

    folder = CORPUS / "safetensors"
    arrays = {"f": np.arange(6, dtype=np.float32).reshape(2, 3), "i8": np.array([-1, 2], np.int8),
              "u8": np.array([[7]], np.uint8), "i32": np.array([1, 2, 3], np.int32), "i64": np.array(5, np.int64),
              "flag": np.array([True, False]), "empty": np.zeros((0, 4), np.float32)}
    (folder / "seed-dtypes.safetensors").write_bytes(save(arrays, metadata={"format": "pt", "note": "fuzz seed"}))


def main() -> None:
    step = sys.argv[1] if len(sys.argv) > 1 else None
    if step is None:
        for part in ("tflite", "onnx", "safetensors"):  # tflite first: it writes the graph_json and safetensors seeds
            subprocess.run([sys.executable, __file__, part], check=True, cwd=ROOT)
        total = sum(p.stat().st_size for p in [*CORPUS.rglob("*"), *FIXTURE.rglob("*")] if p.is_file())
        print(f"corpus and fixture: {total} bytes")
        return
    with tempfile.TemporaryDirectory(prefix="edgespec-fuzz-corpus-") as scratch:
        {"tflite": make_tflite, "onnx": make_onnx, "safetensors": lambda _: make_safetensors()}[step](Path(scratch))


if __name__ == "__main__":
    main()
