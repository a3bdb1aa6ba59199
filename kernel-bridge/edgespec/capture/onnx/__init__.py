"""ONNX capture: an .onnx model loaded with its shapes inferred, one rule per ONNX op (rules),
the walk that applies them (lowering)."""
