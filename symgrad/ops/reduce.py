"""Reductions: sum, mean, and sum_to_shape (the one place broadcast gradients are reduced)."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _wrap_dim
from .registry import OpDef, apply, public


def normalize_dims(dim, ndim: int) -> tuple[int, ...] | None:
    """``dim`` (None, an int, or a sequence) as a sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    return tuple(sorted({_wrap_dim(d, ndim) for d in dim}))


def reduced_shape(shape, dims, keepdim: bool) -> tuple[int, ...]:
    dims = range(len(shape)) if dims is None else dims
    if keepdim:
        return tuple(1 if i in dims else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def expand_reduced(g, input_shape, dims, keepdim: bool):
    """The gradient of a reduction, broadcast back to the input's shape."""
    if not keepdim:
        g = g.reshape(reduced_shape(input_shape, dims, True))
    return g.expand(tuple(input_shape))


def _sum_dtypes(x, *, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        return dtype, dtype
    out = x.dtype if x.dtype.is_floating_point else dtypes.int64
    return out, out


def _reduction_shape(shape, *, dim=None, keepdim=False, **_):
    return reduced_shape(shape, dim, keepdim)


def _sum_vjp(g, out, x, *, dim, keepdim, dtype=None):
    return (expand_reduced(g, x.shape, dim, keepdim),)


def _mean_vjp(g, out, x, *, dim, keepdim, dtype=None):
    count = _count(x.shape, dim)
    return (expand_reduced(g / count, x.shape, dim, keepdim),)


def _count(shape, dims) -> int:
    dims = range(len(shape)) if dims is None else dims
    return int(np.prod([shape[d] for d in dims], dtype=np.int64))


def _sum_name(args, attrs):
    return "SumBackward0" if attrs["dim"] is None else "SumBackward1"


def _mean_name(args, attrs):
    return "MeanBackward0" if attrs["dim"] is None else "MeanBackward1"


SUM = OpDef(
    "sum",
    lambda x, *, dim, keepdim, dtype=None: np.sum(x, axis=dim, keepdims=keepdim),
    vjp=_sum_vjp,
    spelling="np.sum({0}, axis={dim}, keepdims={keepdim})",
    shape=_reduction_shape,
    promote=_sum_dtypes,
    saves="none",
    backward_name=_sum_name,
)
MEAN = OpDef(
    "mean",
    lambda x, *, dim, keepdim, dtype=None: np.mean(x, axis=dim, keepdims=keepdim),
    vjp=_mean_vjp,
    spelling="np.mean({0}, axis={dim}, keepdims={keepdim})",
    shape=_reduction_shape,
    promote=lambda x, **attrs: (attrs.get("dtype") or x.dtype,) * 2,
    saves="none",
    backward_name=_mean_name,
)


@public("sum", methods=("sum",))
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dims when None); integer and bool inputs sum to int64."""
    return apply(
        SUM,
        input,
        dim=normalize_dims(dim, input.ndim),
        keepdim=keepdim,
        dtype=dtypes.as_dtype(dtype) if dtype is not None else None,
    )


@public("mean", methods=("mean",))
def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over ``dim`` (all dims when None); defined for floating point inputs."""
    if dtype is None and not input.dtype.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_torch_dtype_word(input.dtype)}"
        )
    return apply(
        MEAN,
        input,
        dim=normalize_dims(dim, input.ndim),
        keepdim=keepdim,
        dtype=dtypes.as_dtype(dtype) if dtype is not None else None,
    )


def _torch_dtype_word(d) -> str:
    return {
        "int64": "Long",
        "int32": "Int",
        "bool": "Bool",
        "int16": "Short",
        "int8": "Char",
        "uint8": "Byte",
    }.get(d.name, d.name)


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
