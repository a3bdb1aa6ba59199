"""The run-time input rounding of a dynamically quantized ONNX model, as quantized.dynamic_to_float leaves it:
DynamicQuantizeLinear(x) -> DequantizeLinear(y, y_scale, y_zero_point) is one quantize_dynamic op (scheme
uint8_asymmetric over the whole tensor: what onnxruntime's DynamicQuantizeLinear computes, read back as real
values). Other uses of DynamicQuantizeLinear's integers have no edgespec op."""
from __future__ import annotations

from .lowering import OnnxLowering, Unmappable


def dynamic_quantize_linear(low: OnnxLowering, node) -> None:
    """Its integers are only read through the DequantizeLinear below, which computes from its input."""


def dequantize_linear(low: OnnxLowering, node) -> None:
    source = next((n for n in low.graph.node if n.op_type == "DynamicQuantizeLinear" and n.output[0] == node.input[0]), None)
    if source is None or list(node.input[:3]) != list(source.output[:3]):
        raise Unmappable("it dequantizes integers that are not a DynamicQuantizeLinear's (with its own scale and "
                         "zero point); edgespec imports the float graph onnxruntime.quantization writes")
    low.emit("quantize_dynamic", [low.value(source.input[0])], {"scheme": "uint8_asymmetric", "axis": 0})


RULES = {"DynamicQuantizeLinear": dynamic_quantize_linear, "DequantizeLinear": dequantize_linear}
