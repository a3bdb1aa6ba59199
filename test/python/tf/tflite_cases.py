"""TFLite files edgespec must refuse, made and imported in a subprocess (TensorFlow stays
out of the pytest process); each outcome is written as JSON for the tests."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def make_models(out: Path) -> None:
    import numpy as np
    import tensorflow as tf
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 3), batch_size=1)
    h = layers.Conv2D(4, 3, name="conv")(inp)
    h = layers.Lambda(lambda t: keras.ops.sin(t), name="sine")(h)
    h = layers.Lambda(lambda t: keras.ops.floor(t), name="floored")(h)
    model = keras.Model(inp, layers.Flatten()(h))
    (out / "unsupported.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())

    plain = keras.Model(inp, layers.Flatten()(layers.Conv2D(4, 3, name="conv16")(inp)))
    converter = tf.lite.TFLiteConverter.from_keras_model(plain)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([np.random.rand(1, 8, 8, 3).astype("float32")] for _ in range(4))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    (out / "int16.tflite").write_bytes(converter.convert())
    (out / "garbage.tflite").write_bytes(b"this is not a flatbuffer" * 10)


def import_each(out: Path) -> dict:
    from edgespec import EdgespecError
    from edgespec.capture.tflite.capture import capture_tflite_file

    outcomes = {}
    for name in ("unsupported", "int16", "garbage"):
        target = out / f"bundle_{name}"
        try:
            capture_tflite_file(out / f"{name}.tflite", out=target)
            outcomes[name] = {"ok": True}
        except EdgespecError as e:
            outcomes[name] = {"ok": False, "type": type(e).__name__, "code": e.code, "message": e.message,
                              "hint": e.hint, "details": e.details}
        outcomes[name]["left"] = sorted(p.name for p in out.iterdir() if p.name.startswith((".bundle", "bundle")))
    return outcomes


if __name__ == "__main__":
    directory = Path(sys.argv[1])
    make_models(directory)
    json.dump(import_each(directory), open(directory / "tflite_cases.json", "w"))
