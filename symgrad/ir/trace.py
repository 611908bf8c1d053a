"""Tracing: run the user's function on symbolic Tensors and record a hash-consed Graph.

While a trace is active (thread-local), every op call lands in ``apply_symbolic``
(``symgrad/ops/registry.py``): symbolic inputs become node inputs, Python numbers become printed
constants, and concrete tensors or arrays met along the way (globals, closures, factories) are
lifted to captured inputs that are passed in at call time — never baked into the source. This
module is the tracing context below the tensor and the ops: the active trace, its graph and
captured values, provenance, and the errors of tracing.
"""

from __future__ import annotations

import linecache
import os
import sys
import threading
from contextlib import contextmanager

from .. import dispatch_gate
from .graph import INPUT, Graph, Node, Provenance, toposort

_SYMGRAD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _State(threading.local):
    trace = None  # the active Trace of this thread


_state = _State()


class TracingError(RuntimeError):
    """The function cannot be traced as written (data-dependent Python, unsupported op)."""


class ConcretizationError(TracingError):
    """A traced value was needed as a concrete Python value (``bool(t)``, ``t.item()`` ...)."""


class Trace:
    """The state of one trace: its graph, the function, captured values, and provenance."""

    def __init__(self, function_name: str, resolve_name=None):
        self.graph = Graph()
        self.function_name = function_name
        self.captured_values: list = []  # concrete Tensors/arrays, in graph.captured order
        self._captured_ids: dict[int, Node] = {}
        self._resolve_name = resolve_name or (lambda value: None)
        self.provenance_override: Provenance | None = None
        # Tensors that factories created during this trace, by id: small ones are constants
        # of the generated code, printed from their numbers.
        self.created: dict[int, object] = {}


def current() -> Trace | None:
    return _state.trace


@contextmanager
def tracing(trace: Trace):
    previous = current()
    _state.trace = trace
    # the op shortcuts step aside while this thread traces (see dispatch_gate)
    held = (trace is not None) - (previous is not None)
    dispatch_gate.hold("trace", held)
    try:
        yield trace
    finally:
        _state.trace = previous
        dispatch_gate.hold("trace", -held)


@contextmanager
def provenance(value: Provenance | None):
    """Nodes created inside (by the reverse pass) carry ``value`` instead of a stack lookup."""
    trace = current()
    previous = trace.provenance_override
    trace.provenance_override = value
    try:
        yield
    finally:
        trace.provenance_override = previous


def user_provenance() -> Provenance | None:
    """The innermost frame outside the symgrad package: the user's line."""
    trace = current()
    if trace is not None and trace.provenance_override is not None:
        return trace.provenance_override
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_SYMGRAD_DIR) and not filename.startswith("<frozen"):
            line = frame.f_lineno
            return Provenance(filename, line, linecache.getline(filename, line).strip())
        frame = frame.f_back
    return None


def where() -> str:
    """The user's line being traced, for error messages."""
    p = user_provenance()
    return "unknown line" if p is None else f"{p.short()}: {p.source}"


def inputs_reaching(node: Node) -> list[str]:
    """Names of the function's arguments a traced value depends on."""
    names = []
    for n in toposort([node]):
        if n.kind == INPUT and n.name not in names:
            names.append(n.name)
    return names


def concretization_error(tensor, what: str) -> ConcretizationError:
    """The error for ``bool(t)``/``t.item()``/... on a traced value, naming the function, the
    user's line and the arguments the value depends on (as JAX does), with the fix."""
    trace = current()
    node = tensor._data
    function = trace.function_name if trace is not None else "the compiled function"
    where = user_provenance()
    location = f" at {where.short()}: `{where.source}`" if where is not None else ""
    depends = inputs_reaching(node)
    depends_text = (
        f"it depends on the argument{'s' if len(depends) > 1 else ''} "
        f"{', '.join(repr(d) for d in depends)}"
        if depends
        else "it depends on no argument"
    )
    return ConcretizationError(
        f"symgrad.compile cannot call {what} on a traced value of type {node.type_text()} while "
        f"tracing {function}{location}: its value is only known when the compiled code runs "
        f"({depends_text}).\n"
        "symgrad hint: express data-dependent choices with symgrad.where(condition, a, b), or "
        "pass the deciding value as a static argument (static_argnums / static_argnames)."
    )


def symbolic_repr(tensor) -> str:
    node = tensor._data
    return f"Traced<{node.type_text()}>(%{node.id} = {node.label()})"
