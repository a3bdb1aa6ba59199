"""MediaPipe's custom ops MaxPoolingWithArgmax2D and MaxUnpooling2D (its hair segmentation model's
SegNet-style encoder and decoder), rewritten into builtin TFLite ops before the capture reads the model.

Their custom options are TfLitePoolParams as raw little-endian int32s: padding (1 SAME, 2 VALID),
stride width, stride height, filter width, filter height, fused activation (then TFLite's computed
padding, unused). MaxPoolingWithArgmax2D (MediaPipe's max_pool_argmax.cc) outputs the max pool
(with the activation) and, as float32, the position of each window's maximum inside the window,
dy * filter_width + dx, the first of equal values in row-major order winning. MaxUnpooling2D
(max_unpooling.cc) takes data [N, h, w, C] and those indices and writes each value at that position
of its window in a zero output [N, h * filter_h, w * filter_w, C].

With windows that tile the input (filter = stride, sizes divisible by the filter: then SAME and
VALID do not pad), the pair is exactly:
  pool:    MAX_POOL_2D; and x [N, H, W, C] -> RESHAPE [N*h, fh, w, fw, C] -> TRANSPOSE [N*h, w, C, fh, fw]
           -> RESHAPE [N*h, w, C, fh*fw] -> ARG_MAX (int32, the first of equal values) [N*h, w, C]
  unpool:  GATHER(identity [K, K], index) = one-hot [N*h, w, C, K]; MUL by the data [N*h, w, C, 1];
           RESHAPE [N*h, w, C, fh, fw] -> TRANSPOSE [N*h, fh, w, fw, C] -> RESHAPE [N, H, W, C]
All builtin, so tf.lite.Interpreter runs the rewritten file (the reference) and the lowering reads it.
Overlapping or padded windows are refused with what they are.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

from ...errors import ModelInputError
from .flatbuffer import _name

ARGMAX_POOL = b"MaxPoolingWithArgmax2D"
UNPOOL = b"MaxUnpooling2D"
_HINT = "pass the .tflite file as MediaPipe published it"


@dataclass
class _Pool:
    padding: int
    stride_w: int
    stride_h: int
    filter_w: int
    filter_h: int
    activation: int


@dataclass
class _Index:
    tensor: int  # the int32 ARG_MAX result that stands for the float indices
    filter_h: int
    filter_w: int


def _options(op, name: bytes) -> _Pool:
    raw = bytes(bytearray(op.customOptions if op.customOptions is not None else []))
    if len(raw) < 24:
        raise ModelInputError(f"a {name.decode()} op has {len(raw)} bytes of options where its padding, strides, filter "
                              "and activation take 24", hint=_HINT)
    pool = _Pool(*struct.unpack("<6i", raw[:24]))
    if pool.padding not in (1, 2) or min(pool.stride_w, pool.stride_h, pool.filter_w, pool.filter_h) < 1:
        raise ModelInputError(f"a {name.decode()} op has padding {pool.padding}, strides {pool.stride_h}x{pool.stride_w} "
                              f"and filter {pool.filter_h}x{pool.filter_w}: not values it can have", hint=_HINT)
    return pool


def _tiling(pool: _Pool, name: bytes, height: int, width: int) -> None:
    if (pool.filter_h, pool.filter_w) != (pool.stride_h, pool.stride_w) or height % pool.filter_h or width % pool.filter_w:
        raise ModelInputError(
            f"a {name.decode()} op has filter {pool.filter_h}x{pool.filter_w} and strides {pool.stride_h}x{pool.stride_w} "
            f"over a {height}x{width} map; edgespec reads it when its windows tile the map (filter = stride, the map's "
            "size a multiple of it)", hint="MediaPipe's segmentation models use 2x2 windows with stride 2 on even sizes")


class _Writer:
    """Adds tensors, constants and operators to one subgraph of the object model."""

    def __init__(self, model, graph):
        from tensorflow.lite.python import schema_py_generated as schema

        self.schema, self.model, self.graph = schema, model, graph
        self._codes: Dict[int, int] = {}

    def code(self, builtin: int, version: int = 1) -> int:
        if builtin not in self._codes:
            code = self.schema.OperatorCodeT()
            code.builtinCode = code.deprecatedBuiltinCode = builtin
            code.version = version
            self.model.operatorCodes.append(code)
            self._codes[builtin] = len(self.model.operatorCodes) - 1
        return self._codes[builtin]

    def tensor(self, name: str, shape: List[int], tensor_type: int, data: np.ndarray = None) -> int:
        tensor = self.schema.TensorT()
        tensor.name = name.encode()
        tensor.type = tensor_type
        tensor.shape = np.asarray(shape, np.int32)
        buffer = self.schema.BufferT()
        if data is not None:
            buffer.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
        self.model.buffers.append(buffer)
        tensor.buffer = len(self.model.buffers) - 1
        self.graph.tensors.append(tensor)
        return len(self.graph.tensors) - 1

    def int32s(self, name: str, values: List[int]) -> int:
        return self.tensor(name, [len(values)], self.schema.TensorType.INT32, np.asarray(values, np.int32))

    def activation(self, name: str, shape: List[int], tensor_type: int = None) -> int:
        return self.tensor(name, shape, self.schema.TensorType.FLOAT32 if tensor_type is None else tensor_type)

    def op(self, builtin: int, inputs: List[int], outputs: List[int], options_type: int = 0, options=None, version: int = 1):
        op = self.schema.OperatorT()
        op.opcodeIndex = self.code(builtin, version)
        op.inputs = np.asarray(inputs, np.int32)
        op.outputs = np.asarray(outputs, np.int32)
        op.builtinOptionsType, op.builtinOptions = options_type, options
        return op

    def reshape(self, name: str, x: int, shape: List[int]) -> Tuple[object, int]:
        out = self.activation(name, shape)
        options = self.schema.ReshapeOptionsT()
        options.newShape = np.asarray(shape, np.int32)
        return self.op(self.schema.BuiltinOperator.RESHAPE, [x, self.int32s(f"{name}/shape", shape)], [out],
                       self.schema.BuiltinOptions.ReshapeOptions, options), out

    def transpose(self, name: str, x: int, shape: List[int], perm: List[int]) -> Tuple[object, int]:
        out = self.activation(name, [shape[p] for p in perm])
        return self.op(self.schema.BuiltinOperator.TRANSPOSE, [x, self.int32s(f"{name}/perm", perm)], [out],
                       self.schema.BuiltinOptions.TransposeOptions, self.schema.TransposeOptionsT(),
                       version=5 if len(shape) > 4 else 1), out


def rewrite_mediapipe_pooling(model) -> int:
    """Rewrites, in place, every MaxPoolingWithArgmax2D / MaxUnpooling2D of the object model; how many."""
    codes = {i: c.customCode.encode() if isinstance(c.customCode, str) else bytes(c.customCode)
             for i, c in enumerate(model.operatorCodes) if c.customCode is not None}
    if not any(code in (ARGMAX_POOL, UNPOOL) for code in codes.values()):
        return 0
    rewritten = 0
    for graph in model.subgraphs:
        writer = _Writer(model, graph)
        indices: Dict[int, _Index] = {}
        operators = []
        for op in graph.operators or []:
            code = codes.get(op.opcodeIndex)
            if code == ARGMAX_POOL:
                operators += _argmax_pool(writer, op, indices)
            elif code == UNPOOL:
                operators += _unpool(writer, op, indices)
            else:
                operators.append(op)
                continue
            rewritten += 1
        graph.operators = operators
        _check_indices_unused(graph, indices)
    return rewritten


def _shape(graph, index: int) -> List[int]:
    return [int(d) for d in graph.tensors[index].shape]


def _argmax_pool(writer: _Writer, op, indices: Dict[int, _Index]) -> list:
    schema, graph = writer.schema, writer.graph
    if op.inputs is None or len(op.inputs) != 1 or op.outputs is None or len(op.outputs) != 2:
        raise ModelInputError(f"a {ARGMAX_POOL.decode()} op has {0 if op.inputs is None else len(op.inputs)} inputs and "
                              f"{0 if op.outputs is None else len(op.outputs)} outputs; it takes one and gives two", hint=_HINT)
    pool = _options(op, ARGMAX_POOL)
    x, (pooled, index) = int(op.inputs[0]), (int(o) for o in op.outputs)
    n, height, width, channels = _shape(graph, x)
    _tiling(pool, ARGMAX_POOL, height, width)
    fh, fw = pool.filter_h, pool.filter_w
    h, w = height // fh, width // fw
    options = schema.Pool2DOptionsT()
    options.padding = schema.Padding.VALID
    options.strideW, options.strideH, options.filterWidth, options.filterHeight = fw, fh, fw, fh
    options.fusedActivationFunction = pool.activation
    name = _name(graph.tensors[index].name) or f"argmax_pool_{index}"
    max_pool = writer.op(schema.BuiltinOperator.MAX_POOL_2D, [x], [pooled], schema.BuiltinOptions.Pool2DOptions, options)
    split, windows = writer.reshape(f"{name}/windows", x, [n * h, fh, w, fw, channels])
    moved, by_window = writer.transpose(f"{name}/by_window", windows, [n * h, fh, w, fw, channels], [0, 2, 4, 1, 3])
    flat, flat_windows = writer.reshape(f"{name}/flat_windows", by_window, [n * h, w, channels, fh * fw])
    position = writer.activation(f"{name}/position", [n * h, w, channels], schema.TensorType.INT32)
    arg_options = schema.ArgMaxOptionsT()
    arg_options.outputType = schema.TensorType.INT32
    argmax = writer.op(schema.BuiltinOperator.ARG_MAX, [flat_windows, writer.int32s(f"{name}/axis", [3])], [position],
                       schema.BuiltinOptions.ArgMaxOptions, arg_options, version=2)
    indices[index] = _Index(position, fh, fw)
    return [max_pool, split, moved, flat, argmax]


def _unpool(writer: _Writer, op, indices: Dict[int, _Index]) -> list:
    schema, graph = writer.schema, writer.graph
    if op.inputs is None or len(op.inputs) != 2 or op.outputs is None or len(op.outputs) != 1:
        raise ModelInputError(f"a {UNPOOL.decode()} op has {0 if op.inputs is None else len(op.inputs)} inputs; it takes "
                              "the data and the indices", hint=_HINT)
    pool = _options(op, UNPOOL)
    data, index, out = int(op.inputs[0]), int(op.inputs[1]), int(op.outputs[0])
    if index not in indices:
        raise ModelInputError(f"a {UNPOOL.decode()} op's indices do not come from a {ARGMAX_POOL.decode()} op before it; "
                              "edgespec reads the two as a pair", hint=_HINT)
    source = indices[index]
    n, h, w, channels = _shape(graph, data)
    _tiling(pool, UNPOOL, h * pool.filter_h, w * pool.filter_w)
    fh, fw = source.filter_h, source.filter_w
    if (pool.filter_h, pool.filter_w) != (fh, fw) or _shape(graph, out) != [n, h * fh, w * fw, channels]:
        raise ModelInputError(f"a {UNPOOL.decode()} op with filter {pool.filter_h}x{pool.filter_w} unpools indices of "
                              f"{fh}x{fw} windows", hint=_HINT)
    name = _name(graph.tensors[out].name) or f"unpool_{out}"
    k = fh * fw
    one_hot = writer.activation(f"{name}/one_hot", [n * h, w, channels, k])
    gather_options = schema.GatherOptionsT()
    gather_options.axis = 0
    gather = writer.op(schema.BuiltinOperator.GATHER,
                       [writer.tensor(f"{name}/identity", [k, k], schema.TensorType.FLOAT32, np.eye(k, dtype=np.float32)),
                        source.tensor], [one_hot], schema.BuiltinOptions.GatherOptions, gather_options)
    column, values = writer.reshape(f"{name}/values", data, [n * h, w, channels, 1])
    placed = writer.activation(f"{name}/placed", [n * h, w, channels, k])
    mul = writer.op(schema.BuiltinOperator.MUL, [one_hot, values], [placed], schema.BuiltinOptions.MulOptions,
                    schema.MulOptionsT())
    split, windows = writer.reshape(f"{name}/windows", placed, [n * h, w, channels, fh, fw])
    moved, by_row = writer.transpose(f"{name}/by_row", windows, [n * h, w, channels, fh, fw], [0, 3, 1, 4, 2])
    options = schema.ReshapeOptionsT()
    options.newShape = np.asarray([n, h * fh, w * fw, channels], np.int32)
    final = writer.op(schema.BuiltinOperator.RESHAPE, [by_row, writer.int32s(f"{name}/shape", [n, h * fh, w * fw, channels])],
                      [out], schema.BuiltinOptions.ReshapeOptions, options)
    return [gather, column, mul, split, moved, final]


def _check_indices_unused(graph, indices: Dict[int, _Index]) -> None:
    """The float indices exist no more: an op or a graph output that still reads them is refused."""
    outputs = {int(i) for i in (graph.outputs if graph.outputs is not None else [])}
    readers = {int(i) for op in graph.operators for i in (op.inputs if op.inputs is not None else [])}
    for index in indices:
        if index in outputs or index in readers:
            raise ModelInputError(f"the argmax indices of a {ARGMAX_POOL.decode()} op are read by something other than "
                                  f"{UNPOOL.decode()}; edgespec reads them only as that pair", hint=_HINT)
