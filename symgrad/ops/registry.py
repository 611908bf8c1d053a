"""OpDef, the op registry, and dispatch of an op call to numpy (eager) or to the graph (tracing).

One op is one ``OpDef``: its numpy ``eval``, its gradient rule ``vjp`` written with symgrad
ops (so the same rule serves eager backward, ``create_graph=True`` and the compiler's reverse
pass), its ``spelling`` in generated code, and its shape and dtype rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import dtypes
from ..autograd import grad_mode
from ..autograd.nodes import record
from ..compiler import trace
from ..tensor import Tensor

REGISTRY: dict[str, OpDef] = {}


def broadcast_shape(*shapes: tuple[int, ...], **_attrs) -> tuple[int, ...]:
    """The broadcast shape; torch's error when there is none."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        result = shapes[0]
        for shape in shapes[1:]:
            message = broadcast_error(result, shape)
            if message:
                raise RuntimeError(message) from None
            result = np.broadcast_shapes(result, shape)
        raise


def broadcast_error(a, b) -> str | None:
    """torch's message when shapes ``a`` and ``b`` do not broadcast (None when they do): it
    names the outermost dimension that differs."""
    ndim = max(len(a), len(b))
    a = (1,) * (ndim - len(a)) + tuple(a)
    b = (1,) * (ndim - len(b)) + tuple(b)
    for i, (size_a, size_b) in enumerate(zip(a, b, strict=True)):
        if size_a != size_b and size_a != 1 and size_b != 1:
            return (
                f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                f"at non-singleton dimension {i}"
            )
    return None


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
    nondifferentiable_inputs: tuple[int, ...] = ()
    attrs_doc: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.name in REGISTRY:
            raise ValueError(f"op {self.name!r} is defined twice")
        REGISTRY[self.name] = self
        if self.backward_name is None:
            camel = "".join(part.capitalize() for part in self.name.split("_"))
            self.backward_name = f"{camel}Backward0"

    @property
    def differentiable(self) -> bool:
        return self.vjp is not None

    def __repr__(self) -> str:
        return f"<OpDef {self.name}>"

    def dtypes_for(self, args, attrs) -> tuple[dtypes.dtype | None, dtypes.dtype]:
        """(dtype the inputs are computed in, dtype of the output)."""
        rule = self.promote
        if callable(rule):
            return rule(*args, **attrs)
        if rule == "first":
            return None, args[0].dtype
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


def _as_array(value, compute_dtype):
    if isinstance(value, Tensor):
        data = value._data
        if compute_dtype is not None and data.dtype != compute_dtype.numpy:
            data = data.astype(compute_dtype.numpy)
        return data
    if value is None or compute_dtype is None:
        return value
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return compute_dtype.numpy.type(value)
    return value


def evaluate(op: OpDef, args, attrs, compute_dtype, out_dtype) -> np.ndarray:
    """Run the numpy implementation; the result is an ndarray of ``out_dtype``."""
    arrays = [_as_array(a, compute_dtype) for a in args]
    try:
        with np.errstate(all="ignore"):
            out = op.eval(*arrays, **attrs)
    except ValueError:
        # numpy's error (broadcasting): the op's shape rule raises torch's text instead.
        op.shape(*(np.shape(a) for a in arrays), **attrs)
        raise
    if not isinstance(out, np.ndarray) or out.dtype != out_dtype.numpy:
        out = np.asarray(out, dtype=out_dtype.numpy)
    return out


def apply(op: OpDef, *args, **attrs):
    """Call ``op`` on Tensors and Python scalars: numpy eagerly, or a graph node while tracing."""
    compute_dtype, out_dtype = op.dtypes_for(args, attrs)
    if trace.current() is not None or any(isinstance(a, Tensor) and a._is_symbolic for a in args):
        return trace.apply_symbolic(op, args, attrs, compute_dtype, out_dtype)
    out = evaluate(op, args, attrs, compute_dtype, out_dtype)
    result = Tensor._wrap(out)
    if op.is_view and np.may_share_memory(out, args[0]._data):
        _mark_view(result, op, args, attrs)
    if op.differentiable and grad_mode.is_grad_enabled():
        record(op, args, attrs, result)
    return result


def _mark_view(result, op: OpDef, args, attrs) -> None:
    """Views share storage and the version counter, and remember how to replay themselves
    from their base (in-place ops on a view rewrite the base's history with it)."""
    source = args[0]
    rest = args[1:]
    step = lambda base: apply(op, base, *rest, **attrs)
    previous = source._view_fn
    result._view_fn = step if previous is None else (lambda base: step(previous(base)))
    result._base = source._base if source._base is not None else source
    result._version_counter = source._version_counter


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
