"""What the compiler logs, through the standard ``logging`` module.

Each channel is a logger under ``symgrad.compile``, configured like any other logger:

- ``symgrad.compile.recompiles``: why a function compiled again (INFO).
- ``symgrad.compile.code``: the generated module of each compile (DEBUG).
- ``symgrad.compile.graph``: the simplified graph of each compile (DEBUG).
- ``symgrad.compile.timing``: each compile phase as it ends (DEBUG; INFO once the compile has
  taken longer than ``SLOW_COMPILE_SECONDS``, so that slow compiles say where they are).
- ``symgrad.compile.cache``: the persistent compile cache's warnings (a bad entry ignored, an
  unsafe directory refused).

>>> import logging
>>> logging.basicConfig()
>>> logging.getLogger("symgrad.compile.recompiles").setLevel(logging.INFO)

``SYMGRAD_LOGS=recompiles,code`` (or ``all``) is a shortcut: ``configure`` at import time,
which shows those channels on stderr.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable

CHANNELS = ("recompiles", "code", "graph", "timing", "cache")
SLOW_COMPILE_SECONDS = 1.0

recompiles = logging.getLogger("symgrad.compile.recompiles")
code = logging.getLogger("symgrad.compile.code")
graph = logging.getLogger("symgrad.compile.graph")
timing = logging.getLogger("symgrad.compile.timing")

_root = logging.getLogger("symgrad")
_handler: logging.Handler | None = None


def configure(channels: str | Iterable[str]) -> None:
    """Show these channels (names from ``CHANNELS``, or ``"all"``; a string is split at commas)
    on stderr, each line prefixed ``[symgrad]``. This is what ``SYMGRAD_LOGS`` does."""
    global _handler
    if isinstance(channels, str):
        channels = channels.split(",")
    names = [c.strip() for c in channels if c.strip()]
    if "all" in names:
        names = list(CHANNELS)
    unknown = [n for n in names if n not in CHANNELS]
    if unknown:
        raise ValueError(
            f"unknown symgrad log channel {unknown[0]!r}; the channels are "
            f"{', '.join(CHANNELS)} (or all)"
        )
    for name in names:
        logging.getLogger(f"symgrad.compile.{name}").setLevel(logging.DEBUG)
    if names and _handler is None:
        _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter("[symgrad] %(message)s"))
        _root.addHandler(_handler)


def phase_done(function: str, phase: str, seconds: float, total: float) -> None:
    """Log one finished compile phase; at INFO once the compile is slow."""
    level = logging.INFO if total > SLOW_COMPILE_SECONDS else logging.DEBUG
    if timing.isEnabledFor(level):
        timing.log(
            level,
            "compiling %s: %s took %.3f s (%.3f s so far)",
            function,
            phase,
            seconds,
            total,
        )


def configure_from_environment() -> None:
    """Apply ``SYMGRAD_LOGS`` (a typo warns instead of failing ``import symgrad``)."""
    value = os.environ.get("SYMGRAD_LOGS", "")
    try:
        configure(value)
    except ValueError as error:
        warnings.warn(f"SYMGRAD_LOGS: {error}", RuntimeWarning, stacklevel=2)
