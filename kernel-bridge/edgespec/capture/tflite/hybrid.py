"""The run-time input quantization of TFLite's hybrid (dynamic-range) kernels, as one quantize_dynamic op
before the op that reads int8 weights with float activations. The weights themselves become their real
values (lowering._dequantize_hybrid_weights); with the input rounded as TFLite rounds it, the float op computes
TFLite's int32 sums up to float rounding.

What the builtin kernels quantize (TFLite 2.21, each op checked against tf.lite.Interpreter per op):
- FULLY_CONNECTED: each row of the input viewed as [-1, input size]; AsymmetricQuantizeFloats when the op's
  option asymmetric_quantize_inputs is set (the converter sets it), SymmetricQuantizeFloats otherwise;
- BATCH_MATMUL with a constant right operand (adj_x false): each row of the left operand, asymmetric or
  symmetric as FULLY_CONNECTED;
- CONV_2D with per-channel weight scales and DEPTHWISE_CONV_2D: each batch item, AsymmetricQuantizeFloats;
  CONV_2D with one weight scale: each batch item, SymmetricQuantizeFloats.
Other ops that read int8 weights (UNIDIRECTIONAL_SEQUENCE_LSTM, ...) still compute in float32.
"""
from __future__ import annotations

from typing import Optional, Tuple

HYBRID_OPS = ("FULLY_CONNECTED", "BATCH_MATMUL", "CONV_2D", "DEPTHWISE_CONV_2D")


def input_rounding(low, op) -> Optional[Tuple[str, int]]:
    """(scheme, axis) of quantize_dynamic for the op's input, or None when TFLite does not round it here."""
    if op.op not in HYBRID_OPS or len(op.inputs) < 2 or op.inputs[1] not in low.hybrid_weights:
        return None
    shape = low.shape(op.inputs[0])
    if op.op == "BATCH_MATMUL":
        if op.options.get("adjX"):
            return None
        asymmetric = bool(op.options.get("asymmetricQuantizeInputs"))
        return ("int8_asymmetric" if asymmetric else "int8_symmetric"), len(shape) - 1
    if op.op == "FULLY_CONNECTED":
        depth = low.shape(op.inputs[1])[-1]
        axis = next((a for a in range(len(shape)) if _product(shape[a:]) == depth), None)
        if axis is None:
            return None
        asymmetric = bool(op.options.get("asymmetricQuantizeInputs"))
        return ("int8_asymmetric" if asymmetric else "int8_symmetric"), axis
    per_channel = len(low.tensor(op.inputs[1]).scale or []) > 1
    asymmetric = op.op == "DEPTHWISE_CONV_2D" or per_channel
    return ("int8_asymmetric" if asymmetric else "int8_symmetric"), min(1, len(shape))


def round_hybrid_input(low, op) -> Optional[Tuple[int, str]]:
    """Points the op's input at its run-time rounding; returns what to restore afterwards (or None)."""
    rounding = input_rounding(low, op)
    if rounding is None or op.inputs[0] not in low.names:
        return None
    scheme, axis = rounding
    source = low.names[op.inputs[0]]
    rounded = low.declare_like(op.inputs[0], low.tensor(op.inputs[0]).name + ".rounded", low.shape(op.inputs[0]))
    low.add_node("quantize_dynamic", [source], [rounded], {"scheme": scheme, "axis": axis})
    low.names[op.inputs[0]] = rounded
    low.rounded_inputs += 1
    return op.inputs[0], source


def _product(dims) -> int:
    result = 1
    for d in dims:
        result *= d
    return result
