"""TFLite capture: a .tflite flatbuffer read (flatbuffer), its int8 quantization kept (int8),
one rule per TFLite op (rules), the walk that applies them (lowering)."""
