"""Calling numpy with floating-point warnings off, cheaply (torch never warns about inf/nan).

``np.errstate(all="ignore")`` costs about a microsecond to enter and leave, as much as a small
ufunc call; eager dispatch pays it on every op. numpy >= 2 keeps the error state in a context
variable: the ignoring state derived from the caller's is made once and then only swapped in
and out.
"""

from __future__ import annotations

import numpy as np

try:
    from numpy._core._ufunc_config import _extobj_contextvar
except ImportError:  # numpy < 2: the plain context manager
    _extobj_contextvar = None

_ignoring_states: dict = {}


def call2_ignoring(fn, x, y):
    """``fn(x, y)`` as under ``np.errstate(all="ignore")``: ``call_ignoring`` for the eager
    binary shortcut, which runs on most op calls (no argument tuple or dict to build)."""
    if _extobj_contextvar is None:
        return call_ignoring(fn, (x, y), {})
    ignoring = _ignoring_states.get(_extobj_contextvar.get())
    if ignoring is None:
        return call_ignoring(fn, (x, y), {})
    token = _extobj_contextvar.set(ignoring)
    try:
        return fn(x, y)
    finally:
        _extobj_contextvar.reset(token)


def call_ignoring(fn, arrays, attrs):
    """``fn(*arrays, **attrs)`` as under ``np.errstate(all="ignore")``."""
    if _extobj_contextvar is None:
        with np.errstate(all="ignore"):
            return fn(*arrays, **attrs)
    current = _extobj_contextvar.get()
    ignoring = _ignoring_states.get(current)
    if ignoring is None:
        if len(_ignoring_states) > 64:  # callers that enter np.errstate in a loop
            _ignoring_states.clear()
        with np.errstate(all="ignore"):
            ignoring = _ignoring_states[current] = _extobj_contextvar.get()
    token = _extobj_contextvar.set(ignoring)
    try:
        return fn(*arrays, **attrs)
    finally:
        _extobj_contextvar.reset(token)
