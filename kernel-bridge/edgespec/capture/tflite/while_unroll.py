"""WHILE loops with a trip count known before the model runs, unrolled into the main subgraph.

TFLite's converter writes a Keras LSTM, GRU or SimpleRNN layer built without unroll=True as a
WHILE op: a condition subgraph that compares integer counters with the sequence length, and a
body subgraph that reads step i of the sequence (GATHER by the counter), runs the cell, and
writes its output into an accumulator (SLICE before i, the new step, SLICE after i,
CONCATENATION). The counters start from constants and only grow by constants, so the capture
can follow them: it copies the body into the main subgraph once per step, with every integer
the counters decide (indices, slice bounds, the condition) computed into a constant, and drops
the slices that hold no element (before the first step, after the last). The result is a plain
graph of ops the other rules know, written back as a .tflite, which both the lowering and the
reference interpreter then read: the arithmetic is the loop's own, op for op.

A loop whose condition depends on the model's input (a data-dependent length) cannot be
unrolled, and stays a WHILE that the lowering refuses.
"""
from __future__ import annotations

import copy
from typing import Dict, List, Optional, Tuple

import numpy as np

from .fold import _FOLDERS
from .flatbuffer import _NUMPY_TYPES, operator_codes
from ..tensorflow_quiet import captured_output
from ...errors import ModelInputError

MAX_STEPS = 4096  # an unrolled loop is one copy of its body per step: longer sequences are not edge models
_MAX_KNOWN_ELEMENTS = 64  # the integers followed through a loop are counters and bounds, not data


def _compare(fn):
    return lambda op, a, b: fn(a, b)


_EVALUATORS = dict(_FOLDERS)
_EVALUATORS.update({
    "LESS": _compare(np.less), "LESS_EQUAL": _compare(np.less_equal), "GREATER": _compare(np.greater),
    "GREATER_EQUAL": _compare(np.greater_equal), "EQUAL": _compare(np.equal), "NOT_EQUAL": _compare(np.not_equal),
    "LOGICAL_AND": _compare(np.logical_and), "LOGICAL_OR": _compare(np.logical_or),
    "LOGICAL_NOT": lambda op, a: np.logical_not(a),
    "RESHAPE": lambda op, x, shape=None: x.reshape([int(d) for d in shape.reshape(-1)]) if shape is not None else None,
    "SQUEEZE": lambda op, x: np.squeeze(x),
    "EXPAND_DIMS": lambda op, x, axis: np.expand_dims(x, int(np.asarray(axis).reshape(-1)[0])),
})
_TFLITE_TYPES = {np.dtype(v): k for k, v in _NUMPY_TYPES.items()}


class _Unroller:
    def __init__(self, model):
        self.model = model
        self.main = model.subgraphs[0]
        self.opcode_names = {i: self._opcode_name(i) for i in range(len(model.operatorCodes or []))}
        self.constant_copies: Dict[Tuple[int, int], int] = {}  # (body subgraph, tensor) -> its one copy in main

    def _opcode_name(self, index: int) -> str:
        from tensorflow.lite.tools import flatbuffer_utils

        return flatbuffer_utils.opcode_to_name(self.model, index) or ""

    # --- tensors ---------------------------------------------------------------------------------------------

    def known_value(self, graph, index: int) -> Optional[np.ndarray]:
        """The constant data of GRAPH's tensor INDEX, when it is a small integer or boolean constant."""
        if index < 0:
            return None
        tensor = graph.tensors[index]
        dtype = _NUMPY_TYPES.get(int(tensor.type))
        buffer = self.model.buffers[tensor.buffer] if tensor.buffer else None
        if dtype is None or buffer is None or buffer.data is None or len(buffer.data) == 0:
            return None
        value = np.frombuffer(bytes(bytearray(buffer.data)), dtype=dtype).reshape([int(d) for d in tensor.shape])
        return value if value.dtype.kind in "iub" and value.size <= _MAX_KNOWN_ELEMENTS else None

    def add_constant(self, like, value: np.ndarray, name: str) -> int:
        from tensorflow.lite.python import schema_py_generated as schema

        buffer = schema.BufferT()
        buffer.data = np.frombuffer(np.ascontiguousarray(value).tobytes(), np.uint8)
        self.model.buffers.append(buffer)
        tensor = schema.TensorT()
        tensor.name = name.encode()
        tensor.type = _TFLITE_TYPES[value.dtype] if value.dtype in _TFLITE_TYPES else like.type
        tensor.shape = np.asarray(value.shape, np.int32)
        tensor.buffer = len(self.model.buffers) - 1
        self.main.tensors.append(tensor)
        return len(self.main.tensors) - 1

    def add_copy(self, body_tensor, name: str) -> int:
        tensor = copy.deepcopy(body_tensor)
        tensor.name = name.encode()
        self.main.tensors.append(tensor)
        return len(self.main.tensors) - 1

    @staticmethod
    def static_shape(tensor) -> Optional[List[int]]:
        signature = getattr(tensor, "shapeSignature", None)
        if signature is not None and any(int(d) < 0 for d in signature):
            return None
        return [int(d) for d in tensor.shape] if tensor.shape is not None else []

    # --- the loop --------------------------------------------------------------------------------------------

    def evaluate(self, graph, op, inputs: List[Optional[np.ndarray]]) -> Optional[np.ndarray]:
        evaluator = _EVALUATORS.get(self.opcode_names.get(op.opcodeIndex, ""))
        if evaluator is None or len(op.outputs) != 1 or any(v is None for v in inputs) or not inputs:
            return None
        options = dict(vars(op.builtinOptions)) if op.builtinOptions is not None else {}
        try:
            result = evaluator(_Op(options), *inputs)
        except (ValueError, IndexError, TypeError):
            return None
        if result is None:
            return None
        out = graph.tensors[op.outputs[0]]
        dtype = _NUMPY_TYPES.get(int(out.type))
        result = np.asarray(result)
        return result.astype(dtype) if dtype is not None else result

    def condition(self, cond, loop_values: List[Optional[np.ndarray]]) -> Optional[bool]:
        """The condition subgraph on the loop's values; None when it depends on one not known now."""
        values: Dict[int, Optional[np.ndarray]] = dict(zip([int(i) for i in cond.inputs], loop_values))
        for op in cond.operators or []:
            inputs = [values.get(int(i), self.known_value(cond, int(i))) for i in op.inputs if int(i) >= 0]
            values[int(op.outputs[0])] = self.evaluate(cond, op, inputs)
        result = values.get(int(cond.outputs[0]))
        return None if result is None or result.size != 1 else bool(result.reshape(-1)[0])

    def step(self, body_index: int, loop: List[int], loop_values: List[Optional[np.ndarray]], shapes: List[Optional[List[int]]],
             prefix: str) -> Tuple[List[Optional[int]], List[Optional[np.ndarray]], List[Optional[List[int]]], list]:
        """One copy of BODY reading the main tensors LOOP: (its outputs' main tensors, known values, static shapes,
        the ops to insert). An output index of None is an empty tensor."""
        body = self.model.subgraphs[body_index]
        where: Dict[int, Optional[int]] = dict(zip([int(i) for i in body.inputs], loop))
        known: Dict[int, Optional[np.ndarray]] = dict(zip([int(i) for i in body.inputs], loop_values))
        shape: Dict[int, Optional[List[int]]] = dict(zip([int(i) for i in body.inputs], shapes))
        ops = []

        def main_index(i: int) -> Optional[int]:
            if i in where:
                return where[i]
            tensor = body.tensors[i]
            if tensor.buffer and self.model.buffers[tensor.buffer].data is not None and len(self.model.buffers[tensor.buffer].data):
                key = (body_index, i)
                if key not in self.constant_copies:  # one copy for every step: it shares the body's buffer
                    self.constant_copies[key] = self.add_copy(tensor, self._name(tensor, f"while_body{body_index}/"))
                where[i] = self.constant_copies[key]
                return where[i]
            raise ModelInputError(f"a WHILE body reads tensor {i} before writing it", hint="pass a .tflite written by the TFLite converter")

        for op in body.operators or []:
            ins = [int(i) for i in op.inputs]
            values = [known.get(i, self.known_value(body, i)) if i >= 0 else None for i in ins]
            name = self.opcode_names.get(op.opcodeIndex, "")
            if len(op.outputs) == 1:
                out = int(op.outputs[0])
                result = self.evaluate(body, op, [v for i, v in zip(ins, values) if i >= 0])
                if result is not None and result.size <= _MAX_KNOWN_ELEMENTS:
                    known[out], shape[out] = result, list(result.shape)
                    where[out] = self.add_constant(body.tensors[out], result, self._name(body.tensors[out], prefix))
                    continue
                empty = self._empty_output(name, ins, values, shape)
                if empty:
                    where[out], shape[out] = None, None
                    continue
            if name == "CONCATENATION":
                kept = [i for i in ins if where.get(i, 0) is not None]
                ins = kept
            new = copy.deepcopy(op)
            new.inputs = np.asarray([main_index(i) if i >= 0 else -1 for i in ins], np.int32)
            outputs = []
            for o in (int(o) for o in op.outputs):
                where[o] = self.add_copy(body.tensors[o], self._name(body.tensors[o], prefix))
                shape[o] = self.static_shape(body.tensors[o])
                outputs.append(where[o])
            new.outputs = np.asarray(outputs, np.int32)
            ops.append(new)
        results = [int(i) for i in body.outputs]
        out_where = [where[i] if i in where else main_index(i) for i in results]
        return out_where, [known.get(i, self.known_value(body, i)) for i in results], [shape.get(i) for i in results], ops

    @staticmethod
    def _empty_output(name: str, ins: List[int], values, shape) -> bool:
        """A SLICE or STRIDED_SLICE whose known bounds select no element (an accumulator's part before the first
        step or after the last)."""
        if name not in ("SLICE", "STRIDED_SLICE") or len(ins) < 3 or values[1] is None or values[2] is None:
            return False
        source = shape.get(ins[0])
        if source is None:
            return False
        begin, second = values[1].reshape(-1), values[2].reshape(-1)
        if len(begin) != len(source):
            return False
        for axis, dim in enumerate(source):
            b = int(begin[axis]) + (dim if int(begin[axis]) < 0 else 0)
            if name == "SLICE":
                size = dim - b if int(second[axis]) < 0 else int(second[axis])
            else:
                return False  # a strided slice's masks decide its bounds: not followed here
            if size <= 0:
                return True
        return False

    @staticmethod
    def _name(tensor, prefix: str) -> str:
        raw = tensor.name.decode("utf-8", "replace") if isinstance(tensor.name, (bytes, bytearray)) else str(tensor.name or "")
        return prefix + raw

    def unroll(self, op, position: int) -> Tuple[list, int]:
        options = op.builtinOptions
        cond, body = self.model.subgraphs[options.condSubgraphIndex], self.model.subgraphs[options.bodySubgraphIndex]
        loop = [int(i) for i in op.inputs]
        values = [self.known_value(self.main, i) for i in loop]
        shapes = [self.static_shape(self.main.tensors[i]) for i in loop]
        ops: list = []
        steps = 0
        while True:
            going = self.condition(cond, values)
            if going is None:
                raise _Unknown()
            if not going:
                break
            steps += 1
            if steps > MAX_STEPS:
                raise ModelInputError(f"a WHILE loop of the TFLite model runs over {MAX_STEPS} steps, too many to unroll",
                                      hint="convert a model with a shorter sequence")
            loop, values, new_shapes, added = self.step(options.bodySubgraphIndex, loop, values, shapes,
                                                        f"while{position}/step{steps}/")
            # a loop-carried tensor keeps its shape from step to step (TFLite's WHILE requires it of static shapes)
            shapes = [new if new is not None else old for new, old in zip(new_shapes, shapes)]
            if any(i is None for i in loop):
                raise _Unknown()
            ops.extend(added)
        renames = dict(zip([int(o) for o in op.outputs], loop))
        return ops, steps, renames


class _Op:
    def __init__(self, options):
        self.options = options


class _Unknown(Exception):
    """The loop's trip count depends on what the model is given."""


def _has_while(model_bytes: bytes) -> bool:
    from tensorflow.lite.python import schema_py_generated as schema

    codes = operator_codes(model_bytes)
    return codes is not None and codes.subgraphs >= 2 and schema.BuiltinOperator.WHILE in codes.builtins


def unroll_while_loops(model_bytes: bytes) -> Tuple[bytes, List[str]]:
    """MODEL_BYTES with every WHILE of the main subgraph whose trip count is known now unrolled; notes saying so.
    Returns the bytes unchanged when there is no such loop."""
    from tensorflow.lite.tools import flatbuffer_utils

    if not _has_while(model_bytes):  # the common case, decided without unpacking the whole model
        return model_bytes, []
    try:
        model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    except Exception:  # not a flatbuffer: read_flatbuffer says so, with its hint
        return model_bytes, []
    if not model.subgraphs or len(model.subgraphs) < 2:
        return model_bytes, []
    unroller = _Unroller(model)
    main = unroller.main
    operators, renames, notes, inlined = [], {}, [], []
    for position, op in enumerate(main.operators or []):
        op.inputs = np.asarray([renames.get(int(i), int(i)) for i in op.inputs], np.int32)
        if unroller.opcode_names.get(op.opcodeIndex) != "WHILE":
            operators.append(op)
            continue
        try:
            ops, steps, renamed = unroller.unroll(op, position)
        except _Unknown:
            operators.append(op)
            continue
        operators.extend(ops)
        renames.update(renamed)
        notes.append(f"a WHILE loop (operator {position}) runs {steps} steps: unrolled into {len(ops)} operators")
        inlined.extend(ops)
    if not notes:
        return model_bytes, []
    main.operators = operators
    main.outputs = np.asarray([renames.get(int(i), int(i)) for i in main.outputs], np.int32)
    for signature in model.signatureDefs or []:
        for entry in list(signature.outputs or []):
            entry.tensorIndex = renames.get(int(entry.tensorIndex), int(entry.tensorIndex))
    unrolled = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
    return _fold_constant_steps(model, unrolled, inlined), notes


def _fold_constant_steps(model, unrolled: bytes, inlined: list) -> bytes:
    """The unrolled ops that read only constants (a first step on the initial state, zeros) replaced by their
    values: the model's own arithmetic, computed once by TFLite's interpreter."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    main = model.subgraphs[0]
    names = {i: flatbuffer_utils.opcode_to_name(model, i) for i in range(len(model.operatorCodes or []))}
    constant = {i for i, t in enumerate(main.tensors) if t.buffer and model.buffers[t.buffer].data is not None
                and len(model.buffers[t.buffer].data)}
    inlined_ids = {id(op) for op in inlined}
    folded = []
    for op in main.operators:
        if id(op) not in inlined_ids or names.get(op.opcodeIndex) == "DEQUANTIZE":
            continue
        if all(int(i) < 0 or int(i) in constant for i in op.inputs):
            folded.append(op)
            constant.update(int(o) for o in op.outputs)
    if not folded:
        return unrolled
    import tensorflow as tf

    with captured_output():  # the interpreter's own notices
        interpreter = tf.lite.Interpreter(
            model_content=unrolled, experimental_preserve_all_tensors=True,
            experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        interpreter.allocate_tensors()
        for detail in interpreter.get_input_details():
            interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], dtype=detail["dtype"]))
        interpreter.invoke()
    folded_ids = {id(op) for op in folded}
    for op in folded:
        for o in (int(o) for o in op.outputs):
            value = np.array(interpreter.get_tensor(o))
            buffer = schema.BufferT()
            buffer.data = np.frombuffer(np.ascontiguousarray(value).tobytes(), np.uint8)
            model.buffers.append(buffer)
            tensor = main.tensors[o]
            tensor.buffer = len(model.buffers) - 1
            tensor.shape = np.asarray(value.shape, np.int32)
            tensor.shapeSignature = None
    main.operators = [op for op in main.operators if id(op) not in folded_ids]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))
