"""Elementwise ops. Each is one OpDef defined by its SymPy scalar expression; gradient rules
are derived from it with ``sympy.diff`` once per op, unless a hand-written rule (in terms of
the output, or cheaper) is given.

Generated code writes each op through its ``spelling``: ``{0}``, ``{1}`` are the inputs.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from .. import dtypes
from ..tape import UNSAVED, InputMeta
from ..tensor import Tensor
from . import derivatives
from . import numpy_runtime as rt
from .inplace import FILL, inplace, write_out
from .registry import OpDef, apply, apply_binary, binary_shortcut, public, values_only
from .shape import clone

# --------------------------------------------------------------------- definition helpers

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _unary_op(name, numpy_fn, expr, spelling, vjp, saves, promote, backward_name):
    op = OpDef(
        name,
        numpy_fn,
        spelling=spelling,
        sympy=expr,
        promote=promote,
        backward_name=backward_name,
        saves=saves or "inputs",
    )
    if vjp is None and expr is not None:
        op.vjp = derivatives.derived_vjp(op)
        op.saves = derivatives.saves_for(op)
    else:
        op.vjp = vjp
    return op


def _define_unary(
    name,
    numpy_fn,
    expr,
    spelling,
    vjp=None,
    saves=None,
    methods=None,
    *,
    promote="float",
    backward_name=None,
    check=None,
    aliases=(),
):
    """An elementwise function ``symgrad.<name>`` with Tensor methods ``name``/``name_``.

    ``promote="float"`` turns integer inputs into the default float (torch's ``exp``);
    ``"same"`` keeps the input's dtype (torch's ``floor``, ``abs``). ``check(input)`` raises
    torch's error for dtypes torch has no kernel for.
    """
    op = _unary_op(name, numpy_fn, expr, spelling, vjp, saves, promote, backward_name)

    def function(input: Tensor, *, out=None) -> Tensor:
        if check is not None:
            check(input)
        result = apply(op, input)
        return result if out is None else write_out(out, result, name)

    function.__name__ = name
    spelled = f"; spelled ``{spelling}``" if spelling else ""
    function.__doc__ = f"Elementwise ``{name}`` (torch.{name}){spelled}."
    function.op = op
    public(name, methods=(name, *aliases) if methods is None else methods)(function)
    for alias in aliases:
        public(alias)(function)
    _define_inplace(name, op, check)
    for alias in aliases:
        setattr(Tensor, f"{alias}_", getattr(Tensor, f"{name}_"))
    return function


def _define_inplace(name, op, check=None) -> None:
    def method(self, *args, **kwargs):
        if check is not None:
            check(self)
        return inplace(self, op, *args, **kwargs)

    method.__name__ = f"{name}_"
    setattr(Tensor, f"{name}_", method)


def _not_implemented_for(kernel: str, rejects):
    """torch's error for a dtype its CPU kernel ``kernel`` does not handle."""

    def check(input) -> None:
        if isinstance(input, Tensor) and rejects(input.dtype):
            raise NotImplementedError(
                f"\"{kernel}\" not implemented for '{input.dtype._scalar_name}'"
            )

    return check


def _is_bool(d) -> bool:
    return d is dtypes.bool_


def _is_integral(d) -> bool:
    return not d.is_floating_point


def _zeros_like(g):
    """Zeros shaped like ``g`` (torch's ``zeros_like(grad)``: no NaN even where g is NaN)."""
    return apply(FILL, g, value=0)


def _zero_vjp(g, out, x, **_attrs):
    return (_zeros_like(g),)


# ---------------------------------------------------------------------------- unary math

exp = _define_unary(
    "exp", np.exp, sp.exp, "np.exp({0})", saves="output", vjp=lambda g, out, x: (g * out,)
)
exp2 = _define_unary(
    "exp2",
    np.exp2,
    lambda x: 2**x,
    "np.exp2({0})",
    saves="output",
    vjp=lambda g, out, x: (g * (out * _LN2),),
)
expm1 = _define_unary(
    "expm1",
    np.expm1,
    lambda x: sp.exp(x) - 1,
    "np.expm1({0})",
    saves="output",
    vjp=lambda g, out, x: (g * (out + 1),),
)
log = _define_unary("log", np.log, sp.log, "np.log({0})", vjp=lambda g, out, x: (g / x,))
log2 = _define_unary(
    "log2", np.log2, lambda x: sp.log(x, 2), "np.log2({0})", vjp=lambda g, out, x: (g / (x * _LN2),)
)
log10 = _define_unary(
    "log10",
    np.log10,
    lambda x: sp.log(x, 10),
    "np.log10({0})",
    vjp=lambda g, out, x: (g / (x * _LN10),),
)
log1p = _define_unary(
    "log1p", np.log1p, lambda x: sp.log(1 + x), "np.log1p({0})", backward_name="Log1PBackward0"
)
sqrt = _define_unary("sqrt", np.sqrt, sp.sqrt, "np.sqrt({0})")
rsqrt = _define_unary(
    "rsqrt", lambda x: 1 / np.sqrt(x), lambda x: 1 / sp.sqrt(x), "1 / np.sqrt({0})"
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
asin = _define_unary("asin", np.arcsin, sp.asin, "np.arcsin({0})", aliases=("arcsin",))
acos = _define_unary("acos", np.arccos, sp.acos, "np.arccos({0})", aliases=("arccos",))
atan = _define_unary("atan", np.arctan, sp.atan, "np.arctan({0})", aliases=("arctan",))
sinh = _define_unary("sinh", np.sinh, sp.sinh, "np.sinh({0})")
cosh = _define_unary("cosh", np.cosh, sp.cosh, "np.cosh({0})")
tanh = _define_unary("tanh", np.tanh, sp.tanh, "np.tanh({0})")
asinh = _define_unary("asinh", np.arcsinh, sp.asinh, "np.arcsinh({0})", aliases=("arcsinh",))
acosh = _define_unary(
    "acosh",
    np.arccosh,
    sp.acosh,
    "np.arccosh({0})",
    # 1 / sqrt(x^2 - 1) as torch writes it (SymPy's 1 / (sqrt(x - 1) sqrt(x + 1)) is NaN for
    # x <= -1, where torch's gradient is finite)
    vjp=lambda g, out, x: (g * rsqrt(x * x - 1),),
    aliases=("arccosh",),
)
atanh = _define_unary("atanh", np.arctanh, sp.atanh, "np.arctanh({0})", aliases=("arctanh",))
sigmoid = _define_unary(
    "sigmoid",
    rt.sigmoid,
    lambda x: 1 / (1 + sp.exp(-x)),
    None,
    saves="output",
    vjp=lambda g, out, x: (g * (out * (1 - out)),),
)
# SymPy writes d erf = 2 exp(-x^2) / sqrt(pi); the constant is folded here so that it keeps
# full precision in float64 (derivatives.evaluate would compute sqrt(pi) as a float32 tensor).
erf = _define_unary(
    "erf",
    rt.erf,
    sp.erf,
    None,
    vjp=lambda g, out, x: (g * (exp(-(x * x)) * _TWO_OVER_SQRT_PI),),
)
erfc = _define_unary(
    "erfc",
    rt.erfc,
    sp.erfc,
    None,
    vjp=lambda g, out, x: (g * (exp(-(x * x)) * -_TWO_OVER_SQRT_PI),),
)

# ------------------------------------------------- unary ops that keep the input's dtype

abs = _define_unary(  # noqa: A001 - torch's name
    "abs",
    np.abs,
    sp.Abs,
    "np.abs({0})",
    methods=("abs", "absolute", "__abs__"),
    promote="same",
    check=_not_implemented_for("abs_cpu", _is_bool),
    aliases=("absolute",),
)


def _square_dtypes(x):
    d = dtypes.result_type(x)
    d = dtypes.int64 if d is dtypes.bool_ else d
    return d, d


square = _define_unary(
    "square",
    np.square,
    lambda x: x**2,
    "np.square({0})",
    vjp=lambda g, out, x: (g * (2 * x),),
    # torch computes square as pow(x, 2); a bool square is an int64 one.
    backward_name="PowBackward0",
    promote=_square_dtypes,
)


def _relu_check(input) -> None:
    if isinstance(input, Tensor) and input.dtype is dtypes.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")


relu = _define_unary(
    "relu",
    # torch keeps x where it is not negative: relu(-0.0) is -0.0 and relu(nan) is nan, whose
    # gradient passes (threshold_backward zeroes only where the output is <= 0).
    lambda x: np.where(x < 0, 0, x),
    None,
    "np.where({0} < 0, 0, {0})",
    saves="output",
    vjp=lambda g, out, x: (where(out <= 0, 0, g),),
    promote="same",
    check=_relu_check,
)


def _rounding(name, numpy_fn, aliases=()):
    return _define_unary(
        name,
        numpy_fn,
        None,
        f"np.{name}({{0}})",
        vjp=_zero_vjp,
        saves="none",
        promote="same",
        check=_not_implemented_for(f"{name}_vml_cpu", _is_bool),
        aliases=aliases,
    )


floor = _rounding("floor", np.floor)
ceil = _rounding("ceil", np.ceil)
trunc = _rounding("trunc", np.trunc, aliases=("fix",))
frac = _define_unary(
    "frac",
    lambda x: x - np.trunc(x),
    None,
    "{0} - np.trunc({0})",
    vjp=lambda g, out, x: (g,),
    saves="none",
    promote="same",
    check=_not_implemented_for("frac_cpu", _is_integral),
)

# torch's sign of NaN is 0 (numpy's is NaN).
SIGN = _unary_op(
    "sign",
    lambda x: np.nan_to_num(np.sign(x)),
    None,
    "np.nan_to_num(np.sign({0}))",
    _zero_vjp,
    "none",
    "same",
    None,
)


@public("sign", methods=("sign",))
def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (torch.sign); a bool tensor is its own sign."""
    if isinstance(input, Tensor) and input.dtype is dtypes.bool_:
        return clone(input)
    return apply(SIGN, input)


def _sign_(self: Tensor) -> Tensor:
    return self if self.dtype is dtypes.bool_ else inplace(self, SIGN)


Tensor.sign_ = _sign_


def _round_name(args, attrs) -> str:
    return "RoundBackward0" if attrs["decimals"] == 0 else "RoundBackward1"


ROUND = OpDef(
    "round",
    lambda x, *, decimals: np.round(x, decimals),
    vjp=_zero_vjp,
    spelling="np.round({0}, {decimals})",
    saves="none",
    backward_name=_round_name,
)


def _round_check(input, decimals: int) -> None:
    _not_implemented_for("round_vml_cpu", _is_bool)(input)
    if decimals != 0:
        _not_implemented_for("round_cpu", _is_integral)(input)


@public("round", methods=("round",))
def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - torch's name
    """Round half to even, to ``decimals`` decimal places (negative: to tens, hundreds...)."""
    _round_check(input, decimals)
    return apply(ROUND, input, decimals=int(decimals))


def _round_(self: Tensor, *, decimals: int = 0) -> Tensor:
    _round_check(self, decimals)
    return inplace(self, ROUND, decimals=int(decimals))


Tensor.round_ = _round_

# --------------------------------------------------------------- non-finite values


def _nan_to_num_vjp(g, out, x, **_attrs):
    return (where(isfinite(x), g, 0.0),)


NAN_TO_NUM = OpDef(
    "nan_to_num",
    lambda x, *, nan, posinf, neginf: np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf),
    vjp=_nan_to_num_vjp,
    spelling="np.nan_to_num({0}, nan={nan}, posinf={posinf}, neginf={neginf})",
    promote="same",
)


@public("nan_to_num", methods=("nan_to_num",))
def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    """Replace NaN by ``nan`` and +-inf by ``posinf``/``neginf`` (default: the dtype's
    largest finite values). Its gradient is zero where the input was not finite."""
    return apply(
        NAN_TO_NUM,
        input,
        nan=float(nan),
        posinf=None if posinf is None else float(posinf),
        neginf=None if neginf is None else float(neginf),
    )


def _nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return inplace(
        self,
        NAN_TO_NUM,
        nan=float(nan),
        posinf=None if posinf is None else float(posinf),
        neginf=None if neginf is None else float(neginf),
    )


Tensor.nan_to_num_ = _nan_to_num_


def _classify_dtypes(x):
    # Integers are never NaN or inf; they are checked as floats so numpy has a loop for bool.
    compute = x.dtype if x.dtype.is_floating_point else dtypes.float32
    return compute, dtypes.bool_


def _classifier(name, numpy_fn):
    op = OpDef(name, numpy_fn, spelling=f"np.{name}({{0}})", promote=_classify_dtypes)

    def function(input: Tensor) -> Tensor:
        return apply(op, input)

    function.__name__ = name
    function.__doc__ = f"Elementwise ``{name}`` as a bool tensor (torch.{name})."
    public(name, methods=(name,))(function)
    return function


isnan = _classifier("isnan", np.isnan)
isinf = _classifier("isinf", np.isinf)
isfinite = _classifier("isfinite", np.isfinite)

# -------------------------------------------------------------------------- arithmetic

NEG_BOOL_MESSAGE = (
    "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert "
    "a mask, use the `~` or `logical_not()` operator instead."
)


def _neg_vjp(g, out, x):
    return (-g,)


NEG = OpDef(
    "neg",
    np.negative,
    vjp=_neg_vjp,
    spelling="-{0}",
    saves="none",
    sympy=lambda x: -x,
    cost="cheap",
)


def _neg_check(input) -> None:
    if isinstance(input, Tensor) and input.dtype is dtypes.bool_:
        raise RuntimeError(NEG_BOOL_MESSAGE)


@public("neg", methods=("neg", "negative", "__neg__"))
def neg(input: Tensor) -> Tensor:
    """-input, elementwise."""
    _neg_check(input)
    return apply(NEG, input)


negative = public("negative")(neg)
_define_inplace("neg", NEG, _neg_check)
Tensor.negative_ = Tensor.neg_


def _add_vjp(g, out, x, y):
    return (g, g)


def _sub_vjp(g, out, x, y):
    return (g, None if _is_number(y) else -g)


def _mul_vjp(g, out, x, y):
    if x.__class__ is Tensor and y.__class__ is Tensor:  # both saved: both need a gradient
        if values_only(g):  # eager backward without create_graph: numpy's products will do
            data = g._data
            return (Tensor._wrap(data * y._data), Tensor._wrap(data * x._data))
        return (_multiply(g, y), _multiply(g, x))
    # A number input takes no gradient: skip its product (``x * 2`` is the common case); an
    # input that was not saved (UNSAVED, or InputMeta) means the other needs no gradient
    # (eager only).
    return (
        None if _is_number(x) or _unsaved(y) else _multiply(g, y),
        None if _is_number(y) or _unsaved(x) else _multiply(g, x),
    )


def _unsaved(value) -> bool:
    return value is UNSAVED or value.__class__ is InputMeta


def _div_vjp(g, out, x, y):
    gx = g / y
    return (gx, -(gx * x) / y if isinstance(y, Tensor) else None)


def _sub_name(args, attrs):
    return "SubBackward0" if isinstance(args[0], Tensor) else "RsubBackward1"


ADD = OpDef(
    "add",
    np.add,
    cost="cheap",
    vjp=_add_vjp,
    spelling="{0} + {1}",
    saves="none",
    sympy=lambda x, y: x + y,
    arity=2,
    reads_unsaved=False,
    wraps_numbers=True,
    exact_vjp=True,
)
SUB = OpDef(
    "sub",
    np.subtract,
    cost="cheap",
    vjp=_sub_vjp,
    spelling="{0} - {1}",
    saves="none",
    sympy=lambda x, y: x - y,
    arity=2,
    backward_name=_sub_name,
    reads_unsaved=False,
    wraps_numbers=True,  # x - 2 only: 2 - x is rsub(x, 2), whose 2 has no edge
    exact_vjp=True,
)
MUL = OpDef(
    "mul",
    np.multiply,
    cost="cheap",
    vjp=_mul_vjp,
    spelling="{0} * {1}",
    sympy=lambda x, y: x * y,
    arity=2,
    wraps_numbers=True,
    reads_unsaved=False,
    saves_each_for_the_other=True,
    exact_vjp=True,
)
_multiply = binary_shortcut(MUL)  # g * value in rules, without the operator's indirection
DIV = OpDef(
    "div",
    np.true_divide,
    cost="cheap",
    vjp=_div_vjp,
    spelling="{0} / {1}",
    promote="float",
    sympy=lambda x, y: x / y,
    arity=2,
    wraps_numbers=True,
    exact_vjp=True,
)


def _alias(op: OpDef, name: str, backward_name) -> OpDef:
    """``op``'s computation under another torch name (its node's name differs)."""
    return OpDef(
        name,
        op.eval,
        vjp=op.vjp,
        spelling=op.spelling,
        promote=op.promote,
        saves=op.saves,
        sympy=op.sympy,
        arity=op.arity,
        backward_name=backward_name,
        saves_each_for_the_other=op.saves_each_for_the_other,
    )


# ``op`` as torch's C++ composites call it with a Python number (``at::div(t, 2)``): the
# Scalar overload's node name, and no edge for the number.
MUL_SCALAR = _alias(MUL, "mul_scalar", "MulBackward1")
DIV_SCALAR = _alias(DIV, "div_scalar", "DivBackward1")


def mul_scalar(input: Tensor, number) -> Tensor:
    """input * number with torch's Scalar-overload node (MulBackward1), for composites."""
    return apply(MUL_SCALAR, input, number)


def div_scalar(input: Tensor, number) -> Tensor:
    """input / number with torch's Scalar-overload node (DivBackward1), for composites."""
    return apply(DIV_SCALAR, input, number)


def _alpha(other, alpha):
    return other if alpha == 1 else other * alpha


@public("add", methods=("add", "__add__"))
def add(input, other, *, alpha=1, out=None) -> Tensor:
    """input + alpha * other, with broadcasting and torch's type promotion."""
    result = apply_binary(ADD, input, _alpha(other, alpha))
    return result if out is None else write_out(out, result, "add")


@public("sub", methods=("sub", "subtract", "__sub__"))
def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """input - alpha * other."""
    result = apply_binary(SUB, input, _alpha(other, alpha))
    return result if out is None else write_out(out, result, "sub")


subtract = public("subtract")(sub)


@public("rsub")
def rsub(input, other, *, alpha=1) -> Tensor:
    """other - alpha * input (what ``2 - x`` computes)."""
    return apply(SUB, other, _alpha(input, alpha))


@public("mul", methods=("mul", "multiply", "__mul__"))
def mul(input, other, *, out=None) -> Tensor:
    """input * other."""
    result = apply_binary(MUL, input, other)
    return result if out is None else write_out(out, result, "mul")


multiply = public("multiply")(mul)

ROUNDING_MODE_MESSAGE = (
    "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{}'"
)


@public("div", methods=("div", "divide", "true_divide", "__truediv__"))
def div(input, other, *, rounding_mode=None, out=None) -> Tensor:
    """input / other; ``rounding_mode`` "trunc" or "floor" rounds the quotient (zero gradient,
    as torch's DivBackward2), and keeps integer inputs integer."""
    if rounding_mode is None:
        result = apply_binary(DIV, input, other)
    elif rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(ROUNDING_MODE_MESSAGE.format(rounding_mode))
    else:
        result = apply(DIV_ROUNDED, input, other, rounding_mode=rounding_mode)
    return result if out is None else write_out(out, result, "div")


divide = public("divide")(div)
true_divide = public("true_divide")(div)


def _is_number(value) -> bool:
    """A Python (or numpy) number among an op's inputs; an unsaved tensor input reaches a
    rule as InputMeta eagerly and as a symbolic Tensor in the compiler."""
    kind = value.__class__
    if kind is Tensor or kind is InputMeta:  # the common answers first: rules call this often
        return False
    return kind is float or kind is int or isinstance(value, _NUMBER_TYPES)


_NUMBER_TYPES = (bool, int, float, np.number, np.bool_)


def _rounded_div_vjp(g, out, x, y, *, rounding_mode):
    return (
        None if _is_number(x) else _zeros_like(g),
        None if _is_number(y) else _zeros_like(g),
    )


DIV_ROUNDED = OpDef(
    "div_rounded",
    rt.rounded_div,
    vjp=_rounded_div_vjp,
    saves="none",
    check=rt.check_integer_divisor,
    backward_name="DivBackward2",
    wraps_numbers=True,
)


def _rsub(self, other):
    return apply_binary(SUB, other, self)


def _rtruediv(self, other):
    # torch computes scalar / x as reciprocal(x) * scalar (its node is MulBackward0).
    if isinstance(other, Tensor):
        return apply(DIV, other, self)
    return apply(MUL, reciprocal(self), other)


# The operators are add/sub/mul/div without their keywords (alpha=1, out=None): they run on
# most op calls of an eager program, so they are the ops' shortcuts themselves. 2 + x and
# 2 * x are x + 2 and x * 2 in torch: the tensor is the first input of the node.
Tensor.__add__ = Tensor.__radd__ = binary_shortcut(ADD)
Tensor.__sub__ = binary_shortcut(SUB)
Tensor.__mul__ = Tensor.__rmul__ = binary_shortcut(MUL)
Tensor.__truediv__ = binary_shortcut(DIV)
Tensor.__rsub__ = _rsub
Tensor.__rtruediv__ = _rtruediv

# ------------------------------------------------------------------------------- pow

NEGATIVE_POWER_MESSAGE = "Integers to negative integer powers are not allowed."


def _pow_scalar_vjp(g, out, x, exponent):
    if exponent == 0:
        return (_zeros_like(g), None)
    if exponent == 1:
        return (g, None)
    if exponent == 2:
        return (g * (x * 2), None)
    # x ** (exponent - 1) with exponent >= 1 is 0 at x = 0: the slope there stays finite.
    return (g * (exponent * x ** (exponent - 1)), None)


def _pow_tensor_vjp(g, out, x, y):
    gx = gy = None
    if isinstance(x, Tensor):
        gx = where(y == 0, 0.0, g * (y * x ** (y - 1)))
    if isinstance(y, Tensor):
        if isinstance(x, Tensor):
            # 0 ** y has a finite (zero) slope in y for y >= 0, as in torch.
            gy = where(logical_and(x == 0, y >= 0), 0.0, g * (out * log(x)))
        elif x == 0:
            gy = where(y >= 0, 0.0, g * (out * -math.inf))
        else:
            gy = g * (out * (math.log(x) if x > 0 else math.nan))
    return (gx, gy)


def _pow_numpy(x, y):
    if x.dtype.kind in "iu" and np.any(y < 0):
        # numpy refuses negative integer powers; torch truncates 1/x**n towards zero.
        magnitude = np.power(x, np.abs(y))
        inverse = np.where(np.abs(x) == 1, magnitude, 0)
        return np.where(y < 0, inverse, magnitude)
    return np.power(x, y)


POW = OpDef(
    "pow",
    _pow_numpy,
    vjp=_pow_scalar_vjp,
    spelling="{0} ** {1}",
    backward_name="PowBackward0",
)
POW_TENSOR = OpDef(
    "pow_tensor",
    _pow_numpy,
    vjp=_pow_tensor_vjp,
    spelling="{0} ** {1}",
    saves="both",
    sympy=lambda x, y: x**y,
    arity=2,
    backward_name=lambda args, attrs: (
        "PowBackward1" if isinstance(args[0], Tensor) else "PowBackward2"
    ),
)


def _pow_op(input, exponent):
    """POW (a Python-number exponent: PowBackward0) or POW_TENSOR, after torch's checks."""
    if isinstance(exponent, Tensor) or not isinstance(input, Tensor):
        return POW_TENSOR
    if (
        not dtypes.result_type(input, exponent).is_floating_point
        and isinstance(exponent, (int, np.integer))
        and exponent < 0
    ):
        raise RuntimeError(NEGATIVE_POWER_MESSAGE)
    return POW


@public("pow", methods=("pow", "__pow__"))
def pow(input, exponent, *, out=None) -> Tensor:  # noqa: A001 - torch's name
    """input ** exponent; a Python-number exponent is static (PowBackward0). The gradient
    stays finite at 0 for exponents >= 1 (torch's rule)."""
    result = apply(_pow_op(input, exponent), input, exponent)
    return result if out is None else write_out(out, result, "pow")


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
    wraps_numbers=True,
    backward_name="WhereBackward0",
    elementwise=True,
    fresh_result=True,
)


@public("where")
def where(condition, input, other) -> Tensor:
    """Elementwise ``input if condition else other``. Its gradient sends zero (not NaN) to
    the branch that was not selected."""
    if isinstance(condition, Tensor) and condition.dtype is not dtypes.bool_:
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{condition.dtype._scalar_name}"
        )
    d = dtypes.result_type(input, other)
    return apply(WHERE, condition, _cast(input, d), _cast(other, d))


def _cast(value, d):
    if isinstance(value, Tensor):
        return value if value.dtype is d else value.to(d)
    return value


def _where_method(self, condition, other):
    return where(condition, self, other)


Tensor.where = _where_method


def _comparison(name, numpy_fn, spelling, dunder, alias=None):
    op = OpDef(name, numpy_fn, spelling=spelling, promote="bool", arity=2)

    def function(input, other) -> Tensor:
        return apply(op, input, other)

    function.__name__ = name
    function.__doc__ = f"Elementwise ``{spelling.format('input', 'other')}`` as a bool tensor."
    aliases = () if alias is None else (alias,)
    public(name, methods=(name, *aliases, dunder))(function)
    for other_name in aliases:
        public(other_name)(function)
    return function


# (torch.equal is a whole-tensor test, not an alias of eq.)
eq = _comparison("eq", np.equal, "{0} == {1}", "__eq__")
ne = _comparison("ne", np.not_equal, "{0} != {1}", "__ne__", "not_equal")
lt = _comparison("lt", np.less, "{0} < {1}", "__lt__", "less")
le = _comparison("le", np.less_equal, "{0} <= {1}", "__le__", "less_equal")
gt = _comparison("gt", np.greater, "{0} > {1}", "__gt__", "greater")
ge = _comparison("ge", np.greater_equal, "{0} >= {1}", "__ge__", "greater_equal")


def _logical(name, numpy_fn, spelling):
    op = OpDef(name, numpy_fn, spelling=spelling, promote=lambda *a: (None, dtypes.bool_), arity=2)

    def function(input, other) -> Tensor:
        return apply(op, input, other)

    function.__name__ = name
    function.__doc__ = f"Elementwise ``{name}`` of the truth values, as a bool tensor."
    public(name, methods=(name,))(function)
    return function


logical_and = _logical("logical_and", np.logical_and, "np.logical_and({0}, {1})")
logical_or = _logical("logical_or", np.logical_or, "np.logical_or({0}, {1})")
logical_xor = _logical("logical_xor", np.logical_xor, "np.logical_xor({0}, {1})")
LOGICAL_NOT = OpDef(
    "logical_not",
    np.logical_not,
    spelling="np.logical_not({0})",
    promote=lambda x: (None, dtypes.bool_),
)


@public("logical_not", methods=("logical_not",))
def logical_not(input) -> Tensor:
    """Elementwise not, as a bool tensor."""
    return apply(LOGICAL_NOT, input)


# ------------------------------------------------------------------- in-place arithmetic


def _inplace_binary(op, alpha_allowed=True):
    def method(self, other, *, alpha=1):
        return inplace(self, op, _alpha(other, alpha))

    def plain(self, other):
        return inplace(self, op, other)

    return method if alpha_allowed else plain


Tensor.add_ = Tensor.__iadd__ = _inplace_binary(ADD)
Tensor.sub_ = Tensor.subtract_ = Tensor.__isub__ = _inplace_binary(SUB)
Tensor.mul_ = Tensor.multiply_ = Tensor.__imul__ = _inplace_binary(MUL, alpha_allowed=False)


def _div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return inplace(self, DIV, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(ROUNDING_MODE_MESSAGE.format(rounding_mode))
    return inplace(self, DIV_ROUNDED, other, rounding_mode=rounding_mode)


Tensor.div_ = Tensor.divide_ = Tensor.true_divide_ = Tensor.__itruediv__ = _div_


def _pow_(self, exponent):
    return inplace(self, _pow_op(self, exponent), exponent)


Tensor.pow_ = Tensor.__ipow__ = _pow_

# ------------------------------------------------------------------------------- clamp
#
# Bounds are inputs (numbers or tensors), so dtype promotion sees them: clamp of an int
# tensor to 0.5 is a float tensor, as in torch. One bound or two are separate ops (a graph
# input is never None).


def _clamp_numpy(x, min, max):  # noqa: A002 - torch's argument names
    # np.clip is minimum(maximum(x, min), max): NaNs propagate and min > max gives max.
    return np.clip(x, min, max)


def _clamp_vjp(g, out, x, min, max):  # noqa: A002
    """torch's clamp_backward_min_max: x keeps the gradient inside [min, max]; a tensor bound
    takes it where it is the result (min only while min < max)."""
    zero = 0.0
    return (
        where(logical_and(x >= min, x <= max), g, zero),
        where(logical_and(x < min, min < max), g, zero) if isinstance(min, Tensor) else None,
        where(logical_or(x > max, max < min), g, zero) if isinstance(max, Tensor) else None,
    )


def _clamp_min_vjp(g, out, x, min):  # noqa: A002
    zero = 0.0
    return (
        where(x >= min, g, zero),
        where(x < min, g, zero) if isinstance(min, Tensor) else None,
    )


def _clamp_max_vjp(g, out, x, max):  # noqa: A002
    zero = 0.0
    return (
        where(x <= max, g, zero),
        where(x > max, g, zero) if isinstance(max, Tensor) else None,
    )


def _clamp_dtypes(x, *bounds):
    d = dtypes.result_type(x, *bounds)
    return d, d


def _clamp_name(args, attrs) -> str:
    tensor_bound = any(isinstance(bound, Tensor) for bound in args[1:])
    return "ClampBackward0" if tensor_bound else "ClampBackward1"


CLAMP = OpDef(
    "clamp",
    _clamp_numpy,
    vjp=_clamp_vjp,
    spelling="np.clip({0}, {1}, {2})",
    promote=_clamp_dtypes,
    backward_name=_clamp_name,
)
CLAMP_MIN = OpDef(
    "clamp_min",
    np.maximum,
    vjp=_clamp_min_vjp,
    spelling="np.maximum({0}, {1})",
    promote=_clamp_dtypes,
    backward_name=_clamp_name,
)
CLAMP_MAX = OpDef(
    "clamp_max",
    np.minimum,
    vjp=_clamp_max_vjp,
    spelling="np.minimum({0}, {1})",
    promote=_clamp_dtypes,
    backward_name=_clamp_name,
)


def _clamp_call(min, max) -> tuple:  # noqa: A002
    """(op, bounds) for the bounds given."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if max is None:
        return CLAMP_MIN, (min,)
    if min is None:
        return CLAMP_MAX, (max,)
    return CLAMP, (min, max)


@public("clamp", methods=("clamp", "clip"))
def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]; bounds are numbers or tensors (broadcast). Where
    min > max the result is max. Tensor bounds get gradients where they are the result."""
    op, bounds = _clamp_call(min, max)
    return apply(op, input, *bounds)


clip = public("clip")(clamp)


def _clamp_(self, min=None, max=None):  # noqa: A002
    op, bounds = _clamp_call(min, max)
    return inplace(self, op, *bounds)


Tensor.clamp_ = Tensor.clip_ = _clamp_


def _by_bound(number_name: str, tensor_name: str):
    return lambda args, attrs: tensor_name if isinstance(args[1], Tensor) else number_name


# torch.clamp_min / clamp_max are their own functions, with their own node names.
CLAMP_MIN_FUNCTION = _alias(
    CLAMP_MIN, "clamp_min_function", _by_bound("ClampMinBackward0", "ClampMinBackward1")
)
CLAMP_MAX_FUNCTION = _alias(
    CLAMP_MAX, "clamp_max_function", _by_bound("ClampMaxBackward0", "ClampMaxBackward1")
)


@public("clamp_min", methods=("clamp_min",))
def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A002 - torch's argument name
    """max(input, min) elementwise; ``min`` is a number or a tensor (broadcast)."""
    return apply(CLAMP_MIN_FUNCTION, input, min)


@public("clamp_max", methods=("clamp_max",))
def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A002 - torch's argument name
    """min(input, max) elementwise; ``max`` is a number or a tensor (broadcast)."""
    return apply(CLAMP_MAX_FUNCTION, input, max)


Tensor.clamp_min_ = lambda self, min: inplace(self, CLAMP_MIN_FUNCTION, min)  # noqa: A006
Tensor.clamp_max_ = lambda self, max: inplace(self, CLAMP_MAX_FUNCTION, max)  # noqa: A006
