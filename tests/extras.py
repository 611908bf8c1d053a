"""The optional packages some tests need, and the one line such a test skips with when its
package is missing: what the package is for and how to install it.

CI installs every one of them (``pip install '.[test]'``, the local torch 2.13.0 wheel and
Graphviz's programs) except two: jax (``.[bench]``, the benchmarks' jax.jit column) and CuPy
(it needs an NVIDIA GPU); their tests skip there, with these lines.
"""

from __future__ import annotations

import importlib.util

import pytest

INSTALL = {
    "torch": "the PyTorch oracle needs torch: pip install torch==2.13.0 (the local CPU wheel)",
    "numba": "backend='numba' needs numba: pip install 'symgrad[numba]'",
    "array_api_compat": (
        "backend='array_api' needs array-api-compat: pip install 'symgrad[array-api]'"
    ),
    "array_api_strict": (
        "the array API conformance tests need array-api-strict: pip install '.[test]'"
    ),
    "dask": "the Dask tests need dask: pip install 'symgrad[dask]'",
    "distributed": "the Dask scale-out tests need dask[distributed]: pip install 'symgrad[dask]'",
    "cupy": "CuPy is not installed: it needs an NVIDIA GPU (pip install cupy-cuda12x there)",
    "jax": "the benchmarks' jax.jit column needs jax: pip install '.[bench]'",
    "pygments": "highlighted generated code needs pygments: pip install 'symgrad[notebook]'",
    "nbformat": "running examples/tour.ipynb needs nbformat: pip install '.[test]'",
    "nbclient": "running examples/tour.ipynb needs nbclient: pip install '.[test]'",
    "ipykernel": "running examples/tour.ipynb needs ipykernel: pip install '.[test]'",
}


def _root(module: str) -> str:
    return module.split(".")[0]


def missing(module: str) -> str | None:
    """Why a test of ``module`` cannot run here (None when it is installed)."""
    if importlib.util.find_spec(_root(module)) is None:
        return INSTALL[_root(module)]
    return None


def need(module: str):
    """``import module``, or skip the calling test (or test module) with what to install."""
    return pytest.importorskip(module, reason=INSTALL[_root(module)])


def requires(module: str):
    """A marker that skips the test, with what to install, when ``module`` is missing."""
    why = missing(module)
    return pytest.mark.skipif(why is not None, reason=why or "")
