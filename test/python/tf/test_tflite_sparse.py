"""Sparse weights in a .tflite (pruned models converted with EXPERIMENTAL_SPARSITY): the
converter stores them compressed and adds DENSIFY ops. Capture refused them ("a sparse
constant, which edgespec does not import"); it now expands them when it reads the file
(capture/tflite/sparse.py). Checked against TFLite itself: the converter's CSR layouts (fp32
and int8, whose image must agree bit for bit) and a hand-made block-sparse (1x4) layout that
the interpreter's own DENSIFY expands. TensorFlow runs in a subprocess only."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import host_agreement, run_python

PRUNED_MODEL = """
import sys
import numpy as np, tensorflow as tf
tf.keras.utils.set_random_seed(0)
inp = tf.keras.Input((12, 12, 4))
x = tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inp)
x = tf.keras.layers.Flatten()(x)
x = tf.keras.layers.Dense(32, activation="relu")(x)
model = tf.keras.Model(inp, tf.keras.layers.Dense(10)(x))
for layer in model.layers:
    weights = layer.get_weights()
    if weights:
        kernel = weights[0]
        kernel[np.random.default_rng(1).random(kernel.shape) < 0.8] = 0
        layer.set_weights([kernel] + weights[1:])
c = tf.lite.TFLiteConverter.from_keras_model(model)
c.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY] + ([tf.lite.Optimize.DEFAULT] if sys.argv[2] == "int8" else [])
if sys.argv[2] == "int8":
    c.representative_dataset = lambda: ([np.random.default_rng(i).standard_normal((1, 12, 12, 4)).astype(np.float32)] for i in range(16))
data = c.convert()
ops = {d["op_name"] for d in tf.lite.Interpreter(model_content=data)._get_ops_details()}
assert "DENSIFY" in ops, ops
open(sys.argv[1], "wb").write(data)
"""

BLOCK_SPARSE = """
import sys
import numpy as np, tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils as fb
tf.keras.utils.set_random_seed(0)
inp = tf.keras.Input((16,), batch_size=1)
model = tf.keras.Model(inp, tf.keras.layers.Dense(8)(inp))
model = fb.read_model_from_bytearray(bytearray(tf.lite.TFLiteConverter.from_keras_model(model).convert()))
graph = model.subgraphs[0]
[fc] = graph.operators
weight = graph.tensors[fc.inputs[1]]
dense = np.frombuffer(bytes(model.buffers[weight.buffer].data), np.float32).reshape(8, 16).copy()
keep = np.random.default_rng(3).random((8, 4)) < 0.4          # which 1x4 blocks of each row are kept
dense.reshape(8, 4, 4)[~keep] = 0
def vector(values):
    v = schema.Int32VectorT(); v.values = [int(x) for x in values]; return v
rows = schema.DimensionMetadataT(); rows.format = 0; rows.denseSize = 8
blocks = schema.DimensionMetadataT(); blocks.format = 1
blocks.arraySegmentsType = blocks.arrayIndicesType = schema.SparseIndexVector.Int32Vector
blocks.arraySegments = vector(np.concatenate([[0], np.cumsum(keep.sum(1))]))
blocks.arrayIndices = vector(np.nonzero(keep)[1])
inner = schema.DimensionMetadataT(); inner.format = 0; inner.denseSize = 4
sparsity = schema.SparsityParametersT()
sparsity.traversalOrder, sparsity.blockMap, sparsity.dimMetadata = [0, 1, 2], [1], [rows, blocks, inner]
values = schema.BufferT(); values.data = list(dense.reshape(8, 4, 4)[keep].astype(np.float32).tobytes())
model.buffers.append(values)
compressed = schema.TensorT(); compressed.shape, compressed.type, compressed.name = [8, 16], 0, "weight_blocks"
compressed.buffer, compressed.sparsity = len(model.buffers) - 1, sparsity
graph.tensors.append(compressed)
weight.buffer = 0                       # the FC's weight is now DENSIFY's output
code = schema.OperatorCodeT(); code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.DENSIFY; code.version = 1
model.operatorCodes.append(code)
op = schema.OperatorT(); op.opcodeIndex = len(model.operatorCodes) - 1
op.inputs, op.outputs = [len(graph.tensors) - 1], [fc.inputs[1]]
graph.operators.insert(0, op)
data = bytes(fb.convert_object_to_bytearray(model))
# without XNNPACK, which takes DENSIFY and the FC in and leaves the expanded tensor unwritten
interpreter = tf.lite.Interpreter(model_content=data, experimental_preserve_all_tensors=True,
                                  experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
interpreter.allocate_tensors()
x = np.random.default_rng(4).standard_normal((1, 16)).astype(np.float32)
interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
interpreter.invoke()
assert np.array_equal(interpreter.get_tensor(fc.inputs[1]), dense), "TFLite expands the blocks otherwise"
open(sys.argv[1], "wb").write(data)
"""


@pytest.mark.parametrize("kind", ["fp32", "int8"])
def test_a_pruned_model_converted_with_sparsity_agrees(tmp_path, kind):
    run_python(PRUNED_MODEL, str(tmp_path / "pruned.tflite"), kind)
    agreement = host_agreement(tmp_path / "pruned.tflite", tmp_path)
    graph = json.loads((tmp_path / "bundle" / "graph.json").read_text())
    assert graph["op_inventory"]["tflite.DENSIFY"] >= 2
    if kind == "int8":
        assert agreement["max_abs_error"] == 0, agreement
    else:
        assert agreement["max_abs_error"] <= 1e-5 * agreement["max_abs_reference"], agreement


def test_block_sparse_weights_expand_as_tflite_expands_them(tmp_path):
    run_python(BLOCK_SPARSE, str(tmp_path / "blocks.tflite"))
    agreement = host_agreement(tmp_path / "blocks.tflite", tmp_path)
    assert agreement["max_abs_error"] <= 1e-5 * agreement["max_abs_reference"], agreement


def _csr(segments, indices) -> SimpleNamespace:
    vector = lambda values: SimpleNamespace(values=values)  # noqa: E731
    return SimpleNamespace(format=1, denseSize=0, arraySegments=vector(segments), arrayIndices=vector(indices))


def test_damaged_sparsity_is_named_not_a_crash():
    from edgespec.capture.tflite.sparse import densify
    from edgespec.errors import ModelInputError

    rows = SimpleNamespace(format=0, denseSize=2)
    good = SimpleNamespace(traversalOrder=[0, 1], blockMap=None, dimMetadata=[rows, _csr([0, 1, 3], [2, 0, 3])])
    assert densify(np.array([1, 2, 3], np.float32), [2, 4], good, "w").tolist() == [[0, 0, 1, 0], [2, 0, 0, 3]]
    for bad in (_csr([0, 1, 9], [2, 0, 3]), _csr([0, 2, 1], [2, 0, 3]), _csr([0, 1, 3], [2, 0, 7])):
        with pytest.raises(ModelInputError, match="sparsity parameters are damaged"):
            densify(np.array([1, 2, 3], np.float32), [2, 4], SimpleNamespace(traversalOrder=[0, 1], blockMap=None,
                                                                                dimMetadata=[rows, bad]), "w")
