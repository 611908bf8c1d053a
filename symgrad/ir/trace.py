"""Tracing: run the user's function on symbolic Tensors and record a hash-consed Graph.

While a trace is active (thread-local), every op call lands in ``apply_symbolic``: symbolic
inputs become node inputs, Python numbers become printed constants, and concrete tensors or
arrays met along the way (globals, closures, factories) are lifted to captured inputs that are
passed in at call time — never baked into the source.
"""

from __future__ import annotations

import linecache
import os
import sys
import threading
import weakref
from contextlib import contextmanager

import numpy as np

from .. import dtypes
from .graph import INPUT, Graph, Node, Provenance, toposort

_SYMGRAD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _State(threading.local):
    trace = None  # the active Trace of this thread


_state = _State()


# Constants made while tracing (arange(10) in a loss) with at most this many elements are
# printed into the generated code; larger ones are passed in, like captured arrays.
MAX_PRINTED_CONSTANT = 64


def _array_constant(graph: Graph, data: np.ndarray) -> Node:
    from ..ops.constant import ARRAY

    d = dtypes.from_numpy_dtype(data.dtype)
    attrs = {"values": tuple(data.ravel().tolist()), "shape": data.shape, "dtype": d}
    return graph.op(ARRAY, (), attrs, data.shape, d, user_provenance())


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

    def capture(self, value) -> Node:
        """A concrete tensor or array met while tracing, as an input passed at call time."""
        from ..ops.random import is_generator
        from ..tensor import Tensor

        node = self._captured_ids.get(id(value))
        if node is not None:
            return node
        if is_generator(value):
            node = self.graph.capture(self._resolve_name(value) or "rng", (), None)
            self._captured_ids[id(value)] = node
            self.captured_values.append(value)
            return node
        data = value._data if isinstance(value, Tensor) else np.asarray(value)
        if id(value) in self.created and data.size <= MAX_PRINTED_CONSTANT:
            node = _array_constant(self.graph, data)
            self._captured_ids[id(value)] = node
            return node
        name = self._resolve_name(value) or f"const{len(self.captured_values)}"
        node = self.graph.capture(
            name, data.shape, dtypes.from_numpy_dtype(data.dtype), user_provenance()
        )
        self._captured_ids[id(value)] = node
        self.captured_values.append(value)
        return node


def current() -> Trace | None:
    return _state.trace


@contextmanager
def tracing(trace: Trace):
    previous = current()
    _state.trace = trace
    try:
        yield trace
    finally:
        _state.trace = previous


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


def _node_of(trace: Trace, value, compute_dtype, scalar_dtype=None) -> Node | None:
    from ..ops.random import is_generator
    from ..tensor import Tensor

    if value is None:
        return None
    if isinstance(value, Tensor):
        node = value._data if value._is_symbolic else trace.capture(value)
    elif isinstance(value, np.ndarray):
        node = trace.capture(value)
    elif is_generator(value):
        return trace.capture(value)
    elif isinstance(value, (bool, int, float, np.number, np.bool_)):
        return trace.graph.const(value, compute_dtype or scalar_dtype or dtypes.scalar_dtype(value))
    else:
        return value
    if compute_dtype is not None and node.dtype is not compute_dtype:
        node = _cast(trace, node, compute_dtype)
    return node


def _cast(trace: Trace, node: Node, dtype) -> Node:
    from ..ops.shape import TO_DTYPE

    return trace.graph.op(TO_DTYPE, (node,), {"dtype": dtype}, node.shape, dtype, user_provenance())


def _python_scalar_dtype(args):
    """The dtype numpy gives a Python number passed beside these tensors, as eager mode
    passes it (an op that computes in its inputs' own dtypes): the tensors' dtype when it is
    of the number's kind or higher (``np.where(c, x32, 0)`` is float32, ``x64[0] = 0.1``
    stores float64 0.1)."""
    from ..tensor import Tensor

    tensors = [a for a in args if isinstance(a, Tensor)]
    numbers = [a for a in args if isinstance(a, (bool, int, float))]
    if not tensors or not numbers:
        return None
    return dtypes.result_type(*tensors, *numbers)


def apply_symbolic(op, args, attrs, compute_dtype, out_dtype):
    """Record ``op(*args, **attrs)`` as a graph node and return it as a symbolic Tensor."""
    from ..tensor import Tensor

    trace = current()
    if trace is None:
        raise TracingError(
            "a traced value escaped its trace: it was used after the compiled function "
            "returned.\nsymgrad hint: return the value from the compiled function instead of "
            "storing it."
        )
    scalar_dtype = None if compute_dtype is not None else _python_scalar_dtype(args)
    inputs = tuple(_node_of(trace, a, compute_dtype, scalar_dtype) for a in args)
    if any(i is not None and not isinstance(i, Node) for i in inputs):
        bad = next(
            a
            for a, i in zip(args, inputs, strict=True)
            if i is not None and not isinstance(i, Node)
        )
        raise TracingError(
            f"symgrad.compile cannot pass a {type(bad).__name__} to {op.name} "
            f"while tracing ({_where()})"
        )
    if any(i is None for i in inputs):
        raise TracingError(f"symgrad.compile cannot trace {op.name} with a None input ({_where()})")
    try:
        shape = op.shape(*(i.shape for i in inputs), **attrs)
    except (ValueError, IndexError, TypeError) as error:
        # The first line stays the op's own (eager's) message; where it happened follows.
        raise type(error)(f"{error}\nsymgrad hint: while tracing {op.name} at {_where()}") from None
    node = trace.graph.op(op, inputs, attrs, shape, out_dtype, user_provenance())
    result = Tensor._wrap(node)
    if op.is_view and isinstance(args[0], Tensor):
        # A write through a view is refused; a write through a traced base updates its views.
        result._base = args[0]
        if args[0]._is_symbolic:
            _TracedViews.of(args[0]).add(result, op, args[1:], attrs)
    return result


class _TracedViews:
    """The live views taken of a traced tensor (kept in its ``_view_fn``, unused while
    tracing), so that an in-place update of the tensor is seen through them, as in eager
    mode: each is recomputed from the new value."""

    def __init__(self):
        self.views: list = []  # (weak reference to the view, op, other arguments, attrs)

    @classmethod
    def of(cls, tensor) -> _TracedViews:
        if not isinstance(tensor._view_fn, cls):
            tensor._view_fn = cls()
        return tensor._view_fn

    def add(self, view, op, rest, attrs) -> None:
        self.views = [v for v in self.views if v[0]() is not None]
        self.views.append((weakref.ref(view), op, rest, attrs))

    def refresh(self, base) -> None:
        from ..ops.registry import apply

        pending = [(self, base)]
        while pending:
            views, source = pending.pop()
            for ref, op, rest, attrs in list(views.views):
                view = ref()
                if view is None:
                    continue
                view._data = apply(op, source, *rest, **attrs)._data
                if isinstance(view._view_fn, _TracedViews):
                    pending.append((view._view_fn, view))


def rebind(target, result):
    """An in-place op while tracing: the Python object now names the new value (cast to its
    dtype, as eager mode stores it), and the views taken of it see the new value.

    A write through a view would have to update its base too, so it is refused."""
    from ..ops.inplace import check_fits

    if target._base is not None:
        raise TracingError(
            f"symgrad.compile cannot trace an in-place update of a view of another tensor at "
            f"{_where()}: its base would not see the change.\nsymgrad hint: index the tensor "
            "itself (y[1, 1:] = v instead of row = y[1]; row[1:] = v), or compute a new tensor "
            "(symgrad.where, cat)."
        )
    check_fits(target, result)
    if result.dtype is not target.dtype:
        result = result.to(target.dtype)
    if tuple(result.shape) != tuple(target.shape):
        result = result.expand(*target.shape)
    target._data = result._data
    if isinstance(target._view_fn, _TracedViews):
        target._view_fn.refresh(target)
    return target


def _where() -> str:
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
