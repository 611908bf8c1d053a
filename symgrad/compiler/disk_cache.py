"""The persistent compile cache: what the stages after tracing built, on disk.

Tracing always runs (it is cheap); the graph it produced is hashed (structure, shapes,
dtypes, constants, attributes, the user's source lines, what is differentiated, the backend
and its options, and the versions of symgrad, numpy, Python and the backend's compiler), and
the rewrites, SymPy, scheduling and rendering are looked up under that hash. A changed
function traces to a different graph, hence a different key: it can never hit a stale entry.

Where: ``SYMGRAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/symgrad``, else ``~/.cache/symgrad``;
``SYMGRAD_CACHE=0`` turns it off. Generated code is executed, so a directory that another user
could write into is refused (with a warning) and compiles stay in memory.

One entry is one JSON file named by its key, written to a temporary file and renamed into
place (``os.replace`` is atomic), so concurrent processes never see half an entry; it carries
the SHA-256 of its payload and the versions it was built with, and a corrupt, truncated or
foreign entry is ignored with a warning on the ``symgrad.compile.cache`` logger and rebuilt.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.util
import io
import json
import logging
import marshal
import math
import os
import stat
import sys
import tempfile
import threading
import types
import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np

from .. import dtypes
from ..ir.graph import CONST, Node, toposort
from ..ops.indexing import Index
from ..tensor import Tensor
from ..version import __version__
from . import templates_dir

FORMAT = 1
ENTRY_SUFFIX = ".json"
log = logging.getLogger("symgrad.compile.cache")

_warned_directories: set[str] = set()
_lock = threading.Lock()


# ------------------------------------------------------------------------------ directory


def default_directory() -> str:
    """``$XDG_CACHE_HOME/symgrad`` or ``~/.cache/symgrad``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "symgrad")


def configured_directory() -> str | None:
    """The directory the environment asks for (None when ``SYMGRAD_CACHE=0``)."""
    if os.environ.get("SYMGRAD_CACHE", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    return os.path.abspath(os.environ.get("SYMGRAD_CACHE_DIR") or default_directory())


def unsafe_reason(path: str) -> str | None:
    """Why ``path`` must not hold code this process executes (None when it is safe): it
    belongs to another user, or others than its owner may write into it."""
    info = os.stat(path)
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return f"it belongs to user id {info.st_uid}, not to this user ({os.getuid()})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"other users can write into it (mode {stat.filemode(info.st_mode)})"
    return None


def directory() -> str | None:
    """The cache directory to use now, created (mode 0700) when missing; None when the cache
    is off, cannot be created, or is unsafe (then a warning says so, once per directory)."""
    path = configured_directory()
    if path is None:
        return None
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        reason = unsafe_reason(path)
    except OSError as error:
        reason = f"it cannot be used ({error})"
    if reason is None:
        return path
    if path not in _warned_directories:
        _warned_directories.add(path)
        message = (
            f"symgrad: not using the compile cache directory {path}: {reason}. Generated code "
            "is executed from it, so compiled functions stay in memory only.\nsymgrad hint: "
            f"chmod 700 {path}, or set SYMGRAD_CACHE_DIR to a directory of your own "
            "(SYMGRAD_CACHE=0 turns the disk cache off)."
        )
        log.warning(message)
        warnings.warn(message, UserWarning, stacklevel=4)
    return None


# ------------------------------------------------------------------------------- versions


@cache
def _source_fingerprint() -> str:
    """Size and modification time of symgrad's own source files and templates: a checkout
    edited without a version bump gets new keys too."""

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digest = hashlib.sha256()
    for root in (package, templates_dir()):
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".j2")):
                    info = os.stat(os.path.join(folder, name))
                    digest.update(f"{folder}/{name}:{info.st_size}:{info.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def versions(extra: dict | None = None) -> dict:
    """What an entry was built with; an entry built with anything else is foreign."""

    found = {
        "format": str(FORMAT),
        "symgrad": __version__,
        "symgrad_source": _source_fingerprint(),
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }
    found.update(extra or {})
    return found


# ------------------------------------------------------------------------------------ key


class Uncacheable(Exception):
    """The traced graph holds something without a stable text (the build stays in memory)."""


def _canonical(value) -> str:
    """A text that two processes give for equal attribute values, and for nothing else."""
    if value is None or isinstance(value, (bool, str)):
        return repr(value)
    if isinstance(value, (int, np.integer)):
        return f"i{int(value)}"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return f"f{value!r}" if math.isfinite(value) else f"f{value}"
    if isinstance(value, complex):
        return f"c{value!r}"
    if isinstance(value, dtypes.dtype):
        return f"dtype:{value.name}"
    if isinstance(value, np.dtype):
        return f"npdtype:{value.str}"
    if isinstance(value, slice):
        return f"slice({_canonical(value.start)},{_canonical(value.stop)},{_canonical(value.step)})"
    if value is Ellipsis:
        return "..."
    if isinstance(value, np.ndarray):
        data = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
        return f"array({value.dtype.str},{value.shape},{data})"
    if isinstance(value, Index):
        return f"Index{_canonical(value.items)}"
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__}({','.join(_canonical(v) for v in value)})"
    if isinstance(value, dict):
        items = ",".join(f"{_canonical(k)}:{_canonical(v)}" for k, v in value.items())
        return f"dict({items})"
    raise Uncacheable(f"a {type(value).__name__} attribute")


def _node_text(node: Node, numbers: dict[int, int]) -> str:
    where = node.provenance
    provenance = ""
    if where is not None:
        provenance = f"{where.filename}:{where.line}:{where.grad}:{where.source}"
    if node.kind == CONST:
        body = f"{_canonical(node.value)}"
    elif node.op is not None:
        inputs = ",".join(str(numbers[i.id]) for i in node.inputs)
        attrs = ",".join(f"{k}={_canonical(v)}" for k, v in node.attrs)
        body = f"{node.op.name}({inputs})[{attrs}]"
    else:
        body = repr(node.name)
    dtype = "none" if node.dtype is None else node.dtype.name
    return f"{node.kind} {body} {dtype}{list(node.shape)} @{provenance}\n"


def graph_key(roots: list[Node], leaves: list[Node], facts: dict) -> str:
    """The SHA-256 of the graph reaching ``roots`` (plus ``leaves``, in their order: inputs and
    captured values, used or not) and of ``facts`` (what is differentiated, the backend and
    its options, the versions): the disk cache's key.

    Raises ``Uncacheable`` for an attribute without a stable text."""
    digest = hashlib.sha256()
    numbers: dict[int, int] = {}
    for node in toposort(list(leaves) + list(roots)):
        numbers[node.id] = len(numbers)
        digest.update(_node_text(node, numbers).encode())
    digest.update(("roots " + ",".join(str(numbers[n.id]) for n in roots) + "\n").encode())
    digest.update(("leaves " + ",".join(str(numbers[n.id]) for n in leaves) + "\n").encode())
    digest.update(_canonical(sorted(facts.items())).encode())
    return digest.hexdigest()


def array_text(value) -> dict:
    """A captured constant (numpy array or Tensor) as JSON-able text (``.npy`` in base64)."""

    if isinstance(value, Tensor) and not value._is_symbolic and not value._requires_grad:
        kind, data = "tensor", value._data
    elif isinstance(value, np.ndarray):
        kind, data = "ndarray", value
    else:
        raise Uncacheable(f"a captured {type(value).__name__} made after tracing")
    if data.dtype.hasobject:
        raise Uncacheable("a captured object array")
    buffer = io.BytesIO()
    np.save(buffer, data, allow_pickle=False)
    return {"kind": kind, "npy": base64.b64encode(buffer.getvalue()).decode("ascii")}


def array_from_text(text: dict):
    """The value ``array_text`` wrote."""

    data = np.load(io.BytesIO(base64.b64decode(text["npy"])), allow_pickle=False)
    if text["kind"] == "tensor":
        return Tensor._wrap(data)
    if text["kind"] != "ndarray":
        raise ValueError(f"unknown captured kind {text['kind']!r}")
    return data


# ---------------------------------------------------------------------------- load, store


def _entry_path(folder: str, key: str) -> str:
    return os.path.join(folder, key + ENTRY_SUFFIX)


def load(key: str, expected_versions: dict) -> dict | None:
    """The payload stored under ``key``, or None (missing, cache off, or a bad entry: then a
    warning is logged and the caller rebuilds and overwrites it)."""
    folder = directory()
    if folder is None:
        return None
    path = _entry_path(folder, key)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        log.warning("symgrad cache: cannot read %s (%s); rebuilding it", path, error)
        return None
    try:
        entry = json.loads(raw)
        payload_text = entry["payload"]
        if hashlib.sha256(payload_text.encode()).hexdigest() != entry["sha256"]:
            raise ValueError("its content does not match its hash")
        if entry["key"] != key:
            raise ValueError(f"it holds key {entry['key']!r}")
        if entry["versions"] != expected_versions:
            raise ValueError(f"it was built by other versions ({entry['versions']})")
        payload = json.loads(payload_text)
        if not isinstance(payload, dict):
            raise ValueError("its payload is not a mapping")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("symgrad cache: ignoring the entry %s: %s; rebuilding it", path, error)
        return None
    return payload


def store(key: str, payload: dict, entry_versions: dict) -> str | None:
    """Write ``payload`` under ``key`` atomically (a temporary file renamed into place); the
    path, or None when the cache is off or the write failed (logged, never raised)."""
    folder = directory()
    if folder is None:
        return None
    payload_text = json.dumps(payload, sort_keys=True)
    entry = {
        "format": FORMAT,
        "key": key,
        "versions": entry_versions,
        "sha256": hashlib.sha256(payload_text.encode()).hexdigest(),
        "payload": payload_text,
    }
    return write_atomic(_entry_path(folder, key), json.dumps(entry).encode())


def write_atomic(path: str, data: bytes) -> str | None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and
    ``os.replace``: readers see the old file or the whole new one, never a part."""
    folder = os.path.dirname(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        log.warning("symgrad cache: cannot write %s (%s); the entry stays in memory", path, error)
        return None
    return path


def import_module(key: str, source: str, module_name: str):
    """The generated module ``source`` imported from a real file of the cache directory
    (``modules/<module_name>.py``, written if missing or different), so that its bytecode is
    kept for the next process and backends that cache their own compiled code next to its
    file (Numba's ``cache=True``) can. None when the cache is off or the file cannot be
    written."""
    folder = directory()
    if folder is None:
        return None
    return import_module_from(os.path.join(folder, "modules"), source, module_name)


def import_module_from(folder: str, source: str, module_name: str):
    """``source`` imported from ``folder/<module_name>.py`` (written if missing or different,
    atomically) and registered in ``sys.modules``; None when the file cannot be written."""
    path = os.path.join(folder, module_name + ".py")
    try:
        with open(path, encoding="utf-8") as f:
            current = f.read()
    except OSError:
        current = None
    if current != source:
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError as error:
            log.warning("symgrad cache: cannot create %s (%s)", folder, error)
            return None
        if write_atomic(path, source.encode("utf-8")) is None:
            return None
    module = types.ModuleType(module_name)
    module.__file__ = path
    sys.modules[module_name] = module
    try:
        exec(_code(path, source), module.__dict__)  # noqa: S102 - our own source, checked
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _code(path: str, source: str):
    """The compiled ``source`` of ``path``, through a bytecode file beside it that holds the
    interpreter's magic number and the source's SHA-256 (Python's own ``__pycache__`` is not
    written under ``PYTHONDONTWRITEBYTECODE``, and we check the content, not a timestamp)."""
    header = importlib.util.MAGIC_NUMBER + hashlib.sha256(source.encode("utf-8")).digest()
    cached = f"{path[:-3]}.{sys.implementation.cache_tag}.bytecode"
    try:
        with open(cached, "rb") as f:
            data = f.read()
        if data.startswith(header):
            return marshal.loads(data[len(header) :])
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = compile(source, path, "exec")
    write_atomic(cached, header + marshal.dumps(code))
    return code


# ----------------------------------------------------------------------------- info, clear


@dataclass
class DiskCacheInfo:
    """What ``symgrad.cache.info()`` returns."""

    directory: str | None
    enabled: bool
    entries: int
    bytes: int
    reason: str | None = None

    def __str__(self) -> str:
        if not self.enabled:
            return f"symgrad disk cache: off ({self.reason})"
        return (
            f"symgrad disk cache: {self.directory}: {self.entries} entries, "
            f"{self.bytes / 1024:.1f} KiB"
        )

    __repr__ = __str__


def info() -> DiskCacheInfo:
    """The disk cache's directory, whether it is used, and its entry count and size."""
    path = configured_directory()
    if path is None:
        return DiskCacheInfo(None, False, 0, 0, "SYMGRAD_CACHE=0")
    folder = directory()
    if folder is None:
        return DiskCacheInfo(path, False, 0, 0, "the directory is missing or unsafe")
    entries, size = 0, 0
    for folder_path, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                size += os.stat(os.path.join(folder_path, name)).st_size
                entries += folder_path == folder and name.endswith(ENTRY_SUFFIX)
    return DiskCacheInfo(folder, True, entries, size)


def clear() -> int:
    """Delete every entry (and generated module) of the disk cache; the number of entries
    deleted. Compiled functions already in memory keep working."""
    folder = directory()
    if folder is None:
        return 0
    removed = 0
    with _lock:
        for folder_path, subfolders, files in os.walk(folder, topdown=False):
            for name in files:
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder_path, name))
                    removed += folder_path == folder and name.endswith(ENTRY_SUFFIX)
            for name in subfolders:
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(folder_path, name))
    return removed
