#!/usr/bin/env python3
"""int8 .tflite agreement: an edgespec image of a TFLite int8 model against TFLite's own interpreter.

    .venv/bin/python scripts/tflite-int8-agreement.py [--model cnn|mobilenet_v2] [--io float|int8]
        [--head softmax|logits] [--count 200] [--qemu 3] [--work DIR]

Makes a seeded Keras model (`cnn`: conv, depthwise, pointwise conv, add, max and average pool,
concatenation, global average pool, dense; `mobilenet_v2`: keras.applications.MobileNetV2
alpha 0.35 on 96x96 with random batch norm statistics), converts it with TensorFlow's
converter to full-int8 (TFLITE_BUILTINS_INT8, a seeded representative dataset of 32 inputs;
--io int8 also makes the model's inputs and outputs int8), captures the .tflite
(`edgespec capture`), builds it once for `host` (`edgespec build`, no --dtype: the bundle's
own quantization makes it int8), runs the image on --count seeded inputs and compares each
output with tf.lite.Interpreter's on the same input, with both of TFLite's kernel sets:
BUILTIN_WITHOUT_DEFAULT_DELEGATES (its optimized kernels, what capture's reference uses) and
BUILTIN_REF (its reference kernels). XNNPACK, the default delegate, is not used: it rounds
int8 requantization its own way. With --qemu N the first N inputs also run on qemu-virt,
which must give bit-identical outputs.

Passes (exit 0) when, against the reference kernels, every input has the same top-1 and the
largest difference is at most one quantization step of the output tensor, against the
optimized kernels the difference is at most one step too, and the top-1 class varies across
the inputs (else agreeing on it would mean nothing). TFLite's two kernel sets are also
compared with each other: its optimized kernels round some int8 results differently from
its reference kernels, which edgespec reproduces.
Writes agreement.json into the work directory.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgespec.io_file import encode_inputs, first_tensor

ROOT = Path(__file__).resolve().parent.parent
EDGESPEC = ROOT / "bin" / "edgespec"
PYTHON = ROOT / ".venv" / "bin" / "python"
MODEL_SEED, DATASET_SEED, TEST_SEED = 0, 1, 2000
QEMU = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-m", "1G", "-nodefaults", "-display", "none",
        "-monitor", "none", "-serial", "none", "-chardev", "stdio,id=console",
        "-semihosting-config", "enable=on,target=native,chardev=console"]


def keras_model(name, head):
    import keras
    from keras import layers

    keras.utils.set_random_seed(MODEL_SEED)
    if name == "cnn":
        inp = keras.Input((48, 48, 3), batch_size=1)
        h = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inp)
        b = layers.DepthwiseConv2D(3, padding="same", activation="relu6")(h)
        b = layers.Conv2D(16, 1)(b)
        h = layers.Add()([h, b])
        h = layers.MaxPooling2D(2)(h)
        h = layers.Conv2D(32, 3, padding="same", activation="relu")(h)
        h = layers.AveragePooling2D(2)(h)
        h = layers.Concatenate()([h, layers.Conv2D(16, 1, activation="relu")(h)])
        h = layers.GlobalAveragePooling2D()(h)
        out = layers.Dense(10, activation="softmax" if head == "softmax" else None)(h)
        return keras.Model(inp, out, name="tflite_int8_cnn")
    if name == "mobilenet_v2":
        base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10,
                                              classifier_activation="softmax" if head == "softmax" else None)
        rng = np.random.default_rng(MODEL_SEED)
        for layer in base.layers:  # random weights leave batch norm an identity: give it statistics
            if isinstance(layer, layers.BatchNormalization):
                gamma, beta, mean, var = layer.get_weights()
                layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape).astype("float32"),
                                   rng.normal(0, 0.1, beta.shape).astype("float32"),
                                   rng.normal(0, 0.1, mean.shape).astype("float32"),
                                   rng.uniform(0.5, 1.5, var.shape).astype("float32")])
        inp = keras.Input((96, 96, 3), batch_size=1)
        return keras.Model(inp, base(inp), name="tflite_int8_mobilenet_v2")
    sys.exit(f"unknown --model {name}: cnn or mobilenet_v2")


def center_classifier(model):
    """Logit weights with zero mean over the classes: a feature's offset common to every input (random weights give
    large ones) then adds the same to each logit, and the top-1 class follows the input instead of the offset."""
    dense = [layer for layer in model._flatten_layers() if layer.__class__.__name__ == "Dense"][-1]
    kernel, *rest = dense.get_weights()
    dense.set_weights([kernel - kernel.mean(axis=1, keepdims=True), *rest])
    return model


def convert_int8(model, io_int8):
    import tensorflow as tf

    shape = [int(d) for d in model.inputs[0].shape]
    rng = np.random.default_rng(DATASET_SEED)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([rng.standard_normal(shape).astype("float32")] for _ in range(32))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if io_int8:
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


class TfliteRunner:
    """tf.lite.Interpreter with one kernel set; float32 in, float32 (dequantized) out."""

    def __init__(self, model_bytes, resolver):
        import tensorflow as tf

        kind = getattr(tf.lite.experimental.OpResolverType, resolver)
        self.interpreter = tf.lite.Interpreter(model_content=model_bytes, experimental_op_resolver_type=kind)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    def __call__(self, x):
        if self.input["dtype"] == np.int8:
            scale, zp = self.input["quantization"]
            x = np.clip(np.floor(x / scale + 0.5) + zp, -128, 127).astype(np.int8)
        self.interpreter.set_tensor(self.input["index"], x)
        self.interpreter.invoke()
        y = self.interpreter.get_tensor(self.output["index"]).astype(np.float32)
        if self.output["dtype"] == np.int8:
            scale, zp = self.output["quantization"]
            y = (y - np.float32(zp)) * np.float32(scale)
        return y.reshape(-1)


def output_step(model_bytes):
    """The scale of the model's last int8 tensor: the output's own, or what its DEQUANTIZE reads."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_content=model_bytes)
    out = interpreter.get_output_details()[0]
    if out["dtype"] == np.int8:
        return float(out["quantization"][0])
    ops = interpreter._get_ops_details()
    last = [op for op in ops if out["index"] in list(op["outputs"])][0]
    return float(interpreter._get_tensor_details(int(last["inputs"][0]), 0)["quantization"][0])


def read_output(path):
    """The first output of an output.bin, as float32."""
    return np.frombuffer(first_tensor(Path(path).read_bytes()), dtype="<f4").copy()


def edgespec(*args):
    subprocess.run([str(EDGESPEC), *args], check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="cnn", choices=["cnn", "mobilenet_v2"])
    ap.add_argument("--io", default="float", choices=["float", "int8"], help="the .tflite's input/output type")
    ap.add_argument("--head", default="softmax", choices=["softmax", "logits"])
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--qemu", type=int, default=0, help="inputs to also run on qemu-virt (bit-identical with host)")
    ap.add_argument("--min-distinct", type=int, default=3, help="fewest distinct top-1 classes over the inputs")
    ap.add_argument("--work", type=Path)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="edgespec-tflite-int8-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    model = center_classifier(keras_model(args.model, args.head))
    model_bytes = convert_int8(model, args.io == "int8")
    tflite = work / f"{model.name}_{args.io}_io.tflite"
    tflite.write_bytes(model_bytes)
    bundle = work / "bundle"
    edgespec("capture", str(tflite), "--out", str(bundle))
    edgespec("build", str(bundle), "--target", "host", "--out", str(work / "host"))
    if args.qemu:
        edgespec("build", str(bundle), "--target", "qemu-virt", "--out", str(work / "qemu-virt"))

    runners = {r: TfliteRunner(model_bytes, r) for r in ("BUILTIN_REF", "BUILTIN_WITHOUT_DEFAULT_DELEGATES")}
    step = output_step(model_bytes)
    shape = [int(d) for d in model.inputs[0].shape]
    rng = np.random.default_rng(TEST_SEED)
    ours, theirs = [], {r: [] for r in runners}
    qemu_identical = 0
    for i in range(args.count):
        x = rng.standard_normal(shape).astype(np.float32)
        if runners["BUILTIN_REF"].input["dtype"] == np.int8:  # the bundle takes the real values of the int8 codes
            scale, zp = runners["BUILTIN_REF"].input["quantization"]
            q = np.clip(np.floor(x / scale + 0.5) + zp, -128, 127).astype(np.float32)
            x = ((q - np.float32(zp)) * np.float32(scale)).astype(np.float32)
        for r, run in runners.items():
            theirs[r].append(run(x))
        (work / "input.bin").write_bytes(encode_inputs([np.ascontiguousarray(x, dtype="<f4").tobytes()]))
        subprocess.run([str(work / "host" / "image.elf"), str(work / "input.bin"), str(work / "output.bin")],
                       check=True, stdout=subprocess.DEVNULL)
        ours.append(read_output(work / "output.bin"))
        if i < args.qemu:
            subprocess.run([*QEMU, "-kernel", str(work / "qemu-virt" / "image.elf"), "-device",
                            f"loader,file={work / 'input.bin'},addr=0x70000000,force-raw=on"],
                           cwd=work, check=True, stdout=subprocess.DEVNULL, timeout=120)
            qemu_identical += int(np.array_equal(read_output(work / "output.bin"), ours[-1]))
    ours = np.array(ours)
    top1 = ours.argmax(axis=1)
    distinct = len(set(top1.tolist()))
    result = {"model": model.name, "io": args.io, "head": args.head, "inputs": args.count,
              "test_seed": TEST_SEED, "output_step": step, "distinct_top1_classes": distinct,
              "most_common_top1_inputs": int(np.bincount(top1).max()), "kernel_sets": {}}
    ok = distinct >= args.min_distinct
    for r, outputs in theirs.items():
        outputs = np.array(outputs)
        diff = np.abs(ours - outputs)
        same_top1 = int((outputs.argmax(axis=1) == top1).sum())
        steps = diff / step
        result["kernel_sets"][r] = {
            "same_top1": same_top1, "max_abs_difference": float(diff.max()),
            "max_difference_in_steps": float(steps.max()),
            "bit_identical_inputs": int((diff.max(axis=1) == 0).sum()),
            "elements_off_by_one_step": int((np.round(steps) == 1).sum()), "elements": int(diff.size)}
        # 1e-4: the difference of two float32 dequantized outputs is itself rounded
        ok = ok and steps.max() <= 1 + 1e-4 and (same_top1 == args.count or r != "BUILTIN_REF")
    ref, opt = (np.array(theirs[r]) for r in ("BUILTIN_REF", "BUILTIN_WITHOUT_DEFAULT_DELEGATES"))
    result["tflite_optimized_vs_reference"] = {
        "same_top1": int((ref.argmax(axis=1) == opt.argmax(axis=1)).sum()),
        "bit_identical_inputs": int((np.abs(ref - opt).max(axis=1) == 0).sum()),
        "elements_off_by_one_step": int((np.round(np.abs(ref - opt) / step) == 1).sum())}
    if args.qemu:
        result["qemu_virt_bit_identical"] = f"{qemu_identical}/{args.qemu}"
        ok = ok and qemu_identical == args.qemu
    result["pass"] = ok = bool(ok)
    (work / "agreement.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"{model.name} ({args.io} I/O, {args.head} head) int8 image (host) vs tf.lite.Interpreter over "
          f"{args.count} seeded inputs (numpy seed {TEST_SEED}); output step {step:.6g}")
    print(f"  input dependence: {distinct} distinct top-1 classes, the most common on "
          f"{result['most_common_top1_inputs']} inputs")
    for r, k in result["kernel_sets"].items():
        print(f"  vs {r}: same top-1 {k['same_top1']}/{args.count}, max |difference| {k['max_abs_difference']:.6g} "
              f"= {k['max_difference_in_steps']:.3f} steps, bit-identical on {k['bit_identical_inputs']} inputs, "
              f"{k['elements_off_by_one_step']} of {k['elements']} elements one step off")
    t = result["tflite_optimized_vs_reference"]
    print(f"  TFLite's own kernel sets against each other: same top-1 {t['same_top1']}/{args.count}, bit-identical on "
          f"{t['bit_identical_inputs']} inputs, {t['elements_off_by_one_step']} elements one step off")
    if args.qemu:
        print(f"  qemu-virt outputs bit-identical to host: {result['qemu_virt_bit_identical']}")
    print(f"  {'PASS' if ok else 'FAIL'}; report {work / 'agreement.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
