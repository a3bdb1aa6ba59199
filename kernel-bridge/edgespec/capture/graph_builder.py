"""Assemble a graph.json document (format edgespec.graph, version 1), framework-neutral."""
from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .names import IO_NAME, IO_NAME_RULE, bounded_text, io_name, unique

DTYPE_NAMES = {"float32", "int8", "uint8", "int32", "int64", "bool"}


def default_layout(shape: Sequence[int], four_d_layout: str) -> str:
    if len(shape) == 4:
        return four_d_layout
    if len(shape) == 2:
        return "NC"
    return "ANY"


class GraphBuilder:
    def __init__(self, four_d_layout: str = "NCHW"):
        self.four_d_layout = four_d_layout
        self.tensors: Dict[str, Dict[str, Any]] = {}
        self.nodes: List[Dict[str, Any]] = []
        self.inputs: List[Dict[str, Any]] = []
        self.outputs: List[Dict[str, Any]] = []
        self.weights: Dict[str, np.ndarray] = {}
        self._node_names: set = set()
        self._renamed: Dict[str, str] = {}  # framework-named io tensor -> its io-safe name
        # graph tensor -> the framework value it holds (a torch FX node and index, a TFLite tensor index, an ONNX
        # value name): how capture finds the framework's own value of each tensor (intermediates.py)
        self.origins: Dict[str, Any] = {}
        self.notes: List[str] = []  # names capture had to change, said to the user
        self.state: List[Dict[str, Any]] = []  # what the model keeps between invocations (a streaming model's variables)

    def unique_tensor_name(self, wanted: str) -> str:
        return unique(bounded_text(wanted), self.tensors)

    def add_tensor(self, wanted: str, shape: Sequence[int], dtype: str, kind: str, module: Optional[str] = None) -> str:
        name = self.unique_tensor_name(wanted)
        tensor: Dict[str, Any] = {"shape": [int(d) for d in shape], "dtype": dtype, "kind": kind}
        if kind != "weight":
            tensor["layout"] = default_layout(shape, self.four_d_layout)
        if module is not None:
            tensor["module"] = bounded_text(module)
        self.tensors[name] = tensor
        return name

    def set_origin(self, tensor: str, framework_value: Any) -> None:
        """`tensor` holds exactly the framework's `framework_value` (same shape, layout and dtype)."""
        self.origins[tensor] = framework_value

    def add_weight(self, wanted: str, array: np.ndarray, module: str) -> str:
        name = self.add_tensor(wanted, array.shape, str(array.dtype), "weight", module)
        self.weights[name] = array
        return name

    def add_input(self, wanted_name: str, tensor: str) -> str:
        """Declare `tensor` a graph input; returns its tensor name, which is renamed if it is not a valid io name."""
        tensor = self._io_safe_tensor(tensor, "input")
        self.inputs.append(self._io(self._io_name(wanted_name, "input"), tensor))
        return tensor

    def add_output(self, wanted_name: str, tensor: str) -> str:
        """Declare `tensor` a graph output; returns its tensor name, which is renamed if it is not a valid io name."""
        tensor = self._io_safe_tensor(tensor, "output")
        self.tensors[tensor]["kind"] = "output"
        self.outputs.append(self._io(self._io_name(wanted_name, "output"), tensor))
        return tensor

    def _io(self, name: str, tensor: str) -> Dict[str, Any]:
        t = self.tensors[tensor]
        return {"name": name, "tensor": tensor, "shape": list(t["shape"]), "dtype": t["dtype"],
                "layout": default_layout(t["shape"], self.four_d_layout)}

    def _io_name(self, wanted: str, side: str) -> str:
        """Input and output names reach generated code and scripts: a strict pattern, unique across both sides."""
        taken = [io["name"] for io in self.inputs + self.outputs]
        name = io_name(wanted, taken)
        if name != wanted:
            self.notes.append(f"{side} {_shown(wanted)} is named '{name}' in the bundle ({_why(wanted, taken)})")
        return name

    def _io_safe_tensor(self, tensor: str, side: str) -> str:
        tensor = self._renamed.get(tensor, tensor)
        if IO_NAME.fullmatch(tensor):
            return tensor
        new = io_name(tensor, self.tensors)
        self._rename_tensor(tensor, new)
        self._renamed[tensor] = new
        self.notes.append(f"the {side} tensor {_shown(tensor)} is named '{new}' in the bundle ({IO_NAME_RULE})")
        return new

    def _rename_tensor(self, old: str, new: str) -> None:
        self.tensors = {(new if name == old else name): t for name, t in self.tensors.items()}
        if old in self.origins:
            self.origins[new] = self.origins.pop(old)
        if old in self.weights:
            self.weights[new] = self.weights.pop(old)
        for node in self.nodes:
            node["inputs"] = [new if n == old else n for n in node["inputs"]]
            node["outputs"] = [new if n == old else n for n in node["outputs"]]
        for io in self.inputs + self.outputs:
            if io["tensor"] == old:
                io["tensor"] = new

    def add_state(self, name: str, read: str, write: str, initial: np.ndarray) -> None:
        """The model keeps a value between invocations: tensor `read` (kind state) holds it when an invocation
        starts, tensor `write` at its end; before the first invocation it is `initial` (a weight)."""
        weight = self.add_weight(f"{read}.initial", initial, "")
        self.state.append({"name": bounded_text(name), "read": read, "write": write, "initial": weight})

    def add_node(self, wanted_name: str, op: str, inputs: Sequence[str], outputs: Sequence[str],
                 attrs: Dict[str, Any], framework_ops: Sequence[str], module: str, source: Optional[str]) -> None:
        name = unique(bounded_text(wanted_name), self._node_names)
        self._node_names.add(name)
        node: Dict[str, Any] = {"name": name, "op": op, "inputs": list(inputs), "outputs": list(outputs),
                                "attrs": attrs, "framework_ops": [bounded_text(f) for f in framework_ops],
                                "module": bounded_text(module)}
        if source:
            node["source"] = bounded_text(source)
        self.nodes.append(node)

    def drop_unread_tensors(self) -> None:
        """Forget activations declared for ops that were never emitted (e.g. folded away)."""
        used = {io["tensor"] for io in self.inputs + self.outputs}
        used.update(name for record in self.state for name in (record["read"], record["write"], record["initial"]))
        for node in self.nodes:
            used.update(node["inputs"])
            used.update(node["outputs"])
        for name in [n for n in self.tensors if n not in used]:
            del self.tensors[name]
            self.weights.pop(name, None)
            self.origins.pop(name, None)

    def op_counts(self) -> Dict[str, int]:
        return dict(Counter(node["op"] for node in self.nodes))

    def document(self, name: str, source: Dict[str, Any], op_inventory: Dict[str, int]) -> Dict[str, Any]:
        """graph.json without the `weights` and `reference` records (the bundle writer adds those)."""
        inventory: Dict[str, int] = Counter()
        for op, count in op_inventory.items():
            inventory[bounded_text(op)] += count
        return {"format": "edgespec.graph", "version": 1, "name": name,
                "source": {key: ({bounded_text(k): v for k, v in value.items()} if isinstance(value, dict)
                                 else bounded_text(str(value))) for key, value in source.items()},
                "inputs": self.inputs, "outputs": self.outputs, "tensors": self.tensors, "nodes": self.nodes,
                "op_inventory": dict(sorted(inventory.items(), key=lambda kv: (-kv[1], kv[0]))),
                **({"state": self.state} if self.state else {})}


def _shown(name: str) -> str:
    return repr(name if len(name) <= 200 else name[:200] + "...")


def _why(wanted: str, taken: Sequence[str]) -> str:
    return "that name is already taken" if wanted in taken else f"io names use {IO_NAME_RULE}"
