"""Workspaces: a generated function's temporaries, allocated once per cache entry and thread and
reused by later calls (``out=``), so that a steady-state call allocates only its outputs.

Fresh large temporaries cost page faults on every call whenever glibc hands their memory back
to the system between calls (measured on Rosenbrock n=1e5: 190 us or 900 us per call for the
same numpy code, depending only on the allocator's state); PyTorch's caching allocator avoids
this, and so does a workspace.

The scheduler decides what lives in it (``Slots``, called from ``schedule.py``): arrays a
statement allocates that no returned value can alias. Outputs, values saved for backward and
every view of them stay fresh arrays the caller owns. Temporaries of one shape and dtype
whose lifetimes do not overlap share a slot, so a chain of steps needs a few buffers, not one
per step.

Generated code states its layout in a module constant ``<function>_workspace`` (shape, dtype
per slot) and takes the buffers as its last parameter, ``workspace`` (None: it allocates them
for that call, so an exported module runs alone). ``bind`` gives the callable that passes
each thread its own buffers. A call made while this thread's buffers are in use (the function
called again from a hook, a float-error callback or a finalizer) gets buffers of its own.
The workspace is runtime state: the disk cache stores only the code, and a workspace is
freed with its entry (evicted, cleared, or its function collected) or with its thread.
"""

from __future__ import annotations

import heapq
import threading

import numpy as np

from ..float_errors import quietly

PARAMETER = "workspace"


class Slots:
    """Workspace slots handed out by lifetime: a slot is free again after the last statement
    that reads its buffer (or a view of it), for a later buffer of the same shape and dtype."""

    def __init__(self) -> None:
        self.types: list[tuple[tuple[int, ...], object]] = []  # (shape, symgrad dtype) per slot
        self.names: list[str] = []  # the generated function's name of each slot
        self._free: dict[tuple, list[int]] = {}
        self._busy: list[tuple[int, int]] = []  # (last statement reading it, slot)

    def take(self, shape: tuple[int, ...], dtype, at: int, end: int, namer) -> int:
        """A slot for a buffer written at statement ``at`` and read until statement ``end``
        (``namer`` names a new slot ``w0``, ``w1``, ... beside the function's other names)."""
        while self._busy and self._busy[0][0] < at:
            _, slot = heapq.heappop(self._busy)
            heapq.heappush(self._free.setdefault(self.types[slot], []), slot)
        free = self._free.get((shape, dtype))
        if free:
            slot = heapq.heappop(free)
        else:
            slot = len(self.types)
            self.types.append((shape, dtype))
            self.names.append(namer.unique(f"w{slot}"))
        heapq.heappush(self._busy, (end, slot))
        return slot

    def layout_text(self, function_name: str) -> str:
        """The module constant naming the slots' shapes and dtypes, one slot a line."""
        lines = [f"{function_name}_{PARAMETER} = ("]
        for name, (shape, dtype) in zip(self.names, self.types, strict=True):
            lines.append(f"    ({shape!r}, np.{dtype.numpy.name}),  # {name}")
        return "\n".join(lines + [")"])


def unpack_line(function_name: str, names: list[str]) -> str:
    """The generated function's first line: its slots, from the ``workspace`` argument or
    allocated for this call."""
    targets = ", ".join(names) if len(names) > 1 else f"({names[0]},)"
    return f"{targets} = {PARAMETER} or [np.empty(*slot) for slot in {function_name}_{PARAMETER}]"


def layouts(module) -> dict[str, tuple]:
    """Per generated function of ``module`` that has a workspace, its (shape, dtype) slots."""
    found = {}
    for name in ("forward", "backward", "forward_backward"):
        layout = getattr(module, f"{name}_{PARAMETER}", None)
        if layout:
            found[name] = layout
    return found


def allocate(layout) -> list[np.ndarray]:
    """One set of buffers for a layout."""
    return [np.empty(shape, dtype) for shape, dtype in layout]


def bind(module, name: str):
    """``module.<name>`` as symgrad calls it: under numpy's ignoring error state
    (``float_errors.quietly``), with this thread's buffers when it has a workspace.
    ``.buffers()`` on the result gives the calling thread's idle buffers (None before its
    first call): what tests look at."""
    function = getattr(module, name)
    layout = getattr(module, f"{name}_{PARAMETER}", None)
    if not layout:
        return quietly(function)
    local = threading.local()

    def call(*args):
        buffers = getattr(local, "buffers", None)
        if buffers is None:
            # this thread's first call, or a call nested in one that holds its buffers
            buffers = allocate(layout)
        else:
            local.buffers = None
        try:
            return function(*args, buffers)
        finally:
            local.buffers = buffers

    call.__name__ = call.__qualname__ = name
    quiet = quietly(call)
    quiet.__wrapped__ = function
    quiet.buffers = lambda: getattr(local, "buffers", None)
    return quiet


def nbytes(layout) -> int:
    """Bytes of one set of buffers."""
    total = 0
    for shape, dtype in layout:
        total += int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    return total


def size_text(count: int) -> str:
    """Bytes as people read them: ``512 bytes``, ``390.6 KiB``, ``3.8 MiB``."""
    if count < 1024:
        return f"{count} bytes"
    value, unit = count / 1024, "KiB"
    for larger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{value:.1f} {unit}"
