"""Check a bundle directory against the graph schema and against itself.

Beyond the schema: every op is in the vocabulary, every node reads tensors that exist
before it and writes tensors nobody else writes, the weights file holds exactly the
weight tensors with their declared shapes and dtypes, both data files match the
size and sha256 that graph.json records, and every given quantization fits its tensor.
When graph.json records intermediates, that file exists, matches its record, and holds
values of activation and output tensors only, each in its tensor's shape and dtype.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Set

from .bundle_files import GRAPH_FILE, INTERMEDIATES_FILE, REFERENCE_FILE, WEIGHTS_FILE, sha256_of
from ..contracts import GRAPH_SCHEMA, load_contract
from ..errors import BundleError
from ..safetensors_header import SafetensorsFormatError, read_safetensors_header
from ..vocabulary import load_vocabulary

_RECAPTURE = "capture the model again to write a fresh bundle"


def validate_bundle(path) -> Dict[str, Any]:
    """Return the bundle's graph.json as a dict, or raise BundleError naming the problem."""
    bundle = Path(path)
    graph = _load_graph(bundle)
    _check_schema(bundle, graph)
    _check_graph(bundle, graph)
    _check_quantization(bundle, graph)
    _check_weights(bundle, graph)
    _check_reference(bundle, graph)
    _check_intermediates(bundle, graph)
    return graph


# a message quotes names from graph.json; a pathological one (megabytes of name) is cut, not echoed whole
_MAX_PROBLEM_CHARS = 2000


def _fail(bundle: Path, problem: str, hint: str = _RECAPTURE) -> BundleError:
    if len(problem) > _MAX_PROBLEM_CHARS:
        problem = problem[:_MAX_PROBLEM_CHARS] + f"... ({len(problem) - _MAX_PROBLEM_CHARS} more characters)"
    return BundleError(f"bundle {bundle}: {problem}", hint=hint)


# graph.json of the largest models is a few MB (the toolchain's loader has the same limit)
_MAX_GRAPH_BYTES = 64 * 1024 * 1024


def _check_regular(bundle: Path, path: Path) -> None:
    """A bundle file exists and is a regular file: a FIFO or a device would block or never end when read."""
    if not path.exists():
        raise _fail(bundle, f"{path.name} is missing")
    if not path.is_file():
        raise _fail(bundle, f"{path.name} is not a regular file (a directory, FIFO or device)",
                    hint="bundle files are regular files written by edgespec capture; capture the model again")


def _load_graph(bundle: Path) -> Dict[str, Any]:
    if not bundle.is_dir():
        raise BundleError(f"{bundle} is not a directory", hint="pass the bundle directory that capture wrote (it holds graph.json)")
    graph_path = bundle / GRAPH_FILE
    _check_regular(bundle, graph_path)
    size = graph_path.stat().st_size
    if size > _MAX_GRAPH_BYTES:
        raise _fail(bundle, f"{GRAPH_FILE} is {size} bytes, more than the {_MAX_GRAPH_BYTES} a graph can take: "
                            "it is not one that edgespec capture wrote")
    try:
        with open(graph_path, encoding="utf-8") as f:
            graph = json.load(f, parse_constant=_reject_constant)
    except RecursionError:
        raise _fail(bundle, f"{GRAPH_FILE} nests arrays or objects too deeply to be a graph") from None
    except ValueError as e:  # also a file that is not UTF-8
        raise _fail(bundle, f"{GRAPH_FILE} is not valid JSON ({e})") from None
    if not isinstance(graph, dict):
        raise _fail(bundle, f"{GRAPH_FILE} does not hold a JSON object")
    return graph


_fast_graph_validator = None


def _graph_follows_schema_quickly(graph: Dict[str, Any]) -> bool:
    """True when graph.json follows the schema, by fastjsonschema's compiled check: about ten
    times quicker than jsonschema on the graphs of large unrolled models (thousands of nodes).
    jsonschema stays the judge of a graph that fails: it lists every problem by path."""
    global _fast_graph_validator
    try:
        import fastjsonschema
    except ImportError:
        return False
    if _fast_graph_validator is None:
        _fast_graph_validator = fastjsonschema.compile(load_contract(GRAPH_SCHEMA))
    try:
        _fast_graph_validator(graph)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _check_schema(bundle: Path, graph: Dict[str, Any]) -> None:
    if _graph_follows_schema_quickly(graph):
        return
    import jsonschema

    validator = jsonschema.Draft7Validator(load_contract(GRAPH_SCHEMA))
    errors = sorted(validator.iter_errors(graph), key=lambda e: list(e.absolute_path))
    if errors:
        shown = [f"at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors[:5]]
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise _fail(bundle, f"{GRAPH_FILE} does not follow the graph schema{more}:\n  " + "\n  ".join(shown))


def _check_graph(bundle: Path, graph: Dict[str, Any]) -> None:
    tensors = graph["tensors"]
    vocabulary = load_vocabulary()
    unknown_ops = sorted({n["op"] for n in graph["nodes"] if n["op"] not in vocabulary})
    if unknown_ops:
        raise _fail(bundle, f"ops not in the vocabulary: {', '.join(unknown_ops)}")
    for side in ("inputs", "outputs"):
        for io in graph[side]:
            tensor = tensors.get(io["tensor"])
            if tensor is None:
                raise _fail(bundle, f"{side[:-1]} '{io['name']}' names tensor '{io['tensor']}', which is not declared")
            if tensor["shape"] != io["shape"] or tensor["dtype"] != io["dtype"]:
                raise _fail(bundle, f"{side[:-1]} '{io['name']}' says {io['dtype']}{io['shape']} but tensor "
                                    f"'{io['tensor']}' is {tensor['dtype']}{tensor['shape']}")
    input_tensors = {io["tensor"] for io in graph["inputs"]}
    for name, tensor in tensors.items():
        if tensor["kind"] == "input" and name not in input_tensors:
            raise _fail(bundle, f"tensor '{name}' is of kind input but no graph input names it")
    available: Set[str] = {n for n, t in tensors.items() if t["kind"] in ("input", "weight", "state")}
    for node in graph["nodes"]:
        for name in node["inputs"]:
            if name not in tensors:
                raise _fail(bundle, f"node '{node['name']}' reads '{name}', which is not a declared tensor")
            if name not in available:
                raise _fail(bundle, f"node '{node['name']}' reads '{name}' before any node writes it (nodes must be in topological order)")
        for name in node["outputs"]:
            if name not in tensors:
                raise _fail(bundle, f"node '{node['name']}' writes '{name}', which is not a declared tensor")
            if name in available:
                raise _fail(bundle, f"node '{node['name']}' writes '{name}', which is an input, a weight or written by another node")
            available.add(name)
    for io in graph["outputs"]:
        if io["tensor"] not in available:
            raise _fail(bundle, f"output '{io['name']}' (tensor '{io['tensor']}') is never written by a node")
    _check_state(bundle, graph)


def _check_state(bundle: Path, graph: Dict[str, Any]) -> None:
    """Each state record reads a tensor of kind state, ends as a declared non-weight tensor of the same shape and
    dtype, and starts as a weight of that shape and dtype; every state tensor belongs to exactly one record."""
    tensors = graph["tensors"]
    records = graph.get("state", [])
    reads = [record["read"] for record in records]
    for record in records:
        label = f"state '{record['name']}'"
        read, write, initial = (tensors.get(record[key]) for key in ("read", "write", "initial"))
        if read is None or read["kind"] != "state":
            raise _fail(bundle, f"{label} reads '{record['read']}', which is not a tensor of kind state")
        if write is None or write["kind"] == "weight":
            raise _fail(bundle, f"{label} ends as '{record['write']}', which is not a computed tensor")
        if initial is None or initial["kind"] != "weight":
            raise _fail(bundle, f"{label} starts as '{record['initial']}', which is not a weight")
        for role, other in (("ends as", write), ("starts as", initial)):
            if other["shape"] != read["shape"] or other["dtype"] != read["dtype"]:
                raise _fail(bundle, f"{label} {role} a {other['dtype']}{other['shape']} tensor but holds "
                                    f"{read['dtype']}{read['shape']}")
    for name, tensor in tensors.items():
        if tensor["kind"] == "state" and reads.count(name) != 1:
            raise _fail(bundle, f"tensor '{name}' is of kind state but {reads.count(name)} state records read it")


# zero points each quantized dtype can hold: int8 codes, int32 biases (always 0)
_ZERO_POINTS = {"int8": (-128, 127), "int32": (0, 0)}


def quantization_problems(tensors: Dict[str, Any]) -> List[str]:
    """What is wrong with the `quantization` records of graph.json's tensors (the rule of checkGraph.ts too)."""
    problems = []
    for name, tensor in tensors.items():
        q = tensor.get("quantization")
        if q is None:
            if tensor["dtype"] == "int8":
                problems.append(f"tensor '{name}' is int8 without a quantization (scale and zero_point)")
            continue
        if tensor["dtype"] not in _ZERO_POINTS:
            problems.append(f"tensor '{name}' is {tensor['dtype']} but has a quantization; only int8 and int32 "
                            "tensors are quantized")
            continue
        count = len(q["scale"])
        if len(q["zero_point"]) != count:
            problems.append(f"tensor '{name}' has {count} scales but {len(q['zero_point'])} zero points")
        if count > 1:
            axis = _integer(q.get("axis"))
            if axis is None or axis >= len(tensor["shape"]) or tensor["shape"][axis] != count:
                problems.append(f"tensor '{name}' of shape {tensor['shape']} has {count} scales along axis {axis}; "
                                "per-channel scales need an axis of that size")
        low, high = _ZERO_POINTS[tensor["dtype"]]
        if any(not low <= z <= high for z in q["zero_point"]):
            problems.append(f"tensor '{name}' ({tensor['dtype']}) has zero points outside [{low}, {high}]")
    return problems


def _integer(value: Any) -> Any:
    """The schema's "integer" admits 1.0 (JSON does not tell 1.0 from 1); as an index it must be an int."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _check_quantization(bundle: Path, graph: Dict[str, Any]) -> None:
    problems = quantization_problems(graph["tensors"])
    if problems:
        raise _fail(bundle, "its quantization does not fit its tensors:\n  " + "\n  ".join(problems[:10]))


def _check_data_file(bundle: Path, name: str, expected_sha: str, expected_bytes: int = -1) -> Path:
    path = bundle / name
    _check_regular(bundle, path)
    size = path.stat().st_size
    if expected_bytes >= 0 and size != expected_bytes:
        kind = "truncated" if size < expected_bytes else "longer than recorded"
        raise _fail(bundle, f"{name} is {size} bytes but graph.json records {expected_bytes}: the file is {kind}")
    actual = sha256_of(path)
    if actual != expected_sha:
        raise _fail(bundle, f"{name} has sha256 {actual} but graph.json records {expected_sha}: "
                            "the file was changed after capture (tampered with or corrupted)")
    return path


def _read_header(bundle: Path, path: Path):
    try:
        return read_safetensors_header(path)
    except SafetensorsFormatError as e:
        raise _fail(bundle, f"{path.name} is not a valid safetensors file: {e}") from None


def _check_weights(bundle: Path, graph: Dict[str, Any]) -> None:
    record = graph["weights"]
    path = _check_data_file(bundle, WEIGHTS_FILE, record["sha256"], record["bytes"])
    stored = _read_header(bundle, path)
    declared = {n: t for n, t in graph["tensors"].items() if t["kind"] == "weight"}
    if record["count"] != len(stored):
        raise _fail(bundle, f"graph.json says {WEIGHTS_FILE} holds {record['count']} tensors but it holds {len(stored)}")
    missing = sorted(set(declared) - set(stored))
    extra = sorted(set(stored) - set(declared))
    if missing:
        raise _fail(bundle, f"weight tensors missing from {WEIGHTS_FILE}: {_names(missing)}")
    if extra:
        raise _fail(bundle, f"{WEIGHTS_FILE} holds tensors that graph.json does not declare as weights: {_names(extra)}")
    for name, tensor in declared.items():
        entry = stored[name]
        if entry.shape != tensor["shape"] or entry.dtype != tensor["dtype"]:
            raise _fail(bundle, f"weight '{name}' is {entry.dtype}{entry.shape} in {WEIGHTS_FILE} "
                                f"but graph.json declares {tensor['dtype']}{tensor['shape']}")


def _check_reference(bundle: Path, graph: Dict[str, Any]) -> None:
    record = graph["reference"]
    path = _check_data_file(bundle, REFERENCE_FILE, record["sha256"])
    stored = _read_header(bundle, path)
    for side in ("inputs", "outputs"):
        names: List[str] = record[side]
        ios = graph[side]
        if len(names) != len(ios):
            raise _fail(bundle, f"the reference lists {len(names)} {side} but the graph has {len(ios)}")
        for name, io in zip(names, ios):
            entry = stored.get(name)
            if entry is None:
                raise _fail(bundle, f"reference {side[:-1]} '{name}' is missing from {REFERENCE_FILE}")
            if entry.shape != io["shape"] or entry.dtype != io["dtype"]:
                raise _fail(bundle, f"reference '{name}' is {entry.dtype}{entry.shape} but graph {side[:-1]} "
                                    f"'{io['name']}' is {io['dtype']}{io['shape']}")


def _check_intermediates(bundle: Path, graph: Dict[str, Any]) -> None:
    record = graph.get("intermediates")
    if record is None:
        if (bundle / INTERMEDIATES_FILE).exists():
            raise _fail(bundle, f"it holds {INTERMEDIATES_FILE} but graph.json records no intermediates")
        return
    path = _check_data_file(bundle, INTERMEDIATES_FILE, record["sha256"], record["bytes"])
    stored = _read_header(bundle, path)
    if record["count"] != len(stored):
        raise _fail(bundle, f"graph.json says {INTERMEDIATES_FILE} holds {record['count']} tensors but it holds {len(stored)}")
    tensors = graph["tensors"]
    unknown = sorted(name for name in stored if name not in tensors)
    if unknown:
        raise _fail(bundle, f"{INTERMEDIATES_FILE} holds tensors that graph.json does not declare: {_names(unknown)}")
    other = sorted(name for name in stored if tensors[name]["kind"] not in ("activation", "output"))
    if other:
        raise _fail(bundle, f"{INTERMEDIATES_FILE} holds inputs or weights, not intermediate tensors: {_names(other)}")
    for name, entry in stored.items():
        tensor = tensors[name]
        if entry.shape != tensor["shape"] or entry.dtype != tensor["dtype"]:
            raise _fail(bundle, f"intermediate '{name}' is {entry.dtype}{entry.shape} in {INTERMEDIATES_FILE} "
                                f"but graph.json declares {tensor['dtype']}{tensor['shape']}")


def _names(names: List[str]) -> str:
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
