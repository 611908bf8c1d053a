"""The SymPy phase (symgrad/compiler/simplify.py): regions, safety, budgets, linear cost."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import symgrad
from symgrad import dtypes
from symgrad.compiler import simplify
from symgrad.compiler.rewrite import Builder
from symgrad.ir import graph as graph_module
from symgrad.ir.graph import Graph, count_ops, toposort

F32 = dtypes.float32


def _chain_graph(steps: int):
    """x -> sin(x) * 1.01 + 0.1 * x -> tanh, ``steps`` times, then a sum: elementwise only."""
    g = Graph()
    b = Builder(g)
    x = g.input("x", (16,), F32)
    for _ in range(steps):
        mixed = b.op(
            "add",
            b.op("mul", b.op("sin", x), b.const(1.01, F32)),
            b.op("mul", x, b.const(0.1, F32)),
        )
        x = b.op("tanh", mixed)
    return g, b, [b.op("sum", x, dim=None, keepdim=False)]


# ------------------------------------------------------------------ IEEE safety (issue #7, 11)


def test_reproducer_11_cancelling_y_over_y_keeps_the_nan_at_y_zero():
    """SymPy cancels x*y/y to x on sight; the phase must not ship that (NaN at y = 0)."""

    def f(x, y):
        return ((x * y) / y + 3 * x - x).exp()

    x = np.array([0.5, -1.0, 2.0], np.float32)
    y = np.array([0.0, 2.0, -3.0], np.float32)
    compiled = symgrad.compile(f)
    got = compiled(symgrad.tensor(x), symgrad.tensor(y)).numpy()
    with np.errstate(all="ignore"):
        expected = f(symgrad.tensor(x), symgrad.tensor(y)).numpy()
    assert np.isnan(got[0]) and np.isnan(expected[0])
    np.testing.assert_allclose(got[1:], expected[1:], rtol=1e-6)
    assert "sympy_rejected_unsafe" in str(compiled.explain(symgrad.tensor(x), symgrad.tensor(y)))


@pytest.mark.parametrize("bad", [np.nan, 0.0])
def test_a_dropped_input_keeps_its_nan(bad):
    """(x + y) - y is x only where y is finite: NaN in y stays NaN."""

    def f(x, y):
        return (((x + y) - y) * y / y).sin()

    x = np.array([0.5, 1.0], np.float32)
    y = np.array([bad, 2.0], np.float32)
    got = symgrad.compile(f)(symgrad.tensor(x), symgrad.tensor(y)).numpy()
    assert np.isnan(got[0])
    np.testing.assert_allclose(got[1], np.sin(x[1]), rtol=1e-6)


def test_same_values_rejects_a_wrong_rewrite_and_accepts_a_right_one():
    g = Graph()
    b = Builder(g)
    x, y = g.input("x", (3,), F32), g.input("y", (3,), F32)
    before = b.op("sub", b.op("mul", x, b.const(2.0, F32)), x)  # 2x - x
    assert simplify.same_values([before], [x], [x, y])
    assert not simplify.same_values([before], [y], [x, y])
    quotient = b.op("div", b.op("mul", x, y), y)  # NaN at y = 0 and y = NaN
    assert not simplify.same_values([quotient], [x], [x, y])


def test_rewritten_regions_equal_eager_on_random_inputs():
    def f(x, y):
        s = symgrad.sigmoid(x * y)
        return (s * (1 - s) + symgrad.tanh(x) * symgrad.tanh(x) + x * x / (1 + y * y)).sum()

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 50))
    value, grads = symgrad.value_and_grad(f, argnums=(0, 1))(x, y)
    tx, ty = symgrad.tensor(x, requires_grad=True), symgrad.tensor(y, requires_grad=True)
    eager = f(tx, ty)
    eager.backward()
    np.testing.assert_allclose(value, eager.item(), rtol=1e-12)
    np.testing.assert_allclose(grads[0], tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads[1], ty.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_log1p_and_expm1_are_not_turned_back_into_log_and_exp():
    compiled = symgrad.compile(lambda x: (x * x).log1p() + (x * 3).expm1())
    x = np.array([1e-8, 0.5], np.float64)
    source = compiled.source(symgrad.tensor(x))
    assert "np.log1p" in source and "np.expm1" in source
    np.testing.assert_allclose(
        compiled(symgrad.tensor(x)).numpy(), np.log1p(x * x) + np.expm1(3 * x), rtol=1e-15
    )


# ------------------------------------------------------------------------------ regions


def test_a_region_never_contains_both_ends_of_a_path_through_a_reduction():
    """x -> exp -> sum -> mul with exp: the mul is in a deeper region than the exp."""
    g = Graph()
    b = Builder(g)
    x = g.input("x", (4,), F32)
    e = b.op("exp", x)
    total = b.op("sum", e, dim=None, keepdim=False)
    out = b.op("add", b.op("mul", e, total), e)
    regions = simplify.regions(toposort([out]), [out])
    home = {m.id: k for k, r in enumerate(regions) for m in r.members}
    assert home[e.id] != home[out.id]
    assert e in regions[home[e.id]].outputs


def test_regions_are_bounded_and_cover_each_member_once():
    _, _, roots = _chain_graph(100)
    order = toposort(roots)
    regions = simplify.regions(order, roots)
    members = [m.id for r in regions for m in r.members]
    assert len(members) == len(set(members)) == sum(1 for n in order if simplify._member(n))
    assert max(len(r.members) for r in regions) <= simplify.MAX_REGION


def test_the_phase_walks_the_graph_a_fixed_number_of_times(monkeypatch):
    """Linear: nodes visited by toposort grow like the graph, never per region."""
    visited = Counter()
    original = graph_module.toposort

    def counting(outputs, stop=frozenset()):
        order = original(outputs, stop)
        visited["nodes"] += len(order)
        return order

    monkeypatch.setattr(simplify, "toposort", counting)
    monkeypatch.setattr(simplify, "WORK_BUDGET", 10**9)
    monkeypatch.setattr(simplify, "MAX_TREE", 0)  # regions found, none converted: the walks
    per_node = []
    for steps in (200, 800):
        visited.clear()
        _, b, roots = _chain_graph(steps)
        simplify.simplify(roots, b, Counter())
        per_node.append(visited["nodes"] / len(toposort(roots)))
    assert per_node[1] <= per_node[0] * 1.05


def test_work_budget_stops_the_phase(monkeypatch):
    monkeypatch.setattr(simplify, "WORK_BUDGET", 0)
    _, b, roots = _chain_graph(20)
    hits = Counter()
    assert simplify.simplify(roots, b, hits) == roots
    assert hits["sympy_budget_reached"] == 1 and hits["sympy_simplify"] == 0


def test_the_budget_is_work_not_time(monkeypatch):
    """The same graph gives the same code however busy the machine: the budget counts ops."""
    monkeypatch.setattr(simplify, "WORK_BUDGET", 100)
    first, second = (_chain_graph(300) for _ in range(2))
    hits = [Counter(), Counter()]
    outputs = [
        simplify.simplify(r, b, h) for (_, b, r), h in zip((first, second), hits, strict=True)
    ]
    assert hits[0] == hits[1] and hits[0]["sympy_budget_reached"] == 1
    assert count_ops(outputs[0]) == count_ops(outputs[1])


def test_a_long_chain_compiles_and_matches_eager():
    def chain(x):
        for _ in range(60):
            x = (x.sin() * 1.01 + 0.1 * x).tanh()
        return x.sum()

    x = np.linspace(-1, 1, 16)
    value, grad = symgrad.value_and_grad(chain)(x)
    t = symgrad.tensor(x, requires_grad=True)
    eager = chain(t)
    eager.backward()
    np.testing.assert_allclose(value, eager.item(), rtol=1e-12)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)
