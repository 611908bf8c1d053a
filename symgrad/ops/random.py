"""Random sampling as an op, so that compiled code draws fresh numbers on every call.

Eagerly, ``sample`` draws from a numpy Generator at once. While tracing it becomes a graph node
whose first input is the generator, passed in when the compiled code runs: symgrad's default
generator as it is then (so ``manual_seed`` works), or the one the user gave.
"""

from __future__ import annotations

import itertools

import numpy as np

from .. import dtypes
from ..compiler import trace as tracing
from ..tensor import Tensor
from .registry import OpDef, apply


class _DefaultGenerator:
    """Stands for symgrad's default generator, looked up at call time (``manual_seed`` makes a
    new one, so the object itself cannot be kept)."""

    def __repr__(self) -> str:
        return "symgrad.default_generator()"


DEFAULT_GENERATOR = _DefaultGenerator()
_draws = itertools.count()


def _sample(generator, *, distribution, shape, dtype, low, high, draw):
    if distribution == "uniform":
        values = generator.random(shape)
    elif distribution == "normal":
        values = generator.standard_normal(shape)
    else:
        values = generator.integers(low, high, size=shape)
    return values.astype(dtype.numpy)


def _spelling(operands, *, distribution, shape, dtype, low, high, draw) -> str:
    generator = operands[0]
    if distribution == "uniform":
        call = f"{generator}.random({shape!r})"
    elif distribution == "normal":
        call = f"{generator}.standard_normal({shape!r})"
    else:
        call = f"{generator}.integers({int(low)}, {int(high)}, size={shape!r})"
    return f"{call}.astype(np.{dtype.numpy.name})"


SAMPLE = OpDef(
    "sample",
    _sample,
    spelling=_spelling,
    shape=lambda generator, *, shape, **_: shape,
    promote=lambda generator, *, dtype, **_: (None, dtype),
    saves="none",
)


def sample(distribution: str, shape, dtype: dtypes.dtype, generator=None, low=0, high=0):
    """Random numbers of ``shape``: "uniform" in [0, 1), "normal", or "integers" in
    [low, high). Returns an ndarray eagerly, a symbolic Tensor while tracing."""
    shape = tuple(int(n) for n in shape)
    if tracing.current() is None:
        from ..creation import default_generator

        rng = generator or default_generator()
        attrs = dict(
            distribution=distribution, shape=shape, dtype=dtype, low=low, high=high, draw=0
        )
        return _sample(rng, **attrs)
    # Each draw is its own node (hash-consing must not merge two draws of one shape).
    return apply(
        SAMPLE,
        generator or DEFAULT_GENERATOR,
        distribution=distribution,
        shape=shape,
        dtype=dtype,
        low=low,
        high=high,
        draw=next(_draws),
    )


def is_generator(value) -> bool:
    return value is DEFAULT_GENERATOR or isinstance(value, np.random.Generator)


def call_value(value):
    """What a captured value is when the compiled code runs."""
    if isinstance(value, Tensor):
        return value._data
    if value is DEFAULT_GENERATOR:
        from ..creation import default_generator

        return default_generator()
    return value
