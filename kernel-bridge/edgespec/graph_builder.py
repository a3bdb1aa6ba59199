"""Assemble a graph.json document (format edgespec.graph, version 1), framework-neutral."""
from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

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

    def unique_tensor_name(self, wanted: str) -> str:
        name, suffix = wanted, 1
        while name in self.tensors:
            suffix += 1
            name = f"{wanted}_{suffix}"
        return name

    def add_tensor(self, wanted: str, shape: Sequence[int], dtype: str, kind: str, module: Optional[str] = None) -> str:
        name = self.unique_tensor_name(wanted)
        tensor: Dict[str, Any] = {"shape": [int(d) for d in shape], "dtype": dtype, "kind": kind}
        if kind != "weight":
            tensor["layout"] = default_layout(shape, self.four_d_layout)
        if module is not None:
            tensor["module"] = module
        self.tensors[name] = tensor
        return name

    def add_weight(self, wanted: str, array: np.ndarray, module: str) -> str:
        name = self.add_tensor(wanted, array.shape, str(array.dtype), "weight", module)
        self.weights[name] = array
        return name

    def add_input(self, io_name: str, tensor: str) -> None:
        self.inputs.append(self._io(io_name, tensor))

    def add_output(self, io_name: str, tensor: str) -> None:
        self.tensors[tensor]["kind"] = "output"
        self.outputs.append(self._io(io_name, tensor))

    def _io(self, io_name: str, tensor: str) -> Dict[str, Any]:
        t = self.tensors[tensor]
        return {"name": io_name, "tensor": tensor, "shape": list(t["shape"]), "dtype": t["dtype"],
                "layout": default_layout(t["shape"], self.four_d_layout)}

    def add_node(self, wanted_name: str, op: str, inputs: Sequence[str], outputs: Sequence[str],
                 attrs: Dict[str, Any], framework_ops: Sequence[str], module: str, source: Optional[str]) -> None:
        name, suffix = wanted_name, 1
        while name in self._node_names:
            suffix += 1
            name = f"{wanted_name}_{suffix}"
        self._node_names.add(name)
        node: Dict[str, Any] = {"name": name, "op": op, "inputs": list(inputs), "outputs": list(outputs),
                                "attrs": attrs, "framework_ops": list(framework_ops), "module": module}
        if source:
            node["source"] = source
        self.nodes.append(node)

    def drop_unread_tensors(self) -> None:
        """Forget activations declared for ops that were never emitted (e.g. folded away)."""
        used = {io["tensor"] for io in self.inputs + self.outputs}
        for node in self.nodes:
            used.update(node["inputs"])
            used.update(node["outputs"])
        for name in [n for n in self.tensors if n not in used]:
            del self.tensors[name]
            self.weights.pop(name, None)

    def op_counts(self) -> Dict[str, int]:
        return dict(Counter(node["op"] for node in self.nodes))

    def document(self, name: str, source: Dict[str, Any], op_inventory: Dict[str, int]) -> Dict[str, Any]:
        """graph.json without the `weights` and `reference` records (the bundle writer adds those)."""
        return {"format": "edgespec.graph", "version": 1, "name": name, "source": source,
                "inputs": self.inputs, "outputs": self.outputs, "tensors": self.tensors, "nodes": self.nodes,
                "op_inventory": dict(sorted(op_inventory.items(), key=lambda kv: (-kv[1], kv[0])))}
