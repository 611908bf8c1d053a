"""Every op of the table against PyTorch itself, when it is installed: the same float64 inputs
through symgrad and torch give the same values and dtypes, and the same gradients of
``sum(output * cotangent)`` for a fixed random cotangent per output.

Run with a Python that has torch (``pip install torch``); skipped otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest
from extras import need
from op_table import ALL_CASES

import symgrad

torch = need("torch")

ORACLE_CASES = [
    pytest.param(case, v, id=f"{case.name}-{v}", marks=case.marks)
    for case in ALL_CASES
    if case.torch_fn is not None
    for v in range(len(case.variants))
]


def _leaves(values, module, differentiable: bool):
    """Inputs as ``module`` tensors; float ones require grad when the op is differentiable."""
    tensors = []
    for value in values:
        if not isinstance(value, np.ndarray):
            tensors.append(value)  # a static argument
            continue
        floating = value.dtype.kind == "f"
        if module is torch:
            t = torch.from_numpy(value.copy())
            tensors.append(t.requires_grad_(differentiable and floating))
        else:
            tensors.append(symgrad.tensor(value, requires_grad=differentiable and floating))
    return tensors


def _flatten(result) -> list:
    """Outputs (tensors, numbers, nested tuples/namedtuples) in order."""
    if isinstance(result, (tuple, list)):
        return [item for r in result for item in _flatten(r)]
    return [result]


def _array(value) -> np.ndarray:
    if isinstance(value, (symgrad.Tensor, torch.Tensor)):
        return value.detach().numpy().astype(np.float64)
    return np.asarray(value, dtype=np.float64)


def _dtype_name(value) -> str | None:
    if isinstance(value, symgrad.Tensor):
        return value.dtype.name
    if isinstance(value, torch.Tensor):
        return str(value.dtype).removeprefix("torch.")
    return None


def _loss(outputs, cotangents, module):
    """sum_k sum(output_k * cotangent_k) over the outputs that carry a gradient."""
    total = None
    for out, u in zip(outputs, cotangents, strict=True):
        if u is None:
            continue
        cotangent = torch.from_numpy(u.copy()) if module is torch else symgrad.tensor(u)
        term = (out * cotangent).sum()
        total = term if total is None else total + term
    return total


@pytest.mark.parametrize("case, variant", ORACLE_CASES)
def test_matches_torch(case, variant):
    values = case.sample(variant, np.float64)
    sym_inputs = _leaves(values, symgrad, case.grad)
    torch_inputs = _leaves(values, torch, case.grad)
    ours = _flatten(case.fn(*sym_inputs))
    theirs = _flatten(case.torch_fn(torch, *torch_inputs))

    assert len(ours) == len(theirs), "a different number of outputs"
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert _dtype_name(a) == _dtype_name(b), f"output {k}: dtype"
        assert _array(a).shape == _array(b).shape, f"output {k}: shape"
        np.testing.assert_allclose(
            _array(a), _array(b), rtol=case.rtol, atol=case.atol, err_msg=f"output {k}: values"
        )

    if not case.grad:
        return
    rng = np.random.default_rng(1234)
    cotangents = [
        rng.standard_normal(_array(b).shape)
        if isinstance(b, torch.Tensor) and b.requires_grad and b.dtype.is_floating_point
        else None
        for b in theirs
    ]
    if all(u is None for u in cotangents):
        return
    _loss(ours, cotangents, symgrad).backward()
    _loss(theirs, cotangents, torch).backward()
    for i, (a, b) in enumerate(zip(sym_inputs, torch_inputs, strict=True)):
        if not isinstance(b, torch.Tensor) or not b.requires_grad:
            continue
        expected = np.zeros(b.shape) if b.grad is None else _array(b.grad)
        got = np.zeros(tuple(a.shape)) if a.grad is None else _array(a.grad)
        np.testing.assert_allclose(
            got, expected, rtol=max(case.rtol, 1e-6), atol=case.atol, err_msg=f"input {i}: gradient"
        )
