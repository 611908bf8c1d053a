"""What the simplifier knows about the sigmoid / softplus / tanh family, as SymPy functions.

``Sigmoid`` and ``Softplus`` are opaque SymPy functions with their derivatives
(``sigmoid' = sigmoid (1 - sigmoid)``, ``softplus' = sigmoid``; SymPy's own ``tanh`` has
``tanh' = 1 - tanh^2``) and their ranges (sigmoid in (0, 1), softplus > 0), so SymPy may cancel
``1 - sigmoid(z)`` against itself: it is never 0 in exact arithmetic, only after rounding.
The identities between them are named rewrites of SymPy expressions (``IDENTITIES``), applied
by ``simplify.py`` as candidate forms; the cheapest form that passes the safety check wins, and
the identities it used are counted for ``explain()``:

    sigmoid(-z)        = 1 - sigmoid(z)
    softplus(-z)       = softplus(z) - z
    log(sigmoid(z))    = -softplus(-z)
    log(1 - sigmoid(z)) = -softplus(z)
    exp(-softplus(-z)) = sigmoid(z)

The graph-level forms of the last identities (``log(1 - sigmoid(z)) -> logsigmoid(-z)``,
``log(softmax) -> log_softmax``, ``log(sum(exp)) -> logsumexp``) are stabilize rules in
``rules.py``: they run on the forward graph before it is differentiated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp


class Sigmoid(sp.Function):
    """sigmoid(z) = 1 / (1 + exp(-z)), in (0, 1) for real z."""

    @classmethod
    def eval(cls, z):
        if z.is_Number:  # a constant (sigmoid(x - x) = 1/2): a number the code can print
            return 1 / (1 + sp.exp(-z))
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return self.args[0].is_real or None

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + sp.exp(-z))

    def _eval_evalf(self, prec):  # of any number (sigmoid(log 2)): what the code prints
        return self.rewrite(sp.exp)._eval_evalf(prec)


class Softplus(sp.Function):
    """softplus(z) = log(1 + exp(z)), positive for real z."""

    @classmethod
    def eval(cls, z):
        if z.is_Number:
            return sp.log(1 + sp.exp(z))
        return None

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0])

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return self.args[0].is_real or None

    def _eval_rewrite_as_log(self, z, **kwargs):
        return sp.log(1 + sp.exp(z))

    def _eval_evalf(self, prec):
        return self.rewrite(sp.log)._eval_evalf(prec)


@dataclass(frozen=True)
class Identity:
    """A named rewrite of SymPy expressions: ``apply(expr)`` -> (new expr, times it fired)."""

    name: str
    apply: Callable[[sp.Expr], tuple[sp.Expr, int]]


def _replacing(matches, build) -> Callable[[sp.Expr], tuple[sp.Expr, int]]:
    """An ``apply`` that replaces every subexpression ``matches`` accepts by ``build(it)``."""

    def apply(expr: sp.Expr) -> tuple[sp.Expr, int]:
        found = [e for e in sp.preorder_traversal(expr) if matches(e)]
        if not found:
            return expr, 0
        return expr.xreplace({e: build(e) for e in found}), len(set(found))

    return apply


def _negated(e) -> bool:
    return e.args[0].could_extract_minus_sign()


def _is_one_minus_sigmoid(e) -> bool:
    return e.is_Add and len(e.args) == 2 and 1 in e.args and _sigmoid_term(e) is not None


def _sigmoid_term(e):
    """z of ``1 - sigmoid(z)`` (an Add), else None."""
    for term in e.args:
        if term.is_Mul and term.args[0] == -1 and len(term.args) == 2:
            if isinstance(term.args[1], Sigmoid):
                return term.args[1].args[0]
    return None


IDENTITIES = (
    Identity(
        "sigmoid(-z) = 1 - sigmoid(z)",
        _replacing(
            lambda e: isinstance(e, Sigmoid) and _negated(e),
            lambda e: 1 - Sigmoid(-e.args[0]),
        ),
    ),
    Identity(
        "softplus(-z) = softplus(z) - z",
        _replacing(
            lambda e: isinstance(e, Softplus) and _negated(e),
            lambda e: Softplus(-e.args[0]) + e.args[0],
        ),
    ),
    Identity(
        "log(sigmoid(z)) = -softplus(-z)",
        _replacing(
            lambda e: isinstance(e, sp.log) and isinstance(e.args[0], Sigmoid),
            lambda e: -Softplus(-e.args[0].args[0]),
        ),
    ),
    Identity(
        "log(1 - sigmoid(z)) = -softplus(z)",
        _replacing(
            lambda e: isinstance(e, sp.log) and _is_one_minus_sigmoid(e.args[0]),
            lambda e: -Softplus(_sigmoid_term(e.args[0])),
        ),
    ),
    Identity(
        "exp(-softplus(-z)) = sigmoid(z)",
        _replacing(
            lambda e: (
                isinstance(e, sp.exp)
                and e.args[0].is_Mul
                and e.args[0].args[0] == -1
                and isinstance(e.args[0].args[1], Softplus)
            ),
            lambda e: Sigmoid(-e.args[0].args[1].args[0]),
        ),
    ),
)


def forms(expr: sp.Expr) -> list[tuple[sp.Expr, Counter]]:
    """``expr`` under each subset of ``IDENTITIES`` applied in order (with what fired).

    A subset, not all of them: ``sigmoid(-z) = 1 - sigmoid(z)`` helps when it lets terms cancel
    and costs an op when it does not, so the caller weighs each form."""
    results = [(expr, Counter())]
    for identity in IDENTITIES:
        extended = []
        for form, fired in results:
            new, count = identity.apply(form)
            if count:
                extended.append((new, fired + Counter({identity.name: count})))
        results += extended
    return results
