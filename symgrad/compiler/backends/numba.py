"""The ``"numba"`` backend: elementwise clusters as fused ``@numba.njit`` loops, numpy between.

Generated functions are the numpy backend's, except that the scheduler groups elementwise
ops over one iteration space (with lower-rank operands broadcast in, sums over all or some
axes as accumulators, step-1 slice backwards as offset writes) into loop kernels
(``loops.py``), each rendered through ``templates/numba_kernel.py.j2`` with one statement per
node and the user's line as its comment. Matmul, views, gathers and other reductions stay
numpy calls, written into the entry's workspace where they are large (``workspace``). A
cluster of more than ``numba_tape.TAPE_OPS`` ops is a tape kernel instead (``numba_tape``):
the same numbers from a kernel that compiles in about half a second whatever its size.

Kernels are compiled with ``cache=True`` and ``error_model="numpy"`` (division by zero gives
inf/nan, as numpy). Numba caches compiled code next to the module's file, so the module is
always loaded from a real file: the persistent compile cache's (``disk_cache``), whose key is
the traced graph's hash, or a private temporary directory when that cache is off; Numba's
own cache files go beside it (``__pycache__``), so they follow ``SYMGRAD_CACHE_DIR``,
``SYMGRAD_CACHE=0`` and the refusal of a directory others can write into, and a corrupt one
is compiled again (``prepare``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading

import llvmlite
import numba  # the backend needs it: a missing Numba fails here, naming the extra
from numba.core import caching

from .. import codegen, disk_cache, loops
from . import numba_tape
from .numpy import NumpyBackend

_private = threading.Lock()
_private_dir: list[str] = []


def _private_directory() -> str:
    """A directory only this process writes (mode 0700), for modules when the cache is off."""
    with _private:
        if not _private_dir:
            _private_dir.append(tempfile.mkdtemp(prefix="symgrad-numba-"))
        return _private_dir[0]


class NumbaBackend(NumpyBackend):
    """numpy arrays in and out; fused elementwise loops compiled by Numba."""

    name = "numba"
    template = "numba.py.j2"
    imports = ("import math", "import numba", "import numpy as np")
    extra = "numba"

    def writes_into(self, op) -> bool:
        # Statements between kernels allocate; the loops themselves write only their outputs.
        return False

    def schedule_statements(
        self, function_name, order, results, param_ids, namer, role, helpers, workspace=None
    ):
        return loops.statements(
            self, function_name, order, results, param_ids, namer, role, helpers, workspace
        )

    def render_cluster(
        self, cluster, name, names, outputs, comment, notes, buffers
    ) -> loops.Kernel:
        """A cluster's kernel: its own statements, or a tape (``numba_tape``) when the cost
        model says that kernel would take too long to compile (the reason goes in ``notes``,
        which ``explain()`` shows). ``buffers``: the workspace slots of its outputs."""
        why = numba_tape.decide(cluster)
        if why is None:
            return loops.render_kernel(cluster, name, names, outputs, comment, buffers)
        notes.append(f"{name}: {why}")
        return numba_tape.render(cluster, name, names, outputs, comment, buffers)

    def cache_versions(self) -> dict[str, str]:
        return {
            # the modules' own versions: importlib.metadata takes 4 ms each (a warm start's
            # budget is 50 ms)
            "numba": numba.__version__,
            "llvmlite": llvmlite.__version__,
        }

    def cache_options(self) -> dict[str, object]:
        return {
            **loops.cache_options(),
            "tape": numba_tape.mode(),
            "tape_ops": numba_tape.TAPE_OPS,
        }

    def prepare(self, module):
        """The module's kernels with Numba's cache made safe: a corrupt or truncated cache
        file (Numba's index and code are pickles, read without a check) is logged, removed
        and compiled again, never a crash."""
        for value in vars(module).values():
            cache = getattr(value, "_cache", None)
            if isinstance(cache, caching.Cache) and not getattr(cache, "_symgrad_safe", False):
                _guard(cache)
        return module

    def load(self, source: str, name: str):
        """From a real file in a private directory (Numba's ``cache=True`` needs one)."""
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:20]
        module_name = codegen.sanitize(f"{codegen.MODULE_PREFIX}{name}_{digest}")
        module = disk_cache.import_module_from(_private_directory(), source, module_name)
        if module is None:
            raise RuntimeError(f"symgrad: cannot write the generated module of {name} to disk")
        return module


def _guard(cache: caching.Cache) -> None:
    """Wrap ``cache``'s load and save so that a bad file there means a compile, not an error."""
    load, save = cache.load_overload, cache.save_overload

    def discard(error: Exception) -> None:
        disk_cache.log.warning(
            "symgrad cache: ignoring Numba's cached code in %s (%s: %s); compiling it again",
            cache.cache_path,
            type(error).__name__,
            error,
        )
        index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
        if index is not None:
            with contextlib.suppress(OSError):
                os.unlink(index)

    def load_overload(sig, target_context):
        try:
            return load(sig, target_context)
        except Exception as error:  # noqa: BLE001 - any bad file is rebuilt, never trusted
            discard(error)
            return None

    def save_overload(sig, data):
        try:
            save(sig, data)
        except Exception as error:  # noqa: BLE001 - the kernel works; only its cache is lost
            discard(error)

    cache.load_overload, cache.save_overload = load_overload, save_overload
    cache._symgrad_safe = True


os.environ.setdefault("NUMBA_DISABLE_PERFORMANCE_WARNINGS", "1")
