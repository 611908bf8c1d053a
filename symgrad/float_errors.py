"""Calling numpy with floating-point warnings off, cheaply (torch never warns about inf/nan).

``np.errstate(all="ignore")`` costs about a microsecond to enter and leave, as much as a small
ufunc call; eager dispatch pays it on every op. numpy >= 2 keeps the error state in a context
variable: the ignoring state derived from the caller's is made once and then only swapped in
and out, and code that already runs under an ignoring state (the backward engine sets one for
its whole loop) calls numpy directly.

The hot paths (``registry.apply_binary``, the engine) inline ``call2_ignoring`` with the names
below: ``STATE`` is numpy's context variable (None before numpy 2), ``IGNORING`` maps a state
to its ignoring one (an ignoring state maps to itself), and ``ignoring_state`` fills it.
"""

from __future__ import annotations

import numpy as np

try:
    from numpy._core._ufunc_config import _extobj_contextvar as STATE
except ImportError:  # numpy < 2: the plain context manager
    STATE = None

IGNORING: dict = {}


def ignoring_state(current):
    """The error state that ignores everything and otherwise is ``current`` (numpy >= 2)."""
    ignoring = IGNORING.get(current)
    if ignoring is None:
        if len(IGNORING) > 64:  # callers that enter np.errstate in a loop
            IGNORING.clear()
        token = STATE.set(current)
        try:
            with np.errstate(all="ignore"):
                ignoring = IGNORING[current] = STATE.get()
        finally:
            STATE.reset(token)
        IGNORING[ignoring] = ignoring
    return ignoring


def call2_ignoring(fn, x, y):
    """``fn(x, y)`` as under ``np.errstate(all="ignore")``: ``call_ignoring`` for two
    positional arguments (no argument tuple or dict to build)."""
    if STATE is None:
        with np.errstate(all="ignore"):
            return fn(x, y)
    current = STATE.get()
    ignoring = IGNORING.get(current) or ignoring_state(current)
    if ignoring is current:
        return fn(x, y)
    token = STATE.set(ignoring)
    try:
        return fn(x, y)
    finally:
        STATE.reset(token)


def call_ignoring(fn, arrays, attrs):
    """``fn(*arrays, **attrs)`` as under ``np.errstate(all="ignore")``."""
    if STATE is None:
        with np.errstate(all="ignore"):
            return fn(*arrays, **attrs)
    current = STATE.get()
    ignoring = IGNORING.get(current) or ignoring_state(current)
    if ignoring is current:
        return fn(*arrays, **attrs)
    token = STATE.set(ignoring)
    try:
        return fn(*arrays, **attrs)
    finally:
        STATE.reset(token)


def quietly(function):
    """``function`` called as under ``np.errstate(all="ignore")``, whatever the caller's
    state (``np.seterr(all="raise")``, a test run that turns warnings into errors): compiled
    code gives inf and NaN where eager ops do, and never raises or warns about them."""
    if STATE is None:

        def call(*args):
            with np.errstate(all="ignore"):
                return function(*args)

    else:

        def call(*args):
            current = STATE.get()
            ignoring = IGNORING.get(current) or ignoring_state(current)
            if ignoring is current:
                return function(*args)
            token = STATE.set(ignoring)
            try:
                return function(*args)
            finally:
                STATE.reset(token)

    call.__name__ = call.__qualname__ = getattr(function, "__name__", "call")
    call.__wrapped__ = function
    return call
