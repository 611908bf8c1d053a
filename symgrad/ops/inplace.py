"""In-place ops: run the op out of place, write the result into the tensor's storage, bump the
version counter, and rebase the tensor's history onto the new node.

An in-place op on a view also rewrites its base's history (torch's CopySlices): the base's new
value is "old base with the view's region replaced", whose gradient splits into the region (to
the new values) and the rest (to the old base).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes, grad_mode
from ..ir.trace import TracingError, where
from ..tensor import Tensor
from .registry import OpDef, _TracedViews, apply


def check_inplace(target: Tensor) -> None:
    """torch's refusal to modify a leaf that requires grad (or a view of one) in grad mode."""
    if not grad_mode.is_recording():
        return
    if target._grad_fn is None and target._requires_grad and target._base is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    base = target._base
    if base is not None and base._grad_fn is None and base._requires_grad:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )


def _snapshot(target: Tensor, copy: bool = True) -> Tensor:
    """The tensor's current value and history, kept for the backward of the in-place op.
    (Leaves that require grad never get here: ``check_inplace`` refused them.)"""
    old = Tensor._wrap(target._data.copy() if copy else target._data, target._requires_grad)
    old._grad_fn = target._grad_fn
    old._output_nr = target._output_nr
    return old


def _castable(result_dtype: dtypes.dtype, target_dtype: dtypes.dtype) -> bool:
    return result_dtype._kind <= target_dtype._kind


def inplace(target: Tensor, op: OpDef, *args, **attrs) -> Tensor:
    """``target.op_(*args)``: the shared implementation of every in-place method."""
    if target._is_symbolic:
        return rebind(target, apply(op, target, *args, **attrs))
    if target._inference and not grad_mode.is_inference_mode_enabled():
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can make "
            "a clone to get a normal tensor before doing inplace update.See "
            "https://github.com/pytorch/rfcs/pull/17 for more details."
        )
    target._sync_view()
    check_inplace(target)
    records = grad_mode.is_recording() and (
        target._requires_grad or _base_tracked(target) or _any_requires_grad(args)
    )
    source = _snapshot(target, copy=op.saves in ("inputs", "both")) if records else target
    result = apply(op, source, *args, **attrs)
    write(target, result, records)
    return target


def rebind(target, result):
    """An in-place op while tracing: the Python object now names the new value (cast to its
    dtype, as eager mode stores it), and the views taken of it see the new value.

    A write through a view would have to update its base too, so it is refused."""
    if target._base is not None:
        raise TracingError(
            f"symgrad.compile cannot trace an in-place update of a view of another tensor at "
            f"{where()}: its base would not see the change.\nsymgrad hint: index the tensor "
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


def check_fits(target: Tensor, result: Tensor) -> None:
    """An in-place op's result can be stored in ``target`` (torch's errors when not)."""
    if not _castable(result.dtype, target.dtype):
        raise RuntimeError(
            f"result type {_torch_type_name(result.dtype)} can't be cast to the desired output "
            f"type {_torch_type_name(target.dtype)}"
        )
    if tuple(result.shape) != tuple(target.shape):
        if not _broadcasts_to(tuple(result.shape), tuple(target.shape)):
            raise RuntimeError(
                f"output with shape [{', '.join(map(str, target.shape))}] doesn't match the "
                f"broadcast shape [{', '.join(map(str, result.shape))}]"
            )


def write(target: Tensor, result: Tensor, records: bool) -> None:
    """Store ``result`` in ``target``'s memory and take over its history."""
    check_fits(target, result)
    np.copyto(target._data, result._data, casting="unsafe")
    target._bump_version()
    if not records or result._grad_fn is None:
        return
    if target._base is not None:
        _rebase_view(target, result)
    else:
        target._grad_fn = result._grad_fn
        target._output_nr = result._output_nr
        target._requires_grad = True


def _rebase_view(view: Tensor, value: Tensor) -> None:
    base = view._base
    old_base = _snapshot(base, copy=False)
    new_base = apply(COPY_SLICES, old_base, value, view_fn=view._view_fn)
    base._grad_fn = new_base._grad_fn
    base._output_nr = 0
    base._requires_grad = True
    view._sync_view()  # the view's history now starts from the base's new one


def _copy_slices_eval(base, value, *, view_fn):
    out = base.copy()
    region = view_fn(Tensor._wrap(out))._data
    np.copyto(region, value, casting="unsafe")
    return out


def _copy_slices_vjp(g, out, base, value, *, view_fn):
    mask = np.ones(g.shape, dtype=g._data.dtype)
    with grad_mode.no_grad():
        np.copyto(view_fn(Tensor._wrap(mask))._data, 0)
    return (g * Tensor._wrap(mask), view_fn(g))


COPY_SLICES = OpDef(
    "copy_slices",
    _copy_slices_eval,
    vjp=_copy_slices_vjp,
    promote="first",
    saves="none",
    backward_name="CopySlices",
    eager_only=True,
)


def _base_tracked(target: Tensor) -> bool:
    return target._base is not None and target._base._requires_grad


def _any_requires_grad(args) -> bool:
    return any(isinstance(a, Tensor) and a._requires_grad for a in args)


def _broadcasts_to(source: tuple, target: tuple) -> bool:
    try:
        return tuple(np.broadcast_shapes(source, target)) == target
    except ValueError:
        return False


def _torch_type_name(d: dtypes.dtype) -> str:
    return {
        "float32": "Float",
        "float64": "Double",
        "float16": "Half",
        "int64": "Long",
        "int32": "Int",
        "int16": "Short",
        "int8": "Char",
        "uint8": "Byte",
        "bool": "Bool",
    }[d.name]


def _fill_numpy(x, *, value):
    return np.full_like(x, value)


FILL = OpDef(
    "fill",
    _fill_numpy,
    vjp=lambda g, out, x, *, value: (g * 0,),
    spelling="np.full_like({0}, {value})",
    promote="first",
    saves="none",
    backward_name="FillBackward2",
)


def _zeros_numpy(x):
    return np.zeros_like(x)


ZERO = OpDef(
    "zero",
    _zeros_numpy,
    vjp=lambda g, out, x: (g * 0,),
    spelling="np.zeros_like({0})",
    promote="first",
    saves="none",
)


def _copy_numpy(x, src):
    return np.broadcast_to(src, x.shape).astype(x.dtype)


def _copy_vjp(g, out, x, src):
    return (g * 0, g)  # the engine sums g to the shape of src


COPY = OpDef(
    "copy",
    _copy_numpy,
    vjp=_copy_vjp,
    spelling="np.broadcast_to({1}, {0}.shape).astype({0}.dtype)",
    promote=lambda x, src: (None, x.dtype),
    saves="none",
    backward_name="CopyBackwards",
)
FILL_TENSOR = OpDef(
    "fill_tensor",
    _copy_numpy,
    vjp=_copy_vjp,
    spelling="np.broadcast_to({1}, {0}.shape).astype({0}.dtype)",
    promote=lambda x, src: (None, x.dtype),
    saves="none",
    backward_name="FillBackward3",
)


def fill_(self: Tensor, value) -> Tensor:
    """Set every element to ``value`` (a number or a 0-dim tensor)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value.ndim} dimensions."
            )
        return inplace(self, FILL_TENSOR, value)
    return inplace(self, FILL, value=value)


def zero_(self: Tensor) -> Tensor:
    """Set every element to zero."""
    return inplace(self, ZERO)


def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast, cast to this dtype) into this tensor."""
    if not isinstance(src, Tensor):
        src = Tensor._wrap(np.asarray(src))
    return inplace(self, COPY, src)


Tensor.fill_ = fill_
Tensor.zero_ = zero_
Tensor.copy_ = copy_


# ------------------------------------------------------------------------------- out=

OUT_RESIZED = (
    "An output with one or more elements was resized since it had shape [{}], which does not "
    "match the required output shape [{}]. This behavior is deprecated, and in a future "
    "PyTorch release outputs will not be resized unless they have zero elements. You can "
    "explicitly reuse an out tensor t by resizing it, inplace, to zero elements with "
    "t.resize_(0)."
)


def write_out(out: Tensor, result: Tensor, name: str) -> Tensor:
    """torch's ``out=``: store ``result`` in ``out`` (cast to its dtype; resized, with torch's
    warning unless empty, when its shape differs) and return ``out``. Not differentiable."""
    if grad_mode.is_recording() and (result._requires_grad or out._requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    if not _castable(result.dtype, out.dtype):
        raise RuntimeError(
            f"result type {_torch_type_name(result.dtype)} can't be cast to the desired output "
            f"type {_torch_type_name(out.dtype)}"
        )
    shape = tuple(result.shape)
    if tuple(out.shape) != shape:
        if out.numel() != 0:
            old, new = (", ".join(map(str, s)) for s in (tuple(out.shape), shape))
            warnings.warn(OUT_RESIZED.format(old, new), UserWarning, stacklevel=3)
        out._replace_data(np.empty(shape, out._data.dtype))  # torch reallocates the storage
    with grad_mode.no_grad():
        return copy_(out, result)
