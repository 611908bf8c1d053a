"""``grad_fn.next_functions``: one edge per differentiable input, in torch's order.

A Python number gets a ``(None, 0)`` edge where torch wraps it as a tensor (``x + 2``,
``2 * x``, ``where(c, x, 0.0)``) and none where torch's overload takes a Scalar (``2 - x`` is
``rsub(x, 2)``, ``x ** 2``, ``2 ** x``, ``clamp``); reflected operators put the tensor first.
Expected structures are PyTorch 2.13's, and are compared with torch live when it is installed.
"""

from __future__ import annotations

import pytest

import symgrad

CASES = {
    "2 * b": (lambda t, b, c: 2 * b, "MulBackward0", ["Sin", None]),
    "b * 2": (lambda t, b, c: b * 2, "MulBackward0", ["Sin", None]),
    "2 + b": (lambda t, b, c: 2 + b, "AddBackward0", ["Sin", None]),
    "b + 2": (lambda t, b, c: b + 2, "AddBackward0", ["Sin", None]),
    "2 - b": (lambda t, b, c: 2 - b, "RsubBackward1", ["Sin"]),
    "b - 2": (lambda t, b, c: b - 2, "SubBackward0", ["Sin", None]),
    "rsub(b, 2)": (lambda t, b, c: t.rsub(b, 2), "RsubBackward1", ["Sin"]),
    "2 / b": (lambda t, b, c: 2 / b, "MulBackward0", ["Reciprocal", None]),
    "b / 2": (lambda t, b, c: b / 2, "DivBackward0", ["Sin", None]),
    "2 ** b": (lambda t, b, c: 2**b, "PowBackward2", ["Sin"]),
    "pow(2, b)": (lambda t, b, c: t.pow(2, b), "PowBackward2", ["Sin"]),
    "b ** 2": (lambda t, b, c: b**2, "PowBackward0", ["Sin"]),
    "b ** 0.5": (lambda t, b, c: b**0.5, "PowBackward0", ["Sin"]),
    "b ** c": (lambda t, b, c: b**c, "PowBackward1", ["Sin", "Cos"]),
    "c * b": (lambda t, b, c: c * b, "MulBackward0", ["Cos", "Sin"]),
    "clamp(b, 0.1, 0.5)": (lambda t, b, c: b.clamp(0.1, 0.5), "ClampBackward1", ["Sin"]),
    "b % 2": (lambda t, b, c: b % 2, "RemainderBackward0", ["Sin"]),
    "where(b > 0, b, 0.0)": (
        lambda t, b, c: t.where(b > 0, b, 0.0),
        "WhereBackward0",
        ["Sin", None],
    ),
    "where(b > 0, 2.0, b)": (
        lambda t, b, c: t.where(b > 0, 2.0, b),
        "WhereBackward0",
        [None, "Sin"],
    ),
    "lerp(b, c, 0.5)": (lambda t, b, c: t.lerp(b, c, 0.5), "LerpBackward0", ["Sin", "Cos"]),
    "div(b, 2, floor)": (
        lambda t, b, c: b.div(2, rounding_mode="floor"),
        "DivBackward2",
        ["Sin", None],
    ),
    "b // 2": (lambda t, b, c: b // 2, "torch::autograd::NotImplemented", ["Sin"]),
    "b // c": (lambda t, b, c: b // c, "torch::autograd::NotImplemented", ["Sin", "Cos"]),
}


def _structure(library, fn):
    b = library.tensor([1.0, 2.0, 3.0], requires_grad=True).sin()
    c = library.tensor([1.0, 2.0, 3.0], requires_grad=True).cos()
    node = fn(library, b, c).grad_fn
    edges = []
    for child, output_nr in node.next_functions:
        assert output_nr == 0
        edges.append(None if child is None else child.name().removesuffix("Backward0"))
    return node.name(), edges


@pytest.mark.parametrize("expression", CASES)
def test_edges_are_torchs(expression):
    fn, name, edges = CASES[expression]
    assert _structure(symgrad, fn) == (name, edges)


@pytest.mark.parametrize("expression", CASES)
def test_edges_match_torch_live(expression):
    torch = pytest.importorskip("torch")
    fn = CASES[expression][0]
    assert _structure(symgrad, fn) == _structure(torch, fn)


def test_reflected_gradients_still_reach_the_tensor():
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    (2 * x + (3 - x) + 2 / x + 2**x).sum().backward()
    expected = [2 - 1 - 2 / v**2 + 2**v * 0.6931471805599453 for v in (1.0, 2.0)]
    assert x.grad.tolist() == pytest.approx(expected)


def test_a_node_hook_sees_one_gradient_per_edge():
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    y = 2 - x.sin()
    seen = []
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(len(grad_inputs)))
    y.sum().backward()
    assert seen == [1]


def test_floor_divide_has_no_derivative():
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="^derivative for aten::floor_divide is not implemented"):
        (x // 2).sum().backward()
