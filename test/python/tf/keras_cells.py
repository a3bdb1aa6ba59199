"""Notebook cells with Keras models, run under `%%edgespec trace` in a real IPython shell.

Run in a subprocess by the `notebook_cells` fixture (TensorFlow stays out of the pytest
process). Each traced cell's summary is collected by name.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict

# Keras is imported inside the traced cell itself: the recorder must notice the import.
CNN_CELL = """
import numpy as np
import keras
from keras import layers

keras.utils.set_random_seed(0)
cnn = keras.Sequential([
    keras.Input((28, 28, 1)),
    layers.Conv2D(8, 3, padding="same", activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
    layers.BatchNormalization(),
    layers.AveragePooling2D(2, padding="same"),
    layers.Flatten(),
    layers.Dense(32, activation="relu"),
    layers.Dropout(0.2),
    layers.Dense(10),
], name="small_cnn")
bn = cnn.layers[3]
rng = np.random.default_rng(1)
bn.set_weights([rng.uniform(0.5, 1.5, 16).astype("float32"), (0.1 * rng.standard_normal(16)).astype("float32"),
                (0.1 * rng.standard_normal(16)).astype("float32"), rng.uniform(0.5, 1.5, 16).astype("float32")])
x = rng.random((1, 28, 28, 1), dtype=np.float32)
logits = cnn(x)
probabilities = cnn.predict(x, verbose=0)
"""

SAVE_TFLITE_CELL = """
import tensorflow as tf
inp = keras.Input((28, 28, 1), batch_size=1)
fixed = keras.Model(inp, cnn(inp))
open("cnn.tflite", "wb").write(tf.lite.TFLiteConverter.from_keras_model(fixed).convert())
"""

PREDICT_CELL = """
inp = keras.Input((12, 12, 3))
h = layers.DepthwiseConv2D(3, padding="same", activation="relu6")(inp)
h = layers.Conv2D(6, 1)(h)
out = layers.Add()([h, layers.Conv2D(6, 1)(inp)])
tower = keras.Model(inp, layers.GlobalAveragePooling2D()(out), name="tower")
batch = np.random.default_rng(2).standard_normal((4, 12, 12, 3)).astype("float32")
features = tower.predict(batch, verbose=0)
"""

UNSUPPORTED_CELL = """
inp = keras.Input((8, 8, 3))
h = layers.Conv2D(4, 3, name="conv")(inp)
h = layers.Lambda(lambda t: keras.ops.sin(t), name="sine")(h)
h = layers.Lambda(lambda t: keras.ops.floor(t), name="floored")(h)
odd = keras.Model(inp, layers.Flatten()(h), name="odd")
odd(np.zeros((1, 8, 8, 3), dtype="float32"))
"""

# Every TFLite rule whose semantics can go wrong: depthwise with multiplier 2, grouped dilated conv
# with batch norm folded into it, SAME pooling over odd sizes, concat, pad, split, transpose, gelu...
COVERAGE_CELL = """
inp = keras.Input((15, 13, 6))
a = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu6")(inp)
b = layers.Conv2D(12, 3, groups=3, padding="same", dilation_rate=2)(inp)
b = layers.BatchNormalization()(b)
c = layers.Activation("tanh")(layers.Add()([a, b]))
d = layers.MaxPooling2D(3, strides=2, padding="same")(c)
e = layers.AveragePooling2D(3, strides=2, padding="same")(c)
f = layers.ZeroPadding2D(((1, 0), (2, 1)))(layers.Concatenate()([d, e]))
f = layers.Conv2D(8, 2, strides=2, padding="valid", activation="sigmoid")(f)
h = layers.Activation("gelu")(layers.Activation("hard_swish")(f))
s1, s2 = keras.ops.split(h, [3], axis=-1)
m = layers.Multiply()([s1, keras.ops.mean(s2, axis=-1, keepdims=True)])
p = layers.Permute((2, 1, 3))(m)
q = layers.GlobalAveragePooling2D()(p)
r = layers.Dense(7)(layers.Flatten()(p))
coverage = keras.Model(inp, layers.Softmax()(layers.Concatenate()([q, r]) * 0.5 - 1.0), name="coverage")
bn = next(layer for layer in coverage.layers if isinstance(layer, layers.BatchNormalization))
rng = np.random.default_rng(3)
bn.set_weights([rng.uniform(0.5, 1.5, 12).astype("float32"), (0.1 * rng.standard_normal(12)).astype("float32"),
                (0.1 * rng.standard_normal(12)).astype("float32"), rng.uniform(0.5, 1.5, 12).astype("float32")])
coverage(rng.standard_normal((2, 15, 13, 6)).astype("float32"))
"""

NO_MODEL_CELL = """
total = np.ones(3).sum()
"""

TRAINING_CELL = """
cnn(x, training=True)
"""

CELLS = {"cnn": CNN_CELL, "predict": PREDICT_CELL, "coverage": COVERAGE_CELL, "unsupported": UNSUPPORTED_CELL, "no_model": NO_MODEL_CELL,
         "training": TRAINING_CELL}


def run_cells(work_dir: str) -> Dict[str, Any]:
    from IPython.testing.globalipapp import start_ipython

    os.chdir(work_dir)
    shell = start_ipython()
    shell.run_line_magic("load_ext", "edgespec")
    magics = shell.magics_manager.registry["EdgespecMagics"]
    summaries: Dict[str, Any] = {}
    for name, cell in CELLS.items():
        out = Path(work_dir) / "cells" / name
        magics.last_trace = None
        shell.run_cell_magic("edgespec", f"trace --out {out}", cell)
        summaries[name] = magics.last_trace
        summaries[name]["out_listing"] = sorted(p.name for p in out.iterdir()) if out.exists() else []
        if name == "cnn":
            result = shell.run_cell(SAVE_TFLITE_CELL)
            if not result.success:
                raise RuntimeError(f"saving cnn.tflite failed: {result.error_in_exec}")
            summaries["api"] = _capture_through_the_api(shell, Path(work_dir) / "api" / "cnn")
    return summaries


def _capture_through_the_api(shell, out: Path) -> Dict[str, Any]:
    """edgespec.capture(keras_model, x): the same model and input as the traced cell."""
    import edgespec

    result = edgespec.capture(shell.user_ns["cnn"], shell.user_ns["x"], name="cnn_api", out=out)
    return {"bundle": str(result.path), "op_inventory": result.op_inventory}
