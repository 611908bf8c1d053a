"""Tensor repr against PyTorch's own output, recorded in ``data/torch_repr_cases.json``.

The cases come from ``data/make_repr_cases.py`` (run it under a Python with torch to regenerate);
this file rebuilds each tensor with numpy alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symgrad import dtypes, printing

CASES = json.loads(Path(__file__).with_name("data").joinpath("torch_repr_cases.json").read_text())


class FakeGradFn:
    """Stands in for an autograd node: the printer only asks for its name."""

    def __init__(self, name: str):
        self._name = name

    def name(self) -> str:
        return self._name


class FakeTensor:
    """The four attributes ``tensor_repr`` reads, and nothing else."""

    def __init__(self, data: np.ndarray, requires_grad: bool, grad_fn: FakeGradFn | None):
        self._data = data
        self.dtype = dtypes.from_numpy_dtype(data.dtype)
        self.requires_grad = requires_grad
        self.grad_fn = grad_fn


def case_values(build: dict) -> np.ndarray:
    """The same formula as ``make_repr_cases.case_values``: listed values or ``pattern``."""
    if "pattern" in build:
        count, multiplier, modulus, offset, divisor = build["pattern"]
        flat = ((np.arange(count, dtype=np.float64) * multiplier) % modulus - offset) / divisor
        values = flat.reshape(build["shape"])
    else:
        values = np.array(build["values"], dtype=np.float64).reshape(build["shape"])
    return values.astype(build["dtype"])


def fake_tensor(build: dict) -> FakeTensor:
    grad_fn = FakeGradFn(build["grad_fn"]) if "grad_fn" in build else None
    requires_grad = grad_fn is not None or build.get("requires_grad", False)
    return FakeTensor(case_values(build), requires_grad, grad_fn)


@pytest.fixture
def restore_print_state():
    yield
    printing.set_printoptions(profile="default")
    dtypes.set_default_dtype(dtypes.float32)


@pytest.mark.usefixtures("restore_print_state")
@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_repr_matches_torch(case):
    build = case["build"]
    dtypes.set_default_dtype(getattr(dtypes, build.get("default_dtype", "float32")))
    printing.set_printoptions(**build.get("printoptions", {}))
    tensor = fake_tensor(build)
    render = printing.parameter_repr if build.get("parameter") else printing.tensor_repr
    assert render(tensor) == case["expected"]


@pytest.mark.usefixtures("restore_print_state")
def test_profile_then_override():
    printing.set_printoptions(profile="short", linewidth=40)
    assert printing.get_printoptions() == {
        "precision": 2,
        "threshold": 1000,
        "edgeitems": 2,
        "linewidth": 40,
        "sci_mode": None,
    }


@pytest.mark.usefixtures("restore_print_state")
def test_setting_any_option_resets_sci_mode():
    printing.set_printoptions(sci_mode=True)
    printing.set_printoptions(precision=3)
    assert printing.get_printoptions()["sci_mode"] is None


def test_printoptions_context_restores():
    before = printing.get_printoptions()
    tensor = FakeTensor(np.array([0.123456], dtype=np.float32), False, None)
    with printing.printoptions(precision=2, sci_mode=True):
        assert printing.tensor_repr(tensor) == "tensor([1.23e-01])"
    assert printing.get_printoptions() == before
    assert printing.tensor_repr(tensor) == "tensor([0.1235])"
