"""Scalar spellings: each elementwise op as an expression on one element, for loop backends.

A loop backend (Numba) computes a cluster of elementwise ops one element at a time, so each op
that may appear in such a loop says how to compute one element: ``OpDef.scalar``, a format
string over the operands' element names (``{0}``, ``{1}`` ...), the op's attributes by name,
and ``{c}``, the element type's constructor (``np.float32``): every number is written through
it, since a bare ``0.5`` would promote a float32 loop to float64. ``OpDef.scalar_libm`` marks
the ops that call a transcendental function, which loops compute element by element through
scalar libm while numpy's ufuncs use SIMD: the cost model keeps large passes of those in numpy.

The spellings follow each op's numpy ``eval`` (the same NaN, inf and signed-zero behaviour),
so that a loop computes what eager mode does, to a few ulp in float32.
"""

from __future__ import annotations

import math

from .registry import REGISTRY

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_SQRT_2 = math.sqrt(2)

_SOFTPLUS_TAIL = "np.log1p(np.exp(-np.abs({0})))"


def _gelu(operands, c, approximate):
    x = operands[0]
    if approximate == "tanh":
        inner = f"{c}({_SQRT_2_OVER_PI!r}) * ({x} + {c}(0.044715) * {x} * {x} * {x})"
        return f"{c}(0.5) * {x} * ({c}(1) + np.tanh({inner}))"
    # eager mode: math.erf (double) of the element divided in its own type, rounded back
    erf = f"{c}(math.erf(np.float64({x} / {c}({_SQRT_2!r}))))"
    return f"{c}(0.5) * {x} * ({c}(1) + {erf})"


def _softplus(operands, c, beta, threshold):
    x = operands[0]
    z = f"({x} * {c}({beta!r}))"
    smooth = f"(np.maximum({z}, {c}(0)) + np.log1p(np.exp(-np.abs({z})))) / {c}({beta!r})"
    return f"({x} if {z} > {c}({threshold!r}) else {smooth})"


# op name -> (scalar spelling, calls a transcendental function)
SCALAR = {
    # arithmetic
    "add": ("{0} + {1}", False),
    "sub": ("{0} - {1}", False),
    "mul": ("{0} * {1}", False),
    "mul_scalar": ("{0} * {1}", False),
    "div": ("{0} / {1}", False),
    "div_scalar": ("{0} / {1}", False),
    "neg": ("-{0}", False),
    "abs": ("np.abs({0})", False),
    "square": ("{0} * {0}", False),
    "reciprocal": ("{c}(1) / {0}", False),
    "sqrt": ("np.sqrt({0})", False),
    "rsqrt": ("{c}(1) / np.sqrt({0})", False),
    "pow": ("{0} ** {1}", True),
    "pow_tensor": ("{0} ** {1}", True),
    "maximum": ("np.maximum({0}, {1})", False),
    "minimum": ("np.minimum({0}, {1})", False),
    "fmax": ("np.fmax({0}, {1})", False),
    "fmin": ("np.fmin({0}, {1})", False),
    "clamp_min": ("np.maximum({0}, {1})", False),
    "clamp_min_function": ("np.maximum({0}, {1})", False),
    "clamp_max": ("np.minimum({0}, {1})", False),
    "clamp_max_function": ("np.minimum({0}, {1})", False),
    "clamp": ("np.minimum(np.maximum({0}, {1}), {2})", False),
    "hardtanh": ("np.minimum(np.maximum({0}, {c}({min_val})), {c}({max_val}))", False),
    "relu": ("({c}(0) if {0} < 0 else {0})", False),
    "leaky_relu": ("({0} if {0} > 0 else {0} * {c}({negative_slope}))", False),
    "where": ("({1} if {0} else {2})", False),
    "sign": ("({c}(0) if {0} != {0} else np.sign({0}))", False),
    "floor": ("np.floor({0})", False),
    "ceil": ("np.ceil({0})", False),
    "trunc": ("np.trunc({0})", False),
    "frac": ("{0} - np.trunc({0})", False),
    "copysign": ("np.copysign({0}, {1})", False),
    "addcmul": ("{0} + {c}({value}) * {1} * {2}", False),
    "addcdiv": ("{0} + {c}({value}) * {1} / {2}", False),
    "lerp": (
        "({0} + {2} * ({1} - {0}) if np.abs({2}) < {c}(0.5) "
        "else {1} - ({1} - {0}) * ({c}(1) - {2}))",
        False,
    ),
    "to_dtype": ("{c}({0})", False),
    "expand": ("{0}", False),  # only the broadcast of one element: see loops.py
    # comparisons and logic (bool results)
    "gt": ("{0} > {1}", False),
    "ge": ("{0} >= {1}", False),
    "lt": ("{0} < {1}", False),
    "le": ("{0} <= {1}", False),
    "eq": ("{0} == {1}", False),
    "ne": ("{0} != {1}", False),
    "logical_not": ("not {0}", False),
    "logical_and": ("({0} and {1})", False),
    "logical_or": ("({0} or {1})", False),
    "logical_xor": ("({0} != {1})", False),
    "isnan": ("np.isnan({0})", False),
    "isinf": ("np.isinf({0})", False),
    "isfinite": ("np.isfinite({0})", False),
    # transcendental
    "exp": ("np.exp({0})", True),
    "exp2": ("np.exp2({0})", True),
    "expm1": ("np.expm1({0})", True),
    "log": ("np.log({0})", True),
    "log2": ("np.log2({0})", True),
    "log10": ("np.log10({0})", True),
    "log1p": ("np.log1p({0})", True),
    "sin": ("np.sin({0})", True),
    "cos": ("np.cos({0})", True),
    "tan": ("np.tan({0})", True),
    "asin": ("np.arcsin({0})", True),
    "acos": ("np.arccos({0})", True),
    "atan": ("np.arctan({0})", True),
    "sinh": ("np.sinh({0})", True),
    "cosh": ("np.cosh({0})", True),
    "tanh": ("np.tanh({0})", True),
    "asinh": ("np.arcsinh({0})", True),
    "acosh": ("np.arccosh({0})", True),
    "atanh": ("np.arctanh({0})", True),
    "atan2": ("np.arctan2({0}, {1})", True),
    "hypot": ("np.hypot({0}, {1})", True),
    "logaddexp": ("np.logaddexp({0}, {1})", True),
    "sigmoid": ("{c}(1) / ({c}(1) + np.exp(-{0}))", True),
    "silu": (
        "({0} * ({c}(1) / ({c}(1) + np.exp(-np.abs({0})))) if {0} >= 0 "
        "else {0} * (np.exp(-np.abs({0})) / ({c}(1) + np.exp(-np.abs({0})))))",
        True,
    ),
    "logsigmoid": ("-(np.maximum(-{0}, {c}(0)) + " + _SOFTPLUS_TAIL + ")", True),
    "mish": ("{0} * np.tanh(np.maximum({0}, {c}(0)) + " + _SOFTPLUS_TAIL + ")", True),
    "elu": ("({0} if {0} > 0 else {c}({alpha}) * np.expm1(np.minimum({0}, {c}(0))))", True),
    "softplus": (_softplus, True),
    "gelu": (_gelu, True),
    "erf": ("{c}(math.erf(np.float64({0})))", True),
    "erfc": ("{c}(math.erfc(np.float64({0})))", True),
}


def register() -> None:
    """Put each spelling on its OpDef (``scalar``, ``scalar_libm``)."""
    for name, (spelling, libm) in SCALAR.items():
        op = REGISTRY[name]
        op.scalar = spelling
        op.scalar_libm = libm


register()
