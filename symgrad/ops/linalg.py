"""Matrix products: matmul in every torch case (1-D, 2-D, batched, broadcast), mm."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .registry import OpDef, apply, public


def _matmul_shape(a, b):
    if len(a) == 0 or len(b) == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {len(a)}D and {len(b)}D"
        )
    a2 = (1,) + tuple(a) if len(a) == 1 else tuple(a)
    b2 = tuple(b) + (1,) if len(b) == 1 else tuple(b)
    if a2[-1] != b2[-2]:
        raise RuntimeError(_mismatch_message(a, b))
    batch = tuple(np.broadcast_shapes(a2[:-2], b2[:-2]))
    shape = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(b) == 1:
        shape = shape[:-1]
    return shape


def _mismatch_message(a, b) -> str:
    if len(a) == 1 and len(b) == 1:
        return (
            f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to have the same "
            f"number of elements, but got {a[0]} and {b[0]} elements respectively"
        )
    if len(a) == 2 and len(b) == 1:
        return f"size mismatch, got input ({a[0]}), mat ({a[0]}x{a[1]}), vec ({b[0]})"
    a2 = a if len(a) >= 2 else (1,) + tuple(a)
    b2 = b if len(b) >= 2 else tuple(b) + (1,)
    return (
        f"mat1 and mat2 shapes cannot be multiplied ({int(np.prod(a2[:-1]))}x{a2[-1]} and "
        f"{b2[-2]}x{b2[-1]})"
    )


def _matmul_vjp(g, out, x, y):
    """Promote 1-D operands to matrices, take the matrix rule, and drop the added dims; the
    engine sums broadcast batch dims down to each input's shape."""
    x2 = x.unsqueeze(0) if x.ndim == 1 else x
    y2 = y.unsqueeze(-1) if y.ndim == 1 else y
    g2 = g.reshape(_matmul_shape(tuple(x2.shape), tuple(y2.shape)))
    gx = g2 @ y2.mT
    gy = x2.mT @ g2
    if x.ndim == 1:
        gx = gx.squeeze(-2)
    if y.ndim == 1:
        gy = gy.squeeze(-1)
    return (gx, gy)


def _matmul_name(args, attrs):
    a, b = args[0].ndim, args[1].ndim
    return {
        (1, 1): "DotBackward0",
        (2, 2): "MmBackward0",
        (2, 1): "MvBackward0",
        (3, 3): "BmmBackward0",
    }.get((a, b), "UnsafeViewBackward0")


MATMUL = OpDef(
    "matmul",
    np.matmul,
    vjp=_matmul_vjp,
    spelling="{0} @ {1}",
    shape=_matmul_shape,
    backward_name=_matmul_name,
)


@public("matmul", methods=("matmul", "__matmul__"))
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with torch's rules for 1-D operands and broadcast batch dimensions."""
    _check_same_dtype(input, other)
    _matmul_shape(tuple(input.shape), tuple(other.shape))
    return apply(MATMUL, input, other)


def _rmatmul(self, other):
    return matmul(other, self)


Tensor.__rmatmul__ = _rmatmul


def _check_same_dtype(a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{_dtype_word(a.dtype)} != {_dtype_word(b.dtype)}"
        )


def _dtype_word(d) -> str:
    return {
        "float32": "float",
        "float64": "double",
        "float16": "c10::Half",
        "int64": "long int",
        "int32": "int",
        "bool": "bool",
    }.get(d.name, d.name)


@public("mm", methods=("mm",))
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (2-D only)."""
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2)
