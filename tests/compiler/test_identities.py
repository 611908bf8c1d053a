"""The sigmoid / softplus family as SymPy knowledge (symgrad/compiler/identities.py) and the
graph-level stabilize rules that use it (symgrad/compiler/rules.py)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgrad
import symgrad.nn.functional as F
from symgrad.compiler.identities import IDENTITIES, Sigmoid, Softplus, forms

Z = sp.Symbol("z", real=True)


def _numeric(expr):
    """A numpy function of z for an expression of the family (through exp and log)."""
    plain = expr.rewrite(sp.exp).rewrite(sp.log)
    return sp.lambdify(Z, plain, "numpy")


def test_derivatives_are_known():
    assert sp.simplify(sp.diff(Sigmoid(Z), Z) - Sigmoid(Z) * (1 - Sigmoid(Z))) == 0
    assert sp.diff(Softplus(Z), Z) == Sigmoid(Z)
    assert sp.simplify(sp.diff(sp.tanh(Z), Z) - (1 - sp.tanh(Z) ** 2)) == 0


def test_ranges_let_sympy_know_one_minus_sigmoid_is_nonzero():
    assert Sigmoid(Z).is_positive and Softplus(Z).is_positive
    assert Sigmoid(sp.Symbol("w")).is_positive is None


@pytest.mark.parametrize("identity", IDENTITIES, ids=lambda i: i.name)
def test_each_identity_holds_numerically(identity):
    samples = {
        "sigmoid(-z) = 1 - sigmoid(z)": Sigmoid(-Z),
        "softplus(-z) = softplus(z) - z": Softplus(-Z),
        "log(sigmoid(z)) = -softplus(-z)": sp.log(Sigmoid(Z)),
        "log(1 - sigmoid(z)) = -softplus(z)": sp.log(1 - Sigmoid(Z)),
        "exp(-softplus(-z)) = sigmoid(z)": sp.exp(-Softplus(-Z)),
    }
    before = samples[identity.name]
    after, count = identity.apply(before)
    assert count == 1 and after != before
    z = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(_numeric(after)(z), _numeric(before)(z), rtol=1e-12, atol=1e-12)


def test_forms_try_every_subset_and_say_what_fired():
    expr = sp.log(Sigmoid(Z)) + Sigmoid(-Z)
    names = [sorted(fired) for _, fired in forms(expr)]
    assert [] in names
    assert ["log(sigmoid(z)) = -softplus(-z)", "sigmoid(-z) = 1 - sigmoid(z)"] in names


# -------------------------------------------------------------------- graph-level rules


def test_log_of_one_minus_sigmoid_is_stabilized_and_fires():
    compiled = symgrad.compile(lambda z: symgrad.log(1 - symgrad.sigmoid(z)))
    z = np.array([-1e4, -30.0, 0.0, 1.5, 30.0, 1e4], np.float32)
    got = compiled(symgrad.tensor(z)).numpy()
    np.testing.assert_allclose(got, -np.logaddexp(0, z.astype(np.float64)), rtol=1e-6)
    assert "log_of_one_minus_sigmoid" in str(compiled.explain(symgrad.tensor(z)))
    eager = symgrad.log(1 - symgrad.sigmoid(symgrad.tensor(z[2:4]))).numpy()  # moderate z
    np.testing.assert_allclose(got[2:4], eager, rtol=1e-6)


def test_sum_of_one_hot_over_classes_is_one():
    def f(z, labels):
        onehot = F.one_hot(labels, 3).float()
        return (onehot * z).sum(1) + onehot.sum(1)

    z = np.arange(6, dtype=np.float32).reshape(2, 3)
    labels = np.array([2, 0])
    compiled = symgrad.compile(f)
    got = compiled(symgrad.tensor(z), symgrad.tensor(labels)).numpy()
    np.testing.assert_array_equal(got, z[np.arange(2), labels] + 1)
    assert "sum_of_one_hot" in str(compiled.explain(symgrad.tensor(z), symgrad.tensor(labels)))


def test_explain_lists_the_identities_that_fired_with_counts():
    def f(z, y):
        p = symgrad.sigmoid(z)
        return -(y * symgrad.log(p) + (1 - y) * symgrad.log(1 - p)).mean()

    z = symgrad.tensor(np.zeros(4, np.float32), requires_grad=True)
    y = symgrad.tensor(np.ones(4, np.float32))
    text = str(symgrad.compile(f).explain(z, y))
    assert "identity: sigmoid(-z) = 1 - sigmoid(z)" in text
    assert "identity: softplus(-z) = softplus(z) - z" in text
    line = next(t for t in text.splitlines() if "sigmoid(-z) = 1 - sigmoid(z)" in t)
    assert line.split()[-1].isdigit()
