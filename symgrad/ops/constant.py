"""Constant-filled arrays as an op, so compiled graphs can create them (zero gradients)."""

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
