"""An ONNX model made ready to import, each change said in a note: an opset older than
onnxruntime runs is upgraded with onnx's version converter, a float64 model is cast to
float32 (edgespec's images compute in float32), and nodes that compute only from constants
(an exporter's Transpose of a weight, a shape computation) are folded into constants."""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from ...errors import ModelInputError

# onnxruntime runs the default domain's opsets from 7 on.
OLDEST_RUNNABLE_OPSET = 7
UPGRADE_TO_OPSET = 13
UPGRADE_TO_IR = 7


def default_opset(model) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def prepare_model(model) -> Tuple[object, List[str]]:
    notes: List[str] = []
    opset = default_opset(model)
    if 0 < opset < OLDEST_RUNNABLE_OPSET:
        keep_per_channel_prelu(model)
        model = upgrade_opset(model, opset)
        notes.append(f"the model's opset {opset} is older than onnxruntime runs ({OLDEST_RUNNABLE_OPSET}); "
                     f"onnx's version converter upgraded it to opset {UPGRADE_TO_OPSET}")
    lowered_ir = fit_ir_version(model)
    if lowered_ir:
        notes.append(lowered_ir)
    cast = cast_float64_to_float32(model)
    if cast:
        notes.append(f"the model computes in float64; edgespec cast it to float32 ({cast}), so the reference and "
                     "the image compute in float32")
    folded = fold_constants(model)
    if folded:
        notes.append(f"{folded} computed from constants alone: folded into constants")
    return model, notes


def bind_inputs(model, values: Dict[str, float]) -> List[str]:
    """Inputs bound at capture (--input-value, capture/input_value.py) become initializers of their value, so
    that fold_constants settles what depends on them (an If on a sample rate takes its branch). Before IR
    version 4 an initializer is also listed as an input; onnxruntime and the import then treat it as a constant."""
    from onnx import helper, numpy_helper

    from ..input_value import bound_array, bound_note, check_known_inputs

    if not values:
        return []
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    check_known_inputs(values, [i.name for i in inputs], "the ONNX model")
    for graph_input in inputs:
        if graph_input.name not in values:
            continue
        tensor_type = graph_input.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor_type.shape.dim]
        array = bound_array(graph_input.name, values[graph_input.name],
                            helper.tensor_dtype_to_np_dtype(tensor_type.elem_type), shape)
        model.graph.initializer.append(numpy_helper.from_array(array, graph_input.name))
        if model.ir_version >= 4:
            model.graph.input.remove(graph_input)
    return [bound_note(values)]


def fit_ir_version(model) -> str:
    """A model saved by an onnx newer than onnxruntime (its IR version above the newest onnxruntime reads)
    gets onnxruntime's newest IR version; what the newer IR added (new element types) is refused by
    onnxruntime or by the import later. The newest IR version is asked of onnxruntime with a one-node model."""
    import re

    from onnx import TensorProto, helper

    try:
        import onnxruntime
    except ImportError:
        return ""
    probe = helper.make_model(
        helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]),
        opset_imports=[helper.make_opsetid("", UPGRADE_TO_OPSET)], ir_version=model.ir_version)
    try:
        onnxruntime.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
        return ""
    except Exception as e:
        newest = re.search(r"max supported IR version: (\d+)", str(e))
    if newest is None or int(newest.group(1)) >= model.ir_version:
        return ""
    saved, model.ir_version = model.ir_version, int(newest.group(1))
    return (f"the model's IR version {saved} is newer than onnxruntime {onnxruntime.__version__} reads; "
            f"edgespec imports it as IR version {model.ir_version}")


def keep_per_channel_prelu(model) -> None:
    """PRelu before opset 7 applies a slope of shape [C] per channel (axis 1); from opset 7 on, slopes
    broadcast from the last axis, and the version converter does not rewrite them: give such a slope
    the shape [C, 1, ...] so that it keeps its meaning."""
    import onnx
    from onnx import numpy_helper

    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:
        return
    ranks = {v.name: len(v.type.tensor_type.shape.dim) for v in list(inferred.graph.input) + list(inferred.graph.value_info)}
    initializers = {t.name: i for i, t in enumerate(model.graph.initializer)}
    for node in model.graph.node:
        if node.op_type != "PRelu" or len(node.input) < 2 or node.input[1] not in initializers:
            continue
        index = initializers[node.input[1]]
        slope = numpy_helper.to_array(model.graph.initializer[index])
        rank = ranks.get(node.input[0], 0)
        if slope.ndim == 1 and slope.size > 1 and rank > 2:
            reshaped = slope.reshape([slope.size] + [1] * (rank - 2))
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(reshaped, node.input[1]))
            for value in list(model.graph.input) + list(model.graph.value_info):
                if value.name == node.input[1] and value.type.tensor_type.HasField("shape"):
                    dims = value.type.tensor_type.shape.dim
                    del dims[:]
                    for size in reshaped.shape:
                        dims.add().dim_value = size


# Ops whose result on constant inputs is itself a constant (nothing random, no state).
_FOLDABLE = {"Transpose", "Reshape", "Unsqueeze", "Squeeze", "Cast", "Concat", "Identity", "Flatten", "Gather",
             "Slice", "Shape", "Mul", "Add", "Sub", "Div", "Neg", "Sqrt", "Reciprocal", "Expand", "Tile", "Range",
             "ConstantOfShape", "Constant", "Split", "Pow", "Exp", "Log", "Abs", "Clip", "Min", "Max",
             # an exporter's shape arithmetic (x.expand(n, -1): Where(Equal(shape, -1), ones, shape)) and
             # torch.gather at opsets < 11 (OneHot of constant indices)
             "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Not", "And", "Or", "Where",
             "Floor", "Ceil", "Round", "Sign", "Mod", "Size", "ReduceProd", "ReduceSum", "ReduceMax", "ReduceMin"}


def fold_constants(model) -> str:
    """Evaluates, in graph order, every foldable node whose inputs are all constants (initializers or
    folded results) with onnx's reference evaluator, and makes its outputs initializers. Graph outputs
    are never folded away. Says how many nodes of which ops were folded.

    A Shape is folded where shape inference knows its input's dims. Those can depend on an earlier fold:
    torch's `flatten(2)` of a dynamically shaped export is a Reshape to a Concat of Shape slices, whose
    output dims (and every Shape downstream, as attention reshapes take `x.shape[1]`) inference learns
    only once that Concat is a constant. So shapes are inferred again and the fold repeated while it folds
    and a Shape is left."""
    folded: Dict[str, int] = {}
    for _ in range(_FOLD_PASSES):
        more = _fold_once(model)
        for op, n in more.items():
            folded[op] = folded.get(op, 0) + n
        if not more or not any(n.op_type == "Shape" for n in model.graph.node):
            break
    if not folded:
        return ""
    return ", ".join(f"{n} {op}" for op, n in sorted(folded.items())) + (" node" if sum(folded.values()) == 1 else " nodes")


_FOLD_PASSES = 8


def _fold_once(model) -> Dict[str, int]:
    import onnx
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    graph = model.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    outputs = {o.name for o in graph.output}
    opset = default_opset(model)
    kept, folded = [], {}
    static = static_shapes(model)
    pending = list(graph.node)
    position = 0
    while position < len(pending):
        node = pending[position]
        position += 1
        if node.op_type == "If" and node.domain in ("", "ai.onnx") and node.input[0] in constants:
            pending[position:position] = inline_taken_branch(model, node, constants)
            folded["If"] = folded.get("If", 0) + 1
            continue
        inputs = [i for i in node.input if i]
        if node.op_type == "Shape" and inputs and inputs[0] not in constants and inputs[0] in static \
                and node.output[0] not in outputs:
            value = shape_of(node, static[inputs[0]])
            constants[node.output[0]] = value
            add_initializer(model, node.output[0], value)
            folded["Shape"] = folded.get("Shape", 0) + 1
            continue
        if node.op_type in _FOLDED_HERE and node.domain in ("", "ai.onnx") and all(i in constants for i in inputs) \
                and node.output[0] not in outputs:
            value = _FOLDED_HERE[node.op_type](node, [constants[i] for i in inputs])
            constants[node.output[0]] = value
            add_initializer(model, node.output[0], value)
            folded[node.op_type] = folded.get(node.op_type, 0) + 1
            continue
        foldable = (node.op_type in _FOLDABLE and node.domain in ("", "ai.onnx") and all(i in constants for i in inputs)
                    and not any(o in outputs for o in node.output) and (inputs or node.op_type == "Constant"))
        if foldable:
            try:
                single = helper.make_model(
                    helper.make_graph([node], "fold", [helper.make_tensor_value_info(i, helper.np_dtype_to_tensor_dtype(constants[i].dtype), constants[i].shape) for i in dict.fromkeys(inputs)],
                                      [helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in node.output if o]),
                    opset_imports=[helper.make_opsetid("", opset)])
                values = ReferenceEvaluator(single).run(None, {i: constants[i] for i in dict.fromkeys(inputs)})
            except Exception:
                values = None
            if values is not None:
                for name, value in zip([o for o in node.output if o], values):
                    constants[name] = np.asarray(value)
                    add_initializer(model, name, np.asarray(value))
                folded[node.op_type] = folded.get(node.op_type, 0) + 1
                continue
        kept.append(node)
    if folded:
        del graph.node[:]
        graph.node.extend(kept)
    return folded


def inline_taken_branch(model, node, constants: Dict[str, np.ndarray]) -> list:
    """An If whose condition is a constant (a shape test, once --input-shape fixes the inputs): the nodes of
    the branch it takes, then Identity nodes from the branch's outputs to the If's. Names are unique across
    a model's subgraphs, so the branch's nodes keep theirs; its initializers become the model's."""
    from onnx import helper, numpy_helper

    taken = bool(np.asarray(constants[node.input[0]]).reshape(-1)[0])
    branch = next(helper.get_attribute_value(a) for a in node.attribute if a.name == ("then_branch" if taken else "else_branch"))
    for tensor in branch.initializer:
        constants[tensor.name] = numpy_helper.to_array(tensor)
        add_initializer(model, tensor.name, constants[tensor.name])
    return list(branch.node) + [helper.make_node("Identity", [inner.name], [outer], name=f"{node.name}/{outer}")
                                for inner, outer in zip(branch.output, node.output) if outer]


def add_initializer(model, name: str, value: np.ndarray) -> None:
    """A folded value as an initializer, in place of its declared type; before IR version 4 every initializer
    is also a graph input (shape inference of an IR-3 model, torch.onnx.export at opset 7 or 8, sees no other)."""
    from onnx import helper, numpy_helper

    model.graph.initializer.append(numpy_helper.from_array(value, name))
    # a declared type of the value (the dynamo exporter's, with symbolic dims) would hide the constant's shape
    stale = [i for i, info in enumerate(model.graph.value_info) if info.name == name]
    for index in reversed(stale):
        del model.graph.value_info[index]
    if model.ir_version < 4:
        model.graph.input.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape))


def constant_fill(node, inputs: List[np.ndarray]) -> np.ndarray:
    """ConstantFill, an experimental op of opsets 1-8 that onnxruntime no longer runs (torch.onnx.export at
    opset 7 or 8 writes one for an RNN's zero initial state): `value` (default 0) of `dtype` (default float)
    in the shape of its input's values (input_as_shape), of its input, or of `shape`, then `extra_shape`."""
    from onnx import helper

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if inputs:
        shape = [int(s) for s in inputs[0].reshape(-1)] if attrs.get("input_as_shape", 0) else list(inputs[0].shape)
    else:
        shape = [int(s) for s in attrs.get("shape", [])]
    shape += [int(s) for s in attrs.get("extra_shape", [])]
    dtype = helper.tensor_dtype_to_np_dtype(int(attrs.get("dtype", 1)))
    return np.full(shape, attrs.get("value", 0.0), dtype=dtype)


def one_hot(node, inputs: List[np.ndarray]) -> np.ndarray:
    """OneHot, folded here (onnx's reference evaluator refuses a depth of shape [1], as torch.onnx.export writes
    for torch.gather at opsets < 11): values[1] where the (negative: from the end) index is, values[0] elsewhere."""
    from onnx import helper

    indices, depth, values = inputs
    size = int(np.asarray(depth).reshape(-1)[0])
    axis = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "axis"), -1)
    axis = axis + indices.ndim + 1 if axis < 0 else axis
    wrapped = np.where(indices < 0, indices + size, indices).astype(np.int64)
    hot = np.expand_dims(wrapped, axis) == np.arange(size).reshape([size if d == axis else 1 for d in range(indices.ndim + 1)])
    return np.where(hot, values.reshape(-1)[1], values.reshape(-1)[0]).astype(values.dtype)


# Ops folded by edgespec's own code (not onnx's reference evaluator) when their inputs are constants.
_FOLDED_HERE = {"ConstantFill": constant_fill, "OneHot": one_hot}


def static_shapes(model) -> Dict[str, List[int]]:
    """name -> shape of every value whose dims shape inference knows as numbers (exporters compute an
    RNN's zero initial state from the Shape of a static input: that Shape is a constant)."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception:
        return {}
    shapes: Dict[str, List[int]] = {}
    for info in list(inferred.graph.input) + list(inferred.graph.value_info):
        dims = info.type.tensor_type.shape.dim
        if info.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") and d.dim_value > 0 for d in dims):
            shapes[info.name] = [int(d.dim_value) for d in dims]
    return shapes


def shape_of(node, shape: List[int]) -> np.ndarray:
    """Shape's output for a static shape (start / end attributes from opset 15)."""
    attrs = {a.name: a.i for a in node.attribute}
    rank = len(shape)
    start, end = attrs.get("start", 0), attrs.get("end", rank)
    return np.array(shape[slice(start, end)], dtype=np.int64)


def upgrade_opset(model, opset: int):
    import onnx
    from onnx import version_converter

    try:
        upgraded = version_converter.convert_version(model, UPGRADE_TO_OPSET)
        # opset 13 comes with IR 7, where initializers need not be graph inputs (the converter adds some)
        upgraded.ir_version = max(upgraded.ir_version, UPGRADE_TO_IR)
        onnx.checker.check_model(upgraded)
    except Exception as e:
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
        raise ModelInputError(f"the model's opset {opset} is older than onnxruntime runs ({OLDEST_RUNNABLE_OPSET}), "
                              f"and onnx's version converter could not upgrade it: {first}",
                              hint=f"export the model again with opset {UPGRADE_TO_OPSET} or newer "
                                   "(torch.onnx.export(..., opset_version=13))") from None
    return upgraded


def cast_float64_to_float32(model) -> str:
    """Turns every float64 tensor, type and cast of the main graph into float32; says what it changed."""
    from onnx import TensorProto

    return cast_to_float32(model, TensorProto.DOUBLE)


def cast_to_float32(model, source: int) -> str:
    """Every tensor, type, constant and cast of the main graph of element type SOURCE (an onnx.TensorProto
    type: DOUBLE, FLOAT16) becomes float32; a Cast left from float32 to float32 is then an identity. Says
    what it changed, as counts."""
    import onnx
    from onnx import TensorProto, numpy_helper

    single = TensorProto.FLOAT
    counts = {"inputs": 0, "outputs": 0, "initializers": 0, "constants": 0, "casts": 0}
    graph = model.graph
    for kind, values in (("inputs", graph.input), ("outputs", graph.output), ("", graph.value_info)):
        for value in values:
            if value.type.tensor_type.elem_type == source:
                value.type.tensor_type.elem_type = single
                if kind:
                    counts[kind] += 1
    for index, tensor in enumerate(graph.initializer):
        if tensor.data_type == source:
            graph.initializer[index].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float32), tensor.name))
            counts["initializers"] += 1
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type == source:
                attribute.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attribute.t).astype(np.float32), attribute.t.name))
                counts["constants"] += 1
            elif node.op_type == "Cast" and attribute.name == "to" and attribute.i == source:
                attribute.i = single
                counts["casts"] += 1
    return ", ".join(f"{n} {k}" for k, n in counts.items() if n)
