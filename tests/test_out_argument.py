"""``out=``: the result is written into the given tensor (cast to its dtype, resized with
torch's warning when its shape differs), which is returned; not differentiable. Expected
texts are PyTorch 2.13's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from extras import need

import symgrad as torch

A = [1.0, 2.0, 3.0]
B = [1.0, 2.0, 4.0]

CALLS = {
    "add": (lambda t, a, b, out: t.add(a, b, alpha=2, out=out), (3,)),
    "sub": (lambda t, a, b, out: t.sub(a, b, out=out), (3,)),
    "mul": (lambda t, a, b, out: t.mul(a, b, out=out), (3,)),
    "div": (lambda t, a, b, out: t.div(a, b, out=out), (3,)),
    "div_floor": (lambda t, a, b, out: t.div(a, b, rounding_mode="floor", out=out), (3,)),
    "pow": (lambda t, a, b, out: t.pow(a, b, out=out), (3,)),
    "exp": (lambda t, a, b, out: t.exp(a, out=out), (3,)),
    "matmul": (lambda t, a, b, out: t.matmul(a[:, None], b[None, :], out=out), (3, 3)),
    "mm": (lambda t, a, b, out: t.mm(a[:, None], b[None, :], out=out), (3, 3)),
    "cat": (lambda t, a, b, out: t.cat([a, b], out=out), (6,)),
    "stack": (lambda t, a, b, out: t.stack([a, b], 1, out=out), (3, 2)),
    "sum": (lambda t, a, b, out: t.sum(a, 0, out=out), ()),
    "mean": (lambda t, a, b, out: t.mean(b, out=out), ()),
}


@pytest.mark.parametrize("name", CALLS)
def test_out_receives_the_result(name):
    call, shape = CALLS[name]
    a, b = torch.tensor(A), torch.tensor(B)
    expected = call(torch, a, b, None)
    out = torch.zeros(shape)
    returned = call(torch, a, b, out)
    assert returned is out and out.tolist() == expected.tolist() and out._version == 1


@pytest.mark.parametrize("name", CALLS)
def test_out_matches_torch_live(name):
    real = need("torch")
    call, shape = CALLS[name]
    ours = call(torch, torch.tensor(A), torch.tensor(B), torch.zeros(shape))
    theirs = call(real, real.tensor(A), real.tensor(B), real.zeros(shape))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_out_is_cast_to_its_dtype():
    out = torch.zeros(3, dtype=torch.float64)
    torch.add(torch.tensor(A), torch.tensor(B), out=out)
    assert out.dtype is torch.float64 and out.tolist() == [2.0, 4.0, 7.0]
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired"):
        torch.add(torch.tensor(A), torch.tensor(B), out=torch.zeros(3, dtype=torch.int64))


def test_out_of_another_shape_is_resized():
    empty = torch.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.add(torch.tensor(A), torch.tensor(B), out=empty)  # an empty out: no warning
    assert empty.tolist() == [2.0, 4.0, 7.0]
    small = torch.zeros(2)
    with pytest.warns(
        UserWarning,
        match=r"^An output with one or more elements was resized "
        r"since it had shape \[2\], which does not match the required output "
        r"shape \[3\]\. This behavior is deprecated",
    ):
        torch.mul(torch.tensor(A), torch.tensor(B), out=small)
    assert small.tolist() == [1.0, 4.0, 12.0]


def test_out_refuses_autograd():
    a = torch.tensor(A, requires_grad=True)
    for name, call in [
        ("add", lambda: torch.add(a, 1.0, out=torch.zeros(3))),
        ("matmul", lambda: torch.matmul(a, a, out=torch.zeros(()))),
        ("cat", lambda: torch.cat([a], out=torch.zeros(3))),
        ("add", lambda: torch.add(torch.ones(3), 1.0, out=torch.zeros(3, requires_grad=True))),
    ]:
        with pytest.raises(
            RuntimeError,
            match=f"^{name}\\(\\): functions with out=\\.\\.\\. "
            "arguments don't support automatic differentiation, but one of the "
            "arguments requires grad\\.$",
        ):
            call()
    out = torch.zeros(3)
    with torch.no_grad():
        torch.mul(a, 2.0, out=out)
    assert out.tolist() == [2.0, 4.0, 6.0] and not out.requires_grad


def test_out_may_be_a_view():
    base = torch.zeros(2, 3)
    torch.add(torch.ones(3), 1.0, out=base[0])
    assert base.tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]
