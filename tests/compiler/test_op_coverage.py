"""No op ships untested: every op of the registry is run by the op table (tests/op_table.py,
tests/ops/cases_*.py) eagerly, and appears in a compiled graph that the compiled-vs-eager
comparison (test_compiled_vs_eager.py) checks. Also: compiled outputs keep eager's dtypes
(integer and bool outputs included), and compiled calls raise eager's errors."""

from __future__ import annotations

import numpy as np
import pytest
from op_table import ALL_CASES, to_symgrad
from test_compiled_vs_eager import _leaves, _weighted_sum, _weights

import symgrad
from symgrad.ir import graph as graph_module
from symgrad.ops import registry

# Ops that compiled code never contains, by design: a write through a view is refused while
# tracing (the op-table case says compiles=False and the comparison asserts the refusal).
EAGER_ONLY = {"copy_slices"}
# Ops only the compiler builds: constants of generated code (fills, small created arrays),
# never evaluated eagerly, and random sampling, whose compiled draws are compared with eager
# ones under manual_seed in test_random.py (no numpy reference can predict them).
COMPILER_ONLY = {"full", "array", "sample"}


def _first_variant_inputs(case):
    return case.sample(0, np.float64)


@pytest.fixture(scope="module")
def used_ops():
    """(ops evaluated eagerly, ops built into compiled graphs) over the whole op table."""
    eager, compiled = set(), set()
    evaluate, build = registry.evaluate, graph_module.Graph.op

    def spy_evaluate(op, *args, **kwargs):
        eager.add(op.name)
        return evaluate(op, *args, **kwargs)

    def spy_build(self, op, *args, **kwargs):
        compiled.add(op.name)
        return build(self, op, *args, **kwargs)

    patch = pytest.MonkeyPatch()
    patch.setattr(registry, "evaluate", spy_evaluate)
    patch.setattr(graph_module.Graph, "op", spy_build)
    try:
        for case in ALL_CASES:
            inputs = _first_variant_inputs(case)
            if case.grad:
                args = _leaves(inputs, None, True)
                loss = _weighted_sum(case, _weights(case, inputs))(*args)
                loss.backward()
            else:
                case.fn(*to_symgrad(inputs))
            if not case.compiles:
                continue
            symgrad.compile(case.fn)(*inputs)
            if case.grad:
                loss = _weighted_sum(case, _weights(case, inputs))
                symgrad.compile(loss)(*_leaves(inputs, None, True)).backward()
                floats = tuple(i for i, v in enumerate(inputs) if _is_float_array(v))
                symgrad.value_and_grad(loss, argnums=floats)(*inputs)
    finally:
        patch.undo()
    return eager, compiled


def _is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def test_every_registered_op_is_run_by_the_op_table(used_ops):
    eager, _ = used_ops
    missing = sorted(set(registry.REGISTRY) - eager - COMPILER_ONLY)
    assert not missing, f"ops without an op-table case: {missing}"


def test_every_registered_op_is_compiled_and_compared(used_ops):
    _, compiled = used_ops
    missing = sorted(set(registry.REGISTRY) - compiled - EAGER_ONLY - {"sample"})
    assert not missing, f"ops never compiled by the compiled-vs-eager comparison: {missing}"
    assert not EAGER_ONLY & compiled


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.compiles], ids=lambda c: c.name)
def test_compiled_outputs_keep_eager_dtypes(case):
    """Integer and bool outputs included (argmax, comparisons, isnan ...)."""
    inputs = _first_variant_inputs(case)
    eager = case.fn(*to_symgrad(inputs))
    compiled = symgrad.compile(case.fn)(*to_symgrad(inputs))
    eager = list(eager) if isinstance(eager, (tuple, list)) else [eager]
    compiled = list(compiled) if isinstance(compiled, (tuple, list)) else [compiled]
    assert [getattr(c, "dtype", type(c)) for c in compiled] == [
        getattr(e, "dtype", type(e)) for e in eager
    ]
    for c, e in zip(compiled, eager, strict=True):
        if isinstance(e, symgrad.Tensor) and not e.dtype.is_floating_point:
            np.testing.assert_array_equal(c.numpy(), e.numpy())


def _inplace_float_into_int(a):
    b = a.clone()
    b += 0.5
    return b


X, Y, V = np.ones((2, 3)), np.ones((2, 4)), np.ones(4)
ERRORS = {
    "matmul": (lambda a, b: a @ b, (X, X)),
    "cat": (lambda a, b: symgrad.cat([a, b]), (X, Y)),
    "reshape": (lambda a: a.reshape(4), (X,)),
    "index": (lambda a: a[5], (X,)),
    "broadcast": (lambda a, b: a + b, (X, V)),
    "broadcast_where": (lambda a, b: symgrad.where(a > 0, b, a), (X, V)),
    "mse_loss_shapes": (lambda a, b: symgrad.nn.functional.mse_loss(a, b), (X, Y)),
    "sum_dim": (lambda a: a.sum(5), (X,)),
    "softmax_dim": (lambda a: a.softmax(3), (X,)),
    "where_condition": (lambda a: symgrad.where(a, a, a), (X,)),
    "inplace_cast": (_inplace_float_into_int, (np.ones((2, 3), dtype=np.int64),)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_compiled_raises_eagers_error(name):
    fn, arrays = ERRORS[name]
    with pytest.raises(Exception) as eager:
        fn(*[symgrad.tensor(a) for a in arrays])
    with pytest.raises(Exception) as compiled:
        symgrad.compile(fn)(*[symgrad.tensor(a) for a in arrays])
    assert compiled.type is eager.type
    assert str(compiled.value).splitlines()[0] == str(eager.value).splitlines()[0]


def test_broadcast_errors_have_torchs_text():
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the size of "):
        symgrad.ones(2, 3) + symgrad.ones(4)
    with pytest.raises(RuntimeError, match="tensor a \\(5\\) .* tensor b \\(2\\) .* dimension 0"):
        symgrad.ones(5, 1, 3) + symgrad.ones(2, 4, 1)
