"""int8 lookup-table activations (es_lut_s8): TFLite runs LOGISTIC, TANH, GELU, EXP, LOG and
others in int8 from a 256-entry table it fills at prepare from the float function; edgespec
makes the same table at build time. Softmax (es_softmax_s8) uses TFLite's float exp table.
Four small full-int8 Keras models (int8 in and out) are
captured, built for the host and fed every one of the 256 input codes; each output code must
equal the one tf.lite.Interpreter gives (builtin and reference kernels). One model also runs
on qemu-virt. TensorFlow runs in one subprocess, which also captures the bundles."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, run_python

CLI = str(REPO / "bin" / "edgespec")

# Each model: one int8 input of 256 values, int8 outputs; the converter's own quantization.
# (A GELU whose input has other readers is not fused into tflite.GELU, so exact GELU gets its own model.)
MODELS = """
import json, sys
import numpy as np, tensorflow as tf, keras
from keras import layers
from edgespec.capture.tflite.capture import capture_tflite_file
keras.utils.set_random_seed(0)
out = sys.argv[1]

def convert(outputs_of, lo, hi, name):
    inp = keras.Input((256,), batch_size=1)
    model = keras.Model(inp, outputs_of(inp))
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([np.linspace(lo, hi, 256, dtype=np.float32)[None] * s] for s in (1.0, 0.8))
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = tf.int8
    c.inference_output_type = tf.int8
    blob = c.convert()
    open(f"{out}/{name}.tflite", "wb").write(blob)
    codes = {}
    for kind in ("BUILTIN_WITHOUT_DEFAULT_DELEGATES", "BUILTIN_REF"):
        it = tf.lite.Interpreter(model_content=blob, experimental_op_resolver_type=getattr(tf.lite.experimental.OpResolverType, kind))
        runner = it.get_signature_runner()
        [(input_name, detail)] = runner.get_input_details().items()
        codes[kind] = {k: v[0].tolist() for k, v in runner(**{input_name: np.arange(-128, 128, dtype=np.int8)[None]}).items()}
    q = lambda d: [float(d["quantization_parameters"]["scales"][0]), int(d["quantization_parameters"]["zero_points"][0])]
    json.dump({"input": q(detail), "outputs": {k: q(d) for k, d in runner.get_output_details().items()}, "codes": codes},
              open(f"{out}/{name}.json", "w"))
    capture_tflite_file(f"{out}/{name}.tflite", out=f"{out}/{name}-bundle")

convert(lambda x: [layers.Activation("sigmoid")(x), layers.Activation("tanh")(x), layers.Activation("hard_swish")(x),
                   layers.Lambda(lambda t: tf.nn.gelu(t, approximate=True))(x), layers.Lambda(tf.exp)(x)], -6, 6, "signed")
convert(lambda x: [layers.Lambda(tf.math.log)(x), layers.Lambda(tf.sqrt)(x), layers.Lambda(tf.math.rsqrt)(x)], 0.05, 8, "positive")
convert(lambda x: layers.Lambda(lambda t: tf.nn.gelu(t, approximate=False))(x), -5, 5, "gelu")
convert(lambda x: [layers.Softmax()(x), layers.Softmax()(layers.Reshape((16, 16))(x))], -8, 8, "softmax")
"""

EXPECTED_OPS = {"signed": {"sigmoid", "tanh", "hardswish", "gelu", "exp"}, "positive": {"log", "sqrt", "rsqrt"}, "gelu": {"gelu"},
                "softmax": {"softmax"}}
# the int8 kernel of each op: softmax has its own (TFLite's float-table softmax), the others are tables
KERNEL = {"softmax": "es_softmax_s8("}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """The .tflite files, TFLite's output codes (name.json) and the captured bundles (name-bundle)."""
    directory = tmp_path_factory.mktemp("int8_lut")
    run_python(MODELS, str(directory))
    return directory


def _cli(*args, timeout=600):
    proc = subprocess.run(["node", CLI, *args, "--json"], capture_output=True, text=True, timeout=timeout, cwd=REPO)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and not [e for e in events if e["event"] == "error"], proc.stderr[-2000:] + str(events[-3:])
    return events


def _steps_from_tflite(models: Path, name: str, target: str, tmp_path: Path) -> dict:
    """Captures, builds for `target` and runs the model on every input code; the largest difference
    from TFLite's output codes, in output steps, per output and kernel set."""
    bundle = models / f"{name}-bundle"
    build = tmp_path / f"{name}-{target}"
    _cli("build", str(bundle), "--target", target, "--out", str(build))
    model_c = (build / "model.c").read_text()
    graph = json.loads((bundle / "graph.json").read_text())
    ops = {n["op"] for n in graph["nodes"] if n["op"] not in ("quantize", "dequantize", "reshape")}
    assert ops == EXPECTED_OPS[name]
    # every such op runs its int8 kernel: no fp32 kernel, no fallback
    kernels = {KERNEL.get(op, "es_lut_s8(") for op in ops}
    assert sum(model_c.count(k) for k in kernels) == len([n for n in graph["nodes"] if n["op"] in ops])
    assert "_f32(" not in model_c.replace("es_quantize_s8(", "").replace("es_dequantize_s8(", "")

    ref = json.loads((models / f"{name}.json").read_text())
    in_scale, in_zp = ref["input"]
    x = (np.float32(in_scale) * (np.arange(-128, 128) - in_zp).astype(np.float32))[None]
    np.save(tmp_path / f"{name}-x.npy", x)
    _cli("run", str(build), "--input", str(tmp_path / f"{name}-x.npy"))
    steps = {}
    for path in (build / "run-outputs").glob("*.npy"):
        output = path.stem.split("-", 1)[1]
        scale, zp = ref["outputs"][output]
        codes = np.clip(np.round(np.load(path)[0].astype(np.float64) / scale) + zp, -128, 127).reshape(-1)
        steps[output] = {kind: int(np.abs(codes - np.array(c[output]).reshape(-1)).max()) for kind, c in ref["codes"].items()}
    assert set(steps) == set(ref["outputs"])
    return steps


@pytest.mark.parametrize("name", ["signed", "positive", "gelu"])
def test_int8_lookup_table_ops_are_bit_exact_with_tflite_on_every_input_code(models, name, tmp_path):
    steps = _steps_from_tflite(models, name, "host", tmp_path)
    assert all(s == 0 for per in steps.values() for s in per.values()), steps


def test_int8_softmax_is_bit_exact_with_tflites_kernel_and_within_one_step_of_its_reference(models, tmp_path):
    """Softmax over the 256 codes and over 16 rows of 16: TFLite's builtin (float-table) kernel
    exactly; its reference kernel (gemmlowp fixed point) may differ by a step."""
    steps = _steps_from_tflite(models, "softmax", "host", tmp_path)
    assert all(per["BUILTIN_WITHOUT_DEFAULT_DELEGATES"] == 0 for per in steps.values()), steps
    assert all(per["BUILTIN_REF"] <= 1 for per in steps.values()), steps


def test_int8_lookup_table_ops_are_bit_exact_on_qemu_virt(models, tmp_path):
    steps = _steps_from_tflite(models, "signed", "qemu-virt", tmp_path)
    assert all(s == 0 for per in steps.values() for s in per.values()), steps
