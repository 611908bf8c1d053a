"""Activations and normalization, named and called as in torch.nn.functional.

softmax, log_softmax and the pointwise activations are primitive ops with their own
numerically stable eval and vjp (finite values and gradients for inputs up to +-1e4):
exponentials only ever see non-positive arguments. normalize and linear are compositions;
layer_norm is a primitive whose gradient recomputes the statistics with symgrad ops, so it is
differentiable again. symgrad/nn/functional.py re-exports these functions by name.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _wrap_dim
from . import numpy_runtime as rt
from . import random
from .elementwise import erf, exp, logical_and, rsqrt, sigmoid, tanh, where
from .elementwise import relu as _relu
from .inplace import inplace
from .linalg import linear as linear  # F.linear is gathered from this module
from .linalg import scalar_type_name
from .reduce import mean, vector_norm
from .reduce import sum as reduce_sum
from .registry import OpDef, apply, public

# sigmoid and tanh (imported above) are torch.nn.functional names as well.
__all__ = [
    "dropout",
    "elu",
    "gelu",
    "hardtanh",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "mish",
    "normalize",
    "one_hot",
    "relu",
    "relu6",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]


def _require_floating(input: Tensor, kernel: str) -> None:
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{scalar_type_name(input.dtype)}'"
        )


def _float_attr(value) -> float:
    return float(value.item() if isinstance(value, Tensor) else value)


# ------------------------------------------------------------------ softmax, log_softmax


def _softmax_vjp(g, out, x, *, dim):
    return (out * (g - reduce_sum(g * out, dim, keepdim=True)),)


def _log_softmax_vjp(g, out, x, *, dim):
    # exp(out) is the softmax, at most 1: no overflow whatever the input.
    return (g - exp(out) * reduce_sum(g, dim, keepdim=True),)


SOFTMAX = OpDef("softmax", rt.softmax, vjp=_softmax_vjp, saves="output", fresh_result=True)
LOG_SOFTMAX = OpDef(
    "log_softmax", rt.log_softmax, vjp=_log_softmax_vjp, saves="output", fresh_result=True
)


def _softmax_dim(input: Tensor, dim, name: str, stacklevel: int) -> int | None:
    """``dim`` as an attr; a 0-d input reduces over everything (dim None)."""
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. Change the call to "
            "include dim=X as an argument.",
            stacklevel=stacklevel,
        )
        dim = 0 if input.ndim in (0, 1, 3) else 1
    dim = _wrap_dim(dim, input.ndim)
    return None if input.ndim == 0 else dim


def _softmax_like(op, name, input, dim, stacklevel, dtype):
    if dtype is not None:
        input = input.to(dtype)
    attr = _softmax_dim(input, dim, name, stacklevel + 1)
    if not input.dtype.is_floating_point:
        last = attr is None or attr == input.ndim - 1
        _require_floating(input, f"{name}_{'lastdim_' if last else ''}kernel_impl")
    return apply(op, input, dim=attr)


@public("softmax", methods=("softmax",))
def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, computed with the max subtracted.

    >>> import symgrad
    >>> symgrad.softmax(symgrad.tensor([1e4, 0.0]), dim=0)
    tensor([1., 0.])
    """
    return _softmax_like(SOFTMAX, "softmax", input, dim, _stacklevel, dtype)


@public("log_softmax", methods=("log_softmax",))
def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim``, computed with the max subtracted."""
    return _softmax_like(LOG_SOFTMAX, "log_softmax", input, dim, _stacklevel, dtype)


# ---------------------------------------------------------------- pointwise activations


def _gelu_vjp(g, out, x, *, approximate):
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        t = tanh(k * (x + 0.044715 * x * x * x))
        slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (k * (1 + 3 * 0.044715 * x * x))
        return (g * slope,)
    cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
    pdf = exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
    return (g * (cdf + x * pdf),)


def _silu_vjp(g, out, x):
    s = sigmoid(x)
    return (g * (s * (1 + x * (1 - s))),)


def _softplus_vjp(g, out, x, *, beta, threshold):
    z = x * beta
    return (where(z > threshold, g, g * sigmoid(z)),)


def _elu_vjp(g, out, x, *, alpha):
    # exp of min(x, 0): the unselected branch stays finite, so no 0 * inf in any order.
    return (where(x > 0, g, g * (alpha * exp(x.clamp(max=0)))),)


def _leaky_relu_vjp(g, out, x, *, negative_slope):
    return (where(x > 0, g, g * negative_slope),)


def _logsigmoid_vjp(g, out, x):
    return (g * sigmoid(-x),)


def _hardtanh_eval(x, *, min_val, max_val):
    return np.clip(x, min_val, max_val)


def _hardtanh_vjp(g, out, x, *, min_val, max_val):
    # torch passes no gradient at the bounds themselves.
    return (where(logical_and(x > min_val, x < max_val), g, 0.0),)


def _mish_vjp(g, out, x):
    t = tanh(apply(SOFTPLUS, x, beta=1.0, threshold=20.0))
    return (g * (t + x * sigmoid(x) * (1 - t * t)),)


GELU = OpDef("gelu", rt.gelu, vjp=_gelu_vjp)
SILU = OpDef("silu", rt.silu, vjp=_silu_vjp)
SOFTPLUS = OpDef("softplus", rt.softplus, vjp=_softplus_vjp)
ELU = OpDef("elu", rt.elu, vjp=_elu_vjp)
LEAKY_RELU = OpDef("leaky_relu", rt.leaky_relu, vjp=_leaky_relu_vjp)
LOGSIGMOID = OpDef(
    "logsigmoid", rt.logsigmoid, vjp=_logsigmoid_vjp, backward_name="LogSigmoidBackward0"
)
HARDTANH = OpDef(
    "hardtanh",
    _hardtanh_eval,
    vjp=_hardtanh_vjp,
    spelling="np.clip({0}, {min_val}, {max_val})",
    promote="first",
)
MISH = OpDef("mish", rt.mish, vjp=_mish_vjp)


def _pointwise(op, input: Tensor, inplace_: bool, **attrs) -> Tensor:
    if inplace_:
        return inplace(input, op, **attrs)
    return apply(op, input, **attrs)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) with the exact normal CDF (erf), or its tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _require_floating(input, "GeluKernelImpl")
    return apply(GELU, input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (swish)."""
    _require_floating(input, "silu_cpu")
    return _pointwise(SILU, input, inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, computed stably; linear where beta * x > threshold."""
    _require_floating(input, "softplus_cpu")
    return apply(SOFTPLUS, input, beta=_float_attr(beta), threshold=_float_attr(threshold))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1)."""
    _require_floating(input, "elu_cpu")
    return _pointwise(ELU, input, inplace, alpha=_float_attr(alpha))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    _require_floating(input, "leaky_relu_cpu")
    return _pointwise(LEAKY_RELU, input, inplace, negative_slope=_float_attr(negative_slope))


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), computed stably."""
    _require_floating(input, "log_sigmoid_cpu")
    return apply(LOGSIGMOID, input)


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """x clamped to [min_val, max_val]; no gradient at or beyond the bounds."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _pointwise(
        HARDTANH, input, inplace, min_val=_float_attr(min_val), max_val=_float_attr(max_val)
    )


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) (torch computes it as hardtanh(x, 0, 6))."""
    return hardtanh(input, 0.0, 6.0, inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    _require_floating(input, "mish_cpu")
    return _pointwise(MISH, input, inplace)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) (symgrad.relu, or Tensor.relu_ when ``inplace``)."""
    return input.relu_() if inplace else _relu(input)


# -------------------------------------------------------------------------- normalization


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """input / max(||input||_p, eps) along ``dim``."""
    denominator = vector_norm(input, p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    return input / denominator


def _layer_norm_vjp(g, out, x, *params, dims, eps, has_weight, has_bias):
    """Recomputes mean and 1/std from x with symgrad ops (differentiable again)."""
    centered = x - mean(x, dims, keepdim=True)
    rstd = rsqrt(mean(centered * centered, dims, keepdim=True) + eps)
    normalized = centered * rstd
    g_normalized = g * params[0] if has_weight else g
    grad_x = rstd * (
        g_normalized
        - mean(g_normalized, dims, keepdim=True)
        - normalized * mean(g_normalized * normalized, dims, keepdim=True)
    )
    grads = [grad_x]
    if has_weight:
        grads.append(g * normalized)
    if has_bias:
        grads.append(g)
    return tuple(grads)


LAYER_NORM = OpDef(
    "layer_norm",
    rt.layer_norm,
    vjp=_layer_norm_vjp,
    shape=lambda shape, *params, **attrs: tuple(shape),
    promote=lambda x, *params, **attrs: (x.dtype, x.dtype),
    backward_name="NativeLayerNormBackward0",
)


@public("layer_norm")
def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dims to mean 0 and variance 1
    (biased), then scale by ``weight`` and shift by ``bias``."""
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(n) for n in normalized_shape)
    count = len(normalized_shape)
    shape_text = ", ".join(map(str, normalized_shape))
    if tuple(input.shape[input.ndim - count :]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape=[{shape_text}], expected input with shape "
            f"[*, {shape_text}], but got input of size{list(input.shape)}"
        )
    params = []
    for name, value in (("weight", weight), ("bias", bias)):
        if value is None:
            continue
        if tuple(value.shape) != normalized_shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape [{', '.join(map(str, value.shape))}] and normalized_shape = "
                f"[{shape_text}]"
            )
        if value.dtype is not input.dtype:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        params.append(value)
    _require_floating(input, "LayerNormKernelImpl")
    return apply(
        LAYER_NORM,
        input,
        *params,
        dims=tuple(range(input.ndim - count, input.ndim)),
        eps=_float_attr(eps),
        has_weight=weight is not None,
        has_bias=bias is not None,
    )


# --------------------------------------------------------------------- linear, dropout


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    The mask comes from symgrad's generator, so ``symgrad.manual_seed`` makes it
    reproducible. With ``training=False`` (or p == 0) the input is returned unchanged.
    """
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "result type Float can't be cast to the desired output type "
            f"{scalar_type_name(input.dtype)}"
        )
    # Uniform draws in float64 compared with p, as eagerly before; compiled code draws a new
    # mask on every call.
    uniform = random.sample("uniform", tuple(input.shape), dtypes.float64)
    keep = uniform >= p if isinstance(uniform, Tensor) else Tensor._wrap(uniform >= p)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    mask = keep.to(input.dtype) * scale
    return input.mul_(mask) if inplace else input * mask


# ------------------------------------------------------------------------------ one_hot


ONE_HOT = OpDef(
    "one_hot",
    rt.one_hot,
    shape=lambda shape, *, num_classes: tuple(shape) + (num_classes,),
    promote=lambda x, **attrs: (None, dtypes.int64),
)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor with a trailing dim of size ``num_classes``: 1 at each index, else 0."""
    if tensor.dtype is not dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1 or not tensor._is_symbolic:
        values = tensor._concrete("one_hot() with num_classes=-1")
        if values.size == 0:
            if num_classes == -1:
                raise RuntimeError("Can not infer total number of classes from empty tensor.")
        else:
            if num_classes == -1:
                num_classes = int(values.max()) + 1
            if values.min() < 0:
                raise RuntimeError("Class values must be non-negative.")
            if values.max() >= num_classes:
                raise RuntimeError("Class values must be smaller than num_classes.")
    return apply(ONE_HOT, tensor, num_classes=int(num_classes))
