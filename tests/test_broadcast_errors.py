"""Shapes that do not broadcast raise torch's RuntimeError (never numpy's ValueError), for
binary ops, in-place ops, ternary ops and while tracing for the compiler.

torch broadcasts operands left to right and names the last mismatching dimension of the
result: ``The size of tensor a (3) must match the size of tensor b (4) at non-singleton
dimension 1``. Expected texts are PyTorch 2.13's; they are compared live when it is installed.
"""

from __future__ import annotations

import pytest
from extras import need

import symgrad


def message(a: int, b: int, dim: int) -> str:
    return (
        f"^The size of tensor a \\({a}\\) must match the size of tensor b \\({b}\\) at "
        f"non-singleton dimension {dim}$"
    )


A, B, C, D = (2, 3), (4,), (2, 1, 4), (5, 3)

CASES = {
    "a + b": (lambda t, a, b: a + b, A, B, (3, 4, 1)),
    "b + a": (lambda t, a, b: a + b, B, A, (4, 3, 1)),
    "a - b": (lambda t, a, b: a - b, A, B, (3, 4, 1)),
    "a * b": (lambda t, a, b: a * b, A, B, (3, 4, 1)),
    "a / b": (lambda t, a, b: a / b, A, B, (3, 4, 1)),
    "a ** b": (lambda t, a, b: a**b, A, B, (3, 4, 1)),
    "a // b": (lambda t, a, b: a // b, A, B, (3, 4, 1)),
    "a % b": (lambda t, a, b: a % b, A, B, (3, 4, 1)),
    "a == b": (lambda t, a, b: a == b, A, B, (3, 4, 1)),
    "a < b": (lambda t, a, b: a < b, A, B, (3, 4, 1)),
    "a + d (dim 0)": (lambda t, a, b: a + b, A, D, (2, 5, 0)),
    "c + a (dim 2)": (lambda t, a, b: a + b, C, A, (4, 3, 2)),
    "maximum": (lambda t, a, b: t.maximum(a, b), A, B, (3, 4, 1)),
    "atan2": (lambda t, a, b: t.atan2(a, b), A, B, (3, 4, 1)),
    "where": (lambda t, a, b: t.where(a > 0, a, b), A, B, (3, 4, 1)),
    "where mask first": (lambda t, a, b: t.where(b > 0, a, a), A, B, (4, 3, 1)),
    "lerp": (lambda t, a, b: t.lerp(a, b, 0.5), A, B, (3, 4, 1)),
    "clamp": (lambda t, a, b: a.clamp(min=b), A, B, (3, 4, 1)),
    "logical_and": (lambda t, a, b: t.logical_and(a, b), A, B, (3, 4, 1)),
    "add_": (lambda t, a, b: a.add_(b), A, B, (3, 4, 1)),
    "mul_": (lambda t, a, b: a.mul_(b), A, B, (3, 4, 1)),
    "+=": (lambda t, a, b: a.__iadd__(b), A, B, (3, 4, 1)),
    "copy_": (lambda t, a, b: a.copy_(b), A, B, (3, 4, 1)),
    "masked_fill": (lambda t, a, b: a.masked_fill(b > 0, 1.0), A, B, (4, 3, 1)),
}


def _raise(library, case):
    fn, shape_a, shape_b, _ = CASES[case]
    fn(library, library.ones(*shape_a), library.ones(*shape_b))


@pytest.mark.parametrize("case", CASES)
def test_eager_error_is_torchs(case):
    with pytest.raises(RuntimeError, match=message(*CASES[case][3])):
        _raise(symgrad, case)


@pytest.mark.parametrize("case", CASES)
def test_compiled_error_is_torchs(case):
    fn, shape_a, shape_b, expected = CASES[case]
    compiled = symgrad.compile(lambda a, b: fn(symgrad, a.clone(), b))
    with pytest.raises(RuntimeError, match=message(*expected)):
        compiled(symgrad.ones(*shape_a), symgrad.ones(*shape_b))


@pytest.mark.parametrize("case", CASES)
def test_error_matches_torch_live(case):
    torch = need("torch")
    with pytest.raises(RuntimeError) as theirs:
        _raise(torch, case)
    with pytest.raises(RuntimeError) as ours:
        _raise(symgrad, case)
    assert str(ours.value) == str(theirs.value)


def test_gradient_flowing_to_an_operand_raises_before_anything_changes():
    x = symgrad.ones(2, 3, requires_grad=True)
    target = symgrad.zeros(2, 3)
    with pytest.raises(RuntimeError, match=message(3, 4, 1)):
        target.add_(x * symgrad.ones(4))
    assert target.tolist() == [[0.0] * 3] * 2 and target._version == 0 and x.grad is None


def test_numpy_value_error_is_not_leaked_as_the_cause():
    with pytest.raises(RuntimeError) as error:
        symgrad.ones(2, 3) + symgrad.ones(4)
    assert error.value.__suppress_context__
