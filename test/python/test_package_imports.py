"""The edgespec package's import graph has no circle, counting imports inside functions too
(an import moved into a function to dodge a circle is still a circle), and the public
`edgespec.capture` stays the capture function although a capture/ subpackage exists."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "kernel-bridge" / "edgespec"

Edge = Tuple[str, str, int]  # (imported module, file that imports it, line)


def module_files(package_dir: Path) -> Dict[str, Path]:
    """Dotted module name -> file, for every .py of the package (a package is its __init__.py)."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _absolute(module: str, is_package: bool, level: int, name: Optional[str]) -> str:
    """The absolute name a relative import `from <level dots><name>` in `module` means."""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_edges(package_dir: Path) -> Dict[str, List[Edge]]:
    """module -> the package modules it imports, wherever the import statement is."""
    modules = module_files(package_dir)
    package = package_dir.name
    edges: Dict[str, List[Edge]] = {name: [] for name in modules}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: List[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(module, is_package, node.level, node.module) if node.level else (node.module or "")
                # `from pkg import sub` imports the module pkg.sub; `from mod import name` imports mod
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                if target == package or target.startswith(package + "."):
                    while target not in modules and "." in target:  # `import edgespec.x.Name` style leftovers
                        target = target.rsplit(".", 1)[0]
                    if target != module:
                        edges[module].append((target, str(path.relative_to(package_dir.parent)), node.lineno))
    return edges


def import_circles(package_dir: Path) -> List[List[Tuple[str, str, int]]]:
    """Every strongly connected group of modules, each shown as one circle through it:
    [(module, file:line of its import of the next module), ...]."""
    edges = import_edges(package_dir)
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack = set()
    groups: List[List[str]] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, iterative (no recursion limit to meet)
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, successors = work[-1]
            advanced = False
            for target, _, _ in successors:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(edges[target])))
                    advanced = True
                    break
                if target in on_stack:
                    low[module] = min(low[module], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(group)

    for module in edges:
        if module not in index:
            visit(module)
    return [_circle_through(sorted(group), edges) for group in groups]


def _circle_through(group: List[str], edges: Dict[str, List[Edge]]) -> List[Tuple[str, str, int]]:
    """A shortest walk from the group's first module back to itself, inside the group."""
    members = set(group)
    start = group[0]
    came_from: Dict[str, Tuple[str, str, int]] = {}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for target, where, line in edges[module]:
                if target in members and target not in came_from:
                    came_from[target] = (module, where, line)
                    following.append(target)
        if start in came_from:
            break
        frontier = following
    walk = []
    module = start
    while True:
        previous, where, line = came_from[module]
        walk.append((previous, where, line))
        module = previous
        if module == start:
            break
    return list(reversed(walk))


def describe(circle: List[Tuple[str, str, int]]) -> str:
    names = [module for module, _, _ in circle] + [circle[0][0]]
    steps = "\n".join(f"    {module} -> {names[i + 1]}  ({where}:{line})" for i, (module, where, line) in enumerate(circle))
    return " -> ".join(names) + "\n" + steps


def test_the_edgespec_package_has_no_import_circle():
    circles = import_circles(PACKAGE_DIR)
    assert not circles, ("import circles in kernel-bridge/edgespec (pass a table or a callback in instead of "
                         "importing back):\n" + "\n".join(describe(c) for c in circles))


def test_the_checker_sees_a_circle_dodged_inside_a_function(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "lowering.py").write_text("def run():\n    from .rules import RULES\n    return RULES\n")
    (package / "sub" / "rules.py").write_text("from .lowering import run\nRULES = {}\n")
    (package / "leaf.py").write_text("from .sub import rules\nimport pkg.sub.lowering\n")
    circles = import_circles(package)
    assert len(circles) == 1
    assert {module for module, _, _ in circles[0]} == {"pkg.sub.lowering", "pkg.sub.rules"}
    assert "pkg/sub/lowering.py:2" in describe(circles[0])
    assert ("pkg.sub.rules", "pkg/leaf.py", 1) in import_edges(package)["pkg.leaf"]
    assert ("pkg.sub.lowering", "pkg/leaf.py", 2) in import_edges(package)["pkg.leaf"]


def test_the_checker_resolves_imports_of_the_package_root_and_of_names(tmp_path):
    package = tmp_path / "pkg"
    (package / "deep").mkdir(parents=True)
    (package / "__init__.py").write_text("def api():\n    from .deep.capture import capture\n    return capture\n")
    (package / "deep" / "__init__.py").write_text("")
    (package / "deep" / "capture.py").write_text("from .. import VERSION\ndef capture():\n    pass\n")
    circles = import_circles(package)
    assert [sorted(m for m, _, _ in c) for c in circles] == [["pkg", "pkg.deep.capture"]]


def test_edgespec_capture_stays_the_function_once_every_module_is_imported():
    script = ("import importlib, pkgutil, edgespec\n"
              "for m in pkgutil.walk_packages(edgespec.__path__, 'edgespec.'):\n"
              "    if not m.name.endswith('__main__') and '.labextension' not in m.name:\n"
              "        importlib.import_module(m.name)\n"
              "import edgespec.capture.torch.capture\n"
              "from edgespec.capture import bundle\n"
              "assert callable(edgespec.capture) and edgespec.capture.__module__ == 'edgespec', edgespec.capture\n"
              "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]
