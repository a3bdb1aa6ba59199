"""PyTorch's values of a graph's intermediate tensors: the ExportedProgram that was lowered, run
node by node on the reference inputs (capture/intermediates.py says what is kept).

The lowering ties each graph tensor to the FX node (and tuple index) whose value it holds
(AtenLowering.declare); this runs the program's own graph module with torch.fx's
Interpreter, feeding its placeholders in signature order (parameters, buffers and
constants from the program, then the user inputs), and keeps those nodes' values.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence, Set, Tuple

import numpy as np
import torch
from torch.export.graph_signature import InputKind

from ..intermediates import Intermediates, collect

Origin = Tuple[str, Any]  # (FX node name, index into its tuple value or None)


def torch_intermediates(program, inputs: Sequence[torch.Tensor], builder) -> Intermediates:
    return collect(builder.tensors, builder.origins, lambda wanted: _node_values(program, inputs, wanted), "PyTorch")


def _node_values(program, inputs: Sequence[torch.Tensor], wanted: Mapping[str, Origin]) -> Dict[Origin, np.ndarray]:
    origins: Set[Origin] = set(wanted.values())
    indices: Dict[str, Set[Any]] = {}
    for node_name, index in origins:
        indices.setdefault(node_name, set()).add(index)
    values: Dict[Origin, np.ndarray] = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, node):
            result = super().run_node(node)
            for index in indices.get(node.name, ()):
                value = result if index is None else result[index]
                if isinstance(value, torch.Tensor):
                    values[(node.name, index)] = _array(value)
            return result

    with torch.no_grad():
        Recorder(program.graph_module).run(*_placeholder_values(program, inputs))
    return values


def _placeholder_values(program, inputs: Sequence[torch.Tensor]) -> list:
    user_inputs = iter(inputs)
    args = []
    for spec in program.graph_signature.input_specs:
        if spec.kind == InputKind.USER_INPUT:
            args.append(next(user_inputs))
        elif spec.kind in (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR):
            value = program.state_dict[spec.target] if spec.target in program.state_dict \
                else program.constants[spec.target]
            args.append(value)
        else:  # the lowering refuses other kinds (tokens, custom objects) before this runs
            raise ValueError(f"the program takes an input of kind {spec.kind.name}")
    return args


def _array(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to("cpu").contiguous().numpy().copy()
