"""Data-dependent Python inside a trace fails with the function, the line and the argument."""

import numpy as np
import pytest

import symgrad
from symgrad.ir.trace import ConcretizationError


def branchy(x, y):
    if (x * 2).sum() > 0:  # the line the error must name
        return x
    return y


@pytest.mark.parametrize("conversion", [bool, float, lambda t: t.item(), lambda t: t.numpy()])
def test_concrete_value_errors_name_function_line_and_arguments(conversion):
    def f(x, w):
        return conversion((x * w).sum())

    with pytest.raises(ConcretizationError) as error:
        symgrad.compile(f)(np.ones(3), np.ones(3))
    message = str(error.value)
    assert "f" in message and "test_tracing_errors.py" in message
    assert "'x', 'w'" in message
    assert "symgrad.where" in message


def test_if_on_a_traced_value():
    with pytest.raises(ConcretizationError) as error:
        symgrad.compile(branchy)(np.ones(3), np.ones(3))
    message = str(error.value)
    assert "if (x * 2).sum() > 0" in message
    assert "'x'" in message and "'y'" not in message.split("(it depends")[1].split(")")[0]


def test_where_is_the_fix():
    f = symgrad.compile(lambda x: symgrad.where(x > 0, x, -x).sum())
    assert f(np.array([-1.0, 2.0])) == 3.0


def test_cache_not_poisoned_by_a_failed_trace():
    calls = []

    def f(x):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("user bug")
        return x * 2

    compiled = symgrad.compile(f)
    with pytest.raises(ValueError, match="user bug"):
        compiled(np.ones(2))
    assert compiled.cache_info().entries == []
    np.testing.assert_array_equal(compiled(np.ones(2)), [2.0, 2.0])


def test_in_place_update_of_an_argument_is_refused():
    def f(x):
        x.add_(1)
        return x

    with pytest.raises(symgrad.ir.trace.TracingError, match="modified its argument 'x'"):
        symgrad.compile(f)(np.ones(2))


def test_ten_thousand_node_graph_compiles():
    def chain(x):
        for _ in range(10_000):
            x = x * 1.0001
        return x.sum()

    value, grad = symgrad.value_and_grad(chain)(np.ones(4))
    np.testing.assert_allclose(grad, np.full(4, 1.0001**10_000), rtol=1e-9)
