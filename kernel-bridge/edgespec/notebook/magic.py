"""`%%edgespec trace [--name NAME] [--out DIR]`: run a cell as usual, then capture every
model it called into a bundle (DIR/<name>, DIR defaulting to ./edgespec-bundles) and show
what each model is made of.

Only PyTorch is imported here; TensorFlow never is.
"""
from __future__ import annotations

import ast
import contextlib
from pathlib import Path
from typing import Any, Dict, List, Optional

from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from ..errors import EdgespecError, ModelInputError, NoModelCallError, UnsupportedOpsError
from .trace_summary import error_dict, mime_bundle, model_entry, new_summary, unique_name, variable_name

DEFAULT_OUT = "edgespec-bundles"


@magics_class
class EdgespecMagics(Magics):
    last_trace: Optional[Dict[str, Any]] = None

    @magic_arguments()
    @argument("action", choices=["trace"], help="trace: run the cell and capture each model it calls")
    @argument("--name", default=None, help="bundle name of the (first) model; default: its variable name")
    @argument("--out", default=DEFAULT_OUT, help="directory the bundles go in, one subdirectory per model")
    @cell_magic
    def edgespec(self, line: str, cell: str):
        """Run the cell, then capture every top-level nn.Module call it made into a bundle."""
        args = parse_argstring(self.edgespec, line)
        if args.name is not None:
            from ..capture.names import check_bundle_name

            try:
                check_bundle_name(args.name, "--name")
            except ModelInputError as e:  # before the cell runs, as for any other bad argument
                summary = new_summary()
                summary["error"] = error_dict(e)
                return self._show(summary)
        from .keras_magic import KerasCellTrace  # Keras models; imports neither TensorFlow nor Keras

        keras_trace = KerasCellTrace()
        try:
            from .cell_tracer import CellTracer
        except ImportError:
            CellTracer = None
        if CellTracer is None and not keras_trace.available():
            summary = new_summary()
            summary["error"] = {"code": "no_framework", "message": "neither PyTorch nor Keras is installed in this kernel",
                                "hint": "pip install torch (or tensorflow-cpu), then restart the kernel"}
            return self._show(summary)
        tracer = CellTracer() if CellTracer is not None else contextlib.nullcontext()
        with tracer, keras_trace:
            self._run_cell(cell)
        summary = capture_traced(tracer, args.name, Path(args.out), self.shell.user_ns) if CellTracer else new_summary()
        keras_trace.capture_into(summary, args.name, Path(args.out), self.shell.user_ns)
        self._show(summary)

    def _show(self, summary: Dict[str, Any]) -> None:
        self.last_trace = summary
        display(mime_bundle(summary), raw=True)

    def _run_cell(self, cell: str) -> None:
        """Run the cell in the user namespace like IPython would, showing the value of a last expression."""
        shell = self.shell
        code = shell.transform_cell(cell)
        filename = shell.compile.cache(code, shell.execution_count, raw_code=cell)
        tree = ast.parse(code, filename)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, "exec"), shell.user_ns)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), filename, "eval"), shell.user_ns)
            if value is not None:
                display(value)


def capture_traced(tracer, wanted_name: Optional[str], out_dir: Path, user_ns: Dict[str, Any]) -> Dict[str, Any]:
    from ..capture.torch.capture import bundle_name, capture_call

    summary = new_summary()
    summary["cell_ops"] = dict(sorted(tracer.cell_ops.items(), key=lambda kv: (-kv[1], kv[0])))
    finished = [call for call in tracer.calls if call.finished]
    if not finished:
        error = NoModelCallError(
            "the cell made no nn.Module call, so there is no model to capture",
            hint="call the model in the traced cell, e.g. `model(x)`, with the inputs it should be captured with")
        summary["error"] = error_dict(error)
        return summary
    taken: List[str] = []
    for index, call in enumerate(finished):
        base = bundle_name(wanted_name if (wanted_name and index == 0) else variable_name(call.module, user_ns)
                           or type(call.module).__name__.lower())
        name = unique_name(base, taken)
        taken.append(name)
        result = error = None
        unsupported: set = set()
        if call.input_problem:
            error = ModelInputError(f"{name} cannot be captured: {call.input_problem}",
                                  hint="call the model with positional tensor arguments in the traced cell")
        else:
            try:
                result = capture_call(call.module, call.inputs, call.outputs, call.op_counts, name=name,
                                      out=out_dir / name, entry="notebook cell")
            except UnsupportedOpsError as e:
                error = e
                unsupported = {op.framework_op for op in e.ops}
                summary["unsupported"] += [{"model": name, **op.to_dict()} for op in e.ops]
            except EdgespecError as e:
                error = e
        summary["models"].append(model_entry(name, call, str(result.path) if result else None, result, error, unsupported))
    return summary


def register_magics(ipython) -> None:
    ipython.register_magics(EdgespecMagics)
