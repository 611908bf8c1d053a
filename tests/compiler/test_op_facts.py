"""Facts about ops live on their OpDefs, and the compiler's passes ask them: a new op gets its
compiler treatment (recompute instead of save, buffer aliasing, constant folding) from its
definition alone, with no list of op names to edit in the compiler."""

import numpy as np
import pytest

import symgrad
from symgrad.compiler import schedule
from symgrad.ops.registry import REGISTRY, OpDef, apply


def test_the_facts_of_known_ops():
    assert REGISTRY["add"].elementwise and REGISTRY["add"].cost == "cheap"
    assert REGISTRY["exp"].elementwise and REGISTRY["exp"].cost == "normal"
    assert not REGISTRY["matmul"].elementwise
    assert REGISTRY["sum"].reduction and REGISTRY["sum"].fresh_result
    assert REGISTRY["argmax"].reduction and not REGISTRY["exp"].reduction
    assert REGISTRY["softmax"].fresh_result and not REGISTRY["softmax"].reduction
    assert REGISTRY["reshape"].recomputable and REGISTRY["to_dtype"].recomputable
    assert not REGISTRY["exp"].recomputable
    assert REGISTRY["copy_slices"].eager_only


def test_an_unknown_cost_class_is_refused():
    with pytest.raises(ValueError, match="cost is 'cheap' or 'normal'"):
        OpDef("test_costly", np.exp, cost="expensive")
    assert "test_costly" not in REGISTRY  # refused before it is registered


@pytest.fixture
def twice():
    """A new elementwise op, defined here only: x * 2, as cheap or not."""
    made = []

    def define(cost):
        op = OpDef(
            f"test_twice_{cost}",
            lambda x: x * x.dtype.type(2),
            vjp=lambda g, out, x: (g * 2,),
            spelling="{0} * 2",
            saves="none",
            cost=cost,
        )
        made.append(op.name)
        return op

    yield define
    for name in made:
        REGISTRY.pop(name)


@pytest.mark.parametrize("cost", ["cheap", "normal"])
def test_the_scheduler_asks_the_op_whether_to_recompute(twice, cost):
    op = twice(cost)

    def loss(x):
        y = apply(op, x)
        return (y * y).sum()

    x = np.linspace(-1, 1, 8)
    compiled = symgrad.compile(loss)
    xt = symgrad.tensor(x, requires_grad=True)
    compiled(xt).backward()
    np.testing.assert_allclose(xt.grad.numpy(), 8 * x)
    saved = [name for name, _, _ in compiled._entries[0].program.saved]
    backward = compiled.source(xt).split("def backward")[1].split("def forward_backward")[0]
    if cost == "cheap":
        assert saved == ["x"]  # y = 2x is made again in the backward, from x
        assert "x * 2" in backward
    else:
        assert saved != ["x"] and "x * 2" not in backward


def test_no_pass_keeps_a_list_of_op_names_for_these_facts():
    for name in ("RECOMPUTE", "FRESH_RESULT"):
        assert not hasattr(schedule, name)
    from symgrad.compiler import codegen, rules

    assert not hasattr(rules, "ELEMENTWISE")
    assert not hasattr(codegen, "_REDUCTION")
