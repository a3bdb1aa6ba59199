"""Read a .tflite flatbuffer into plain Python: operators with their options, tensors
with their constant data.

Why the flatbuffer and not the interpreter: `Interpreter._get_ops_details()` gives no
options (stride, padding, fused activation) and, with the default delegates, lists
XNNPACK `DELEGATE` pseudo-ops instead of the model's ops. The flatbuffer object API
(`tensorflow.lite.tools.flatbuffer_utils`) has every op, every option and every
constant buffer, exactly as the converter wrote them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

from ...errors import ModelInputError
from .sparse import densify

# schema TensorType -> numpy dtype; others (strings, resources, complex, 4-bit) are not tensors edgespec stores
_NUMPY_TYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16,
                9: np.int8, 10: np.float64}
_TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool", 7: "int16",
               8: "complex64", 9: "int8", 10: "float64", 13: "resource", 14: "variant"}

ACTIVATIONS = {0: "none", 1: "relu", 2: "relu_n1_to_1", 3: "relu6", 4: "tanh", 5: "sign_bit"}
PADDINGS = {0: "SAME", 1: "VALID"}


@dataclass
class FbTensor:
    index: int
    name: str
    shape: List[int]
    type_name: str
    constant: Optional[np.ndarray]  # the buffer's data when the tensor is a constant
    quantized: bool
    scale: Optional[List[float]] = None  # real = scale * (q - zero_point): one entry, or one per index along axis
    zero_point: Optional[List[int]] = None
    axis: int = 0
    dynamic: bool = False  # its shape signature has a -1: `shape` is a placeholder until the interpreter settles it
    signature: Optional[List[int]] = None  # the shape signature, -1 for a free dimension (None when the file has none)
    variable: bool = False  # a variable tensor: the interpreter keeps what an op writes into it for the next invocation


@dataclass
class FbOperator:
    index: int
    op: str  # builtin name such as CONV_2D, or CUSTOM(name)
    inputs: List[int]  # -1 marks an omitted optional input
    outputs: List[int]
    options: Dict[str, Any] = field(default_factory=dict)


@dataclass
class FbModel:
    tensors: List[FbTensor]
    operators: List[FbOperator]
    inputs: List[int]
    outputs: List[int]
    subgraph_count: int
    signature_names: Dict[int, str] = field(default_factory=dict)  # tensor index -> name in the signature
    # a streaming model's resource variables: VAR_HANDLE's container/shared_name -> the constant its
    # initialization subgraph (run once by CALL_ONCE) assigns to it
    variable_initials: Dict[str, np.ndarray] = field(default_factory=dict)
    # inputs the interpreter must be resized to before it allocates (tensor index -> shape): free dimensions fixed
    input_shapes: Dict[int, List[int]] = field(default_factory=dict)


@dataclass
class OperatorCodes:
    """What a model's operator codes are, read straight from the buffer without unpacking the model:
    the passes that rewrite a model first ask this, and return at once when there is nothing to do."""
    builtins: List[int]  # each code's builtin operator (the larger of the new and the deprecated field)
    customs: List[bytes]  # each code's custom name, b"" for a builtin
    subgraphs: int


def operator_codes(model_bytes: bytes) -> Optional[OperatorCodes]:
    """The model's operator codes, or None when the bytes are not a flatbuffer (read_flatbuffer says so,
    with its hint)."""
    from tensorflow.lite.python import schema_py_generated as schema

    try:
        model = schema.Model.GetRootAs(bytearray(model_bytes), 0)
        codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
        return OperatorCodes([max(c.BuiltinCode(), c.DeprecatedBuiltinCode()) for c in codes],
                             [c.CustomCode() or b"" for c in codes], model.SubgraphsLength())
    except Exception:
        return None


def read_flatbuffer(model_bytes: bytes) -> FbModel:
    from tensorflow.lite.tools import flatbuffer_utils

    try:
        model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    except Exception as e:
        raise ModelInputError(f"this is not a readable TFLite flatbuffer ({type(e).__name__}: {e})",
                              hint="pass a .tflite file written by the TFLite converter") from None
    if not model.subgraphs:
        raise ModelInputError("the TFLite model has no subgraph", hint="pass a complete .tflite model")
    graph = model.subgraphs[0]
    tensors = [_tensor(i, t, model, model_bytes) for i, t in enumerate(graph.tensors or [])]
    operators = [_operator(i, op, model) for i, op in enumerate(graph.operators or [])]
    result = FbModel(tensors, operators, _ints(graph.inputs), _ints(graph.outputs), len(model.subgraphs),
                     _signature_names(model, len(tensors)), _variable_initials(model, model_bytes))
    _check_references(result)
    return result


def variable_key(options: Dict[str, Any]) -> str:
    """The identity of a resource variable: VAR_HANDLE ops with the same container and shared name are one variable."""
    return f"{_name(options.get('container'))}/{_name(options.get('sharedName'))}"


def _variable_initials(model, model_bytes: bytes) -> Dict[str, np.ndarray]:
    """What the other subgraphs assign to each variable: the converter writes a streaming model's initial state as
    an initialization subgraph of VAR_HANDLE + ASSIGN_VARIABLE ops on constants, run once by CALL_ONCE."""
    initials: Dict[str, np.ndarray] = {}
    for subgraph in (model.subgraphs or [])[1:]:
        tensors = [_tensor(i, t, model, model_bytes) for i, t in enumerate(subgraph.tensors or [])]
        operators = [_operator(i, op, model) for i, op in enumerate(subgraph.operators or [])]
        handles = {out: variable_key(op.options) for op in operators if op.op == "VAR_HANDLE" for out in op.outputs}
        for op in operators:
            if op.op != "ASSIGN_VARIABLE" or len(op.inputs) != 2:
                continue
            resource, value = op.inputs
            if resource in handles and 0 <= value < len(tensors) and tensors[value].constant is not None:
                initials[handles[resource]] = tensors[value].constant
    return initials


def _damaged(problem: str) -> ModelInputError:
    return ModelInputError(f"the TFLite model is damaged: {problem}",
                           hint="pass a .tflite file written by the TFLite converter, unmodified")


def _check_references(model: FbModel) -> None:
    """Every tensor index the graph and its operators use names a tensor (-1, an omitted optional
    input, only among operator inputs), so the lowering can follow them."""
    count = len(model.tensors)
    for side, indices in (("input", model.inputs), ("output", model.outputs)):
        for index in indices:
            if not 0 <= index < count:
                raise _damaged(f"graph {side} {index} is not one of its {count} tensors")
    for op in model.operators:
        for side, indices, lowest in (("reads", op.inputs, -1), ("writes", op.outputs, 0)):
            for index in indices:
                if not lowest <= index < count:
                    raise _damaged(f"operator {op.index} ({op.op}) {side} tensor {index}, "
                                   f"not one of the {count} tensors")


def _signature_names(model, tensor_count: int) -> Dict[int, str]:
    names: Dict[int, str] = {}
    for signature in model.signatureDefs or []:
        if signature.subgraphIndex:
            continue
        for entry in list(signature.inputs or []) + list(signature.outputs or []):
            if 0 <= int(entry.tensorIndex) < tensor_count:  # a name for a tensor that is not there names nothing
                names.setdefault(int(entry.tensorIndex), _name(entry.name))
    return names


def _ints(values) -> List[int]:
    return [] if values is None else [int(v) for v in values]


def _name(raw) -> str:
    return raw.decode("utf-8", errors="replace") if isinstance(raw, (bytes, bytearray)) else str(raw or "")


def _tensor(index: int, t, model, model_bytes: bytes) -> FbTensor:
    shape = _ints(t.shape)
    name = _name(t.name)
    label = f"tensor {index} ('{name[:100]}')"
    if any(d < 0 for d in shape):
        raise _damaged(f"{label} has the shape {shape}, with a negative dimension")
    type_name = _TYPE_NAMES.get(int(t.type), f"type{int(t.type)}")
    data = _buffer_bytes(model, t.buffer, model_bytes)
    constant = None
    if data is not None and int(t.type) in _NUMPY_TYPES:
        dtype = np.dtype(_NUMPY_TYPES[int(t.type)])
        if t.sparsity is not None:
            if len(data) % dtype.itemsize:
                raise _damaged(f"{label} holds {len(data)} bytes of sparse {type_name} values, not a whole number")
            constant = densify(np.frombuffer(bytes(data), dtype=dtype), shape, t.sparsity, label)
        else:
            needed = product(shape) * dtype.itemsize
            if len(data) != needed:
                raise _damaged(f"{label} holds {len(data)} bytes of constant data, its {type_name} shape {shape} "
                               f"needs {needed}")
            constant = np.frombuffer(bytes(data), dtype=dtype).reshape(shape).copy()
    q = t.quantization
    quantized = bool(q is not None and q.scale is not None and len(q.scale) > 0)
    signature = _ints(getattr(t, "shapeSignature", None)) or None
    dynamic = any(d < 0 for d in signature or [])
    if not quantized:
        return FbTensor(index, name, shape, type_name, constant, False, dynamic=dynamic, signature=signature,
                        variable=bool(getattr(t, "isVariable", False)))
    scale = [float(np.float32(v)) for v in q.scale]
    zero_point = [int(v) for v in q.zeroPoint] if q.zeroPoint is not None else [0] * len(scale)
    axis = int(q.quantizedDimension or 0)
    if len(zero_point) != len(scale):
        raise _damaged(f"{label} has {len(scale)} quantization scales but {len(zero_point)} zero points")
    if len(scale) > 1 and not (0 <= axis < len(shape) and shape[axis] == len(scale)):
        raise _damaged(f"{label} of shape {shape} has {len(scale)} quantization scales along dimension {axis}")
    return FbTensor(index, name, shape, type_name, constant, True, scale, zero_point, axis, dynamic, signature,
                    bool(getattr(t, "isVariable", False)))


def product(values: List[int]) -> int:
    result = 1
    for v in values:
        result *= v
    return result


def _buffer_bytes(model, buffer_index: int, model_bytes: bytes):
    if not buffer_index or buffer_index < 0 or buffer_index >= len(model.buffers or []):
        return None
    buffer = model.buffers[buffer_index]
    if buffer.data is not None and len(buffer.data) > 0:
        return buffer.data
    # models over 2 GiB keep buffers after the flatbuffer, addressed by offset and size
    offset, size = int(getattr(buffer, "offset", 0) or 0), int(getattr(buffer, "size", 0) or 0)
    if offset > 1 and size > 0:
        return model_bytes[offset:offset + size]
    return None


def _operator(index: int, op, model) -> FbOperator:
    from tensorflow.lite.tools import flatbuffer_utils

    codes = model.operatorCodes or []
    if not 0 <= op.opcodeIndex < len(codes):
        raise _damaged(f"operator {index} uses operator code {op.opcodeIndex}, not one of the {len(codes)} it lists")
    code = codes[op.opcodeIndex]
    name = flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) or f"BUILTIN_{code.builtinCode}"
    if name == "CUSTOM":
        name = f"CUSTOM({_name(code.customCode)})"
    options = dict(vars(op.builtinOptions)) if op.builtinOptions is not None else {}
    return FbOperator(index, name, _ints(op.inputs), _ints(op.outputs), options)
