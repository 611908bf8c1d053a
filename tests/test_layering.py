"""The import graph of symgrad runs one way (DESIGN.md, "IR below ops").

Layers, lowest first; a module may import its own layer and the ones below, never one above,
at module level or inside a function:

- ``base``: dtypes, devices, float_errors, printing, version, grad_mode (the grad-mode flags
  that every op call and every new tensor reads) and profiling (the profiler that the
  dispatch times ops with; ``symgrad.autograd.profiler`` is this module) and dispatch_gate
  (the one flag the op shortcuts read, set by the profiler and by tracing).
- ``ir``: ``symgrad.ir``, the hash-consed graph and the tracing context.
- ``tensor``: Tensor, Generator (symgrad/random.py), the factories (creation) and the autograd
  tape (tape.py: the backward nodes that ops record).
- ``ops``: ``symgrad.ops`` (every OpDef, the dispatch, recording into a trace) and
  ``symgrad.linalg``.
- ``autograd/nn/optim``: the engine and the public ``symgrad.autograd``, ``nn``, ``optim``,
  ``testing``, and the torch device stubs (``cuda``, ``backends``).
- ``compiler``: ``symgrad.compiler`` and ``viz`` (its graph pictures).
- ``api``: the ``symgrad`` package itself and the command line.

Module-level imports also form no cycle, counting the package ``__init__`` that Python runs
before a submodule (importing ``symgrad.ops.reduce`` runs ``symgrad/ops/__init__.py`` first).
Imports under ``if TYPE_CHECKING:`` are for type checkers only and are not counted.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "symgrad"

LAYERS = [
    (
        "base",
        (
            "symgrad.dtypes",
            "symgrad.devices",
            "symgrad.float_errors",
            "symgrad.printing",
            "symgrad.version",
            "symgrad.grad_mode",
            "symgrad.profiling",
            "symgrad.dispatch_gate",
        ),
    ),
    ("ir", ("symgrad.ir",)),
    ("tensor", ("symgrad.tensor", "symgrad.random", "symgrad.creation", "symgrad.tape")),
    ("ops", ("symgrad.ops", "symgrad.linalg")),
    (
        "autograd/nn/optim",
        (
            "symgrad.autograd",
            "symgrad.nn",
            "symgrad.optim",
            "symgrad.testing",
            "symgrad.cuda",
            "symgrad.backends",
        ),
    ),
    ("compiler", ("symgrad.compiler", "symgrad.viz")),
    ("api", ("symgrad", "symgrad.cli", "symgrad.__main__")),
]


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer_of(module: str) -> int:
    """The index of the layer of ``module``: its longest listed prefix decides."""
    best = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), index)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")
    return best[1]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(module: str, node: ast.stmt) -> list[str]:
    """The symgrad modules an import statement loads (the module, or a submodule imported by
    ``from package import submodule``)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            package = module.split(".")
            if not MODULES[module].name == "__init__.py":
                package = package[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join(package + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        names = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
            for alias in node.names
        ]
    found = []
    for name in names:
        while name and name not in MODULES:  # ``import symgrad.x.y`` with y not a module
            name = name.rpartition(".")[0]
        if name.startswith("symgrad") and name in MODULES:
            found.append(name)
    return found


def _imports(module: str):
    """(target, "module" or "function", line) for every symgrad import in ``module``."""
    tree = ast.parse(MODULES[module].read_text(), str(MODULES[module]))
    out = []

    def visit(node, level):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            inner = (
                "function"
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                else level
            )
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.extend((t, level, child.lineno) for t in _targets(module, child))
            visit(child, inner)

    visit(tree, "module")
    return out


def _with_packages(module: str, target: str) -> list[str]:
    """``target`` and the packages Python initializes to import it (those not already being
    initialized as ``module``'s own parents)."""
    own = {module.rsplit(".", k)[0] for k in range(module.count(".") + 1)}
    chain = []
    name = target
    while name:
        if name not in own and name in MODULES:
            chain.append(name)
        name = name.rpartition(".")[0]
    return chain


def edges() -> dict[tuple[str, str], tuple[str, int]]:
    """(importer, imported) -> (the importer's level of that import, line); module level wins."""
    found: dict[tuple[str, str], tuple[str, int]] = {}
    for module in MODULES:
        for target, level, line in _imports(module):
            for name in _with_packages(module, target):
                if name == module:
                    continue
                key = (module, name)
                if key not in found or (level == "module" and found[key][0] != "module"):
                    found[key] = (level, line)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for start in sorted(graph):
        if start in state:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return path[path.index(child) :] + [child]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))
    return None


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


def test_module_level_imports_form_no_cycle():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for (a, b), (level, _) in edges().items():
        if level == "module":
            graph[a].add(b)
    cycle = _cycle(graph)
    assert cycle is None, "module-level import cycle: " + " -> ".join(cycle)


def test_no_module_imports_a_higher_layer():
    upward = [
        f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]}) at "
        f"{level} level, {MODULES[a].relative_to(ROOT.parent)}:{line}"
        for (a, b), (level, line) in sorted(edges().items())
        if layer_of(b) > layer_of(a)
    ]
    assert not upward, "imports against the layer order:\n" + "\n".join(upward)


def test_function_level_imports_are_only_optional_extras():
    """No function-level import of a symgrad module remains: they only hid cycles."""
    inner = [
        f"{a} imports {b} inside a function, {MODULES[a].relative_to(ROOT.parent)}:{line}"
        for (a, b), (level, line) in sorted(edges().items())
        if level == "function"
    ]
    assert not inner, "\n".join(inner)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from ..ops import registry\n", ("symgrad.ops.registry", "module")),
        (
            "def f():\n    from ..ops.reduce import sum_to_shape\n",
            ("symgrad.ops.reduce", "function"),
        ),
        ("if TYPE_CHECKING:\n    from ..ops import registry\n", None),
    ],
)
def test_the_checker_sees_imports(tmp_path, monkeypatch, source, expected):
    """The checker itself: a relative import inside a function counts; TYPE_CHECKING does not."""
    monkeypatch.setitem(MODULES, "symgrad.autograd.engine", tmp_path / "engine.py")
    (tmp_path / "engine.py").write_text(source)
    found = [(t, level) for t, level, _ in _imports("symgrad.autograd.engine")]
    assert found == ([] if expected is None else [expected])


def test_the_cycle_finder_finds_cycles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
