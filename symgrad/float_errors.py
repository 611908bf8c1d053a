"""Calling numpy with floating-point warnings off, cheaply (torch never warns about inf/nan).

``np.errstate(all="ignore")`` costs about a microsecond to enter and leave, as much as a small
ufunc call; eager dispatch pays it on every op. numpy >= 2 keeps the error state in a context
variable: the ignoring state derived from the caller's is made once, and numpy is called inside
a Context that holds it (``ignoring_context``: ``context.run`` costs a tenth of setting and
resetting the variable); code that already runs under the ignoring state (the backward engine
sets it for its whole loop) calls numpy directly.

The hot paths (the op shortcuts in ``registry``) inline ``call2_ignoring`` with the names
below: ``STATE`` is numpy's context variable (None before numpy 2), ``IGNORING`` maps a state
to its ignoring one (an ignoring state maps to itself) and ``ignoring_state`` fills it,
``CONTEXTS`` holds this thread's Contexts by caller state and ``ignoring_context`` fills it.
"""

from __future__ import annotations

import contextvars
import threading

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


class _ThreadContexts(threading.local):
    def __init__(self):
        self.by_state: dict = {}


# This thread's answers of ``ignoring_context``, by caller state (the hot paths read it).
CONTEXTS = _ThreadContexts()
MISSING = object()


def ignoring_context(current):
    """What to call numpy under when the caller's state is ``current`` (numpy >= 2): None when
    ``current`` already ignores everything (call numpy directly), else a Context in which
    numpy's state is ``current``'s ignoring one and no other variable is set.
    ``context.run(fn, *args)`` costs a tenth of setting and resetting the variable around the
    call. Each thread has its own Contexts: a Context is entered by one thread at a time, and
    numpy lets other threads run during large loops."""
    by_state = CONTEXTS.by_state
    context = by_state.get(current, MISSING)
    if context is MISSING:
        ignoring = ignoring_state(current)
        if ignoring is current:
            context = None
        else:
            context = contextvars.Context()
            context.run(STATE.set, ignoring)
        if len(by_state) > 64:  # callers that enter np.errstate in a loop
            by_state.clear()
        by_state[current] = context
    return context


def call2_ignoring(fn, x, y):
    """``fn(x, y)`` as under ``np.errstate(all="ignore")``: ``call_ignoring`` for two
    positional arguments (no argument tuple or dict to build)."""
    if STATE is None:
        with np.errstate(all="ignore"):
            return fn(x, y)
    context = ignoring_context(STATE.get())
    return fn(x, y) if context is None else context.run(fn, x, y)


def call_ignoring(fn, arrays, attrs):
    """``fn(*arrays, **attrs)`` as under ``np.errstate(all="ignore")``."""
    if STATE is None:
        with np.errstate(all="ignore"):
            return fn(*arrays, **attrs)
    context = ignoring_context(STATE.get())
    if context is None:
        return fn(*arrays, **attrs)
    return context.run(fn, *arrays, **attrs)


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
