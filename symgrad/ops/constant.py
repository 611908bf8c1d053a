"""Constant arrays as ops, so compiled graphs can create them: fills (zero gradients) and
small arrays made while tracing (printed from their numbers)."""

from __future__ import annotations

import numpy as np

from .registry import OpDef


def _full(*, shape, value, dtype):
    return np.full(shape, value, dtype=dtype.numpy)


FULL = OpDef(
    "full",
    _full,
    spelling="np.full({shape}, {value}, dtype={dtype})",
    shape=lambda *, shape, value, dtype: shape,
    promote=lambda *, shape, value, dtype: (None, dtype),
    saves="none",
)


def _array(*, values, shape, dtype):
    return np.array(values, dtype=dtype.numpy).reshape(shape)


ARRAY = OpDef(
    "array",
    _array,
    spelling="np.array({values}, dtype={dtype}).reshape({shape})",
    shape=lambda *, values, shape, dtype: shape,
    promote=lambda *, values, shape, dtype: (None, dtype),
    saves="none",
)
