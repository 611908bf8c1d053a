"""OpDef, the op registry, and dispatch of an op call to numpy (eager) or to the graph (tracing).

One op is one ``OpDef``: its numpy ``eval``, its gradient rule ``vjp`` written with symgrad
ops (so the same rule serves eager backward, ``create_graph=True`` and the compiler's reverse
pass), its ``spelling`` in generated code, its shape and dtype rules, and its ``check`` of
argument values.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import dispatch_gate, dtypes, float_errors, grad_mode
from .. import profiling as _profiler
from ..float_errors import call2_ignoring, call_ignoring
from ..ir import trace
from ..ir.graph import Graph, Node
from ..random import is_generator
from ..tape import _META as _UNSAVED
from ..tape import (
    _NO_EDGE,
    _savable,
    _sequence,
    accumulator_for,
    node_class,
    record,
    record_binary,
)
from ..tensor import UNSHARED, Tensor, own_counter

REGISTRY: dict[str, OpDef] = {}


def broadcast_shape(*shapes: tuple[int, ...], **_attrs) -> tuple[int, ...]:
    """The inputs' common shape; torch's RuntimeError when they do not broadcast."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise_broadcast_error(shapes)
        raise


def broadcast_error(a, b) -> str | None:
    """torch's message when shapes ``a`` and ``b`` do not broadcast (None when they do)."""
    ndim = max(len(a), len(b))
    for i in reversed(range(ndim)):
        offset = ndim - 1 - i
        size_a = a[len(a) - 1 - offset] if offset < len(a) else 1
        size_b = b[len(b) - 1 - offset] if offset < len(b) else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            return (
                f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                f"at non-singleton dimension {i}"
            )
    return None


def raise_broadcast_error(shapes) -> None:
    """Raise torch's message for the first of ``shapes`` that does not broadcast with those
    before it (torch broadcasts operands left to right); return when they all broadcast."""
    common: tuple[int, ...] = ()
    for shape in shapes:
        shape = tuple(shape)
        message = broadcast_error(common, shape)
        if message:
            raise RuntimeError(message) from None  # numpy's ValueError says nothing more
        common = tuple(np.broadcast_shapes(common, shape))


@dataclass(eq=False)
class OpDef:
    """Everything the eager engine and the compiler need to know about one op.

    ``vjp(g, out, *inputs, **attrs)`` returns one gradient (or None) per input; gradients may
    have the broadcast shape of the output: the engine sums them to each input's shape.
    ``saves`` names what the backward needs ("inputs", "output", "both" or "none"); what is
    not saved reaches ``vjp`` as None, so eager graphs keep only what their rules read.
    ``promote`` is "same" (torch.result_type), "float" (integers become the default float),
    "bool" (compute in the promoted type, return bool), "first" (the first input's dtype) or
    a function of the inputs' dtypes.
    ``wraps_numbers``: torch's overload takes a Tensor where a Python number may be passed
    (``add``, ``mul``, ``where`` ...), so a number after a tensor argument gets a ``(None, 0)``
    edge in ``next_functions``; otherwise only tensor arguments get edges, as for torch's
    Scalar overloads (``pow``, ``clamp``, ``rsub``).
    ``check(*arrays, **attrs)`` raises torch's error for argument values the op cannot take
    (an integer division by zero, an index out of bounds, a class target out of range). It
    runs on the computed arrays before ``eval`` eagerly, and generated code calls the same
    function as a guard statement before the op, so compiled code raises the same error. It
    is a function of the numpy backend's runtime module (``numpy_runtime``), which generated
    code calls.

    Facts the compiler's passes ask instead of keeping lists of op names:
    ``elementwise``: the op applies element by element, with broadcasting (default: the ops
    defined by a scalar ``sympy`` formula). ``cost``: "cheap" (one arithmetic pass: the
    scheduler recomputes its value in the backward instead of saving it) or "normal".
    ``reduction``: the op reduces dimensions (``dim``/``keepdim``). ``fresh_result``: the op
    always returns a new array, never a view of an input (every reduction does).
    ``eager_only``: the op exists only in eager autograd history (its attributes are Python
    functions, as ``copy_slices``' view replay): tracing never records it, so no backend
    spells it.
    """

    name: str
    eval: Callable[..., Any]
    vjp: Callable[..., Any] | None = None
    backward_name: str | Callable[..., str] | None = None
    spelling: str | Callable[..., str] | None = None
    shape: Callable[..., tuple[int, ...]] = broadcast_shape
    promote: str | Callable[..., Any] = "same"
    saves: str = "inputs"
    is_view: bool = False
    sympy: Callable[..., Any] | None = None
    arity: int = 1
    nondifferentiable_inputs: tuple[int, ...] | range = ()
    wraps_numbers: bool = False
    check: Callable[..., None] | None = None
    # A binary op whose rule reads each input only for the other's gradient (mul: d/dx = g*y):
    # an input is saved only when the other requires grad, as torch does, so that an in-place
    # change of ``y`` in ``y * 0.5`` does not break the backward.
    saves_each_for_the_other: bool = False
    # False when the rule never looks at an input it did not save beyond asking whether it is
    # a number or unsaved (add, sub, mul): an eager node then hands the rule the placeholder
    # ``tape.UNSAVED`` instead of making an InputMeta for that input (and an op that saves
    # nothing its saved arguments as they are).
    reads_unsaved: bool = True
    # True when the rule's gradients have the shape and dtype of the inputs whenever every
    # tensor input has the output's shape and dtype (add, sub, mul, div): the nodes the
    # binary shortcut builds for such calls are marked ``exact`` and the engine skips fitting.
    exact_vjp: bool = False
    # One element of the op, for loop backends (see ops/scalar.py, which sets these).
    scalar: str | Callable[..., str] | None = None
    scalar_libm: bool = False
    attrs_doc: dict[str, str] = field(default_factory=dict)
    elementwise: bool | None = None
    cost: str = "normal"
    reduction: bool = False
    fresh_result: bool = False
    eager_only: bool = False

    def __post_init__(self):
        if self.elementwise is None:
            self.elementwise = self.sympy is not None
        if self.cost not in ("cheap", "normal"):
            raise ValueError(f"op {self.name!r}: cost is 'cheap' or 'normal', not {self.cost!r}")
        self.fresh_result = self.fresh_result or self.reduction
        if self.name in REGISTRY:
            raise ValueError(f"op {self.name!r} is defined twice")
        REGISTRY[self.name] = self
        if self.backward_name is None:
            camel = "".join(part.capitalize() for part in self.name.split("_"))
            self.backward_name = f"{camel}Backward0"

    @functools.cached_property
    def args_as_saved(self) -> bool:
        """A node's saved arguments go to the rule as they are: nothing saved to check, no
        placeholder to make InputMeta. Read for every backward node, so computed once, when
        the first one runs (unary ops set ``saves`` after construction)."""
        return not self.reads_unsaved and self.saves == "none"

    @property
    def differentiable(self) -> bool:
        return self.vjp is not None

    @property
    def recomputable(self) -> bool:
        """Cheaper to compute again where needed than to keep alive: views and cheap ops."""
        return self.is_view or self.cost == "cheap"

    def __repr__(self) -> str:
        return f"<OpDef {self.name}>"

    def dtypes_for(self, args, attrs) -> tuple[dtypes.dtype | None, dtypes.dtype]:
        """(dtype the inputs are computed in, dtype of the output)."""
        rule = self.promote
        if rule == "first":
            return None, args[0].dtype
        if callable(rule):
            return rule(*args, **attrs)
        key = _promotion_key(rule, args)
        return self._promote(rule, args) if key is None else self._cached_dtypes(key, args)

    def _cached_dtypes(self, key: tuple, args) -> tuple[dtypes.dtype, dtypes.dtype]:
        found = dtypes.PROMOTION_CACHE.get(key)
        if found is None:
            found = dtypes.PROMOTION_CACHE[key] = self._promote(key[0], args)
        return found

    def _promote(self, rule: str, args) -> tuple[dtypes.dtype, dtypes.dtype]:
        computed = dtypes.result_type(*args)
        if rule == "same":
            return computed, computed
        if rule == "float":
            if not computed.is_floating_point:
                computed = dtypes.get_default_dtype()
            return computed, computed
        if rule == "bool":
            return computed, dtypes.bool_
        raise ValueError(f"unknown promotion rule {rule!r} for op {self.name}")


def _promotion_key(rule, args) -> tuple | None:
    """What a string promotion rule's answer depends on: each tensor's dtype and whether it
    has dimensions, each scalar's type. None for other rules and for symbolic tensors (while
    tracing), which are not cached."""
    if rule.__class__ is not str or rule == "first":
        return None
    key = [rule]
    for a in args:
        if isinstance(a, Tensor):
            data = a._data
            if data.__class__ is not np.ndarray and not isinstance(data, np.ndarray):
                return None
            key.append(data.dtype)
            key.append(data.ndim != 0)
        else:
            key.append(a.__class__)
    return tuple(key)


_NUMBERS = (bool, int, float, np.number, np.bool_)


def evaluate(op: OpDef, args, attrs, compute_dtype, out_dtype) -> np.ndarray:
    """Run the numpy implementation; the result is an ndarray of ``out_dtype``."""
    target = compute_dtype.numpy if compute_dtype is not None else None
    arrays = []
    for a in args:
        if isinstance(a, Tensor):
            a = a._data
            if target is not None and a.dtype != target:
                a = a.astype(target)
        elif target is not None and isinstance(a, _NUMBERS):
            a = target.type(a)
        arrays.append(a)
    if op.check is not None:
        op.check(*arrays, **attrs)
    try:
        out = call_ignoring(op.eval, arrays, attrs)
    except ValueError as error:
        if "could not be broadcast" in str(error):
            raise_broadcast_error([np.shape(a) for a in arrays if a is not None])
        raise
    if not isinstance(out, np.ndarray) or out.dtype != out_dtype.numpy:
        out = np.asarray(out, dtype=out_dtype.numpy)
    return out


def apply(op: OpDef, *args, **attrs):
    """Call ``op`` on Tensors and Python scalars: numpy eagerly, or a graph node while tracing.

    While a profiler records, the call is one timed event named after the op.
    """
    if _profiler.recording:
        return _profiler.timed(op.name, args, _dispatch, op, args, attrs)
    return _dispatch(op, args, attrs)


def _dispatch(op: OpDef, args, attrs):
    # One pass over the arguments both finds the cached dtypes and shows that every tensor is
    # concrete (an ndarray): then no tracing can be involved.
    key = _promotion_key(op.promote, args) if trace._state.trace is None else None
    if key is not None:
        compute_dtype, out_dtype = op._cached_dtypes(key, args)
    else:
        compute_dtype, out_dtype = op.dtypes_for(args, attrs)
        if trace._state.trace is not None or _any_symbolic(args):
            return apply_symbolic(op, args, attrs, compute_dtype, out_dtype)
    out = evaluate(op, args, attrs, compute_dtype, out_dtype)
    result = Tensor._wrap(out)
    if op.is_view and np.may_share_memory(out, args[0]._data):
        _mark_view(result, op, args, attrs)
    if op.vjp is not None and grad_mode.is_recording():
        record(op, args, attrs, result)
    return result


# apply_binary's globals, bound once: it reads them on every call
_new = object.__new__
ndarray = np.ndarray
_FLOAT32 = np.dtype(np.float32)
_FLOAT64 = np.dtype(np.float64)
_ONE_UNSAVED = (_UNSAVED,)
_TWO_UNSAVED = (_UNSAVED, _UNSAVED)
_grad_state = grad_mode._state
_empty = np.empty
_NO_ARGUMENT = object()
_ERRSTATE = float_errors.STATE
if _ERRSTATE is not None:
    _errstate_get = _ERRSTATE.get
_CONTEXTS = float_errors.CONTEXTS
_MISSING = float_errors.MISSING
ignoring_context = float_errors.ignoring_context


def apply_binary(op: OpDef, a, b):
    """``apply(op, a, b)`` for an elementwise binary op, with a shortcut for the common call
    (see ``binary_shortcut``)."""
    shortcut = _SHORTCUTS.get(op)
    if shortcut is None:
        shortcut = binary_shortcut(op)
    return shortcut(a, b)


_SHORTCUTS: dict = {}


def binary_shortcut(op: OpDef):
    """``lambda a, b: apply(op, a, b)`` for an elementwise binary op, with a shortcut for the
    common call, as one function: the operators (``Tensor.__add__`` ...) are these.

    Two concrete floating tensors of one dtype, or one and a Python ``float``/``int``, give
    that dtype under every promotion rule the arithmetic ops use, so the shortcut calls numpy
    directly (under the ignoring error state, swapped in without a call), wraps and records:
    the same steps as ``_dispatch`` and ``tape.record``, in the same order, without the
    generic ones. A Python number goes to numpy as it is: numpy converts it to the array's
    dtype (NEP 50), the value ``dtype.type(number)`` would give. Anything else (tracing, the
    profiler, mixed dtypes, other scalar types, views while grad mode records) takes the
    general path.

    The node is built here, field by field, for a tensor first and an op with a fixed node
    name that saves nothing or its inputs (add, sub, mul, div): most recorded op calls. The
    rest record through ``tape.record_binary``.
    """
    found = _SHORTCUTS.get(op)
    if found is not None:
        return found
    compute = op.eval
    name = op.backward_name
    builds = (
        name.__class__ is str
        and op.wraps_numbers
        and not op.nondifferentiable_inputs
        and op.saves in ("none", "inputs")
    )
    node_cls = node_class(name) if builds else None
    saves_inputs = op.saves == "inputs"
    each_for_the_other = op.saves_each_for_the_other
    exact = op.exact_vjp

    def shortcut(self, other):
        if dispatch_gate.general:  # a profiler or a trace: the general path
            return apply(op, self, other)
        recording = _grad_state.recording  # thread-local: read once
        if self.__class__ is Tensor:
            x = self._data
            if x.__class__ is not ndarray:
                return apply(op, self, other)
            dtype = x.dtype
            if dtype is not _FLOAT32 and dtype is not _FLOAT64 and dtype.kind != "f":
                return apply(op, self, other)
            kind = other.__class__
            if kind is Tensor:
                y = other._data
                if y.__class__ is not ndarray or y.dtype is not dtype:
                    return apply(op, self, other)
                # a view syncs its history before it is recorded: the general path does that
                if recording and (self._base is not None or other._base is not None):
                    return apply(op, self, other)
                b_grad = other._requires_grad
            elif kind is float or kind is int:
                y = other
                if recording and self._base is not None:
                    return apply(op, self, other)
                b_grad = False
            else:
                return apply(op, self, other)
            a_grad = self._requires_grad
        elif other.__class__ is Tensor and (self.__class__ is float or self.__class__ is int):
            x = self
            y = other._data
            if y.__class__ is not ndarray or y.dtype.kind != "f":
                return apply(op, self, other)
            if recording and other._base is not None:
                return apply(op, self, other)
            a_grad = None  # a number first: tape.record_binary records it
            b_grad = other._requires_grad
        else:
            return apply(op, self, other)
        try:
            if _ERRSTATE is None:
                out = call2_ignoring(compute, x, y)
            else:  # call2_ignoring, inlined
                current = _errstate_get()
                context = _CONTEXTS.by_state.get(current, _MISSING)
                if context is _MISSING:
                    context = ignoring_context(current)
                out = compute(x, y) if context is None else context.run(compute, x, y)
        except ValueError:  # shapes that do not broadcast: the general path's error
            return apply(op, self, other)
        if out.__class__ is not ndarray:  # numpy returns a scalar for 0-dim operands
            out = np.asarray(out)
        # Tensor._wrap, inlined (each field stored once: recorded or not)
        result = _new(Tensor)
        result._data = out
        result._version_counter = UNSHARED
        if not recording or not (a_grad or b_grad) or node_cls is None or a_grad is None:
            result._requires_grad = False
            result._grad_fn = None
            if not recording:
                if _grad_state.inference:
                    result._inference = True
            elif a_grad or b_grad:
                record_binary(op, self, other, result)
            return result
        # tape.record, written out: edges, input metadata, saved inputs, the node
        if a_grad:
            fn = self._grad_fn
            if fn is not None:
                edge_a = (fn, self._output_nr)
            else:
                edge_a = (self._accumulator or accumulator_for(self), 0)
        else:
            edge_a = _NO_EDGE
        node = _new(node_cls)
        if kind is Tensor:
            if b_grad:
                fn = other._grad_fn
                if fn is not None:
                    edge_b = (fn, other._output_nr)
                else:
                    edge_b = (other._accumulator or accumulator_for(other), 0)
            else:
                edge_b = _NO_EDGE
            node.next_functions = (edge_a, edge_b)
            shape = x.shape
            if exact and shape == y.shape:  # no broadcasting: the rule's gradients fit
                node._exact = True
            node.input_meta = ((shape, dtype), (y.shape, dtype))
            # saved inputs are kept as they are, with their versions (OpBackward._rule_args)
            if not saves_inputs:
                node._saved_args = _TWO_UNSAVED
            else:
                if self._inference or other._inference:  # torch's error for the saved one
                    if b_grad or not each_for_the_other:
                        _savable(self)
                    if a_grad or not each_for_the_other:
                        _savable(other)
                if each_for_the_other:  # x is saved when y requires grad, y when x does
                    node._saved_args = (
                        self if b_grad else _UNSAVED,
                        other if a_grad else _UNSAVED,
                    )
                else:
                    node._saved_args = (self, other)
                node._saved_versions = (self._version_counter.value, other._version_counter.value)
        else:
            node.next_functions = (edge_a, _NO_EDGE)
            node.input_meta = ((x.shape, dtype), None)
            if exact:
                node._exact = True
            if saves_inputs and not each_for_the_other:
                node._saved_args = (_savable(self), other)
                node._saved_versions = (self._version_counter.value, 0)
            else:
                node._saved_args = (_UNSAVED, other)
        node.sequence_nr = next(_sequence)
        node.op = op
        result._grad_fn = node
        result._requires_grad = True
        return result

    shortcut.__name__ = shortcut.__qualname__ = f"{op.name}_shortcut"
    _SHORTCUTS[op] = shortcut
    return shortcut


def unary_shortcut(op: OpDef, attrs, fn, node_name: str, general, *, scalar_out=False):
    """``general``, the public function of one tensor (``sum``, ``mean``), with a shortcut
    for its common call ``general(a)`` of an op whose result keeps its floating dtype,
    computed as ``fn(array)``: ``binary_shortcut``'s shortcut for one argument. ``attrs`` are
    those the general path records for that call, ``node_name`` the name
    ``op.backward_name`` gives for them; any other argument or anything unusual takes
    ``general``. With ``scalar_out``, ``fn`` is a ufunc's ``reduce`` of everything and
    writes into a new 0-d array (numpy would return a scalar, which costs more to make an
    array of).
    """
    builds = not op.nondifferentiable_inputs and op.saves in ("none", "inputs")
    node_cls = node_class(node_name)
    saves_inputs = op.saves == "inputs"
    has_attrs = bool(attrs)

    def shortcut(a=_NO_ARGUMENT, *args, **kwargs):
        if args or kwargs or a is _NO_ARGUMENT or dispatch_gate.general:
            if a is _NO_ARGUMENT:  # general(input=t), or no argument: general's error
                return general(*args, **kwargs)
            return general(a, *args, **kwargs)
        if a.__class__ is not Tensor:
            return general(a)
        recording = _grad_state.recording  # thread-local: read once
        x = a._data
        if x.__class__ is not ndarray or (recording and a._base is not None):
            return general(a)
        dtype = x.dtype
        if dtype is not _FLOAT32 and dtype is not _FLOAT64 and dtype.kind != "f":
            return general(a)
        if _ERRSTATE is None:
            out = call_ignoring(fn, (x, None, None, _empty((), dtype)) if scalar_out else (x,), {})
            if out.__class__ is not ndarray:  # numpy returns a scalar for a full reduction
                out = np.asarray(out)
        else:  # call_ignoring, inlined
            current = _errstate_get()
            context = _CONTEXTS.by_state.get(current, _MISSING)
            if context is _MISSING:
                context = ignoring_context(current)
            if scalar_out:
                out = _empty((), dtype)
                if context is None:
                    fn(x, None, None, out)
                else:
                    context.run(fn, x, None, None, out)
            else:
                out = fn(x) if context is None else context.run(fn, x)
                if out.__class__ is not ndarray:  # numpy returns a scalar for a full reduction
                    out = np.asarray(out)
        # Tensor._wrap, inlined (each field stored once: recorded or not)
        result = _new(Tensor)
        result._data = out
        result._version_counter = UNSHARED
        if not recording or not a._requires_grad or not builds:
            result._requires_grad = False
            result._grad_fn = None
            if not recording:
                if _grad_state.inference:
                    result._inference = True
            elif a._requires_grad:
                record(op, (a,), attrs, result)
            return result
        # tape.record, written out for one plain tensor that requires grad
        node = _new(node_cls)
        grad_fn = a._grad_fn
        if grad_fn is not None:
            node.next_functions = ((grad_fn, a._output_nr),)
        else:
            node.next_functions = ((a._accumulator or accumulator_for(a), 0),)
        node.input_meta = ((x.shape, dtype),)
        node.sequence_nr = next(_sequence)
        node.op = op
        if has_attrs:
            node.attrs = attrs
        if saves_inputs:
            node._saved_args = (_savable(a),)
            node._saved_versions = (a._version_counter.value,)
        else:
            node._saved_args = _ONE_UNSAVED
        result._grad_fn = node
        result._requires_grad = True
        return result

    return functools.update_wrapper(shortcut, general)


def values_only(t) -> bool:
    """True when an op on ``t`` would record nothing anywhere (not recording, no trace or
    profiler: the shortcuts' ``dispatch_gate``) and ``t`` is a concrete plain tensor: only the
    value matters, so a gradient rule may compute it with numpy directly (the engine's
    backward without create_graph)."""
    return (
        not _grad_state.recording
        and not dispatch_gate.general
        and t.__class__ is Tensor
        and t._data.__class__ is np.ndarray
    )


def _any_symbolic(args) -> bool:
    for a in args:
        if isinstance(a, Tensor) and not isinstance(a._data, np.ndarray):
            return True
    return False


def _mark_view(result, op: OpDef, args, attrs) -> None:
    """Views share storage and the version counter, and remember how to replay themselves
    from their base (in-place ops on a view rewrite the base's history with it)."""
    source = args[0]
    rest = args[1:]
    step = lambda base: apply(op, base, *rest, **attrs)
    previous = source._view_fn
    result._view_fn = step if previous is None else (lambda base: step(previous(base)))
    result._base = source._base if source._base is not None else source
    result._version_counter = own_counter(source)
    result._created = next(_sequence)


FUNCTIONS: dict[str, Callable[..., Any]] = {}


def public(name: str | None = None, methods: tuple[str, ...] = ()):
    """Register ``fn`` as ``symgrad.<name>`` and attach it as the given Tensor methods.

    The op modules use this next to each OpDef, so a reader finds an op's function, its
    Tensor methods and its definition in one place.
    """

    def decorate(fn):
        FUNCTIONS[name or fn.__name__] = fn
        for method in methods:
            setattr(Tensor, method, fn)
        return fn

    return decorate


# ------------------------------------------------------------------ tracing
# While a trace is active, an op call becomes a node of its graph (the tracing context is
# symgrad/ir/trace.py, below Tensor; recording a call needs Tensor and the ops, so it is here).

# Constants made while tracing (arange(10) in a loss) with at most this many elements are
# printed into the generated code; larger ones are passed in, like captured arrays.
MAX_PRINTED_CONSTANT = 64


def _array_constant(graph: Graph, data: np.ndarray) -> Node:
    d = dtypes.from_numpy_dtype(data.dtype)
    attrs = {"values": tuple(data.ravel().tolist()), "shape": data.shape, "dtype": d}
    return graph.op(REGISTRY["array"], (), attrs, data.shape, d, trace.user_provenance())


def capture(active: trace.Trace, value) -> Node:
    """A concrete tensor or array met while tracing, as an input passed at call time."""
    node = active._captured_ids.get(id(value))
    if node is not None:
        return node
    if is_generator(value):
        node = active.graph.capture(active._resolve_name(value) or "rng", (), None)
        active._captured_ids[id(value)] = node
        active.captured_values.append(value)
        return node
    data = value._data if isinstance(value, Tensor) else np.asarray(value)
    if id(value) in active.created and data.size <= MAX_PRINTED_CONSTANT:
        node = _array_constant(active.graph, data)
        active._captured_ids[id(value)] = node
        return node
    name = active._resolve_name(value) or f"const{len(active.captured_values)}"
    node = active.graph.capture(
        name, data.shape, dtypes.from_numpy_dtype(data.dtype), trace.user_provenance()
    )
    active._captured_ids[id(value)] = node
    active.captured_values.append(value)
    return node


def _node_of(active: trace.Trace, value, compute_dtype, scalar_dtype=None) -> Node | None:
    if value is None:
        return None
    if isinstance(value, Tensor):
        node = value._data if value._is_symbolic else capture(active, value)
    elif isinstance(value, np.ndarray):
        node = capture(active, value)
    elif is_generator(value):
        return capture(active, value)
    elif isinstance(value, (bool, np.bool_)) and compute_dtype is None:
        # A truth value an op reads as such (where's condition: the compiler's reverse pass
        # hands a folded condition to where's gradient as a number) stays a bool.
        return active.graph.const(value, dtypes.bool_)
    elif isinstance(value, (bool, int, float, np.number, np.bool_)):
        return active.graph.const(
            value, compute_dtype or scalar_dtype or dtypes.scalar_dtype(value)
        )
    else:
        return value
    if compute_dtype is not None and node.dtype is not compute_dtype:
        node = _cast(active, node, compute_dtype)
    return node


def _cast(active: trace.Trace, node: Node, dtype) -> Node:
    return active.graph.op(
        REGISTRY["to_dtype"], (node,), {"dtype": dtype}, node.shape, dtype, trace.user_provenance()
    )


def _python_scalar_dtype(args):
    """The dtype numpy gives a Python number passed beside these tensors, as eager mode
    passes it (an op that computes in its inputs' own dtypes): the tensors' dtype when it is
    of the number's kind or higher (``np.where(c, x32, 0)`` is float32, ``x64[0] = 0.1``
    stores float64 0.1)."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    numbers = [a for a in args if isinstance(a, (bool, int, float))]
    if not tensors or not numbers:
        return None
    return dtypes.result_type(*tensors, *numbers)


def apply_symbolic(op, args, attrs, compute_dtype, out_dtype):
    """Record ``op(*args, **attrs)`` as a graph node and return it as a symbolic Tensor."""
    active = trace.current()
    if active is None:
        raise trace.TracingError(
            "a traced value escaped its trace: it was used after the compiled function "
            "returned.\nsymgrad hint: return the value from the compiled function instead of "
            "storing it."
        )
    scalar_dtype = None if compute_dtype is not None else _python_scalar_dtype(args)
    inputs = tuple(_node_of(active, a, compute_dtype, scalar_dtype) for a in args)
    if any(i is not None and not isinstance(i, Node) for i in inputs):
        bad = next(
            a
            for a, i in zip(args, inputs, strict=True)
            if i is not None and not isinstance(i, Node)
        )
        raise trace.TracingError(
            f"symgrad.compile cannot pass a {type(bad).__name__} to {op.name} "
            f"while tracing ({trace.where()})"
        )
    if any(i is None for i in inputs):
        raise trace.TracingError(
            f"symgrad.compile cannot trace {op.name} with a None input ({trace.where()})"
        )
    try:
        shape = op.shape(*(i.shape for i in inputs), **attrs)
    except (ValueError, IndexError, TypeError) as error:
        # The first line stays the op's own (eager's) message; where it happened follows.
        raise type(error)(
            f"{error}\nsymgrad hint: while tracing {op.name} at {trace.where()}"
        ) from None
    node = active.graph.op(op, inputs, attrs, shape, out_dtype, trace.user_provenance())
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
