"""`python -m edgespec capture` for models that are not PyTorch code:
`keras:NAME` (keras.applications, weights=None), `FILE.tflite` (float) and `FILE.onnx`.

capture_command.run hands these specs over here; no PyTorch is imported on this path.
"""
from __future__ import annotations

import argparse
from typing import List, Optional

from ..capture import input_shape
from ..capture.input_value import parse_input_values
from ..errors import ModelInputError
from ..capture.user_code import readable_file

DEFAULT_KERAS_SHAPE = [1, 224, 224, 3]


def handles(spec: str) -> bool:
    return spec.startswith("keras:") or spec.lower().endswith((".tflite", ".onnx"))


def parse_shape(text: str) -> List[int]:
    """'1x224x224x3' -> [1, 224, 224, 3] (model_source.parse_shape's grammar; that module imports torch)."""
    return input_shape.parse_shape(text, "1x224x224x3")


def run(args: argparse.Namespace, reporter) -> int:
    spec: str = args.model
    shapes: Optional[List[List[int]]] = [parse_shape(s) for s in args.input_shape] if args.input_shape else None
    values = parse_input_values(args.input_value)
    progress = lambda stage, done, total: reporter.progress("capture", done, total, stage)  # noqa: E731
    extra = {}
    reporter.progress("load", 0, 1, spec)
    if spec.startswith("keras:"):
        _refuse_input_values(values, spec)
        from ..capture.keras.capture import capture_keras, keras_application

        name = spec.split(":", 1)[1]
        if shapes is not None and len(shapes) != 1:
            raise ModelInputError("keras.applications models take one input", hint="pass one --input-shape")
        randomize = True if args.randomize_bn is None else args.randomize_bn
        model, x = keras_application(name, shapes[0] if shapes else DEFAULT_KERAS_SHAPE, args.seed, randomize)
        reporter.progress("load", 1, 1, spec)
        result = capture_keras(model, x, name=args.name or name, out=args.out, entry=spec, progress=progress)
        extra["randomized_batch_norms"] = randomize
    elif spec.lower().endswith(".tflite"):
        from ..capture.tflite.capture import capture_tflite_file

        _require_file(spec)
        reporter.progress("load", 1, 1, spec)
        result = capture_tflite_file(spec, name=args.name, out=args.out, seed=args.seed, entry=spec, progress=progress,
                                     input_shapes=shapes, input_values=values)
    else:
        from ..capture.onnx.capture import capture_onnx_file

        _require_file(spec)
        reporter.progress("load", 1, 1, spec)
        result = capture_onnx_file(spec, name=args.name, out=args.out, seed=args.seed, input_shapes=shapes,
                                   entry=spec, progress=progress, input_values=values)
    reporter.capture_result(result, {"entry": spec, "seed": args.seed, **extra})
    return 0


def _refuse_input_values(values, spec: str) -> None:
    """--input-value binds an input of a model file; a model built in code takes its constants in its code."""
    if values:
        raise ModelInputError(f"--input-value binds inputs of .onnx and .tflite files; {spec[:80]} is not one",
                              hint="give the model its constant in its own code (e.g. a default argument), "
                                   "or capture its exported .onnx / .tflite file")


def _require_file(spec: str) -> None:
    readable_file(spec, "the model file")
