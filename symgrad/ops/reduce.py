"""Reductions and scans: sum, mean, prod, max/min, amax/amin, argmax/argmin, var/std, vector
norms, logsumexp, cumsum/cumprod, all/any/count_nonzero; and sum_to_shape (the one place
broadcast gradients are reduced).

No gradient rule here divides by an input: prod and cumprod use products of the elements before
and after each position (a linear recurrence, ``linear_scan``), so their gradients are exact, to
every order, when the input holds zeros.
"""

from __future__ import annotations

import collections
import math
import types
import warnings

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _wrap_dim, own_counter
from . import numpy_runtime as rt
from .elementwise import where
from .inplace import write_out
from .registry import FUNCTIONS, OpDef, apply, public, unary_shortcut, values_only
from .shape import EXPAND, RESHAPE

# ------------------------------------------------------------------------------- helpers


def normalize_dims(dim, ndim: int) -> tuple[int, ...] | None:
    """``dim`` (None, an int, or a sequence) as a sorted tuple of non-negative dims.

    As in torch, an empty sequence means every dim, and a repeated dim is an error. A 0-d
    tensor accepts dim 0 and -1 and has no dims to reduce, so it gets ``()``.
    """
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    wrapped = [_wrap_dim(int(d), ndim) for d in dim]
    if ndim == 0:
        return ()
    if not wrapped:
        return tuple(range(ndim))
    for i, d in enumerate(wrapped):
        if d in wrapped[:i]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(sorted(wrapped))


def reduced_shape(shape, dims, keepdim: bool) -> tuple[int, ...]:
    dims = range(len(shape)) if dims is None else dims
    if keepdim:
        return tuple(1 if i in dims else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def expand_reduced(g, input_shape, dims, keepdim: bool):
    """The gradient of a reduction, broadcast back to the input's shape."""
    if values_only(g):  # eager backward without create_graph: the broadcast array will do
        shape = tuple(input_shape)
        data = g._data
        if dims is not None and not keepdim:
            data = data.reshape(reduced_shape(shape, dims, True))
        if data.ndim == 0:  # the reduction of everything: np.broadcast_to's zero-stride
            # view, made directly (np.broadcast_to takes 2 us of Python for it)
            view = np.ndarray(shape, data.dtype, data, 0, (0,) * len(shape))
            view.flags.writeable = False
        else:
            view = np.broadcast_to(data, shape)
        out = Tensor._wrap(view)
        # a view of g, as torch's expand (no replay: nothing records while values_only)
        out._base = g if g._base is None else g._base
        out._version_counter = own_counter(g)
        return out
    # t.expand(input_shape) without its argument checks: the shape is valid by construction
    # (this runs in the backward of every reduction).
    return apply(EXPAND, unsqueeze_reduced(g, input_shape, dims, keepdim), shape=tuple(input_shape))


def unsqueeze_reduced(t, input_shape, dims, keepdim: bool):
    """A reduction's output (or gradient) with its reduced dims kept as size 1, so that it
    broadcasts against the input."""
    shape = reduced_shape(input_shape, dims, True)
    # t.reshape(shape) without its argument checks: ``t`` has the reduced shape, whose
    # elements are those of ``shape``.
    return t if tuple(t.shape) == shape else apply(RESHAPE, t, shape=shape)


def _reduction_shape(shape, *, dim=None, keepdim=False, **_):
    return reduced_shape(shape, dim, keepdim)


def _all_dims(input: Tensor) -> tuple[int, ...]:
    return tuple(range(input.ndim))


def _count(shape, dims) -> int:
    if dims is None:
        return math.prod(shape)
    count = 1
    for d in dims:  # a loop, not np.prod: this runs in the backward of every mean
        count *= shape[d]
    return count


def _torch_dtype_word(d) -> str:
    return {
        "int64": "Long",
        "int32": "Int",
        "bool": "Bool",
        "int16": "Short",
        "int8": "Char",
        "uint8": "Byte",
        "float32": "Float",
        "float64": "Double",
        "float16": "Half",
    }.get(d.name, d.name)


def _optional_dtype(dtype):
    return dtypes.as_dtype(dtype) if dtype is not None else None


def _accumulating_dtypes(x, *, dtype=None, **_):
    """sum, prod, cumsum, cumprod: integers and bools accumulate in int64 (as torch)."""
    if dtype is not None:
        return dtype, dtype
    out = x.dtype if x.dtype.is_floating_point else dtypes.int64
    return out, out


def _safe_quotient(g, denominator):
    """g / denominator, and 0 (not inf or NaN, also in higher derivatives) where it is 0."""
    zero = denominator == 0
    return where(zero, 0.0, g / where(zero, 1.0, denominator))


# ------------------------------------------------------------------------------ sum, mean


def _sum_vjp(g, out, x, *, dim, keepdim, dtype=None):
    return (expand_reduced(g, x.shape, dim, keepdim),)


def _mean_vjp(g, out, x, *, dim, keepdim, dtype=None):
    count = _count(x.shape, dim)
    return (expand_reduced(g / count, x.shape, dim, keepdim),)


def _sum_name(args, attrs):
    return "SumBackward0" if attrs["dim"] is None else "SumBackward1"


def _mean_name(args, attrs):
    return "MeanBackward0" if attrs["dim"] is None else "MeanBackward1"


SUM = OpDef(
    "sum",
    # np.add.reduce is what np.sum calls on an ndarray, without its Python wrappers
    lambda x, *, dim, keepdim, dtype=None: np.add.reduce(x, axis=dim, keepdims=keepdim),
    vjp=_sum_vjp,
    spelling="np.sum({0}, axis={dim}, keepdims={keepdim})",
    shape=_reduction_shape,
    reduction=True,
    promote=_accumulating_dtypes,
    saves="none",
    backward_name=_sum_name,
)


def _mean_numpy(x, *, dim, keepdim, dtype=None):
    """np.mean(x, axis=dim, keepdims=keepdim): for float32 and float64 inputs np.mean's own
    steps (the sum, then a division by the count as np.intp, rounded to the input's dtype)
    without its Python-level wrappers; other inputs and empty reductions go to np.mean."""
    count = _count(x.shape, dim)
    if count == 0:  # nan, as torch, without np.mean's "Mean of empty slice" warning
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.mean(x, axis=dim, keepdims=keepdim)
    if x.dtype.type is not np.float32 and x.dtype.type is not np.float64:
        return np.mean(x, axis=dim, keepdims=keepdim)
    total = np.add.reduce(x, axis=dim, keepdims=keepdim)
    if isinstance(total, np.ndarray):
        return np.true_divide(total, np.intp(count), out=total, casting="unsafe")
    return total.dtype.type(total / np.intp(count))


MEAN = OpDef(
    "mean",
    _mean_numpy,
    vjp=_mean_vjp,
    spelling="np.mean({0}, axis={dim}, keepdims={keepdim})",
    shape=_reduction_shape,
    reduction=True,
    promote=lambda x, **attrs: (attrs.get("dtype") or x.dtype,) * 2,
    saves="none",
    backward_name=_mean_name,
)


def sum(  # noqa: A001
    input: Tensor, dim=None, keepdim: bool = False, *, keepdims=None, dtype=None, out=None
) -> Tensor:
    """Sum over ``dim`` (all dims when None); integer and bool inputs sum to int64."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    result = apply(
        SUM,
        input,
        dim=normalize_dims(dim, input.ndim),
        keepdim=keepdim,
        dtype=_optional_dtype(dtype),
    )
    return result if out is None else write_out(out, result, "sum")


def mean(
    input: Tensor, dim=None, keepdim: bool = False, *, keepdims=None, dtype=None, out=None
) -> Tensor:
    """Mean over ``dim`` (all dims when None); defined for floating point inputs."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    if dtype is None and not input.dtype.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_torch_dtype_word(input.dtype)}"
        )
    result = apply(
        MEAN,
        input,
        dim=normalize_dims(dim, input.ndim),
        keepdim=keepdim,
        dtype=_optional_dtype(dtype),
    )
    return result if out is None else write_out(out, result, "mean")


# sum(t) and mean(t) of everything, the common call, take unary_shortcut's path; it records
# the attributes the general path records for it. A dict, shared by those nodes and never
# changed: the rule gets it as ``**attrs``, which unpacks a dict much faster than a
# read-only mapping.
_ALL_DIMS = {"dim": None, "keepdim": False, "dtype": None}


def _mean_all(x):
    return _mean_numpy(x, dim=None, keepdim=False)


sum = public("sum", methods=("sum",))(  # noqa: A001
    unary_shortcut(SUM, _ALL_DIMS, np.add.reduce, "SumBackward0", sum, scalar_out=True)
)
mean = public("mean", methods=("mean",))(
    unary_shortcut(MEAN, _ALL_DIMS, _mean_all, "MeanBackward0", mean)
)


def sum_to_shape(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a gradient that has an input's broadcast shape back down to ``shape``."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    if dims:
        g = sum(g, dims, keepdim=True)
    return g.reshape(shape) if tuple(g.shape) != shape else g


# --------------------------------------------------------------------- scan building blocks
# Private ops that the gradients of prod and cumprod are written with. ``shift`` moves values
# along a dim; ``linear_scan`` runs h[i] = b[i] + a[i] * h[i -+ 1]. Both have exact rules in
# terms of themselves, so prod and cumprod are differentiable to any order without division.


def _shift_vjp(g, out, x, *, dim, offset, fill):
    return (shift(g, dim, -offset, 0.0),)


SHIFT = OpDef(
    "shift",
    rt.shift,
    vjp=_shift_vjp,
    shape=lambda shape, **_: shape,
    promote="first",
    saves="none",
)


def shift(x: Tensor, dim: int, offset: int, fill: float) -> Tensor:
    """``out[i] = x[i - offset]`` along ``dim``; positions with no source hold ``fill``."""
    return apply(SHIFT, x, dim=dim, offset=offset, fill=fill)


def _linear_scan_vjp(v, h, b, a, *, dim, reverse):
    # h[i] = b[i] + a[i] * h[i - step]: the adjoint runs the same recurrence the other way,
    # with each coefficient moved to the position it links from.
    step = -1 if reverse else 1
    adjoint = linear_scan(v, shift(a, dim, -step, 0.0), dim, not reverse)
    return (adjoint, adjoint * shift(h, dim, step, 0.0))


LINEAR_SCAN = OpDef(
    "linear_scan",
    rt.linear_scan,
    vjp=_linear_scan_vjp,
    shape=lambda b, a, **_: b,
    saves="both",
    arity=2,
)


def linear_scan(b: Tensor, a: Tensor, dim: int, reverse: bool = False) -> Tensor:
    """``h[i] = b[i] + a[i] * h[i - 1]`` along ``dim`` (``h[i + 1]`` when ``reverse``), with
    ``h`` zero outside the tensor. ``b`` and ``a`` have the same shape."""
    return apply(LINEAR_SCAN, b, a, dim=dim, reverse=reverse)


# ----------------------------------------------------------------------- cumsum, cumprod


def _cumsum_vjp(g, out, x, *, dim, reverse, dtype=None):
    return (apply(CUMSUM, g, dim=dim, reverse=not reverse, dtype=None),)


def _cumprod_vjp(g, out, x, *, dim, reverse, dtype=None):
    """d/dx[i] of sum_k g[k] out[k] = (product of the x before i) * r[i], where
    r[i] = g[i] + x[i+1] * r[i+1] (forward scan; mirrored when ``reverse``)."""
    if x.ndim == 0:
        return (g,)
    step = -1 if reverse else 1
    before = shift(out, dim, step, 1.0)
    after = linear_scan(g, shift(x, dim, -step, 0.0), dim, not reverse)
    return (before * after,)


CUMSUM = OpDef(
    "cumsum",
    rt.cumsum,
    vjp=_cumsum_vjp,
    shape=lambda shape, **_: shape,
    promote=_accumulating_dtypes,
    saves="none",
)
CUMPROD = OpDef(
    "cumprod",
    rt.cumprod,
    vjp=_cumprod_vjp,
    shape=lambda shape, **_: shape,
    promote=_accumulating_dtypes,
    saves="both",
)


@public("cumsum", methods=("cumsum",))
def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sums along ``dim``; integer and bool inputs accumulate in int64."""
    dim = _wrap_dim(dim, input.ndim)
    return apply(CUMSUM, input, dim=dim, reverse=False, dtype=_optional_dtype(dtype))


@public("cumprod", methods=("cumprod",))
def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products along ``dim``; the gradient is exact when the input holds zeros."""
    dim = _wrap_dim(dim, input.ndim)
    return apply(CUMPROD, input, dim=dim, reverse=False, dtype=_optional_dtype(dtype))


# ------------------------------------------------------------------------------------ prod


def _products_of_the_others(x, dim: int):
    """prod_{j != i} x[j] along ``dim``, as (product before i) * (product after i)."""
    before = shift(apply(CUMPROD, x, dim=dim, reverse=False, dtype=None), dim, 1, 1.0)
    after = shift(apply(CUMPROD, x, dim=dim, reverse=True, dtype=None), dim, -1, 1.0)
    return before * after


def _prod_vjp(g, out, x, *, dim, keepdim, dtype=None):
    g = unsqueeze_reduced(g, x.shape, dim, keepdim)
    if dim is None:
        others = _products_of_the_others(x.reshape(-1), 0).reshape(tuple(x.shape))
    elif dim == ():
        return (g,)
    else:
        others = _products_of_the_others(x, dim[0])
    return (g * others,)


PROD = OpDef(
    "prod",
    lambda x, *, dim, keepdim, dtype=None: np.prod(x, axis=dim, keepdims=keepdim),
    vjp=_prod_vjp,
    spelling="np.prod({0}, axis={dim}, keepdims={keepdim})",
    shape=_reduction_shape,
    reduction=True,
    promote=_accumulating_dtypes,
    backward_name=lambda args, attrs: "ProdBackward0" if attrs["dim"] is None else "ProdBackward1",
)


@public("prod", methods=("prod",))
def prod(
    input: Tensor, dim: int | None = None, keepdim: bool = False, *, keepdims=None, dtype=None
) -> Tensor:
    """Product of all elements, or along one ``dim``; integer and bool inputs give int64."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(
            "prod() received an invalid combination of arguments - got "
            f"(Tensor, {type(dim).__name__}), but expected one of:\n"
            "symgrad hint: prod reduces over one dim (an int) or over all dims (dim=None)."
        )
    return apply(
        PROD,
        input,
        dim=normalize_dims(dim, input.ndim),
        keepdim=keepdim,
        dtype=_optional_dtype(dtype),
    )


# ------------------------------------------------------------------------ max, min, amax


def _shared_among_ties_vjp(g, out, x, *, dim, keepdim):
    """Every element equal to the extreme gets an equal share of the gradient (torch's rule
    for amax/amin and for max()/min() without dim)."""
    out = unsqueeze_reduced(out, x.shape, dim, keepdim)
    g = unsqueeze_reduced(g, x.shape, dim, keepdim)
    chosen = x == out
    count = chosen.sum(dim, keepdim=True)
    return (where(chosen, g / count, 0.0),)


def _extreme_op(name: str, numpy_name: str, backward_name: str) -> OpDef:
    numpy_function = getattr(np, numpy_name)
    return OpDef(
        name,
        lambda x, *, dim, keepdim: numpy_function(x, axis=dim, keepdims=keepdim),
        vjp=_shared_among_ties_vjp,
        spelling=f"np.{numpy_name}({{0}}, axis={{dim}}, keepdims={{keepdim}})",
        shape=_reduction_shape,
        reduction=True,
        promote="first",
        saves="both",
        backward_name=backward_name,
    )


MAX = _extreme_op("max", "max", "MaxBackward1")
MIN = _extreme_op("min", "min", "MinBackward1")
AMAX = _extreme_op("amax", "max", "AmaxBackward0")
AMIN = _extreme_op("amin", "min", "AminBackward0")


def _positions(shape, dim: int) -> Tensor:
    """0, 1, ..., n-1 along ``dim`` (a constant that broadcasts against ``shape``)."""
    sizes = [1] * len(shape)
    sizes[dim] = shape[dim]
    return Tensor._wrap(np.arange(shape[dim], dtype=np.int64).reshape(sizes))


def _selected_vjp(arg_function):
    """max/min with dim: the whole gradient goes to the index the forward returned."""

    def vjp(g, out, x, *, dim, keepdim):
        if not dim:
            return (g,)
        (d,) = dim
        g = unsqueeze_reduced(g, x.shape, dim, keepdim)
        index = arg_function(x, d, keepdim=True)
        return (where(_positions(tuple(x.shape), d) == index, g, 0.0),)

    return vjp


def _arg_shape(shape, *, dim, keepdim):
    return reduced_shape(shape, None if dim is None else (dim,), keepdim)


ARGMAX = OpDef(
    "argmax",
    lambda x, *, dim, keepdim: np.argmax(x, axis=dim, keepdims=keepdim),
    spelling="np.argmax({0}, axis={dim}, keepdims={keepdim})",
    shape=_arg_shape,
    reduction=True,
    promote=lambda x, **_: (None, dtypes.int64),
)
ARGMIN = OpDef(
    "argmin",
    lambda x, *, dim, keepdim: np.argmin(x, axis=dim, keepdims=keepdim),
    spelling="np.argmin({0}, axis={dim}, keepdims={keepdim})",
    shape=_arg_shape,
    reduction=True,
    promote=lambda x, **_: (None, dtypes.int64),
)


def _check_reduced_sizes(name: str, input: Tensor, dims) -> None:
    """torch refuses max/min-like reductions over an empty dim (they have no identity);
    ``dims`` is None when the caller gave no dim."""
    if dims is None:
        if input.numel() == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return
    for d in dims:
        if input.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _arg_reduction(name: str, op: OpDef, input: Tensor, dim, keepdim: bool) -> Tensor:
    if dim is None:
        if input.numel() == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        return apply(op, input, dim=None, keepdim=keepdim)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(
            f"{name}(): argument 'dim' (position 2) must be int, not {type(dim).__name__}"
        )
    d = _wrap_dim(int(dim), input.ndim)
    if input.ndim == 0:
        return apply(op, input, dim=None, keepdim=keepdim)
    _check_reduced_sizes(name, input, (d,))
    return apply(op, input, dim=d, keepdim=keepdim)


@public("argmax", methods=("argmax",))
def argmax(
    input: Tensor, dim: int | None = None, keepdim: bool = False, *, keepdims=None
) -> Tensor:
    """Index (int64) of the largest value along ``dim``, or in the flattened input when None;
    the first one among ties."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    return _arg_reduction("argmax", ARGMAX, input, dim, keepdim)


@public("argmin", methods=("argmin",))
def argmin(
    input: Tensor, dim: int | None = None, keepdim: bool = False, *, keepdims=None
) -> Tensor:
    """Index (int64) of the smallest value along ``dim``, or in the flattened input."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    return _arg_reduction("argmin", ARGMIN, input, dim, keepdim)


MAX_DIM = OpDef(
    "max_dim",
    lambda x, *, dim, keepdim: np.max(x, axis=dim, keepdims=keepdim),
    vjp=_selected_vjp(argmax),
    spelling="np.max({0}, axis={dim}, keepdims={keepdim})",
    shape=_reduction_shape,
    reduction=True,
    promote="first",
    backward_name="MaxBackward0",
)
MIN_DIM = OpDef(
    "min_dim",
    lambda x, *, dim, keepdim: np.min(x, axis=dim, keepdims=keepdim),
    vjp=_selected_vjp(argmin),
    spelling="np.min({0}, axis={dim}, keepdims={keepdim})",
    shape=_reduction_shape,
    reduction=True,
    promote="first",
    backward_name="MinBackward0",
)


def _return_type(name: str) -> type:
    """A tuple with ``.values`` and ``.indices``, printed as torch prints torch.return_types."""
    base = collections.namedtuple(name, ("values", "indices"))

    def __repr__(self) -> str:
        return f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": __name__})


return_types = types.SimpleNamespace(max=_return_type("max"), min=_return_type("min"))


def _values_and_indices(name: str, values_op: OpDef, arg_function, input, dim, keepdim):
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got (Tensor, "
            f"{type(dim).__name__}), but expected one of:\n"
            f"symgrad hint: {name}(input, dim) takes one int dim; use amax/amin for several."
        )
    dims = normalize_dims(dim, input.ndim)
    _check_reduced_sizes(name, input, dims)
    values = apply(values_op, input, dim=dims, keepdim=keepdim)
    indices = arg_function(input, dim, keepdim)
    return getattr(return_types, name)(values, indices)


def _elementwise_extreme(name: str, function_name: str, input, other):
    function = FUNCTIONS.get(function_name)
    if function is None:
        raise NotImplementedError(
            f"{name}(input, other) is symgrad.{function_name}, which symgrad does not have yet"
        )
    return function(input, other)


@public("max", methods=("max",))
def max(input: Tensor, dim=None, keepdim: bool = False, *, keepdims=None, other=None):  # noqa: A001
    """``max(input)``: the largest value (ties share the gradient equally);
    ``max(input, dim)``: ``(values, indices)`` along ``dim`` (the gradient goes to the index);
    ``max(input, other)``: elementwise ``symgrad.maximum``."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    if isinstance(dim, Tensor) or other is not None:
        return _elementwise_extreme("max", "maximum", input, other if other is not None else dim)
    if dim is None:
        _check_reduced_sizes("max", input, None)
        return apply(MAX, input, dim=_all_dims(input), keepdim=False)
    return _values_and_indices("max", MAX_DIM, argmax, input, dim, keepdim)


@public("min", methods=("min",))
def min(input: Tensor, dim=None, keepdim: bool = False, *, keepdims=None, other=None):  # noqa: A001
    """``min(input)``, ``min(input, dim)`` -> ``(values, indices)``, ``min(input, other)``:
    as ``max``."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    if isinstance(dim, Tensor) or other is not None:
        return _elementwise_extreme("min", "minimum", input, other if other is not None else dim)
    if dim is None:
        _check_reduced_sizes("min", input, None)
        return apply(MIN, input, dim=_all_dims(input), keepdim=False)
    return _values_and_indices("min", MIN_DIM, argmin, input, dim, keepdim)


def _given(dim) -> bool:
    return dim is not None and (isinstance(dim, (int, np.integer)) or len(dim) > 0)


@public("amax", methods=("amax",))
def amax(input: Tensor, dim=(), keepdim: bool = False, *, keepdims=None) -> Tensor:
    """Largest values over ``dim`` (an int or a tuple; all dims when empty); ties share the
    gradient equally."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    dims = normalize_dims(dim if dim is not None else (), input.ndim)
    _check_reduced_sizes("amax", input, dims if _given(dim) else None)
    return apply(AMAX, input, dim=dims, keepdim=keepdim)


@public("amin", methods=("amin",))
def amin(input: Tensor, dim=(), keepdim: bool = False, *, keepdims=None) -> Tensor:
    """Smallest values over ``dim``; ties share the gradient equally."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    dims = normalize_dims(dim if dim is not None else (), input.ndim)
    _check_reduced_sizes("amin", input, dims if _given(dim) else None)
    return apply(AMIN, input, dim=dims, keepdim=keepdim)


# --------------------------------------------------------------------------------- var, std


def _var_gradient(g, x, dim, correction, keepdim):
    dof = _count(x.shape, dim) - correction
    scale = 2.0 / dof if dof != 0 else math.inf  # torch: an infinite variance when N == correction
    g = unsqueeze_reduced(g, x.shape, dim, keepdim)
    centered = x - x.mean(dim, keepdim=True)
    return g * (centered * scale)


def _var_vjp(g, out, x, *, dim, correction, keepdim):
    return (_var_gradient(g, x, dim, correction, keepdim),)


def _std_vjp(g, out, x, *, dim, correction, keepdim):
    # d std = d var / (2 std); torch sends 0 (not NaN) where std == 0, e.g. a constant slice.
    return (_var_gradient(_safe_quotient(g, 2 * out), x, dim, correction, keepdim),)


def _std_numpy(x, *, dim, correction, keepdim):
    return np.sqrt(np.var(x, axis=dim, ddof=correction, keepdims=keepdim))


VAR = OpDef(
    "var",
    lambda x, *, dim, correction, keepdim: np.var(x, axis=dim, ddof=correction, keepdims=keepdim),
    vjp=_var_vjp,
    spelling="np.var({0}, axis={dim}, ddof={correction}, keepdims={keepdim})",
    shape=_reduction_shape,
    reduction=True,
    promote="first",
)
STD = OpDef(
    "std",
    _std_numpy,
    vjp=_std_vjp,
    spelling="np.std({0}, axis={dim}, ddof={correction}, keepdims={keepdim})",
    shape=_reduction_shape,
    reduction=True,
    promote="first",
    saves="both",
)


def _spread(name: str, op: OpDef, input, dim, unbiased, keepdim, correction) -> Tensor:
    if isinstance(dim, bool):  # the legacy overload var(input, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got both unbiased= and "
            "correction=, but expected one of:\n"
            "symgrad hint: give correction= only (unbiased=False is correction=0)."
        )
    if not input.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return apply(
        op, input, dim=normalize_dims(dim, input.ndim), correction=correction, keepdim=keepdim
    )


@public("var", methods=("var",))
def var(
    input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, keepdims=None, correction=None
):
    """Variance over ``dim``, dividing by N - ``correction`` (default 1; ``unbiased=False``
    is the legacy spelling of ``correction=0``)."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    return _spread("var", VAR, input, dim, unbiased, keepdim, correction)


@public("std", methods=("std",))
def std(
    input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, keepdims=None, correction=None
):
    """Standard deviation over ``dim`` (see ``var``); its gradient is 0 where it is 0."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    return _spread("std", STD, input, dim, unbiased, keepdim, correction)


# ----------------------------------------------------------------------------------- norms
# ``ord`` is a float, or the string "inf" / "-inf": attrs must be repr-able as Python literals,
# and repr(math.inf) is not one.


def _vector_norm_vjp(g, out, x, *, ord, dim, keepdim, dtype=None):  # noqa: A002
    """torch's rules: 0 where the norm is 0 (2-norm and p > 1), ties of the inf-norms share
    the gradient, no gradient for ord=0 (a count)."""
    if ord == 0:
        return (None,)
    g = unsqueeze_reduced(g, x.shape, dim, keepdim)
    out = unsqueeze_reduced(out, x.shape, dim, keepdim)
    if ord in ("inf", "-inf"):
        chosen = x.abs() == out
        count = chosen.sum(dim, keepdim=True)
        return (where(chosen, g / count, 0.0) * x.sign(),)
    if ord == 1:
        return (g * x.sign(),)
    if ord == 2:
        return (x * _safe_quotient(g, out),)
    if ord < 1:
        nonzero = x != 0
        magnitude = where(nonzero, x.abs(), 1.0)
        scaled = where(nonzero, x.sign() * magnitude ** (ord - 1), 0.0)
        return (scaled * (g * out ** (1 - ord)),)
    scaled = x.sign() * x.abs() ** (ord - 1) if ord < 2 else x * x.abs() ** (ord - 2)
    return (scaled * _safe_quotient(g, out ** (ord - 1)),)


VECTOR_NORM = OpDef(
    "vector_norm",
    rt.vector_norm,
    vjp=_vector_norm_vjp,
    shape=_reduction_shape,
    reduction=True,
    promote=lambda x, *, dtype=None, **_: (dtype or x.dtype,) * 2,
    saves="both",
    backward_name="LinalgVectorNormBackward0",
)


def _order_attr(ord) -> float | str:  # noqa: A002
    value = float(ord)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def vector_norm(
    x: Tensor,
    ord: float = 2,  # noqa: A002
    dim=None,
    keepdim: bool = False,
    *,
    dtype=None,
) -> Tensor:
    """``torch.linalg.vector_norm``: (sum |x|^ord)^(1/ord) over ``dim`` (all dims when None);
    ord = inf / -inf is the largest / smallest |x|, ord = 0 counts the nonzeros.

    >>> import symgrad
    >>> vector_norm(symgrad.tensor([3.0, -4.0]))
    tensor(5.)
    """
    if not x.dtype.is_floating_point:
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {_torch_dtype_word(x.dtype)}"
        )
    dtype = _optional_dtype(dtype)
    if dtype is not None and not dtype.is_floating_point:
        raise RuntimeError(
            "linalg.vector_norm: dtype should be floating point or complex, but got "
            f"{_torch_dtype_word(dtype)}"
        )
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' (position 2) must be Number, not str")
    order = _order_attr(ord)
    dims = normalize_dims(dim, x.ndim)
    if order in ("inf", "-inf"):
        _check_norm_sizes(x, dims)
    return apply(VECTOR_NORM, x, ord=order, dim=dims, keepdim=keepdim, dtype=dtype)


def _check_norm_sizes(x: Tensor, dims) -> None:
    if dims is None or dims == tuple(range(x.ndim)):
        if x.numel() == 0:
            raise RuntimeError(
                "linalg.vector_norm cannot compute the inf norm on an empty tensor because the "
                "operation does not have an identity"
            )
        return
    for d in dims:
        if x.shape[d] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the inf norm on the dimension {d}because this "
                "dimension is empty and the operation does not have an identity"
            )


@public("norm", methods=("norm",))
def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None) -> Tensor:
    """``torch.norm``: a vector norm of order ``p`` over ``dim``; "fro" (over at most 2 dims)
    is the 2-norm. Matrix norms ("nuc", "fro" over 3+ dims) are not supported."""
    if out is not None:
        raise NotImplementedError("symgrad.norm does not support out=; use the return value")
    if isinstance(p, str):
        dims = () if dim is None else ((dim,) if isinstance(dim, (int, np.integer)) else dim)
        if p == "fro" and len(dims) <= 2:
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        if p not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
        if p == "fro":
            raise RuntimeError(
                f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}"
            )
        raise NotImplementedError(
            "norm(p='nuc') is a matrix norm (it needs singular values); symgrad does not have "
            "linalg.matrix_norm"
        )
    return vector_norm(input, 2 if p is None else p, dim, keepdim, dtype=dtype)


# ------------------------------------------------------------------------------- logsumexp


def _logsumexp_vjp(g, out, x, *, dim, keepdim):
    # exp(x - out) <= 1 (the softmax): finite for any finite input. As in torch, it is NaN
    # where x and out are both infinite.
    g = unsqueeze_reduced(g, x.shape, dim, keepdim)
    out = unsqueeze_reduced(out, x.shape, dim, keepdim)
    return (g * (x - out).exp(),)


LOGSUMEXP = OpDef(
    "logsumexp",
    rt.logsumexp,
    vjp=_logsumexp_vjp,
    shape=_reduction_shape,
    reduction=True,
    promote="float",
    saves="both",
)


@public("logsumexp", methods=("logsumexp",))
def logsumexp(input: Tensor, dim, keepdim: bool = False, *, keepdims=None) -> Tensor:
    """log(sum(exp(input))) over ``dim``, computed without overflow."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    return apply(LOGSUMEXP, input, dim=normalize_dims(dim, input.ndim), keepdim=keepdim)


# ------------------------------------------------------------------ all, any, count_nonzero


def _truth_dtypes(x, **_):
    # torch keeps uint8 for uint8 inputs (a legacy of byte masks); every other input gives bool.
    return None, dtypes.uint8 if x.dtype is dtypes.uint8 else dtypes.bool_


ALL = OpDef(
    "all",
    lambda x, *, dim, keepdim: np.all(x, axis=dim, keepdims=keepdim),
    spelling="np.all({0}, axis={dim}, keepdims={keepdim})",
    shape=_reduction_shape,
    reduction=True,
    promote=_truth_dtypes,
)
ANY = OpDef(
    "any",
    lambda x, *, dim, keepdim: np.any(x, axis=dim, keepdims=keepdim),
    spelling="np.any({0}, axis={dim}, keepdims={keepdim})",
    shape=_reduction_shape,
    reduction=True,
    promote=_truth_dtypes,
)
COUNT_NONZERO = OpDef(
    "count_nonzero",
    lambda x, *, dim: np.count_nonzero(x, axis=dim),
    spelling="np.count_nonzero({0}, axis={dim})",
    shape=lambda shape, *, dim: reduced_shape(shape, dim, False),
    reduction=True,
    promote=lambda x, **_: (None, dtypes.int64),
)


@public("all", methods=("all",))
def all(input: Tensor, dim=None, keepdim: bool = False, *, keepdims=None) -> Tensor:  # noqa: A001
    """Whether every element over ``dim`` (an int, a tuple, or all when None) is nonzero."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    return apply(ALL, input, dim=normalize_dims(dim, input.ndim), keepdim=keepdim)


@public("any", methods=("any",))
def any(input: Tensor, dim=None, keepdim: bool = False, *, keepdims=None) -> Tensor:  # noqa: A001
    """Whether some element over ``dim`` is nonzero."""
    keepdim = keepdim if keepdims is None else keepdims  # numpy's spelling, as torch
    return apply(ANY, input, dim=normalize_dims(dim, input.ndim), keepdim=keepdim)


@public("count_nonzero", methods=("count_nonzero",))
def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Number (int64) of nonzero elements over ``dim`` (an int, a tuple, or all when None)."""
    return apply(COUNT_NONZERO, input, dim=normalize_dims(dim, input.ndim))


# ---------------------------------------------------------------------- histc, histogram


class _Histogram(collections.namedtuple("histogram", ("hist", "bin_edges"))):
    """torch.return_types.histogram: ``(hist, bin_edges)``."""

    __slots__ = ()
    __module__ = __name__

    def __repr__(self) -> str:
        return f"torch.return_types.histogram(\nhist={self.hist!r},\nbin_edges={self.bin_edges!r})"


return_types.histogram = _Histogram


def _histogram_input(input: Tensor, kernel: str) -> np.ndarray:
    if not input.dtype.is_floating_point:
        word = dtypes.LEGACY_NAMES[input.dtype.name].removesuffix("Tensor")
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{word}'")
    return input._concrete(kernel).reshape(-1)


def _check_bins(bins: int) -> None:
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")


@public("histc", methods=("histc",))
def histc(input: Tensor, bins: int = 100, min=0, max=0, *, out=None) -> Tensor:  # noqa: A002
    """Counts of ``input`` in ``bins`` equal bins over [min, max] (the data's range when both
    are 0); values outside are ignored, the last bin includes ``max``. Not differentiable."""
    data = _histogram_input(input, "histogram_cpu")
    _check_bins(bins)
    low, high = float(min), float(max)
    if low == high == 0 and data.size:
        low, high = float(data.min()), float(data.max())
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    if low == high:  # a single value: torch widens the range by one each side
        low, high = low - 1, high + 1
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{low:g}, {high:g}] is not finite")
    counts, _ = np.histogram(data, bins, range=(low, high))
    result = Tensor._wrap(counts.astype(input.dtype.numpy))
    return result if out is None else write_out(out, result, "histc")


@public("histogram", methods=("histogram",))
def histogram(input: Tensor, bins=100, *, range=None, weight=None, density=False, out=None):  # noqa: A002
    """``(hist, bin_edges)``: counts (or ``weight`` sums, or a density) of ``input`` in
    ``bins`` equal bins (over ``range``, else the data's range) or between the given bin
    edges (a 1-D tensor), as numpy.histogram. Not differentiable."""
    data = _histogram_input(input, "histogramdd")
    if isinstance(bins, Tensor):
        edges = bins._concrete("histogram()").astype(np.float64)
    else:
        _check_bins(int(bins))
        edges = int(bins)
        if range is not None and range[0] > range[1]:
            raise RuntimeError(
                f"torch.histogramdd: min should not exceed max, but got min {range[0]:g} max "
                f"{range[1]:g} for dimension 0"
            )
    weights = None if weight is None else weight._concrete("histogram()").reshape(-1)
    hist, bin_edges = np.histogram(data, edges, range=range, weights=weights, density=density)
    dtype = input.dtype.numpy
    result = _Histogram(Tensor._wrap(hist.astype(dtype)), Tensor._wrap(bin_edges.astype(dtype)))
    if out is None:
        return result
    return _Histogram(*(write_out(o, r, "histogram") for o, r in zip(out, result, strict=True)))
