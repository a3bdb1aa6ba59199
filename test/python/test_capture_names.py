"""Every name of graph.json is bounded (issue 10, problem 1): input and output names, which reach
generated C, boot scripts, HTML and JSON, follow a strict pattern; other names have a length limit
and no control characters. Capture makes framework names fit and says so; bundle files are
ordinary files (0666 less the umask)."""
import json
import os
import re
import stat
import subprocess

import jsonschema
import numpy as np
import pytest
import torch

import edgespec
import user_models
from capture_helpers import REPO
from capture_safety_helpers import EDGESPEC, events, run
from edgespec.capture import names
from edgespec.capture.bundle import current_umask
from edgespec.capture.graph_builder import GraphBuilder

SCHEMA = json.loads((REPO / "src" / "common" / "schema" / "graph.schema.json").read_text())
HOSTILE = 'x" >&2; exit 2; fi; touch PWNED; if false; then echo "'


def test_the_schema_and_the_capture_follow_the_same_rules():
    definitions = SCHEMA["definitions"]
    end = "(?![\\s\\S])"
    assert definitions["ioName"]["pattern"] == f"^{names.IO_NAME.pattern}{end}"
    assert SCHEMA["properties"]["name"]["pattern"] == f"^{names.BUNDLE_NAME.pattern}{end}"
    assert definitions["text"]["maxLength"] == names.MAX_TEXT
    io = jsonschema.Draft7Validator(definitions["ioName"])
    text = jsonschema.Draft7Validator(definitions["text"])
    for bad in (HOSTILE, "x\n", "a b", "-x", ".x", "a" * 129, "", "x$(id)", "x`id`", "ü"):
        assert not io.is_valid(bad), bad
    for good in ("x", "input.0", "serving_default_input_0:0", "_n_", "a" * 128):
        assert io.is_valid(good), good
    for bad in ("a\nb", "x\x1b[31m", "\x00", "a" * 1025, "tail\n"):
        assert not text.is_valid(bad), bad
    assert text.is_valid("model/features.3/conv;Relu ü") and text.is_valid("a" * 1024)


def bundle(tmp_path):
    out = tmp_path / "b"
    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)
    return out


@pytest.mark.parametrize("edit, where", [
    (lambda g: g["inputs"][0].update(name=HOSTILE), "inputs"),
    (lambda g: g["outputs"][0].update(name="out\n"), "outputs"),
    (lambda g: g["reference"]["inputs"].__setitem__(0, "in put"), "reference"),
    (lambda g: g["nodes"][0].update(name="n" * 2000), "nodes"),
    (lambda g: g["nodes"][0].update(source="model.py:1\x1b[2J"), "nodes"),
    (lambda g: g.update(name="../../etc"), "name"),
])
def test_a_bundle_with_an_unbounded_name_is_refused_by_both_validators(tmp_path, edit, where):
    out = bundle(tmp_path)
    graph = json.loads((out / "graph.json").read_text())
    edit(graph)
    (out / "graph.json").write_text(json.dumps(graph))
    with pytest.raises(edgespec.BundleError, match=rf"does not follow the graph schema[\s\S]*at /{where}"):
        edgespec.validate_bundle(out)
    inspected = subprocess.run([*EDGESPEC, "inspect", str(out), "--json"], capture_output=True, text=True, timeout=120)
    assert inspected.returncode != 0 and not (tmp_path / "PWNED").exists()
    (error,) = [e for e in events(inspected.stdout) if e["event"] == "error"]
    assert where in error["message"] + json.dumps(error.get("details")), error


def test_the_graph_builder_makes_every_name_fit_and_says_which_io_names_changed():
    builder = GraphBuilder()
    long_name = "scope/" * 400 + "Relu"
    x = builder.add_input(HOSTILE, builder.add_tensor(HOSTILE, [1, 4], "float32", "input"))
    w = builder.add_weight("w\x00eight", np.ones((4, 4), np.float32), "layer\nname")
    hidden = builder.add_tensor(long_name, [1, 4], "float32", "activation")
    builder.add_node("node\x1b" + "n" * 3000, "linear", [x, w], [hidden], {}, ["aten.linear\x07"], "m\x7f", "f.py:1\n")
    y = builder.add_tensor("y/out;Relu", [1, 4], "float32", "activation")
    builder.add_node("relu", "relu", [hidden], [y], {}, ["aten.relu"], "", None)
    builder.add_output("y/out;Relu", y)
    builder.add_output("y/out;Relu", y)  # the same tensor twice: a second, distinct name
    graph = builder.document("m", {"framework": "pytorch", "framework_version": "2\n", "method": "m", "producer": "p",
                                   "entry": "cell\x1b"}, {"aten.linear\x07": 1})
    graph["weights"] = {"file": "weights.safetensors", "sha256": "0" * 64, "bytes": 0, "count": 1}
    graph["reference"] = {"file": "reference.safetensors", "sha256": "0" * 64, "inputs": ["input.0"],
                          "outputs": ["output.0", "output.1"]}
    jsonschema.Draft7Validator(SCHEMA).validate(graph)
    assert [io["name"] for io in graph["inputs"] + graph["outputs"]] == [
        "x_2_exit_2_fi_touch_PWNED_if_false_then_echo_", "y_out_Relu", "y_out_Relu_2"]
    assert graph["outputs"][0]["tensor"] == graph["outputs"][1]["tensor"] == "y_out_Relu"
    assert graph["nodes"][1]["outputs"] == ["y_out_Relu"] and len(graph["nodes"][0]["outputs"][0]) <= 1024
    assert len(builder.notes) == 5 and all(re.search(r"is named '[^']+' in the bundle", n) for n in builder.notes)


def test_an_onnx_model_with_hostile_io_names_captures_with_safe_ones(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    weird_in, weird_out = "input/0:x y", HOSTILE
    graph = helper.make_graph(
        [helper.make_node("Relu", [weird_in], ["mid/relu"], name="relu/0"),
         helper.make_node("Sigmoid", ["mid/relu"], [weird_out], name="sig\nmoid")],
        "g", [helper.make_tensor_value_info(weird_in, TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info(weird_out, TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)
    path = tmp_path / "my model!.onnx"
    onnx.save(model, str(path))
    done = run(["capture", str(path), "--out", str(tmp_path / "b"), "--json"], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    stream = events(done.stdout)
    warnings = [e["message"] for e in stream if e["event"] == "log" and e["level"] == "warn"]
    assert any("the bundle is named 'my_model'" in w for w in warnings), warnings
    assert any("input 'input/0:x y' is named 'input_0:x_y'" in w for w in warnings), warnings
    assert any("x_2_exit_2_fi_touch_PWNED_if_false_then_echo_" in w for w in warnings), warnings
    result = stream[-1]["data"]
    assert result["name"] == "my_model" and result["notes"] == warnings
    graph = edgespec.validate_bundle(tmp_path / "b")
    for io in graph["inputs"] + graph["outputs"]:
        assert names.IO_NAME.fullmatch(io["name"]) and names.IO_NAME.fullmatch(io["tensor"])
    inspected = subprocess.run([*EDGESPEC, "inspect", str(tmp_path / "b")], capture_output=True, text=True, timeout=120)
    assert inspected.returncode == 0, inspected.stderr  # the toolchain accepts what capture wrote


def test_the_python_api_refuses_an_invalid_name_and_derives_a_valid_default(tmp_path):
    with pytest.raises(edgespec.ModelInputError, match=r"name 'my model' is not a valid bundle name"):
        edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), name="my model", out=tmp_path / "b")
    assert not (tmp_path / "b").exists()

    class Ünïcode(torch.nn.Module):
        def forward(self, x):
            return x * 2

    result = edgespec.capture(Ünïcode().eval(), torch.randn(2, 3), out=tmp_path / "u")
    assert result.name == "n_code"
    assert result.notes == ["the bundle is named 'n_code': 'ünïcode' is not a valid bundle name "
                            f"({names.BUNDLE_NAME_RULE})"]


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_bundle_files_are_ordinary_files_under_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        out = bundle(tmp_path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    for name in ("graph.json", "weights.safetensors", "reference.safetensors"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o666 & ~umask, name


def test_a_recapture_makes_the_private_files_of_an_earlier_version_ordinary(tmp_path):
    out = bundle(tmp_path)
    (out / "weights.safetensors").chmod(0o600)
    edgespec.capture(user_models.build_mlp().eval(), torch.randn(2, 16), out=out)  # the same bundle: kept
    assert stat.S_IMODE((out / "weights.safetensors").stat().st_mode) == 0o666 & ~current_umask()


def test_the_trace_magic_refuses_an_invalid_name_before_the_cell_runs(ipython_shell, tmp_path):
    from IPython.utils.capture import capture_output

    from edgespec.notebook.trace_summary import TRACE_MIME

    ipython_shell.user_ns.pop("cell_ran", None)
    with capture_output() as captured:
        ipython_shell.run_cell(f"%%edgespec trace --name 'my model' --out {tmp_path}\ncell_ran = True")
    (summary,) = [o.data[TRACE_MIME] for o in captured.outputs if TRACE_MIME in o.data]
    assert "is not a valid bundle name" in summary["error"]["message"] and summary["models"] == []
    assert "cell_ran" not in ipython_shell.user_ns and list(tmp_path.iterdir()) == []
