"""Binary (and ternary) elementwise ops beyond + - * / **: rounding division and remainders,
maximum/minimum, atan2, hypot, logaddexp, copysign, lerp, addcmul/addcdiv and the bitwise ops.

Each op is one OpDef with torch's dtype promotion, torch's gradient (ties, NaNs and zeros
included) and torch's error texts; gradient rules are written with symgrad ops only.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from . import numpy_runtime as rt
from .elementwise import _is_bool, _is_integral, _zeros_like, div, isnan, logical_or, sigmoid, where
from .inplace import inplace
from .registry import OpDef, apply, public

# ----------------------------------------------------------------------- argument checks


def _type_name(value) -> str:
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def _require_tensors(name: str, input, other) -> None:
    """torch's refusal of a Python number where its signature has only Tensors."""
    for position, (argument, value) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"{name}(): argument '{argument}' (position {position}) must be Tensor, "
                f"not {_type_name(value)}"
            )


def _invalid_arguments(name: str, *args) -> TypeError:
    got = ", ".join(_type_name(a) for a in args)
    return TypeError(
        f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:"
    )


def _kernel_check(kernel: str, result_dtype, rejects) -> None:
    if rejects(result_dtype):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{result_dtype._scalar_name}'")


def _is_float(d) -> bool:
    return d.is_floating_point


def _tensor_or_none(value, gradient):
    return gradient if isinstance(value, Tensor) else None


def _name_by_other(scalar_name: str, tensor_name: str):
    """Backward name by whether ``other`` is a Python number (torch's Scalar overload)."""
    return lambda args, attrs: tensor_name if isinstance(args[1], Tensor) else scalar_name


# -------------------------------------------------------- floor_divide, remainder, fmod


def _floor_divide_vjp(g, out, x, y):
    # torch defines no derivative for floor_divide (div(..., rounding_mode="floor") has a
    # zero one): the backward fails, as torch's does.
    raise RuntimeError("derivative for aten::floor_divide is not implemented")


FLOOR_DIVIDE = OpDef(
    "floor_divide",
    np.floor_divide,
    vjp=_floor_divide_vjp,
    spelling="np.floor_divide({0}, {1})",
    saves="none",
    backward_name="NotImplemented",
    check=rt.check_integer_divisor,
)


@public("floor_divide", methods=("floor_divide", "__floordiv__"))
def floor_divide(input, other) -> Tensor:
    """input // other, rounded towards -inf (Python's convention); integers stay integers.
    Like torch it has no gradient: use ``div(..., rounding_mode="floor")`` for a zero one."""
    _kernel_check("div_floor_cpu", dtypes.result_type(input, other), _is_bool)
    return apply(FLOOR_DIVIDE, input, other)


def _remainder_vjp(g, out, x, y):
    # x - floor(x / y) * y: slope 1 in x and -floor(x / y) in y.
    return (
        _tensor_or_none(x, g),
        _tensor_or_none(y, -(g * div(x, y, rounding_mode="floor"))),
    )


REMAINDER = OpDef(
    "remainder",
    np.remainder,
    vjp=_remainder_vjp,
    spelling="np.remainder({0}, {1})",
    backward_name=_name_by_other("RemainderBackward0", "RemainderBackward1"),
    check=rt.check_integer_divisor,
)


@public("remainder", methods=("remainder", "__mod__"))
def remainder(input, other) -> Tensor:
    """Python's modulus: the result has the sign of ``other`` (torch.remainder)."""
    _kernel_check("remainder_cpu", dtypes.result_type(input, other), _is_bool)
    return apply(REMAINDER, input, other)


def _fmod_vjp(g, out, x, y):
    # x - trunc(x / y) * y: slope 1 in x and -trunc(x / y) in y.
    return (
        _tensor_or_none(x, g),
        _tensor_or_none(y, -(g * div(x, y, rounding_mode="trunc"))),
    )


FMOD = OpDef(
    "fmod",
    np.fmod,
    vjp=_fmod_vjp,
    spelling="np.fmod({0}, {1})",
    backward_name=_name_by_other("FmodBackward0", "FmodBackward1"),
    check=rt.check_integer_divisor,
)


@public("fmod", methods=("fmod",))
def fmod(input: Tensor, other) -> Tensor:
    """C's fmod: the result has the sign of ``input`` (torch.fmod)."""
    if not isinstance(input, Tensor):
        raise _invalid_arguments("fmod", input, other)
    _kernel_check("fmod_cpu", dtypes.result_type(input, other), _is_bool)
    return apply(FMOD, input, other)


def _rfloordiv(self, other):
    return floor_divide(other, self)


def _rmod(self, other):
    return remainder(other, self)


Tensor.__rfloordiv__ = _rfloordiv
Tensor.__rmod__ = _rmod

# ------------------------------------------------------------- maximum, minimum, fmax, fmin


def _maximum_vjp(g, out, x, y):
    # torch: equal inputs share the gradient equally; a NaN sends all of it to both inputs.
    shared = where(x == y, g * 0.5, g)
    return (where(x < y, 0.0, shared), where(x > y, 0.0, shared))


def _minimum_vjp(g, out, x, y):
    shared = where(x == y, g * 0.5, g)
    return (where(x > y, 0.0, shared), where(x < y, 0.0, shared))


def _fmax_vjp(g, out, x, y):
    # fmax ignores a NaN: the gradient goes to the input that was returned (x on ties).
    first = logical_or(x >= y, isnan(y))
    return (where(first, g, 0.0), where(first, 0.0, g))


def _fmin_vjp(g, out, x, y):
    first = logical_or(x <= y, isnan(y))
    return (where(first, g, 0.0), where(first, 0.0, g))


def _tensor_binary(name, numpy_fn, vjp, doc, *, methods=None, aliases=(), promote="same", **kw):
    """An op whose torch signature takes two Tensors (no Python numbers)."""
    op = OpDef(
        name,
        numpy_fn,
        vjp=vjp,
        spelling=f"np.{numpy_fn.__name__}({{0}}, {{1}})",
        promote=promote,
        arity=2,
        **kw,
    )

    def function(input: Tensor, other: Tensor) -> Tensor:
        _require_tensors(name, input, other)
        return apply(op, input, other)

    function.__name__ = name
    function.__doc__ = doc
    function.op = op
    public(name, methods=(name, *aliases) if methods is None else methods)(function)
    for alias in aliases:
        public(alias)(function)
    return function


maximum = _tensor_binary(
    "maximum",
    np.maximum,
    _maximum_vjp,
    "Elementwise maximum; NaN wins. On ties each input gets half the gradient.",
)
minimum = _tensor_binary(
    "minimum",
    np.minimum,
    _minimum_vjp,
    "Elementwise minimum; NaN wins. On ties each input gets half the gradient.",
)
fmax = _tensor_binary(
    "fmax",
    np.fmax,
    _fmax_vjp,
    "Elementwise maximum that ignores NaN (NaN only where both are NaN).",
)
fmin = _tensor_binary(
    "fmin",
    np.fmin,
    _fmin_vjp,
    "Elementwise minimum that ignores NaN (NaN only where both are NaN).",
)

# -------------------------------------------------------------------------- atan2, hypot


def _atan2_vjp(g, out, y, x):
    # d atan2(y, x) = (x dy - y dx) / (x^2 + y^2); torch gives 0, not NaN, at the origin.
    # The denominator is replaced before dividing, so no branch of the where is 0/0.
    r = y * y + x * x
    scale = g / where(r == 0, 1.0, r)
    return (scale * x, scale * -y)


atan2 = _tensor_binary(
    "atan2",
    np.arctan2,
    _atan2_vjp,
    "The angle of the point (other, input): arctan(input / other) in the right quadrant.",
    aliases=("arctan2",),
    promote="float",
)


def _hypot_vjp(g, out, x, y):
    return (g * x / out, g * y / out)


HYPOT = OpDef(
    "hypot",
    np.hypot,
    vjp=_hypot_vjp,
    spelling="np.hypot({0}, {1})",
    saves="both",
    arity=2,
)


@public("hypot", methods=("hypot",))
def hypot(input: Tensor, other: Tensor) -> Tensor:
    """sqrt(input**2 + other**2) without overflow in the squares."""
    _require_tensors("hypot", input, other)
    _kernel_check("hypot_cpu", dtypes.result_type(input, other), _is_integral)
    return apply(HYPOT, input, other)


# ------------------------------------------------------------------- logaddexp, copysign


def _logaddexp_vjp(g, out, x, y):
    # exp(x) / (exp(x) + exp(y)) = sigmoid(x - y): finite for any finite inputs.
    return (g * sigmoid(x - y), g * sigmoid(y - x))


LOGADDEXP = OpDef(
    "logaddexp",
    np.logaddexp,
    vjp=_logaddexp_vjp,
    spelling="np.logaddexp({0}, {1})",
    arity=2,
)


@public("logaddexp", methods=("logaddexp",))
def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """log(exp(input) + exp(other)), computed without overflow (finite at +-1e4)."""
    _require_tensors("logaddexp", input, other)
    _kernel_check("logaddexp_cpu", dtypes.result_type(input, other), _is_integral)
    return apply(LOGADDEXP, input, other)


def _copysign_vjp(g, out, x, y):
    # torch's slope out / x (+-1; NaN for NaN or infinite x), set to 0 where x == 0. The
    # division sees 1 there, so no 0/0 reaches a second derivative.
    zero = x == 0
    ratio = where(zero, 0.0, out / where(zero, 1.0, x))
    return (g * ratio, _tensor_or_none(y, _zeros_like(g)))


COPYSIGN = OpDef(
    "copysign",
    np.copysign,
    vjp=_copysign_vjp,
    spelling="np.copysign({0}, {1})",
    promote="float",
    saves="both",
    backward_name=_name_by_other("CopysignBackward1", "CopysignBackward0"),
)


@public("copysign", methods=("copysign",))
def copysign(input: Tensor, other) -> Tensor:
    """|input| with the sign of ``other`` (a tensor or a number; -0.0 counts as negative)."""
    if not isinstance(input, Tensor):
        raise _invalid_arguments("copysign", input, other)
    return apply(COPYSIGN, input, other)


# ------------------------------------------------------------------------------- lerp


def _lerp_vjp(g, out, input, end, weight):
    return (
        g * (1 - weight),
        g * weight,
        _tensor_or_none(weight, g * (end - input)),
    )


def _lerp_name(args, attrs) -> str:
    return "LerpBackward1" if isinstance(args[2], Tensor) else "LerpBackward0"


LERP = OpDef("lerp", rt.lerp, vjp=_lerp_vjp, backward_name=_lerp_name)


def _lerp_check(input, end, weight) -> None:
    if not (
        isinstance(input, Tensor)
        and isinstance(end, Tensor)
        and isinstance(weight, (Tensor, int, float))
    ):
        raise _invalid_arguments("lerp", input, end, weight)
    kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
    _kernel_check(kernel, input.dtype, _is_integral)
    expected = input.dtype._cpp_name
    if end.dtype is not input.dtype:
        raise RuntimeError(
            f"expected dtype {expected} for `end` but got dtype {end.dtype._cpp_name}"
        )
    # torch reads a 0-dim weight as a number: only a weight with dimensions must match.
    if isinstance(weight, Tensor) and weight.ndim > 0 and weight.dtype is not input.dtype:
        raise RuntimeError(
            f"expected dtype {expected} for `weight` but got dtype {weight.dtype._cpp_name}"
        )


@public("lerp", methods=("lerp",))
def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """input + weight * (end - input); ``weight`` is a number or a tensor (broadcast)."""
    _lerp_check(input, end, weight)
    return apply(LERP, input, end, weight)


def _lerp_(self, end, weight):
    _lerp_check(self, end, weight)
    return inplace(self, LERP, end, weight)


Tensor.lerp_ = _lerp_

# ---------------------------------------------------------------------- addcmul, addcdiv

ADDCDIV_INTEGER_MESSAGE = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
    "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
    "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
    "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
    "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
    "for all dtypes."
)


def _addcmul_vjp(g, out, input, tensor1, tensor2, *, value):
    scaled = g if value == 1 else g * value
    return (g, scaled * tensor2, scaled * tensor1)


def _addcdiv_vjp(g, out, input, tensor1, tensor2, *, value):
    over_tensor2 = (g if value == 1 else g * value) / tensor2
    return (g, over_tensor2, -(over_tensor2 * tensor1) / tensor2)


ADDCMUL = OpDef("addcmul", rt.addcmul, vjp=_addcmul_vjp)
ADDCDIV = OpDef("addcdiv", rt.addcdiv, vjp=_addcdiv_vjp)


def _addc_check(name, input, tensor1, tensor2) -> None:
    if not all(isinstance(t, Tensor) for t in (input, tensor1, tensor2)):
        raise _invalid_arguments(name, input, tensor1, tensor2)
    if name == "addcdiv" and _is_integral(tensor1.dtype) and _is_integral(tensor2.dtype):
        raise RuntimeError(ADDCDIV_INTEGER_MESSAGE)


@public("addcmul", methods=("addcmul",))
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """input + value * tensor1 * tensor2."""
    _addc_check("addcmul", input, tensor1, tensor2)
    return apply(ADDCMUL, input, tensor1, tensor2, value=value)


@public("addcdiv", methods=("addcdiv",))
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """input + value * tensor1 / tensor2 (floating point tensors only)."""
    _addc_check("addcdiv", input, tensor1, tensor2)
    return apply(ADDCDIV, input, tensor1, tensor2, value=value)


def _addcmul_(self, tensor1, tensor2, *, value=1):
    _addc_check("addcmul", self, tensor1, tensor2)
    return inplace(self, ADDCMUL, tensor1, tensor2, value=value)


def _addcdiv_(self, tensor1, tensor2, *, value=1):
    _addc_check("addcdiv", self, tensor1, tensor2)
    return inplace(self, ADDCDIV, tensor1, tensor2, value=value)


Tensor.addcmul_ = _addcmul_
Tensor.addcdiv_ = _addcdiv_

# --------------------------------------------------------------------------- bitwise ops
#
# torch's & | ^ ~ are bitwise: on bool tensors they are the logical ops, on integer tensors
# they act on the bits (~5 is -6), and float tensors are refused.


def _bitwise(name, numpy_fn, dunder, reflected):
    op = OpDef(name, numpy_fn, spelling=f"np.{numpy_fn.__name__}({{0}}, {{1}})", arity=2)

    def function(input, other) -> Tensor:
        _kernel_check(f"{name}_cpu", dtypes.result_type(input, other), _is_float)
        return apply(op, input, other)

    def reflected_method(self, other):
        return function(other, self)

    def inplace_method(self, other):
        _kernel_check(f"{name}_cpu", dtypes.result_type(self, other), _is_float)
        return inplace(self, op, other)

    function.__name__ = name
    function.__doc__ = f"Elementwise ``{name}`` of integer or bool tensors."
    public(name, methods=(name, dunder))(function)
    setattr(Tensor, reflected, reflected_method)
    setattr(Tensor, f"{name}_", inplace_method)
    setattr(Tensor, dunder.replace("__", "__i", 1), inplace_method)
    return function


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "__and__", "__rand__")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "__or__", "__ror__")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "__xor__", "__rxor__")

BITWISE_NOT = OpDef("bitwise_not", np.invert, spelling="np.invert({0})")


@public("bitwise_not", methods=("bitwise_not",))
def bitwise_not(input: Tensor) -> Tensor:
    """Elementwise bitwise not (logical not for bool tensors)."""
    _kernel_check("bitwise_not_cpu", input.dtype, _is_float)
    return apply(BITWISE_NOT, input)


def _invert(self: Tensor) -> Tensor:
    if self.dtype.is_floating_point:
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return apply(BITWISE_NOT, self)


Tensor.__invert__ = _invert
Tensor.bitwise_not_ = lambda self: inplace(self, BITWISE_NOT)

# ----------------------------------------------------------------- in-place binary methods


def _inplace_method(op, check=None):
    def method(self, other):
        if check is not None:
            check(self, other)
        return inplace(self, op, other)

    return method


Tensor.floor_divide_ = Tensor.__ifloordiv__ = _inplace_method(FLOOR_DIVIDE)
Tensor.remainder_ = Tensor.__imod__ = _inplace_method(REMAINDER)
Tensor.fmod_ = _inplace_method(FMOD)
Tensor.atan2_ = Tensor.arctan2_ = _inplace_method(atan2.op)
Tensor.hypot_ = _inplace_method(HYPOT)
Tensor.copysign_ = _inplace_method(COPYSIGN)

# ------------------------------------------------------------- isclose, allclose, equal


def _scalar_word(d: dtypes.dtype) -> str:
    return dtypes.LEGACY_NAMES[d.name].removesuffix("Tensor")


def _check_close_arguments(name: str, input, other, rtol, atol) -> None:
    if not isinstance(other, Tensor):
        raise TypeError(
            f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}"
        )
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{_scalar_word(input.dtype)} did not match {_scalar_word(other.dtype)}")
    for label, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise RuntimeError(f"{label} must be greater than or equal to zero, but got {value:g}")


ISCLOSE = OpDef(
    "isclose",
    lambda x, y, *, rtol, atol, equal_nan: np.isclose(x, y, rtol, atol, equal_nan),
    spelling="np.isclose({0}, {1}, {rtol}, {atol}, {equal_nan})",
    promote=lambda x, y, **attrs: (None, dtypes.bool_),
)


@public("isclose", methods=("isclose",))
def isclose(input: Tensor, other: Tensor, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (equal infinities are close;
    NaNs only with ``equal_nan``), broadcast."""
    _check_close_arguments("isclose", input, other, rtol, atol)
    return apply(ISCLOSE, input, other, rtol=float(rtol), atol=float(atol), equal_nan=equal_nan)


@public("allclose", methods=("allclose",))
def allclose(input: Tensor, other: Tensor, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other``'s (see ``isclose``)."""
    _check_close_arguments("allclose", input, other, rtol, atol)
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


@public("equal", methods=("equal",))
def equal(input: Tensor, other: Tensor) -> bool:
    """Whether both tensors have the same shape and the same values (NaN is never equal)."""
    if not isinstance(other, Tensor):
        raise TypeError(
            f"equal(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}"
        )
    a, b = input._concrete("equal()"), other._concrete("equal()")
    return a.shape == b.shape and bool(np.array_equal(a, b))
