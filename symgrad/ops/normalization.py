"""``batch_norm``: normalize each channel (dim 1) over the batch and the remaining dims.

In training it is one op, the layer_norm kernel of ``activation.py`` applied over every dim
but the channel dim (its eval and its vjp, which recomputes the statistics with symgrad ops
and so is differentiable again), under torch's node name. The running statistics are updated
in place next to it, outside autograd. In evaluation it is a second op, an affine map by the
running statistics, which get no gradient (as in torch).
"""

from __future__ import annotations

from ..autograd import grad_mode
from ..tensor import Tensor
from . import numpy_runtime as rt
from .activation import _layer_norm_vjp
from .elementwise import rsqrt
from .reduce import mean, var
from .registry import OpDef, apply

__all__ = ["batch_norm"]

BATCH_NORM = OpDef(
    "batch_norm",
    rt.layer_norm,
    vjp=_layer_norm_vjp,
    shape=lambda shape, *params, **attrs: tuple(shape),
    promote=lambda x, *params, **attrs: (x.dtype, x.dtype),
    backward_name="NativeBatchNormBackward0",
)


def _batch_norm_eval_vjp(g, out, x, mean, var, *params, eps, has_weight, has_bias):
    rstd = rsqrt(var + eps)
    grads = [g * params[0] * rstd if has_weight else g * rstd, None, None]
    if has_weight:
        grads.append(g * ((x - mean) * rstd))
    if has_bias:
        grads.append(g)
    return tuple(grads)


BATCH_NORM_EVAL = OpDef(
    "batch_norm_eval",
    rt.batch_norm_eval,
    vjp=_batch_norm_eval_vjp,
    shape=lambda shape, *rest, **attrs: tuple(shape),
    promote=lambda x, *rest, **attrs: (x.dtype, x.dtype),
    nondifferentiable_inputs=(1, 2),
    backward_name="NativeBatchNormBackward0",
)


def _size_text(shape) -> str:
    return f"torch.Size([{', '.join(map(str, shape))}])"


def _per_channel(value: Tensor, ndim: int) -> Tensor:
    """A (C,) tensor shaped (C, 1, ...) to broadcast against (N, C, ...)."""
    return value.reshape((-1,) + (1,) * (ndim - 2))


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization of ``input`` (N, C, ...) per channel.

    With ``training``, the batch's statistics normalize and the running statistics (if
    given) move towards them by ``momentum`` (the unbiased variance, as torch). Otherwise the
    running statistics normalize.
    """
    if input.ndim < 2:
        raise ValueError(f"Expected 2D or higher input (got {input.ndim}D input)")
    dims = (0,) + tuple(range(2, input.ndim))
    if training:
        count = input.numel() // input.shape[1]
        if count <= 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input size "
                f"{_size_text(input.shape)}"
            )
        if running_mean is not None and running_var is not None:
            with grad_mode.no_grad():
                batch_mean = mean(input, dims)
                batch_var = var(input, dims, correction=1)
                running_mean.mul_(1 - momentum).add_(batch_mean * momentum)
                running_var.mul_(1 - momentum).add_(batch_var * momentum)
        params = [_per_channel(p, input.ndim) for p in (weight, bias) if p is not None]
        return apply(
            BATCH_NORM,
            input,
            *params,
            dims=dims,
            eps=float(eps),
            has_weight=weight is not None,
            has_bias=bias is not None,
        )
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    statistics = [_per_channel(t, input.ndim) for t in (running_mean, running_var)]
    params = [_per_channel(p, input.ndim) for p in (weight, bias) if p is not None]
    return apply(
        BATCH_NORM_EVAL,
        input,
        *statistics,
        *params,
        eps=float(eps),
        has_weight=weight is not None,
        has_bias=bias is not None,
    )
