"""Elementwise ops. Each is one OpDef defined by its SymPy scalar expression; gradient rules
are derived from it with ``sympy.diff`` once per op, unless a hand-written rule (in terms of
the output, or cheaper) is given.

Generated code writes each op through its ``spelling``: ``{0}``, ``{1}`` are the inputs.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..tensor import Tensor
from . import derivatives
from .registry import OpDef, apply, public

# --------------------------------------------------------------------- definition helpers


def _unary_op(name, numpy_fn, expr, spelling, vjp=None, saves=None, backward_name=None):
    op = OpDef(
        name,
        numpy_fn,
        spelling=spelling,
        sympy=expr,
        promote="float",
        backward_name=backward_name,
        saves=saves or "inputs",
    )
    if vjp is None and expr is not None:
        op.vjp = derivatives.derived_vjp(op)
        op.saves = derivatives.saves_for(op)
    else:
        op.vjp = vjp
    return op


def _define_unary(name, numpy_fn, expr, spelling, vjp=None, saves=None, methods=None):
    """An elementwise float function ``symgrad.<name>`` with Tensor methods ``name``/``name_``."""
    op = _unary_op(name, numpy_fn, expr, spelling, vjp, saves)

    def function(input: Tensor) -> Tensor:
        return apply(op, input)

    function.__name__ = name
    function.__doc__ = f"Elementwise ``{name}`` (torch.{name}); spelled ``{spelling}``."
    function.op = op
    public(name, methods=(name,) if methods is None else methods)(function)
    _define_inplace(name, op)
    return function


def _define_inplace(name, op) -> None:
    from .inplace import inplace

    def method(self, *args, **kwargs):
        return inplace(self, op, *args, **kwargs)

    method.__name__ = f"{name}_"
    setattr(Tensor, f"{name}_", method)


def _sigmoid_numpy(x):
    # exp of a negative argument only: finite for any input.
    positive = x >= 0
    z = np.exp(np.where(positive, -x, x))
    return np.where(positive, 1 / (1 + z), z / (1 + z))


def _erf_numpy(x):
    return _vectorized_math(math.erf, x)


def _erfc_numpy(x):
    return _vectorized_math(math.erfc, x)


def _vectorized_math(fn, x):
    x = np.asarray(x)
    out = np.frompyfunc(fn, 1, 1)(x.astype(np.float64))
    return np.asarray(out, dtype=x.dtype)


# ---------------------------------------------------------------------------- unary math

exp = _define_unary(
    "exp", np.exp, sp.exp, "np.exp({0})", saves="output", vjp=lambda g, out, x: (g * out,)
)
log = _define_unary("log", np.log, sp.log, "np.log({0})", vjp=lambda g, out, x: (g / x,))
exp2 = _define_unary("exp2", np.exp2, lambda x: 2**x, "np.exp2({0})")
expm1 = _define_unary("expm1", np.expm1, lambda x: sp.exp(x) - 1, "np.expm1({0})")
log2 = _define_unary("log2", np.log2, lambda x: sp.log(x, 2), "np.log2({0})")
log10 = _define_unary("log10", np.log10, lambda x: sp.log(x, 10), "np.log10({0})")
log1p = _define_unary("log1p", np.log1p, lambda x: sp.log(1 + x), "np.log1p({0})")
sqrt = _define_unary("sqrt", np.sqrt, sp.sqrt, "np.sqrt({0})")
rsqrt = _define_unary(
    "rsqrt", lambda x: 1 / np.sqrt(x), lambda x: 1 / sp.sqrt(x), "1 / np.sqrt({0})"
)
square = _define_unary(
    "square", np.square, lambda x: x**2, "np.square({0})", vjp=lambda g, out, x: (g * (2 * x),)
)
reciprocal = _define_unary(
    "reciprocal",
    np.reciprocal,
    lambda x: 1 / x,
    "np.reciprocal({0})",
    saves="output",
    vjp=lambda g, out, x: (-(g * out * out),),
)
sin = _define_unary("sin", np.sin, sp.sin, "np.sin({0})")
cos = _define_unary("cos", np.cos, sp.cos, "np.cos({0})")
tan = _define_unary("tan", np.tan, sp.tan, "np.tan({0})")
asin = _define_unary("asin", np.arcsin, sp.asin, "np.arcsin({0})", methods=("asin", "arcsin"))
acos = _define_unary("acos", np.arccos, sp.acos, "np.arccos({0})", methods=("acos", "arccos"))
atan = _define_unary("atan", np.arctan, sp.atan, "np.arctan({0})", methods=("atan", "arctan"))
sinh = _define_unary("sinh", np.sinh, sp.sinh, "np.sinh({0})")
cosh = _define_unary("cosh", np.cosh, sp.cosh, "np.cosh({0})")
tanh = _define_unary("tanh", np.tanh, sp.tanh, "np.tanh({0})")
asinh = _define_unary(
    "asinh", np.arcsinh, sp.asinh, "np.arcsinh({0})", methods=("asinh", "arcsinh")
)
acosh = _define_unary(
    "acosh", np.arccosh, sp.acosh, "np.arccosh({0})", methods=("acosh", "arccosh")
)
atanh = _define_unary(
    "atanh", np.arctanh, sp.atanh, "np.arctanh({0})", methods=("atanh", "arctanh")
)
sigmoid = _define_unary(
    "sigmoid",
    _sigmoid_numpy,
    lambda x: 1 / (1 + sp.exp(-x)),
    "_sigmoid({0})",
    saves="output",
    vjp=lambda g, out, x: (g * (out * (1 - out)),),
)
erf = _define_unary("erf", _erf_numpy, sp.erf, "_erf({0})")
erfc = _define_unary("erfc", _erfc_numpy, sp.erfc, "_erfc({0})")
abs = _define_unary("abs", np.abs, sp.Abs, "np.abs({0})", methods=("abs", "absolute"))


def _zero_vjp(g, out, x):
    return (g * 0,)


relu = _define_unary(
    "relu",
    lambda x: np.maximum(x, 0).astype(x.dtype),
    None,
    "np.maximum({0}, 0)",
    saves="output",
    vjp=lambda g, out, x: (where(out > 0, g, 0),),
)
sign = _define_unary("sign", np.sign, None, "np.sign({0})", vjp=_zero_vjp, saves="none")
floor = _define_unary("floor", np.floor, None, "np.floor({0})", vjp=_zero_vjp, saves="none")
ceil = _define_unary("ceil", np.ceil, None, "np.ceil({0})", vjp=_zero_vjp, saves="none")
round = _define_unary("round", np.round, None, "np.round({0})", vjp=_zero_vjp, saves="none")
trunc = _define_unary(
    "trunc", np.trunc, None, "np.trunc({0})", vjp=_zero_vjp, saves="none", methods=("trunc", "fix")
)
frac = _define_unary(
    "frac",
    lambda x: x - np.trunc(x),
    None,
    "{0} - np.trunc({0})",
    vjp=lambda g, out, x: (g,),
    saves="none",
)

# -------------------------------------------------------------------------- arithmetic


def _neg_vjp(g, out, x):
    return (-g,)


NEG = OpDef("neg", np.negative, vjp=_neg_vjp, spelling="-{0}", saves="none", sympy=lambda x: -x)


@public("neg", methods=("neg", "negative", "__neg__"))
def neg(input: Tensor) -> Tensor:
    """-input, elementwise."""
    return apply(NEG, input)


def _add_vjp(g, out, x, y):
    return (g, g)


def _sub_vjp(g, out, x, y):
    return (g, -g)


def _mul_vjp(g, out, x, y):
    return (_times(g, y), _times(g, x))


def _times(g, value):
    return g * value


def _div_vjp(g, out, x, y):
    gx = g / y
    return (gx, -(gx * x) / y if isinstance(y, Tensor) else None)


def _sub_name(args, attrs):
    return "SubBackward0" if isinstance(args[0], Tensor) else "RsubBackward1"


ADD = OpDef(
    "add",
    np.add,
    vjp=_add_vjp,
    spelling="{0} + {1}",
    saves="none",
    sympy=lambda x, y: x + y,
    arity=2,
)
SUB = OpDef(
    "sub",
    np.subtract,
    vjp=_sub_vjp,
    spelling="{0} - {1}",
    saves="none",
    sympy=lambda x, y: x - y,
    arity=2,
    backward_name=_sub_name,
)
MUL = OpDef(
    "mul", np.multiply, vjp=_mul_vjp, spelling="{0} * {1}", sympy=lambda x, y: x * y, arity=2
)
DIV = OpDef(
    "div",
    np.true_divide,
    vjp=_div_vjp,
    spelling="{0} / {1}",
    promote="float",
    sympy=lambda x, y: x / y,
    arity=2,
)


def _alpha(other, alpha):
    return other if alpha == 1 else other * alpha


@public("add", methods=("add", "__add__"))
def add(input, other, *, alpha=1) -> Tensor:
    """input + alpha * other, with broadcasting and torch's type promotion."""
    return apply(ADD, input, _alpha(other, alpha))


@public("sub", methods=("sub", "subtract", "__sub__"))
def sub(input, other, *, alpha=1) -> Tensor:
    """input - alpha * other."""
    return apply(SUB, input, _alpha(other, alpha))


subtract = sub


@public("rsub")
def rsub(input, other, *, alpha=1) -> Tensor:
    """other - alpha * input (what ``2 - x`` computes)."""
    return apply(SUB, other, _alpha(input, alpha))


@public("mul", methods=("mul", "multiply", "__mul__"))
def mul(input, other) -> Tensor:
    """input * other."""
    return apply(MUL, input, other)


@public("div", methods=("div", "divide", "true_divide", "__truediv__"))
def div(input, other, *, rounding_mode=None) -> Tensor:
    """input / other; ``rounding_mode`` "trunc" or "floor" rounds the quotient (no gradient)."""
    if rounding_mode is None:
        return apply(DIV, input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    return apply(DIV_ROUNDED, input, other, rounding_mode=rounding_mode)


def _rounded_div_numpy(x, y, *, rounding_mode):
    if rounding_mode == "floor":
        return np.floor_divide(x, y)
    quotient = np.true_divide(x, y)
    return (
        np.trunc(quotient).astype(quotient.dtype)
        if x.dtype.kind == "f"
        else (np.trunc(quotient).astype(np.result_type(x, y)))
    )


DIV_ROUNDED = OpDef(
    "div_rounded",
    _rounded_div_numpy,
    vjp=lambda g, out, x, y, **_: (g * 0, None),
    spelling="_div_{rounding_mode}({0}, {1})",
    saves="none",
    backward_name="DivBackward1",
)


def _radd(self, other):
    return apply(ADD, other, self)


def _rmul(self, other):
    return apply(MUL, other, self)


def _rsub(self, other):
    return apply(SUB, other, self)


def _rtruediv(self, other):
    # torch computes scalar / x as reciprocal(x) * scalar (its node is MulBackward0).
    if isinstance(other, Tensor):
        return apply(DIV, other, self)
    return apply(MUL, reciprocal(self), other)


Tensor.__radd__ = _radd
Tensor.__rmul__ = _rmul
Tensor.__rsub__ = _rsub
Tensor.__rtruediv__ = _rtruediv

# ------------------------------------------------------------------------------- pow


def _pow_scalar_vjp(g, out, x, *, exponent):
    if exponent == 0:
        return (g * 0,)
    if exponent == 1:
        return (g,)
    if exponent == 2:
        return (g * (x * 2),)
    return (g * (exponent * x ** (exponent - 1)),)


def _pow_tensor_vjp(g, out, x, y):
    gx = gy = None
    if isinstance(x, Tensor):
        gx = where(y == 0, 0.0, g * (y * x ** (y - 1)))
    if isinstance(y, Tensor):
        if isinstance(x, Tensor):
            # 0 ** y has a finite (zero) slope in y for y >= 0, as in torch.
            gy = where(logical_and(x == 0, y >= 0), 0.0, g * (out * x.log()))
        else:
            gy = g * (out * math.log(x))
    return (gx, gy)


POW = OpDef(
    "pow",
    lambda x, *, exponent: np.power(x, exponent),
    vjp=_pow_scalar_vjp,
    spelling="{0} ** {exponent}",
    backward_name="PowBackward0",
    promote=lambda x, *, exponent=None: _pow_dtypes(x, exponent),
)
POW_TENSOR = OpDef(
    "pow_tensor",
    np.power,
    vjp=_pow_tensor_vjp,
    spelling="{0} ** {1}",
    saves="both",
    sympy=lambda x, y: x**y,
    arity=2,
    backward_name=lambda args, attrs: (
        "PowBackward1" if isinstance(args[0], Tensor) else "PowBackward2"
    ),
)


def _pow_dtypes(x, exponent):
    from .. import dtypes

    d = dtypes.result_type(x, exponent)
    return d, d


@public("pow", methods=("pow", "__pow__"))
def pow(input, exponent) -> Tensor:  # noqa: A001 - torch's name
    """input ** exponent; a Python-number exponent is static (PowBackward0)."""
    if isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        return apply(POW, input, exponent=exponent)
    return apply(POW_TENSOR, input, exponent)


def _rpow(self, other):
    return apply(POW_TENSOR, other, self)


Tensor.__rpow__ = _rpow

# --------------------------------------------------------------------- where, comparisons


def _where_vjp(g, out, condition, a, b):
    zero = 0.0
    return (
        None,
        where(condition, g, zero) if isinstance(a, Tensor) else None,
        where(condition, zero, g) if isinstance(b, Tensor) else None,
    )


def _where_dtypes(condition, a, b):
    from .. import dtypes

    d = dtypes.result_type(a, b)
    return d, d


def _where_eval(condition, a, b):
    return np.where(condition, a, b)


WHERE = OpDef(
    "where",
    _where_eval,
    vjp=_where_vjp,
    spelling="np.where({0}, {1}, {2})",
    promote=lambda c, a, b: (None, _where_dtypes(c, a, b)[1]),
    nondifferentiable_inputs=(0,),
    backward_name="WhereBackward0",
)


@public("where")
def where(condition, input, other) -> Tensor:
    """Elementwise ``input if condition else other``. Its gradient sends zero (not NaN) to
    the branch that was not selected."""
    from .. import dtypes

    d = dtypes.result_type(input, other)
    return apply(WHERE, condition, _cast(input, d), _cast(other, d))


def _cast(value, d):
    if isinstance(value, Tensor):
        return value if value.dtype is d else value.to(d)
    return value


def _where_method(self, condition, other):
    return where(condition, self, other)


Tensor.where = _where_method


def _comparison(name, numpy_fn, spelling, dunder):
    op = OpDef(name, numpy_fn, spelling=spelling, promote="bool", arity=2)

    def function(input, other) -> Tensor:
        return apply(op, input, other)

    function.__name__ = name
    function.__doc__ = f"Elementwise ``{spelling.format('input', 'other')}`` as a bool tensor."
    public(name, methods=(name, dunder))(function)
    return op


_comparison("eq", np.equal, "{0} == {1}", "__eq__")
_comparison("ne", np.not_equal, "{0} != {1}", "__ne__")
_comparison("lt", np.less, "{0} < {1}", "__lt__")
_comparison("le", np.less_equal, "{0} <= {1}", "__le__")
_comparison("gt", np.greater, "{0} > {1}", "__gt__")
_comparison("ge", np.greater_equal, "{0} >= {1}", "__ge__")


def _logical(name, numpy_fn, spelling, dunders=()):
    op = OpDef(name, numpy_fn, spelling=spelling, promote=lambda *a: (None, _bool()), arity=2)

    def function(input, other) -> Tensor:
        return apply(op, input, other)

    function.__name__ = name
    function.__doc__ = f"Elementwise ``{name}`` of the truth values, as a bool tensor."
    public(name, methods=(name, *dunders))(function)
    return function


def _bool():
    from .. import dtypes

    return dtypes.bool_


logical_and = _logical("logical_and", np.logical_and, "np.logical_and({0}, {1})", ("__and__",))
logical_or = _logical("logical_or", np.logical_or, "np.logical_or({0}, {1})", ("__or__",))
logical_xor = _logical("logical_xor", np.logical_xor, "np.logical_xor({0}, {1})", ("__xor__",))
LOGICAL_NOT = OpDef(
    "logical_not", np.logical_not, spelling="np.logical_not({0})", promote=lambda x: (None, _bool())
)


@public("logical_not", methods=("logical_not", "__invert__"))
def logical_not(input) -> Tensor:
    """Elementwise not, as a bool tensor."""
    return apply(LOGICAL_NOT, input)


# ------------------------------------------------------------------- in-place arithmetic


def _inplace_binary(op, alpha_allowed=True):
    from .inplace import inplace

    def method(self, other, *, alpha=1):
        return inplace(self, op, _alpha(other, alpha))

    def plain(self, other):
        return inplace(self, op, other)

    return method if alpha_allowed else plain


Tensor.add_ = Tensor.__iadd__ = _inplace_binary(ADD)
Tensor.sub_ = Tensor.__isub__ = _inplace_binary(SUB)
Tensor.mul_ = Tensor.__imul__ = _inplace_binary(MUL, alpha_allowed=False)


def _div_(self, other, *, rounding_mode=None):
    from .inplace import inplace

    if rounding_mode is None:
        return inplace(self, DIV, other)
    return inplace(self, DIV_ROUNDED, other, rounding_mode=rounding_mode)


Tensor.div_ = Tensor.__itruediv__ = _div_
Tensor.pow_ = Tensor.__ipow__ = lambda self, exponent: _pow_inplace(self, exponent)


def _pow_inplace(self, exponent):
    from .inplace import inplace

    if isinstance(exponent, Tensor):
        return inplace(self, POW_TENSOR, exponent)
    return inplace(self, POW, exponent=exponent)


# ------------------------------------------------------------------------------- clamp


def _clamp_numpy(x, *, min, max):  # noqa: A002 - torch's argument names
    out = x
    if min is not None:
        out = np.maximum(out, min)
    if max is not None:
        out = np.minimum(out, max)
    return out


def _clamp_vjp(g, out, x, *, min, max):  # noqa: A002
    inside = None
    if min is not None:
        inside = x >= min
    if max is not None:
        below = x <= max
        inside = below if inside is None else logical_and(inside, below)
    return (where(inside, g, 0.0),)


CLAMP = OpDef(
    "clamp",
    _clamp_numpy,
    vjp=_clamp_vjp,
    spelling="np.clip({0}, {min}, {max})",
    promote=lambda x, *, min=None, max=None: (None, x.dtype),
)


@public("clamp", methods=("clamp", "clip"))
def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]; bounds are numbers or tensors (broadcast)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = where(out < min, min, out)
        if max is not None:
            out = where(out > max, max, out)
        return out
    return apply(CLAMP, input, min=min, max=max)


clip = clamp


def _clamp_(self, min=None, max=None):  # noqa: A002
    from .inplace import inplace, write

    if isinstance(min, Tensor) or isinstance(max, Tensor):
        result = clamp(self, min, max)
        write(self, result, result._grad_fn is not None)
        return self
    return inplace(self, CLAMP, min=min, max=max)


Tensor.clamp_ = Tensor.clip_ = _clamp_
