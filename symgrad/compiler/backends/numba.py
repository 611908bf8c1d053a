"""The ``"numba"`` backend: elementwise clusters as fused ``@numba.njit`` loops, numpy between.

Generated functions are the numpy backend's, except that the scheduler groups elementwise
ops over one iteration space (and full sums of them) into loop kernels (``loops.py``), each
rendered through ``templates/numba_kernel.py.j2`` with one statement per node and the user's
line as its comment. Matmul, views, gathers and per-axis reductions stay numpy calls.

Kernels are compiled with ``cache=True`` and ``error_model="numpy"`` (division by zero gives
inf/nan, as numpy). Numba caches compiled code next to the module's file, so the module is
always loaded from a real file: the persistent compile cache's (``disk_cache``), whose key is
the traced graph's hash, or a private temporary directory when that cache is off.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
import threading

import numba  # noqa: F401 - the backend needs it: a missing Numba fails here, naming the extra

from .. import codegen, disk_cache, loops
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

    def cache_versions(self) -> dict[str, str]:
        return {
            "numba": importlib.metadata.version("numba"),
            "llvmlite": importlib.metadata.version("llvmlite"),
        }

    def cache_options(self) -> dict[str, object]:
        return {"libm_in_numpy": loops.LIBM_IN_NUMPY, "small": loops.SMALL}

    def load(self, source: str, name: str):
        """From a real file in a private directory (Numba's ``cache=True`` needs one)."""
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:20]
        module_name = codegen.sanitize(f"{codegen.MODULE_PREFIX}{name}_{digest}")
        module = disk_cache.import_module_from(_private_directory(), source, module_name)
        if module is None:
            raise RuntimeError(f"symgrad: cannot write the generated module of {name} to disk")
        return module


os.environ.setdefault("NUMBA_DISABLE_PERFORMANCE_WARNINGS", "1")
