"""What a capture produced, in a form small enough to print, return and serialize."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List


@dataclass
class CaptureResult:
    name: str
    path: Path
    op_inventory: Dict[str, int]
    parameter_bytes: int
    weight_count: int
    nodes: int
    graph_ops: Dict[str, int]
    inputs: List[Dict[str, Any]] = field(default_factory=list)
    outputs: List[Dict[str, Any]] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)  # names capture changed, builds it kept or removed

    @classmethod
    def of_bundle(cls, name: str, path: Path, op_inventory: Dict[str, int], builder: Any, notes: List[str]) -> "CaptureResult":
        """The result of a bundle written from `builder` (a GraphBuilder) into `path`."""
        return cls(
            name=name, path=path, op_inventory=op_inventory,
            parameter_bytes=int(sum(a.nbytes for a in builder.weights.values())), weight_count=len(builder.weights),
            nodes=len(builder.nodes), graph_ops=builder.op_counts(),
            inputs=[{"name": io["name"], "shape": io["shape"], "dtype": io["dtype"]} for io in builder.inputs],
            outputs=[{"name": io["name"], "shape": io["shape"], "dtype": io["dtype"]} for io in builder.outputs],
            notes=notes)

    def to_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "bundle": str(self.path), "op_inventory": self.op_inventory,
                "parameter_bytes": self.parameter_bytes, "weight_count": self.weight_count, "nodes": self.nodes,
                "graph_ops": self.graph_ops, "inputs": self.inputs, "outputs": self.outputs, "notes": self.notes}

    def summary(self) -> str:
        width = max([len(op) for op in self.op_inventory] + [len("framework op")])
        lines = [f"bundle      {self.path}",
                 f"inputs      {', '.join(_io(i) for i in self.inputs)}",
                 f"outputs     {', '.join(_io(o) for o in self.outputs)}",
                 f"parameters  {self.parameter_bytes:,} bytes in {self.weight_count} tensors",
                 f"graph       {self.nodes} nodes: " + ", ".join(f"{op} {n}" for op, n in self.graph_ops.items()),
                 "",
                 f"{'framework op':<{width}}  count"]
        lines += [f"{op:<{width}}  {count:>5}" for op, count in self.op_inventory.items()]
        if self.notes:
            lines += [""] + [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"CaptureResult(name={self.name!r}, path='{self.path}', nodes={self.nodes}, "
                f"parameter_bytes={self.parameter_bytes})")


def _io(io: Dict[str, Any]) -> str:
    return f"{io['name']} {io['dtype']}[{'x'.join(str(d) for d in io['shape'])}]"
