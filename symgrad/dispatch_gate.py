"""The one flag the eager op shortcuts read first.

``general`` is True while something in the process needs every op call to take the general
dispatch: a profiler recording, or a trace active in any thread. The shortcuts then step aside
and the general path reads the precise state (the profiler's, the calling thread's trace).
Reading one module attribute costs a fraction of reading the thread-local trace state, and
every op call reads it.
"""

from __future__ import annotations

import threading

general = False

_lock = threading.Lock()
_holders = {"profiler": 0, "trace": 0}


def hold(reason: str, count: int) -> None:
    """Add ``count`` (negative to release) holders for ``reason``; ``general`` follows."""
    global general
    with _lock:
        _holders[reason] += count
        general = any(_holders.values())
