"""intermediates.safetensors: capture keeps the framework's value of every intermediate tensor, and
each value is checked against an independent recomputation in that framework.

- PyTorch (in this process): forward hooks on the eager model's submodules.
- TFLite (a Keras model as float and as full-int8 .tflite) and a Keras capture: TensorFlow runs
  in a subprocess only (tf/conftest.py says why); it captures, then recomputes with a fresh
  tf.lite.Interpreter (get_tensor, every tensor preserved) and with Keras sub-models, and writes
  what it found to safetensors files that are compared here.
- ONNX: onnx's own pure-Python ReferenceEvaluator, which can return any intermediate value.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from safetensors.numpy import load_file, save_file

import edgespec
from edgespec import BundleError, validate_bundle
from edgespec.capture.bundle_files import sha256_of

REPO = Path(__file__).resolve().parents[2]
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
FILE = "intermediates.safetensors"
CAP = "EDGESPEC_INTERMEDIATES_MAX_BYTES"


def graph_of(bundle: Path) -> dict:
    return json.loads((bundle / "graph.json").read_text())


def check_record(bundle: Path) -> dict:
    """The record says what the file holds; keys are activation/output tensors in their own shape and dtype."""
    graph = validate_bundle(bundle)
    record = graph["intermediates"]
    values = load_file(str(bundle / FILE))
    assert record == {"file": FILE, "sha256": sha256_of(bundle / FILE), "bytes": (bundle / FILE).stat().st_size,
                      "count": len(values)}
    for name, array in values.items():
        tensor = graph["tensors"][name]
        assert tensor["kind"] in ("activation", "output"), name
        assert list(array.shape) == tensor["shape"] and str(array.dtype) == tensor["dtype"], name
    return values


def first_output(graph: dict, op: str) -> str:
    return next(n["outputs"][0] for n in graph["nodes"] if n["op"] == op)


def output_of(graph: dict, module: str, op: str) -> str:
    """The output tensor of the graph node of `op` made from `module`."""
    found = [n["outputs"][0] for n in graph["nodes"] if n["module"] == module and n["op"] == op]
    assert len(found) == 1, (module, op, [(n["module"], n["op"]) for n in graph["nodes"]])
    return found[0]


# ----- PyTorch -----
class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.relu(self.bn(self.conv(x)))), 1))


def small_net() -> SmallNet:
    torch.manual_seed(5)
    model = SmallNet().eval()
    with torch.no_grad():  # non-trivial batch norm statistics, so its output differs from its input
        model.bn.running_mean.uniform_(-0.5, 0.5)
        model.bn.running_var.uniform_(0.5, 2.0)
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.2, 0.2)
    return model


@pytest.fixture(scope="module")
def torch_bundle(tmp_path_factory):
    model = small_net()
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(7))
    result = edgespec.capture(model, x, out=tmp_path_factory.mktemp("torch") / "net")
    return model, x, result


def test_torch_values_are_the_submodules_outputs(torch_bundle):
    model, x, result = torch_bundle
    values = check_record(result.path)
    graph = graph_of(result.path)
    seen = {}
    hooks = [getattr(model, name).register_forward_hook(lambda m, i, o, name=name: seen.__setitem__(name, o.detach()))
             for name in ("conv", "bn", "relu", "pool", "fc")]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
    for module, op in (("conv", "conv2d"), ("bn", "batch_norm"), ("relu", "relu"), ("pool", "max_pool2d"),
                       ("fc", "linear")):
        name = output_of(graph, module, op)
        assert name in values, f"no intermediate for {module} ({name})"
        expected = seen[module].numpy()
        np.testing.assert_allclose(values[name], expected, rtol=1e-6, atol=1e-6 * float(np.abs(expected).max()))
    # every activation and output of this graph has a framework value (no lowering-made tensors here)
    assert set(values) == {n for n, t in graph["tensors"].items() if t["kind"] in ("activation", "output")}
    reference = load_file(str(result.path / "reference.safetensors"))
    np.testing.assert_array_equal(values[graph["outputs"][0]["tensor"]], reference["output.0"])


def test_a_lowering_made_tensor_has_no_value_and_the_rest_do(tmp_path):
    class Rsub(nn.Module):  # 1 - x becomes (x * -1) + 1: the negation is a tensor torch never computed
        def forward(self, x):
            return torch.relu(1 - x)

    result = edgespec.capture(Rsub().eval(), torch.randn(2, 5), out=tmp_path / "rsub")
    values = check_record(result.path)
    graph = graph_of(result.path)
    made = [n for n in graph["tensors"] if n.endswith(".negated")]
    assert made and not set(made) & set(values)
    x = load_file(str(result.path / "reference.safetensors"))["input.0"]
    sub = output_of(graph, "", "add")
    np.testing.assert_allclose(values[sub], 1 - x, rtol=1e-6)


def test_recapturing_the_same_model_gives_the_same_bundle(torch_bundle, tmp_path):
    model, x, result = torch_bundle
    copy = tmp_path / "net"
    shutil.copytree(result.path, copy)
    again = edgespec.capture(model, x, out=copy)
    assert any("already held this very bundle" in note for note in again.notes), again.notes
    assert (copy / FILE).read_bytes() == (result.path / FILE).read_bytes()


def test_a_recapture_without_intermediates_leaves_no_old_file(torch_bundle, tmp_path, monkeypatch):
    model, x, result = torch_bundle
    copy = tmp_path / "net"
    shutil.copytree(result.path, copy)
    monkeypatch.setenv(CAP, "0")
    again = edgespec.capture(model, x, out=copy)
    assert not (copy / FILE).exists() and "intermediates" not in validate_bundle(copy)
    assert not any("already held" in note for note in again.notes)


def test_a_killed_captures_staging_directory_with_intermediates_is_swept(torch_bundle, tmp_path):
    model, x, result = torch_bundle
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(finished.stdout)  # a process that has exited: its staging directory is a leftover
    leftover = tmp_path / f".net.partial-{dead}-abc123"
    leftover.mkdir()
    for name in ("graph.json", "weights.safetensors", FILE):
        shutil.copy(result.path / name, leftover / name)
    edgespec.capture(model, x, out=tmp_path / "net")
    assert not leftover.exists() and (tmp_path / "net" / FILE).is_file()


def test_over_the_cap_the_bundle_keeps_none_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv(CAP, "1000")  # the small net's activations take about 4 KiB
    result = edgespec.capture(small_net(), torch.randn(1, 3, 16, 16), out=tmp_path / "capped")
    graph = validate_bundle(result.path)
    assert "intermediates" not in graph and not (result.path / FILE).exists()
    notes = [n for n in result.notes if "intermediate tensors" in n]
    assert len(notes) == 1 and "more than the 1000 bytes capture keeps" in notes[0] and CAP in notes[0]
    assert "edgespec diff cannot compare this model layer by layer" in notes[0]

    monkeypatch.setenv(CAP, "1000000")  # the cap applies to the total: under it, all are kept
    kept = edgespec.capture(small_net(), torch.randn(1, 3, 16, 16), out=tmp_path / "kept")
    assert graph_of(kept.path)["intermediates"]["count"] == 6 and not any("intermediate" in n for n in kept.notes)


def test_a_cap_that_is_not_a_number_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(CAP, "lots")
    with pytest.raises(edgespec.EdgespecError) as caught:
        edgespec.capture(small_net(), torch.randn(1, 3, 16, 16), out=tmp_path / "bad")
    assert f"{CAP}='lots' is not a number of bytes" in caught.value.message
    assert not (tmp_path / "bad").exists()


# ----- what validation refuses -----
@pytest.fixture
def bundle(torch_bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(torch_bundle[2].path, copy)
    return copy


def rewrite(bundle: Path, values: dict) -> None:
    """A new intermediates file with a record that matches it (only the checks beyond the checksum can fail)."""
    save_file(values, str(bundle / FILE))
    graph = graph_of(bundle)
    graph["intermediates"] = {"file": FILE, "sha256": sha256_of(bundle / FILE), "bytes": (bundle / FILE).stat().st_size,
                              "count": len(values)}
    (bundle / "graph.json").write_text(json.dumps(graph))


def test_a_tampered_file_is_refused(bundle):
    path = bundle / FILE
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x10  # one bit of one value, same size
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=f"{FILE} has sha256 .* but graph.json records .*tampered") as caught:
        validate_bundle(bundle)
    assert caught.value.hint == "capture the model again to write a fresh bundle"


def test_a_truncated_or_missing_file_is_refused(bundle):
    path = bundle / FILE
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(BundleError, match=f"{FILE} is 100 bytes but graph.json records {size}: the file is truncated"):
        validate_bundle(bundle)
    path.unlink()
    with pytest.raises(BundleError, match=f"{FILE} is missing"):
        validate_bundle(bundle)


def test_keys_that_are_not_intermediate_graph_tensors_are_refused(bundle):
    values = load_file(str(bundle / FILE))
    rewrite(bundle, {**values, "not_a_tensor": np.zeros(3, np.float32)})
    with pytest.raises(BundleError, match=f"{FILE} holds tensors that graph.json does not declare: not_a_tensor"):
        validate_bundle(bundle)
    graph = graph_of(bundle)
    weight = next(n for n, t in graph["tensors"].items() if t["kind"] == "weight")
    rewrite(bundle, {**values, weight: np.zeros(graph["tensors"][weight]["shape"], np.float32)})
    with pytest.raises(BundleError, match=f"{FILE} holds inputs or weights, not intermediate tensors: {weight}"):
        validate_bundle(bundle)


def test_a_value_of_another_shape_or_dtype_is_refused(bundle):
    values = load_file(str(bundle / FILE))
    name = next(n for n, a in values.items() if a.ndim == 4)
    rewrite(bundle, {**values, name: values[name].transpose(0, 2, 3, 1).copy()})  # NHWC of an NCHW tensor
    with pytest.raises(BundleError, match=f"intermediate '{name}' is float32\\[1, 16, 16, 8\\] in {FILE} but "
                                          "graph.json declares float32\\[1, 8, 16, 16\\]"):
        validate_bundle(bundle)
    rewrite(bundle, {**values, name: values[name].astype(np.int32)})
    with pytest.raises(BundleError, match=f"intermediate '{name}' is int32"):
        validate_bundle(bundle)


def test_a_count_that_does_not_match_and_a_bad_record_are_refused(bundle):
    graph = graph_of(bundle)
    graph["intermediates"]["count"] += 1
    (bundle / "graph.json").write_text(json.dumps(graph))
    with pytest.raises(BundleError, match=f"graph.json says {FILE} holds 7 tensors but it holds 6"):
        validate_bundle(bundle)
    graph["intermediates"] = {"file": "other.safetensors", "sha256": "0" * 64, "bytes": 1, "count": 1}
    (bundle / "graph.json").write_text(json.dumps(graph))
    with pytest.raises(BundleError, match="does not follow the graph schema"):
        validate_bundle(bundle)


def test_a_bundle_without_intermediates_still_validates_but_not_with_a_stray_file(bundle):
    graph = graph_of(bundle)
    del graph["intermediates"]
    (bundle / "graph.json").write_text(json.dumps(graph))
    with pytest.raises(BundleError, match=f"it holds {FILE} but graph.json records no intermediates"):
        validate_bundle(bundle)
    (bundle / FILE).unlink()
    assert "intermediates" not in validate_bundle(bundle)  # a bundle of an earlier version


def test_the_toolchain_accepts_a_bundle_with_intermediates(torch_bundle):
    """The TypeScript side validates graph.json against the same schema: inspect loads the bundle."""
    edgespec_cli = REPO / "bin" / "edgespec"
    if not (REPO / "lib").is_dir():
        pytest.skip("the toolchain is not compiled (npm run build:toolchain)")
    done = subprocess.run([str(edgespec_cli), "inspect", str(torch_bundle[2].path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


# ----- ONNX -----
def small_onnx_model():
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(rng.standard_normal((6, 3, 3, 3)).astype(np.float32), "conv.weight"),
             numpy_helper.from_array(rng.standard_normal(6).astype(np.float32), "conv.bias"),
             numpy_helper.from_array((0.1 * rng.standard_normal((4, 6 * 4 * 4))).astype(np.float32), "fc.weight"),
             numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "fc.bias")]
    nodes = [helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["conv_out"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Relu", ["conv_out"], ["relu_out"], name="relu"),
             helper.make_node("MaxPool", ["relu_out"], ["pool_out"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
             helper.make_node("Flatten", ["pool_out"], ["flat"], axis=1, name="flatten"),
             helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], transB=1, name="fc"),
             helper.make_node("Sigmoid", ["logits"], ["y"], name="head")]
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    return model


def test_onnx_values_are_the_reference_evaluators(tmp_path):
    import onnx
    from onnx.reference import ReferenceEvaluator

    from edgespec.capture.onnx.capture import capture_onnx_file

    model = small_onnx_model()
    onnx.save(model, str(tmp_path / "small.onnx"))
    result = capture_onnx_file(tmp_path / "small.onnx", out=tmp_path / "bundle", seed=2)
    values = check_record(result.path)
    graph = graph_of(result.path)
    x = load_file(str(result.path / "reference.safetensors"))["input.0"]
    evaluator = ReferenceEvaluator(model)
    compared = []
    for value_name in ("conv_out", "relu_out", "pool_out", "flat", "logits", "y"):
        tensor = value_name  # graph tensors of an ONNX import keep the value names (none is renamed here)
        assert tensor in graph["tensors"] and tensor in values, value_name
        (expected,) = evaluator.run([value_name], {"x": x})
        np.testing.assert_allclose(values[tensor], expected, rtol=1e-5, atol=1e-5 * float(np.abs(expected).max()))
        compared.append(tensor)
    assert set(values) == set(compared)


# ----- TFLite and Keras (TensorFlow in a subprocess) -----
TF_SCRIPT = r"""
import json, sys
from pathlib import Path
import numpy as np
from safetensors.numpy import load_file, save_file
from edgespec.capture.tflite.capture import capture_tflite_file, import_tensorflow
from edgespec.capture.keras.capture import capture_keras

out = Path(sys.argv[1])
tf = import_tensorflow()
import keras
from keras import layers

keras.utils.set_random_seed(0)
inp = keras.Input((16, 16, 3), batch_size=1)
h = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inp)
h = layers.MaxPooling2D(2, name="pool")(h)
h = layers.Conv2D(8, 3, padding="same", name="conv2")(h)
h = layers.Flatten(name="flatten")(h)
model = keras.Model(inp, layers.Dense(10, name="dense")(h), name="small")
(out / "float.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
converter = tf.lite.TFLiteConverter.from_keras_model(model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
rng = np.random.default_rng(1)
converter.representative_dataset = lambda: ([rng.random((1, 16, 16, 3), dtype=np.float32)] for _ in range(16))
converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
(out / "int8.tflite").write_bytes(converter.convert())

OpResolverType = tf.lite.experimental.OpResolverType
for name in ("float", "int8"):
    bundle = out / name
    capture_tflite_file(out / f"{name}.tflite", out=bundle, seed=4)
    # every TFLite tensor whose name is unique, recomputed by a fresh interpreter on the reference input
    interpreter = tf.lite.Interpreter(model_path=str(out / f"{name}.tflite"),
                                      experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                                      experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    x = load_file(str(bundle / "reference.safetensors"))["input.0"]
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    details = interpreter.get_tensor_details()
    names = [d["name"] for d in details]
    recomputed = {}
    for d in details:
        if names.count(d["name"]) == 1:
            try:
                recomputed[d["name"]] = np.array(interpreter.get_tensor(d["index"]))
            except ValueError:
                pass
    save_file(recomputed, str(out / f"{name}.recomputed.safetensors"))

x = rng.random((1, 16, 16, 3), dtype=np.float32)
capture_keras(model, x, out=out / "keras")
layers_out = {layer: np.array(keras.Model(model.inputs, model.get_layer(layer).output)(x, training=False))
              for layer in ("conv", "pool", "conv2", "dense")}
save_file(layers_out, str(out / "keras.layers.safetensors"))
"""


@pytest.fixture(scope="module")
def tf_bundles(tmp_path_factory):
    out = tmp_path_factory.mktemp("tflite")
    env = dict(os.environ, PYTHONPATH=str(REPO / "kernel-bridge"), TF_CPP_MIN_LOG_LEVEL="2")
    env.pop(CAP, None)
    done = subprocess.run([PYTHON, "-c", TF_SCRIPT, str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    return out


def compare_with_interpreter(bundle: Path, recomputed_file: Path, exact: bool) -> list:
    values = check_record(bundle)
    recomputed = load_file(str(recomputed_file))
    compared = []
    for name, value in values.items():
        expected = recomputed.get(name)
        if expected is None or expected.dtype != value.dtype or expected.shape != value.shape:
            continue  # a graph name the lowering changed, or a TFLite name used twice
        if exact:
            np.testing.assert_array_equal(value, expected, err_msg=name)
        else:
            np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-5 * max(float(np.abs(expected).max()), 1e-30),
                                       err_msg=name)
        compared.append(name)
    return compared


def test_float_tflite_values_are_the_interpreters(tf_bundles):
    bundle = tf_bundles / "float"
    graph = graph_of(bundle)
    compared = compare_with_interpreter(bundle, tf_bundles / "float.recomputed.safetensors", exact=False)
    conv, pool = first_output(graph, "conv2d"), first_output(graph, "max_pool2d")
    assert {conv, pool} <= set(compared) and graph["tensors"][conv]["layout"] == "NHWC"
    assert set(compared) == {n for n, t in graph["tensors"].items() if t["kind"] in ("activation", "output")}
    values = load_file(str(bundle / FILE))
    assert values[conv].shape == (1, 16, 16, 8) and values[conv].min() >= 0  # NHWC, as TFLite computes it; relu fused


def test_int8_tflite_keeps_the_integers(tf_bundles):
    bundle = tf_bundles / "int8"
    graph = graph_of(bundle)
    values = load_file(str(bundle / FILE))
    compared = compare_with_interpreter(bundle, tf_bundles / "int8.recomputed.safetensors", exact=True)
    assert set(compared) == set(values)
    int8 = [n for n in compared if values[n].dtype == np.int8]
    assert len(int8) >= 5, compared
    conv = first_output(graph, "conv2d")
    assert conv in int8 and graph["tensors"][conv]["quantization"]["scale"]
    # the quantized model input (the TFLite input tensor after QUANTIZE) is kept too, and the float output
    quantized_input = graph["nodes"][0]["outputs"][0]
    assert graph["nodes"][0]["op"] == "quantize" and values[quantized_input].dtype == np.int8
    reference = load_file(str(bundle / "reference.safetensors"))
    np.testing.assert_array_equal(values[graph["outputs"][0]["tensor"]], reference["output.0"])


def test_keras_capture_values_are_the_layers_outputs(tf_bundles):
    bundle = tf_bundles / "keras"
    graph = graph_of(bundle)
    values = check_record(bundle)
    layers = load_file(str(tf_bundles / "keras.layers.safetensors"))
    for module, op in (("conv", "conv2d"), ("pool", "max_pool2d"), ("conv2", "conv2d"), ("dense", "linear")):
        name = output_of(graph, module, op)
        expected = layers[module]
        np.testing.assert_allclose(values[name], expected, rtol=1e-5, atol=1e-5 * float(np.abs(expected).max()),
                                   err_msg=module)
