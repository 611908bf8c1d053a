"""The op table: every op with its input domains, shared by the op, oracle and compiler tests.

Each ``tests/ops/cases_<module>.py`` defines ``CASES`` (a list of OpCase) for the ops of
``symgrad/ops/<module>.py``; ``ALL_CASES`` collects them.
"""

from __future__ import annotations

import importlib
import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import symgrad


@dataclass(frozen=True)
class Arg:
    """One input: a float tensor in [low, high), an int index tensor in [low, high), a bool
    mask, or a static Python value (passed as is)."""

    shape: tuple = ()
    low: float = -2.0
    high: float = 2.0
    kind: str = "float"  # "float" | "int" | "bool" | "static"
    value: Any = None
    positive_gap: float = 0.0  # keep |x| >= gap away from 0 (for 1/x, log|x| ...)

    def sample(self, rng: np.random.Generator, dtype):
        if self.kind == "static":
            return self.value
        if self.kind == "int":
            return rng.integers(int(self.low), int(self.high), size=self.shape).astype(np.int64)
        if self.kind == "bool":
            return np.asarray(rng.random(self.shape) < 0.5)
        x = rng.uniform(self.low, self.high, size=self.shape)
        if self.positive_gap:
            x = np.where(
                np.abs(x) < self.positive_gap, np.sign(x + 1e-300) * self.positive_gap + x, x
            )
        return x.astype(dtype)


@dataclass
class OpCase:
    """``fn`` runs on symgrad tensors (static args as given); ``reference`` on numpy arrays;
    ``torch_fn(torch, *args)`` on torch tensors (None: no oracle test). Each entry of
    ``variants`` is one list of Args: several shapes, with broadcasting and size-1 dims."""

    name: str
    fn: Callable
    reference: Callable
    variants: list
    torch_fn: Callable | None = None
    order: int = 2
    grad: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6
    marks: tuple = field(default_factory=tuple)
    # False where compile must refuse the case with a TracingError instead of compiling it:
    # an output shape that depends on input values (boolean masks), a write through a view.
    compiles: bool = True

    def sample(self, variant: int, dtype=np.float64, seed: int = 0):
        rng = np.random.default_rng(seed)
        return [arg.sample(rng, dtype) for arg in self.variants[variant]]


def to_symgrad(values):
    return [symgrad.tensor(v) if isinstance(v, np.ndarray) else v for v in values]


def _load():
    cases = []
    for path in sorted((pathlib.Path(__file__).parent / "ops").glob("cases_*.py")):
        module = importlib.import_module(f"ops.{path.stem}")
        cases.extend(module.CASES)
    names = [c.name for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, f"op table names must be unique: {duplicates}"
    return cases


ALL_CASES = _load()


def params(differentiable_only: bool = False, compiling_only: bool = False):
    """(case, variant) pairs for pytest.mark.parametrize, with readable ids."""
    import pytest

    return [
        pytest.param(case, v, id=f"{case.name}-{v}", marks=case.marks)
        for case in ALL_CASES
        if (case.grad or not differentiable_only) and (case.compiles or not compiling_only)
        for v in range(len(case.variants))
    ]


def flat_arrays(result) -> list:
    """A result (tensor, array, number, or nested tuple of them) as a list of float64 arrays."""
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in flat_arrays(r)]
    if isinstance(result, symgrad.Tensor):
        result = result.detach().numpy()
    return [np.asarray(result).astype(np.float64)]
