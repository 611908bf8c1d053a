"""Gradient rules derived from SymPy scalar definitions, and SymPy expressions run as ops.

``derivative(op)`` differentiates an elementwise op's SymPy definition once (cached) and
rewrites occurrences of the op itself as its output (``d exp(x) = exp(x)`` becomes ``out``).
``evaluate(expr, env)`` turns a SymPy expression into symgrad ops on Tensors, so the derived
rule runs eagerly, with ``create_graph=True`` and inside the compiler alike.
"""

from __future__ import annotations

import functools

import sympy as sp

from .registry import FUNCTIONS

X, Y, OUT = sp.symbols("x y out", real=True)

# SymPy function class -> name of the symgrad function computing it.
_FUNCTION_NAMES = {
    sp.exp: "exp",
    sp.log: "log",
    sp.sin: "sin",
    sp.cos: "cos",
    sp.tan: "tan",
    sp.asin: "asin",
    sp.acos: "acos",
    sp.atan: "atan",
    sp.sinh: "sinh",
    sp.cosh: "cosh",
    sp.tanh: "tanh",
    sp.asinh: "asinh",
    sp.acosh: "acosh",
    sp.atanh: "atanh",
    sp.erf: "erf",
    sp.erfc: "erfc",
    sp.Abs: "abs",
    sp.sign: "sign",
    sp.atan2: "atan2",
}


@functools.cache
def partials(op) -> tuple[sp.Expr, ...]:
    """d op / d argument for each argument, with the op itself replaced by ``out``."""
    symbols = (X, Y)[: op.arity]
    expr = op.sympy(*symbols)
    return tuple(sp.diff(expr, s).subs(expr, OUT) for s in symbols)


def saves_for(op) -> str:
    """What the derived rule reads: "inputs", "output", "both" or "none"."""
    free = set().union(*(d.free_symbols for d in partials(op)))
    uses_out = OUT in free
    uses_inputs = bool(free - {OUT})
    if uses_out and uses_inputs:
        return "both"
    return "output" if uses_out else ("inputs" if uses_inputs else "none")


def derived_vjp(op):
    """The vjp ``g * d/dx`` built from ``partials(op)``."""

    def vjp(g, out, *inputs):
        env = {X: inputs[0], OUT: out}
        if len(inputs) > 1:
            env[Y] = inputs[1]
        return tuple(times(g, d, env) for d in partials(op))

    return vjp


def times(g, expr: sp.Expr, env):
    """``g * expr`` written as (g * numerator) / denominator, so ``1/x`` costs one division."""
    if expr == 0:
        return None
    numerator, denominator = _fraction(expr)
    result = g if numerator is None else g * numerator(env)
    if denominator is not None:
        result = result / denominator(env)
    return result


@functools.cache
def _fraction(expr: sp.Expr):
    """(numerator, denominator) of ``expr`` as evaluators (None for 1), split once."""
    numerator, denominator = sp.fraction(sp.factor_terms(expr))
    return (
        None if numerator == 1 else _evaluator(numerator),
        None if denominator == 1 else _evaluator(denominator),
    )


def evaluate(expr: sp.Expr, env):
    """Evaluate a SymPy expression with symgrad ops; ``env`` maps symbols to Tensors."""
    return _evaluator(expr)(env)


@functools.cache
def _evaluator(expr: sp.Expr):
    """A function of ``env`` computing ``expr`` with symgrad ops; the SymPy tree is walked
    once per expression, not per call."""
    if expr.is_Symbol:
        return lambda env: env[expr]
    if expr.is_number:  # free of symbols (log(2), sqrt(pi) too): a Python number
        value = int(expr) if expr.is_Integer else float(expr)
        return lambda env: value
    if expr.is_Add:
        terms = [_evaluator(a) for a in _ordered(expr.args)]
        return lambda env: functools.reduce(lambda a, b: a + b, (t(env) for t in terms))
    if expr.is_Mul:
        coefficient, rest = expr.as_coeff_Mul()
        factors = [_evaluator(a) for a in _ordered(sp.Mul.make_args(rest))]
        product = lambda env: functools.reduce(lambda a, b: a * b, (f(env) for f in factors))
        if coefficient == -1:
            return lambda env: -product(env)
        if coefficient == 1:
            return product
        scale = float(coefficient)
        return lambda env: product(env) * scale
    if expr.is_Pow:
        base, exponent = expr.args
        b = _evaluator(base)
        special = {sp.Rational(1, 2): "sqrt", -sp.Rational(1, 2): "rsqrt", -1: "reciprocal"}
        name = special.get(exponent)
        if name is not None:
            return lambda env: FUNCTIONS[name](b(env))
        if exponent == 2:
            return lambda env: _square(b(env))
        e = _evaluator(exponent)
        return lambda env: b(env) ** e(env)
    name = _FUNCTION_NAMES.get(expr.func)
    if name is None:
        raise NotImplementedError(f"symgrad cannot evaluate the SymPy expression {expr}")
    arguments = [_evaluator(a) for a in expr.args]
    return lambda env: FUNCTIONS[name](*(a(env) for a in arguments))


def _square(value):
    return value * value


def _ordered(args):
    """Tensors first, so ``1 + x`` stays a tensor op and the order is deterministic."""
    return sorted(args, key=lambda a: (a.is_Number, sp.default_sort_key(a)))
