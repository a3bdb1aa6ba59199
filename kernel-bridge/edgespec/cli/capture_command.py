"""`python -m edgespec capture MODEL --input-shape 1x3x224x224 --seed 0 --out DIR [--name N] [--json]`."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import List

from ..capture.intermediates import MAX_BYTES as INTERMEDIATES_MAX_BYTES, MAX_BYTES_VARIABLE as INTERMEDIATES_MAX_BYTES_VARIABLE
from .reporter import Reporter

DEFAULT_TORCHVISION_SHAPE = "1x3x224x224"
MAX_SEED = 2 ** 32 - 1
MAX_RECALIBRATE = 10_000


def bounded_int(low: int, high: int):
    """An argparse type: an integer from `low` to `high`, else a usage error saying so."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text[:40]}' is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    parse.__name__ = "integer"
    return parse


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "capture", help="capture a PyTorch model into a bundle",
        description="Build a model, run it once on seeded random input, and capture it into a bundle "
                    "(graph.json, weights.safetensors, reference.safetensors, and intermediates.safetensors: the "
                    "framework's value of every intermediate tensor on that input, for edgespec diff; kept when "
                    f"they total at most {INTERMEDIATES_MAX_BYTES >> 20} MiB, or {INTERMEDIATES_MAX_BYTES_VARIABLE}).")
    parser.add_argument("model", help="torchvision:NAME (weights=None) or FILE.py:FACTORY / package.module:FACTORY, "
                                      "where FACTORY() returns the nn.Module; keras:NAME (keras.applications, "
                                      "weights=None, NHWC input, default 1x224x224x3); FILE.tflite (float); FILE.onnx")
    parser.add_argument("--input-shape", action="append", metavar="DxDx...",
                        help=f"shape of an input, e.g. 1x3x224x224; repeat for several inputs "
                             f"(required for FILE.py:FACTORY, default {DEFAULT_TORCHVISION_SHAPE} for torchvision:)")
    parser.add_argument("--input-value", action="append", metavar="NAME=VALUE",
                        help="FILE.onnx / FILE.tflite: bind the input NAME to the constant VALUE (e.g. sr=16000 for a "
                             "sample rate the model branches on); it is folded into the image, which no longer "
                             "takes it; repeat for several inputs")
    parser.add_argument("--seed", type=bounded_int(0, MAX_SEED), default=0,
                        help=f"seed for the model's initial weights and the input, 0 to {MAX_SEED} (default 0)")
    parser.add_argument("--out", default=None, help="bundle directory (default: edgespec-bundles/<name>)")
    parser.add_argument("--name", default=None, help="bundle name: 1 to 128 letters, digits, '_', '.' or '-', starting "
                                                     "with a letter, a digit or '_' (default: the torchvision name, "
                                                     "the factory name or the file name)")
    parser.add_argument("--randomize-bn", action=argparse.BooleanOptionalAction, default=None,
                        help="give batch norms seeded random statistics so they are not identities "
                             "(default: on for torchvision:, whose weights=None batch norms are identities)")
    parser.add_argument("--recalibrate", type=bounded_int(0, MAX_RECALIBRATE), default=0, metavar="N",
                        help="random-weight classifiers: set batch-norm statistics from N seeded inputs and centre "
                             "the last linear layer's bias on their mean logit, so the answer depends on the input "
                             "(see edgespec/capture/torch/recalibrate.py; default 0: off)")
    parser.add_argument("--json", action="store_true", help="print one JSON event per line")
    return parser


def run(args: argparse.Namespace, reporter: Reporter) -> int:
    from . import capture_without_torch  # keras:NAME, FILE.tflite, FILE.onnx (no PyTorch on that path)
    from ..capture.bundle import check_destination
    from ..capture.names import check_bundle_name
    from ..capture.staging import sweep_stale_staging

    if args.name is not None:
        check_bundle_name(args.name, "--name")
    if args.out is not None:
        check_destination(args.out)  # before a long capture, not after it
    else:  # the bundle's name is known later; what killed captures left is swept now
        sweep_stale_staging(Path.cwd() / "edgespec-bundles")
    if capture_without_torch.handles(args.model):
        return capture_without_torch.run(args, reporter)
    capture_without_torch._refuse_input_values(args.input_value, args.model)
    import torch

    from ..capture.torch.capture import capture
    from ..errors import ModelInputError
    from ..capture.torch.model_source import DEFAULT_SEED_OFFSET, load_model, parse_shape, randomize_batchnorm
    from ..capture.names import derived_bundle_name

    is_torchvision = args.model.startswith("torchvision:")
    shapes_text: List[str] = args.input_shape or ([DEFAULT_TORCHVISION_SHAPE] if is_torchvision else [])
    if not shapes_text:
        raise ModelInputError("--input-shape is required for a model from your own code",
                              hint="pass the shape the model is called with, e.g. --input-shape 1x3x32x32")
    shapes = [parse_shape(s) for s in shapes_text]
    reporter.progress("load", 0, 1, args.model)
    model, default_name = load_model(args.model, args.seed)
    model.eval()
    randomized = 0
    if args.randomize_bn if args.randomize_bn is not None else is_torchvision:
        randomized = randomize_batchnorm(model, args.seed)
        reporter.log(f"randomized {randomized} batch norms (seed {args.seed}) so that they are not identities", "debug")
    recalibrated = {}
    if args.recalibrate:
        from ..capture.torch.recalibrate import recalibrate
        recalibrated = recalibrate(model, shapes, args.recalibrate, args.seed)
        reporter.log(f"recalibrated {recalibrated['recalibrated_batch_norms']} batch norms on {args.recalibrate} seeded "
                     f"inputs and centred {recalibrated['centred_bias']}", "debug")
    generator = torch.Generator().manual_seed(args.seed + DEFAULT_SEED_OFFSET)
    inputs = tuple(torch.randn(shape, generator=generator) for shape in shapes)
    reporter.progress("load", 1, 1, args.model)
    name, name_note = (args.name, None) if args.name is not None else derived_bundle_name(default_name)
    result = capture(model, inputs, name=name, out=args.out, entry=args.model,
                     progress=lambda stage, done, total: reporter.progress("capture", done, total, stage))
    if name_note:
        result.notes.insert(0, name_note)
    reporter.capture_result(result, {"entry": args.model, "seed": args.seed, "randomized_batch_norms": randomized,
                                     **recalibrated})
    return 0
