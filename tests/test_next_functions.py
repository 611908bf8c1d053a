"""``grad_fn.next_functions``: one edge per differentiable input, in torch's order.

A Python number gets a ``(None, 0)`` edge where torch wraps it as a tensor (``x + 2``,
``2 * x``, ``where(c, x, 0.0)``) and none where torch's overload takes a Scalar (``2 - x`` is
``rsub(x, 2)``, ``x ** 2``, ``2 ** x``, ``clamp``); reflected operators put the tensor first.
Expected structures are PyTorch 2.13's, and are compared with torch live when it is installed.
"""

from __future__ import annotations

import pytest
from extras import need

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
    torch = need("torch")
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


def _tree(node) -> str:
    """A node and everything below it, e.g. ``AddmmBackward0(Acc, Acc, TBackward0(Acc))``."""
    if node is None:
        return "None"
    name = node.name().split("::")[-1]
    if name == "AccumulateGrad":
        return "Acc"
    children = ", ".join(_tree(child) for child, _ in node.next_functions)
    return f"{name}({children})" if children else name


LINEAR = {
    # (input shape, with bias): torch 2.13's graph of F.linear
    ((4, 3), True): "AddmmBackward0(Acc, Acc, TBackward0(Acc))",
    ((3,), True): "ViewBackward0(AddmmBackward0(Acc, ViewBackward0(Acc), TBackward0(Acc)))",
    ((5, 4, 3), True): "ViewBackward0(AddmmBackward0(Acc, ViewBackward0(Acc), TBackward0(Acc)))",
    ((6, 5, 4, 3), True): (
        "ViewBackward0(AddmmBackward0(Acc, ViewBackward0(Acc), TBackward0(Acc)))"
    ),
    ((4, 3), False): "MmBackward0(Acc, TBackward0(Acc))",
}


@pytest.mark.parametrize("shape, with_bias", LINEAR)
def test_linear_graph_is_torchs(shape, with_bias):
    F = symgrad.nn.functional
    weight = symgrad.ones(2, 3, requires_grad=True)
    bias = symgrad.ones(2, requires_grad=True) if with_bias else None
    x = symgrad.ones(*shape, requires_grad=True)
    assert _tree(F.linear(x, weight, bias).grad_fn) == LINEAR[shape, with_bias]


@pytest.mark.parametrize("shape", [(3,), (5, 4, 3)])
def test_linear_without_bias_ends_as_torchs(shape):
    # torch: unsqueeze/view -> mm -> squeeze/_unsafe_view; symgrad's matmul is one node.
    expected = {1: "SqueezeBackward4", 3: "UnsafeViewBackward0"}[len(shape)]
    x = symgrad.ones(*shape, requires_grad=True)
    weight = symgrad.ones(2, 3, requires_grad=True)
    assert symgrad.nn.functional.linear(x, weight).grad_fn.name() == expected


def test_linear_values_and_gradients_in_every_rank():
    symgrad.manual_seed(0)
    weight = symgrad.randn(2, 3, dtype=symgrad.float64, requires_grad=True)
    bias = symgrad.randn(2, dtype=symgrad.float64, requires_grad=True)
    for shape in [(3,), (4, 3), (5, 4, 3)]:
        x = symgrad.randn(*shape, dtype=symgrad.float64, requires_grad=True)
        assert symgrad.autograd.gradcheck(symgrad.nn.functional.linear, (x, weight, bias))
        assert symgrad.autograd.gradgradcheck(symgrad.nn.functional.linear, (x, weight, bias))


def test_cross_entropy_with_probabilities_ends_with_the_scalar_division():
    F = symgrad.nn.functional
    logits = symgrad.ones(4, 3, requires_grad=True)
    probabilities = symgrad.softmax(symgrad.arange(12.0).reshape(4, 3), dim=1)
    assert _tree(F.cross_entropy(logits, probabilities).grad_fn) == (
        "DivBackward1(NegBackward0(SumBackward0(MulBackward0(LogSoftmaxBackward0(Acc), None))))"
    )
    smoothed = F.cross_entropy(logits, symgrad.tensor([0, 1, 2, 0]), label_smoothing=0.1)
    assert [child.name() for child, _ in smoothed.grad_fn.next_functions] == [
        "MulBackward1",
        "MulBackward1",
    ]


def test_graphs_match_torch_live():
    torch = need("torch")
    for (shape, with_bias), _ in LINEAR.items():
        trees = []
        for library in (symgrad, torch):
            weight = library.ones(2, 3, requires_grad=True)
            bias = library.ones(2, requires_grad=True) if with_bias else None
            x = library.ones(*shape, requires_grad=True)
            trees.append(_tree(library.nn.functional.linear(x, weight, bias).grad_fn))
        assert trees[0] == trees[1], (shape, with_bias)


# Where symgrad's graph has another shape than torch's, the top node's edges differ: torch
# decomposes these into several nodes (matmul: unsqueeze/view + mm + squeeze; einsum:
# permute/bmm/view) or gives an undefined optional tensor a (None, 0) edge (layer_norm without
# weight or bias, batch_norm without them, clamp with one tensor bound). Convolutions and
# pooling are built from unfold, matmul and reductions (README: "Deliberate differences"), so
# their top node is the last primitive's. Values and gradients still match torch's.
STRUCTURAL_DIFFERENCES = (
    "einsum_",
    "matmul",
    "linear_no_bias",
    "layer_norm",
    "batch_norm_train",
    "conv1d",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "clamp_min_tensor",
    "clamp_max_tensor",
)


def _top_edges(output):
    node = getattr(output, "grad_fn", None)
    if node is None:
        return None
    return node.name().split("::")[-1], [(c is None, nr) for c, nr in node.next_functions]


def test_op_table_nodes_have_torchs_edges():
    torch = need("torch")
    import numpy as np
    from op_table import ALL_CASES
    from ops.test_torch_oracle import _flatten, _leaves

    checked, differences = 0, []
    for case in ALL_CASES:
        if case.torch_fn is None or case.name.startswith(STRUCTURAL_DIFFERENCES):
            continue
        for variant in range(len(case.variants)):
            values = case.sample(variant, np.float64)
            ours = _flatten(case.fn(*_leaves(values, symgrad, case.grad)))
            theirs = _flatten(case.torch_fn(torch, *_leaves(values, torch, case.grad)))
            checked += 1
            mine, torchs = [_top_edges(o) for o in ours], [_top_edges(o) for o in theirs]
            if mine != torchs:
                differences.append(f"{case.name}[{variant}]: {mine} != torch {torchs}")
    assert checked > 500 and not differences, "\n".join(differences)
