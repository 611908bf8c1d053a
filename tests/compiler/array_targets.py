"""Where the differential suites run compiled code: a backend and the array library it is
called with. ``numpy`` is the default backend on numpy arrays; the others are the
``array_api`` backend on arrays of one library (array-api-strict checks conformance to the
2023.12 standard). A target whose library is missing is skipped with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pytest
from extras import missing

from symgrad.compiler import codegen


@dataclass(frozen=True)
class Target:
    name: str
    backend: str
    library: str | None  # the module to import, None for the numpy backend

    def skip_reason(self) -> str | None:
        if self.backend == "numba":
            return missing("numba")
        if self.backend == "array_api":
            return missing("array_api_compat") or (self.library and missing(self.library))
        return None

    def to_array(self, value):
        """A numpy array (or a static value) as this target's array."""
        if not isinstance(value, np.ndarray) or self.library is None:
            return value
        if self.library == "array_api_strict":
            import array_api_strict

            array_api_strict.set_array_api_strict_flags(api_version="2023.12")
            return array_api_strict.asarray(value)
        if self.library == "torch":
            import torch

            return torch.asarray(value)
        if self.library == "dask.array":
            import dask.array as da

            return da.from_array(value, chunks=tuple(max(1, -(-n // 2)) for n in value.shape))
        if self.library == "cupy":
            import cupy

            return cupy.asarray(value)
        return value

    def to_numpy(self, value):
        """A result of this target as a numpy array (computed, moved to the host)."""
        if hasattr(value, "compute"):
            value = value.compute(scheduler="sync")
        if self.library == "torch":
            return value.numpy()
        if self.library == "cupy":
            return value.get()
        if self.library == "array_api_strict":
            return np.from_dlpack(value)
        return np.asarray(value)

    def is_native(self, value) -> bool:
        """Whether a result has this target's array type (the compiled function returns the
        arrays it was called with)."""
        if self.library in (None, "numpy"):
            return isinstance(value, np.ndarray)
        module = type(value).__module__.split(".")[0]
        return module == self.library.split(".")[0]


NUMPY = Target("numpy", "numpy", None)
STRICT = Target("array_api-strict", "array_api", "array_api_strict")
ARRAY_API_TARGETS = [
    STRICT,
    Target("array_api-numpy", "array_api", "numpy"),
    Target("array_api-torch", "array_api", "torch"),
    Target("array_api-dask", "array_api", "dask.array"),
]
CUPY = Target("array_api-cupy", "array_api", "cupy")
# The fused-loop backend, on numpy arrays like the numpy backend.
NUMBA = Target("numba", "numba", None)


def param(target: Target, dtype=None):
    """``pytest.param(target)`` (``(dtype, target)`` when a dtype is given), skipped with the
    reason when its library is missing."""
    reason = target.skip_reason()
    marks = [pytest.mark.skip(reason=reason)] if reason else []
    if dtype is None:
        return pytest.param(target, id=target.name, marks=marks)
    values = (dtype, target)
    return pytest.param(*values, id=f"{np.dtype(dtype).name}-{target.name}", marks=marks)


# What a library's array API namespace lacks (array-api-compat's wrappers): calling the
# generated code raises these there, as documented in the README note.
LIBRARY_GAPS = {
    "dask.array": [
        (AttributeError, r"linalg' has no attribute '(det|inv)'"),  # optional extension
        (NotImplementedError, r"Dask's reshape only supports"),  # uneven splits of a chunk
        (ModuleNotFoundError, r"No module named 'scipy'"),  # its linalg.inv needs SciPy
    ],
}


def is_library_gap(target: Target, error: BaseException) -> bool:
    return any(
        isinstance(error, kind) and re.search(pattern, str(error))
        for kind, pattern in LIBRARY_GAPS.get(target.library, ())
    )


_NO_SPELLING = re.compile(r"op '(\w+)' has no spelling in backend 'array_api'")


def unspelled_op(error: BaseException) -> str | None:
    """The op a compile error says the array_api backend cannot write (None otherwise)."""
    if not isinstance(error, codegen.CodegenError):
        return None
    match = _NO_SPELLING.search(str(error))
    return match.group(1) if match else None


def assert_not_in_the_standard(error: BaseException) -> None:
    """``error`` is the compile-time error for an op the backend documents as unspelled."""
    from symgrad.compiler.backends import array_api_spellings

    op = unspelled_op(error)
    if op is None:
        raise error
    assert op in array_api_spellings.NOT_SPELLED, f"{op} has no spelling and no reason: {error}"
