"""Cache keys, recompile reasons, what ``cache_info()`` reports, and ``symgrad.cache``.

``symgrad.cache.info()`` and ``symgrad.cache.clear()`` report on and empty the persistent
cache on disk (``disk_cache``), which every compiled function shares.

In memory, a key is the argument structure plus, per leaf, (shape, dtype, requires_grad) for
arrays and the value for static (hashable) leaves, plus grad mode and the backend's name.
Building it is one pass over the leaves; a hit is one dict lookup. Every miss after the first
records why, as a diff against the closest existing key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..tensor import Tensor
from . import disk_cache, display
from .pytree import describe


def info() -> disk_cache.DiskCacheInfo:
    """The persistent compile cache: its directory, whether it is used, entries and bytes.

    ``SYMGRAD_CACHE_DIR`` chooses the directory (default ``$XDG_CACHE_HOME/symgrad`` or
    ``~/.cache/symgrad``), ``SYMGRAD_CACHE=0`` turns it off."""
    return disk_cache.info()


def clear() -> int:
    """Empty the persistent compile cache; the number of entries removed."""
    return disk_cache.clear()


def leaf_spec(leaf, index: int, function_name: str, path: str, backend=None):
    """What of one leaf the compiled code depends on; ``backend`` says which other values
    are arrays (numpy arrays when None)."""
    if isinstance(leaf, Tensor):
        if leaf._is_symbolic:
            return ("traced", leaf._data.shape, leaf._data.dtype.name)
        data = leaf._data
        return ("tensor", data.shape, data.dtype, leaf._requires_grad)
    if isinstance(leaf, np.ndarray):
        return ("array", leaf.shape, leaf.dtype)
    if backend is not None and backend.is_array(leaf):
        shape, dtype = backend.array_type(leaf)
        return ("array", tuple(shape), np.dtype(dtype))
    if not isinstance(leaf, np.generic) and any(
        hasattr(leaf, protocol)
        for protocol in ("__array_namespace__", "__dlpack__", "__dask_graph__")
    ):
        # An array of another library (torch, Dask, CuPy, JAX ...) is not a static value.
        raise TypeError(
            f"symgrad.compile: backend {backend.name if backend else 'numpy'!r} does not take "
            f"{type(leaf).__module__}.{type(leaf).__qualname__} arguments (argument "
            f"{path or index!s} of {function_name})\nsymgrad hint: compile with "
            'backend="array_api" to run on torch, Dask, CuPy and other array-API arrays'
        )
    try:
        hash(leaf)
    except TypeError:
        raise ValueError(
            f"Non-hashable static arguments are not supported, as this can lead to unexpected "
            f"cache-misses. Static argument {path or index!s} of type {type(leaf).__name__} for "
            f"function {function_name} is non-hashable.\nsymgrad hint: pass arrays as symgrad "
            "tensors or numpy arrays, and other values as hashable Python values (tuples, "
            "numbers, strings)."
        ) from None
    return ("static", type(leaf), leaf)


def _spec_text(spec) -> str:
    kind = spec[0]
    if kind == "static":
        return f"{spec[2]!r}"
    return f"{kind} {np.dtype(spec[2]).name if kind != 'traced' else spec[2]}{list(spec[1])}"


def diff_keys(new, old, paths: list[str]) -> list[str]:
    """Human-readable differences between two keys (new vs old)."""
    new_structure, new_specs, new_mode, *new_backend = new
    old_structure, old_specs, old_mode, *old_backend = old
    reasons = []
    if new_backend != old_backend:
        reasons.append(f"backend {old_backend[0]!r} -> {new_backend[0]!r}")
    if new_structure != old_structure or len(new_specs) != len(old_specs):
        reasons.append(f"argument structure {describe(old_structure)} -> {describe(new_structure)}")
        return reasons
    for path, a, b in zip(paths, new_specs, old_specs, strict=True):
        if a == b:
            continue
        name = path or "argument"
        if a[0] != b[0]:
            reasons.append(f"arg {name!r}: {_spec_text(b)} -> {_spec_text(a)}")
            continue
        if a[0] == "static":
            reasons.append(f"arg {name!r}: value {b[2]!r} -> {a[2]!r}")
            continue
        if a[1] != b[1]:
            reasons.append(f"arg {name!r}: shape {tuple(b[1])} -> {tuple(a[1])}")
        if a[2] != b[2]:
            reasons.append(f"arg {name!r}: dtype {np.dtype(b[2]).name} -> {np.dtype(a[2]).name}")
        if len(a) > 3 and a[3] != b[3]:
            reasons.append(f"arg {name!r}: requires_grad {b[3]} -> {a[3]}")
    if new_mode != old_mode:
        reasons.append(
            f"grad mode {'enabled' if old_mode else 'disabled'} -> "
            f"{'enabled' if new_mode else 'disabled'}"
        )
    return reasons


def closest_reasons(key, keys, paths) -> list[str]:
    """The diff against the existing key that differs least."""
    best = None
    for old in keys:
        reasons = diff_keys(key, old, paths)
        if best is None or len(reasons) < len(best):
            best = reasons
    return best or ["no previous key"]


@dataclass
class EntryInfo:
    """One line of ``cache_info()``."""

    key: str
    hits: int
    compile_seconds: dict
    reason: str | None = None


@dataclass
class CacheInfo:
    """What ``fn.cache_info()`` returns: the entries and each recompile's reason."""

    function: str
    entries: list[EntryInfo] = field(default_factory=list)
    recompile_reasons: list[str] = field(default_factory=list)

    @property
    def misses(self) -> int:
        return len(self.entries)

    @property
    def hits(self) -> int:
        return sum(e.hits for e in self.entries)

    def __str__(self) -> str:
        lines = [
            f"cache of {self.function}: {len(self.entries)} entries, {self.hits} hits, "
            f"{self.misses} misses"
        ]
        for i, entry in enumerate(self.entries):
            total = sum(entry.compile_seconds.values()) * 1000
            lines.append(f"  [{i}] {entry.key}  hits={entry.hits}  compile={total:.1f} ms")
            phases = ", ".join(
                f"{phase} {seconds * 1000:.1f}" for phase, seconds in entry.compile_seconds.items()
            )
            lines.append(f"      ms per phase: {phases}")
            if entry.reason:
                lines.append(f"      recompiled because {entry.reason}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The entries as an HTML table (Jupyter)."""
        return display.cache_info_html(self)


def key_text(key, paths) -> str:
    """The key as one line; a backend other than numpy is named at the end."""
    _, specs, mode, *backend = key
    parts = [
        f"{p or i}: {_spec_text(s)}" for i, (p, s) in enumerate(zip(paths, specs, strict=True))
    ]
    on = f" [backend {backend[0]}]" if backend and backend[0] != "numpy" else ""
    return "(" + ", ".join(parts) + f"){'' if mode else ' [no_grad]'}{on}"
