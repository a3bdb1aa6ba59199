"""What a dynamically quantized model's reference says about onnxruntime's own arithmetic on this machine.

The image computes the exact integer sums of each MatMulInteger (through quantize_dynamic and a float
matmul on the weights' real values). onnxruntime's x86 kernels without VNNI (AVX2 vpmaddubsw) add pairs of
uint8 x int8 products in saturating int16, so with full-range int8 weights its sums can be off, where
onnxruntime on ARM64 or on x86 with VNNI computes them exactly. The capture checks each MatMulInteger of
the reference run against the exact sums of its own inputs and says when they differ."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np


def inexact_matmuls(model, input_names: Sequence[str], inputs: Sequence[np.ndarray]) -> Tuple[int, int, int]:
    """(MatMulInteger nodes checked, how many are not the exact sums, the largest difference) on the input."""
    import onnx
    import onnxruntime
    from onnx import numpy_helper

    from .float_graph import model_inputs

    constants = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    nodes = [n for n in model.graph.node if n.op_type == "MatMulInteger" and n.input[1] in constants
             and all(i in constants for i in n.input[3:4] if i)]
    if not nodes:
        return 0, 0, 0
    probed = onnx.ModelProto()
    probed.CopyFrom(model)
    wanted: List[Tuple[str, int]] = []
    for n in nodes:
        wanted += [(n.input[0], onnx.TensorProto.UINT8), (n.output[0], onnx.TensorProto.INT32)]
        if len(n.input) > 2 and n.input[2]:
            wanted.append((n.input[2], onnx.TensorProto.UINT8))
    present = {o.name for o in probed.graph.output}
    names = list(dict.fromkeys(name for name, _ in wanted))
    types = _value_types(model)
    for name, fallback in dict(wanted).items():
        if name not in present and name not in constants:
            probed.graph.output.append(onnx.helper.make_tensor_value_info(name, types.get(name, fallback), None))
    names = [n for n in names if n not in constants]
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(probed.SerializeToString(), options, providers=["CPUExecutionProvider"])
        values = dict(zip(names, session.run(names, model_inputs(model, input_names, inputs))))
    except Exception:
        return 0, 0, 0
    values.update(constants)
    inexact, largest = 0, 0
    for n in nodes:
        x = values[n.input[0]].astype(np.int64) - _zero(values, n, 2)
        w = constants[n.input[1]].astype(np.int64) - _zero(values, n, 3)
        difference = int(np.max(np.abs(values[n.output[0]].astype(np.int64) - np.matmul(x, w)), initial=0))
        inexact += difference > 0
        largest = max(largest, difference)
    return len(nodes), inexact, largest


def _zero(values, node, position: int):
    if len(node.input) <= position or not node.input[position]:
        return 0
    zero = np.asarray(values[node.input[position]]).astype(np.int64)
    return zero if zero.size == 1 else zero.reshape(-1)


def _value_types(model) -> dict:
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except Exception:
        return {}
    return {v.name: v.type.tensor_type.elem_type for v in list(inferred.graph.value_info) + list(inferred.graph.output)}


def saturation_note(model, input_names: Sequence[str], inputs: Sequence[np.ndarray], moved: Optional[str]) -> str:
    """A note when onnxruntime's MatMulInteger sums on the reference input are not exact (empty otherwise);
    `moved`: how far that moves the output, if known."""
    checked, inexact, largest = inexact_matmuls(model, input_names, inputs)
    if not inexact:
        return ""
    return (f"onnxruntime's MatMulInteger sums saturate on this CPU ({inexact} of the model's {checked} nodes up to "
            f"{largest} off the exact integer sums of their own inputs)"
            + (f", which moves its output {moved} on the reference input" if moved else "")
            + ". Its x86 kernels without VNNI add uint8 x int8 product pairs in saturating int16; the image computes the "
            "exact sums, as onnxruntime does on ARM64 and on x86 with VNNI (quantize with reduce_range=True or uint8 "
            "weights to avoid the saturation)")


def dynamic_notes(model, reference, input_names: Sequence[str], output_names: Sequence[str],
                  inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray], lstms: int) -> List[str]:
    """The capture's note on onnxruntime's inexact MatMulInteger sums, with how far they move its output (onnxruntime's
    run of the float rewrite, which rounds as the image does; not when the model has DynamicQuantizeLSTM nodes,
    which onnxruntime runs unrounded in the rewrite)."""
    from .float_graph import rewrite_distance

    distance = None if lstms else rewrite_distance(model, input_names, output_names, inputs, outputs)
    moved = f"{distance[0]:.3g} ({100 * distance[0] / distance[1]:.1f} % of its largest value)" if distance else None
    return [note for note in [saturation_note(reference, input_names, inputs, moved)] if note]
