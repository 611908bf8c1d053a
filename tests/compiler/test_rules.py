"""What each rewrite rule produces, asserted on the generated code and graph."""

import numpy as np
import pytest

import symgrad
from symgrad.compiler import rules


def _code(text):
    """Generated statements without their provenance comments and docstrings."""
    lines = [line.split("  #")[0] for line in text.splitlines()]
    return "\n".join(line for line in lines if '"""' not in line)


def _forward(fn, *args):
    """The statements of the generated ``forward`` function."""
    source = symgrad.compile(fn).source(*args)
    return _code(source.split("def forward(")[1].split("def backward(")[0])


def _fused(fn, *args):
    source = symgrad.value_and_grad(fn).source(*args)
    return source.split("def forward_backward(")[1]


X = np.linspace(0.1, 2.0, 8)


def test_log_of_one_plus_compiles_to_log1p():
    code = _forward(lambda x: (1 + x).log(), X)
    assert "np.log1p(x)" in code and "np.log(" not in code


def test_exp_minus_one_compiles_to_expm1():
    assert "np.expm1(x)" in _forward(lambda x: x.exp() - 1, X)


def test_times_one_disappears():
    code = _forward(lambda x: x * 1 + 0, X)
    assert "* 1" not in code and "+ 0" not in code
    assert "out = x" not in code or "return (x,)" in code


def test_double_negation_and_constant_chain():
    code = _forward(lambda x: -(-(x * 2) * 3), X)
    assert code.count("*") == 1 and "6.0" in code


def test_power_specializations():
    assert "x * x" in _forward(lambda x: x**2, X)
    assert "np.sqrt(x)" in _forward(lambda x: x**0.5, X)


def test_division_by_constant_becomes_multiplication():
    code = _forward(lambda x: x / 4, X)
    assert "x * 0.25" in code and "/" not in code


def test_reshape_and_transpose_chains_collapse():
    m = np.ones((2, 3))
    code = _forward(lambda x: x.reshape(3, 2).reshape(6).reshape(2, 3).t().t() * 2, m)
    assert "reshape" not in code and ".T" not in code


def test_sum_of_broadcast_becomes_a_product():
    f = symgrad.compile(lambda x: x.expand(5, 3).sum(0))
    code = f.source(np.ones(3))
    assert "np.sum" not in code.split("def backward")[0]
    np.testing.assert_array_equal(f(np.array([1.0, 2.0, 3.0])), [5.0, 10.0, 15.0])


def test_log_sum_exp_is_stable():
    f = symgrad.compile(lambda x: x.exp().sum().log())
    assert "logsumexp" in f.graph(np.ones(3)) or "np.max" in f.source(np.ones(3))
    x = np.array([1e4, 1e4 - 1.0, 0.0])
    value = f(x)
    assert np.isfinite(value)
    np.testing.assert_allclose(value, 1e4 + np.log1p(np.exp(-1.0)), rtol=1e-12)
    grad = symgrad.grad(lambda x: x.exp().sum().log())(x)
    assert np.all(np.isfinite(grad))


def test_log_of_sigmoid_is_stable():
    f = symgrad.value_and_grad(lambda x: x.sigmoid().log().sum())
    value, grad = f(np.array([-1e4, 0.0, 1e4]))
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, [1.0, 0.5, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_cross_entropy_finite_at_large_logits(dtype):
    import symgrad.nn.functional as F

    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype=dtype)
    target = np.array([1, 0])
    value, grad = symgrad.value_and_grad(lambda z, t: F.cross_entropy(z, t))(logits, target)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_every_rule_has_a_before_after_docstring():
    for phase in rules.PHASES:
        for rule in rules.RULES[phase]:
            assert "->" in rule.doc, rule.name


def test_rule_hits_are_counted():
    f = symgrad.compile(lambda x: (x * 1).log1p() + (1 + x).log())
    text = str(f.explain(X))
    assert "multiply_by_one" in text and "log_of_one_plus" in text


def test_masked_gradients_are_nan_safe():
    def f(x):
        return symgrad.where(x > 0, x.sqrt(), 0.0).sum()

    x = np.array([-1.0, 0.0, 4.0])
    grad = symgrad.grad(f)(x)
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.25])


def test_generated_code_does_not_warn_about_inf_and_nan():
    import os
    import subprocess
    import sys

    script = (
        "import numpy as np, symgrad\n"
        "print(symgrad.value_and_grad(lambda x: x.log().sum())(np.array([0.0, 1.0])))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", script],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=root),
    )
    assert result.returncode == 0, result.stderr
    assert "-inf" in result.stdout
