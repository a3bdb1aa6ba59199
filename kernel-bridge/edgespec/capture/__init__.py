"""Capture: a model from PyTorch (torch/), Keras (keras/), a .tflite file (tflite/) or an
.onnx file (onnx/) lowered onto the edgespec vocabulary and written as a bundle.

The modules here are the common base the four share: the graph builder, the bundle writer
(bundle, bundle_destination, bundle_files, staging, names), the bundle validator, the
lowering base of the rule tables, and the user-code and model-file checks.

`edgespec.capture` itself stays the capture function (see edgespec/__init__.py, which
imports this package before it defines the function); import from here with
`from edgespec.capture.<module> import ...`. Importing this package imports no framework.
"""
