"""A constant on the left of a subtraction or division (c - x, c / x): a GRU's 1 - z in an int8
.tflite (the wake-word and voice-activity models), and torch's `1 - x` or `1 / x` exported to ONNX
as Sub(constant, x) / Div(constant, x). Both captures refused them ("its first operand is a
constant"); each now builds for the host and agrees with its framework. TensorFlow runs in a
subprocess only."""
from __future__ import annotations

import json

import numpy as np

from conftest import host_agreement, run_python

INT8_GATE = """
import sys
import numpy as np, tensorflow as tf
tf.keras.utils.set_random_seed(0)
inp = tf.keras.Input((6,), batch_size=1)
z = tf.keras.layers.Dense(8, activation="sigmoid")(inp)
h = tf.keras.layers.Dense(8, activation="tanh")(inp)
out = tf.keras.layers.Lambda(lambda t: (1.0 - t[0]) * t[1] + tf.constant(np.linspace(-2, 5, 8, dtype=np.float32)) - t[0] + (0.5 - (1.0 - t[1])))([z, h])
c = tf.lite.TFLiteConverter.from_keras_model(tf.keras.Model(inp, out))
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 6)).astype(np.float32)] for i in range(32))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
c.inference_input_type = tf.int8
c.inference_output_type = tf.int8
open(sys.argv[1] + "/gate.tflite", "wb").write(c.convert())
"""


def test_an_int8_tflite_with_one_minus_a_gate_agrees(tmp_path):
    run_python(INT8_GATE, str(tmp_path))
    agreement = host_agreement(tmp_path / "gate.tflite", tmp_path)
    graph = json.loads((tmp_path / "bundle" / "graph.json").read_text())
    assert graph["op_inventory"]["tflite.SUB"] == 4
    assert agreement["max_abs_error"] <= 5e-2 * agreement["max_abs_reference"], agreement


def test_onnx_sub_and_div_with_the_constant_first_agree(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    one = numpy_helper.from_array(np.array(1.0, np.float32), "one")
    row = numpy_helper.from_array(np.array([[0.5, -2.0, 3.0]], np.float32), "row")
    nodes = [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Sub", ["one", "s"], ["r"]),
             helper.make_node("Sub", ["row", "r"], ["q"]), helper.make_node("Div", ["one", "q"], ["y"])]
    graph = helper.make_graph(nodes, "constant_first", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])], [one, row])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "constant_first.onnx"))
    agreement = host_agreement(tmp_path / "constant_first.onnx", tmp_path)
    assert agreement["max_abs_error"] <= 1e-4 * agreement["max_abs_reference"], agreement
