"""Every compiler pass (outside the SymPy cluster phase) is linear in the graph: counted in node
visits, not in seconds, so the assertions hold on any machine. Timings: benchmarks/compile_time.py.
"""

from collections import Counter

import numpy as np
import pytest

import symgrad
from symgrad.compiler import pipeline, reverse, rewrite, rules, schedule, simplify
from symgrad.ir import graph, trace


def _chain(steps: int):
    """The alternating sin/tanh chain of the compile-time benchmark."""

    def f(x):
        for _ in range(steps):
            x = symgrad.sin(x) * 1.01 + 0.1 * x
            x = symgrad.tanh(x)
        return x.sum()

    return f


@pytest.fixture
def visits(monkeypatch):
    """Counts nodes visited by every whole-graph walk of the passes and by the rewrite engine.

    The SymPy region phase is replaced by the identity: it is measured on its own
    (tests/compiler/test_simplify.py)."""
    counts = {"toposort": 0, "rewrite": 0}
    original = graph.toposort

    def counting_toposort(outputs, stop=frozenset()):
        order = original(outputs, stop)
        counts["toposort"] += len(order)
        return order

    for module in (graph, pipeline, reverse, schedule, trace):
        monkeypatch.setattr(module, "toposort", counting_toposort)
    apply_first = rewrite._Settler._apply_first

    def counting_apply(self, node):
        counts["rewrite"] += 1
        return apply_first(self, node)

    monkeypatch.setattr(rewrite._Settler, "_apply_first", counting_apply)
    monkeypatch.setattr(simplify, "simplify", lambda roots, builder, hits: roots)
    return counts


def _visits_per_step(counts, steps: int) -> dict:
    for key in counts:
        counts[key] = 0
    symgrad.value_and_grad(_chain(steps))(np.linspace(-1.0, 1.0, 16))
    return {key: value / steps for key, value in counts.items()}


def test_passes_visit_each_node_a_bounded_number_of_times(visits):
    small = _visits_per_step(visits, 40)
    large = _visits_per_step(visits, 400)
    for key in ("toposort", "rewrite"):
        assert large[key] > 0
        # Linear: the same visits per chain step at 10x the size (up to the fixed overhead).
        assert large[key] <= small[key] * 1.05, (key, small, large)


def test_rewrite_settles_each_node_once():
    """One pass to the fixed point: a graph that needs no rewrite is visited node by node once
    (the old engine walked the whole graph again per iteration)."""
    g = graph.Graph()
    x = g.input("x", (3,), symgrad.float64)
    sin = symgrad.ops.registry.REGISTRY["sin"]
    node = x
    for _ in range(50):
        node = g.op(sin, (node,), {}, (3,), symgrad.float64, None)
    engine = rewrite._Settler(rewrite.Builder(g), [], Counter(), {})
    engine.settle(node)
    assert engine.visits == 51


def test_rewrite_of_a_deep_graph_has_no_recursion_limit():
    g = graph.Graph()
    x = g.input("x", (3,), symgrad.float64)
    mul = symgrad.ops.registry.REGISTRY["mul"]
    node = x
    for _ in range(20_000):  # x * 1 * 1 * ...: every node rewrites away
        node = g.op(mul, (node, g.const(1.0, symgrad.float64)), {}, (3,), symgrad.float64, None)
    (result,) = rewrite.rewrite(g, [node], rules.RULES["canonicalize"])
    assert result is x


def test_deep_chain_compiles_and_matches_eager():
    """A 1,000-step chain of non-elementwise ops (no SymPy clusters): no recursion anywhere."""
    w = symgrad.tensor(np.random.default_rng(0).standard_normal((4, 4)) / 2)

    def f(x):
        for _ in range(1000):
            x = (x @ w).flip(0)
        return x.sum()

    x = np.random.default_rng(1).standard_normal(4)
    value, grad = symgrad.value_and_grad(f)(x)
    eager_x = symgrad.tensor(x, requires_grad=True)
    eager = f(eager_x)
    eager.backward()
    np.testing.assert_allclose(value, eager.item(), rtol=1e-9)
    np.testing.assert_allclose(grad, eager_x.grad.numpy(), rtol=1e-9)


def test_build_restores_the_cyclic_collector():
    """The build pauses the cyclic GC (it rescans the growing graph); it is back on after a
    build, also one that fails, and stays off for a caller that turned it off."""
    import gc

    assert gc.isenabled()
    symgrad.value_and_grad(_chain(3))(np.ones(2))
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        symgrad.compile(lambda x: x * (1 / 0))(np.ones(2))
    assert gc.isenabled()
    gc.disable()
    try:
        symgrad.value_and_grad(_chain(4))(np.ones(2))
        assert not gc.isenabled()
    finally:
        gc.enable()
