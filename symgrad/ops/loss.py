"""Loss functions, with torch.nn.functional's names, signatures and reductions.

The split between primitives and compositions follows torch, so ``loss.grad_fn`` names the
same node: nll_loss, mse_loss, smooth_l1_loss, huber_loss, binary_cross_entropy and
binary_cross_entropy_with_logits are OpDefs with their own stable gradient rules;
cross_entropy (``nll_loss(log_softmax(x))``, probability targets, label smoothing), l1_loss
and kl_div are compositions of other ops.

An optional weight the caller leaves out is passed to a primitive as the number 1.0 (never
None, which the compiler cannot trace); the rules skip multiplying by it.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes, grad_mode
from ..creation import arange
from ..tensor import Tensor
from . import numpy_runtime as rt
from .activation import log_softmax
from .elementwise import (
    abs,
    clamp,
    div_scalar,
    exp,
    log,
    log1p,
    logical_and,
    logical_not,
    mul_scalar,
    relu,
    sigmoid,
    where,
)
from .registry import OpDef, apply, broadcast_shape, public

# ------------------------------------------------------------------------------ reductions

REDUCTIONS = ("none", "mean", "sum")


def reduction_name(reduction: str, size_average=None, reduce=None) -> str:
    """The reduction to apply, from ``reduction`` or torch's deprecated ``size_average`` and
    ``reduce`` flags (which override it, with torch's warning); invalid names raise."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(
            "size_average and reduce args will be deprecated, please use "
            f"reduction='{reduction}' instead.",
            stacklevel=3,
        )
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn(
            "reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
            stacklevel=3,
        )
        return "mean"
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    """torch's apply_loss_reduction: the elementwise loss, its mean, or its sum."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduced_shape(shape, reduction: str) -> tuple[int, ...]:
    return tuple(shape) if reduction == "none" else ()


def _per_element(g: Tensor, reduction: str, shape) -> Tensor:
    """The incoming gradient as each element of the unreduced loss (of ``shape``) sees it."""
    if reduction == "mean":
        return g / int(np.prod(shape, dtype=np.int64))
    return g


def _broadcast(*shapes) -> tuple[int, ...]:
    return broadcast_shape(*(tuple(s) for s in shapes))


# --------------------------------------------------------------------------- shared checks


def _short_type_name(d: dtypes.dtype) -> str:
    """torch's scalar type word: Float, Double, Long, Byte ..."""
    return dtypes.LEGACY_NAMES[d.name].removesuffix("Tensor")


def _size_text(shape) -> str:
    return f"torch.Size({list(shape)})"


def _warn_if_sizes_differ(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({_size_text(target.shape)}) that is different to the input "
            f"size ({_size_text(input.shape)}). This will likely lead to incorrect results due "
            "to broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def _broadcast_operands(input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """torch broadcasts input and target to one shape first (broadcast_tensors): a 0-dim
    operand then promotes like a dimensioned one (mse_loss(float64 0-dim, float32[3]) is
    float64)."""
    if tuple(input.shape) == tuple(target.shape):
        return input, target
    shape = _broadcast(input.shape, target.shape)
    return input.expand(*shape), target.expand(*shape)


def _refuse_grad(weight, function: str, argument: str) -> None:
    """torch's weights of nll/bce are constants: asking for their gradient is an error."""
    if isinstance(weight, Tensor) and weight.requires_grad and grad_mode.is_recording():
        raise RuntimeError(
            f"The function '{function}' is not differentiable with respect to argument "
            f"'{argument}'. This input cannot have requires_grad True."
        )


def _is_one(value) -> bool:
    """True for the 1.0 that stands for a weight the caller left out."""
    return not isinstance(value, Tensor) and value == 1


# -------------------------------------------------------------------------------- nll_loss


def class_mask(target: Tensor, classes: int, ndim: int, ignore_index: int) -> Tensor:
    """A bool tensor of the input's shape, True at each counted element's target class."""
    class_dim = 0 if ndim == 1 else 1
    shape = [1] * ndim
    shape[class_dim] = classes
    picked = target.unsqueeze(class_dim)
    return logical_and(picked == arange(classes).reshape(shape), picked != ignore_index)


def target_weights(mask: Tensor, weight, class_dim: int, dtype) -> Tensor:
    """Each target's class weight (0 where ignored), from ``class_mask``'s mask."""
    if not isinstance(weight, Tensor):
        counted = mask.sum(class_dim).to(dtype)
        return counted if _is_one(weight) else counted * weight
    shape = [1] * mask.ndim
    shape[class_dim] = -1
    return where(mask, weight.reshape(shape), 0.0).sum(class_dim)


def _nll_loss_vjp(g, out, x, target, weight, *, reduction, ignore_index):
    class_dim = 0 if x.ndim == 1 else 1
    mask = class_mask(target, x.shape[class_dim], x.ndim, ignore_index)
    weights = target_weights(mask, weight, class_dim, x.dtype)
    scale = g * weights
    if reduction == "mean":
        scale = scale / weights.sum()
    return (where(mask, -scale.unsqueeze(class_dim), 0.0), None, None)


def _nll_loss_name(args, attrs) -> str:
    return "NllLossBackward0" if args[0].ndim <= 2 else "NllLoss2DBackward0"


NLL_LOSS = OpDef(
    "nll_loss",
    rt.nll_loss,
    vjp=_nll_loss_vjp,
    shape=lambda x, t, w, *, reduction, ignore_index: _reduced_shape(t, reduction),
    promote=lambda x, target, weight, **attrs: (None, x.dtype),
    nondifferentiable_inputs=(1, 2),
    backward_name=_nll_loss_name,
    check=rt.check_targets,
)


@public("nll_loss")
def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood of class indices ``target`` under log-probabilities ``input``
    (classes on dim 1, or dim 0 unbatched); ``weight`` rescales each class and the mean is
    weighted: sum(w[t] * -input[t]) / sum(w[t]) over targets != ignore_index."""
    reduction = reduction_name(reduction, size_average, reduce)
    target = _check_nll_arguments(input, target, weight, ignore_index)
    _refuse_grad(weight, "nll_loss_forward", "weight")
    weight = 1.0 if weight is None else weight
    if input.ndim in (1, 2, 4):
        return apply(
            NLL_LOSS, input, target, weight, reduction=reduction, ignore_index=ignore_index
        )
    # torch runs 3-D and 5-D+ inputs as 4-D (N, C, 1, rest): same values and node names.
    n, classes = input.shape[0], input.shape[1]
    empty = input.numel() == 0
    flat_input = input.reshape((n, classes, 0, 0) if empty else (n, classes, 1, -1))
    flat_target = target.reshape((n, 0, 0) if target.numel() == 0 else (n, 1, -1))
    out = apply(
        NLL_LOSS, flat_input, flat_target, weight, reduction=reduction, ignore_index=ignore_index
    )
    return out.reshape(tuple(target.shape)) if reduction == "none" else out


def _check_nll_arguments(input: Tensor, target: Tensor, weight, ignore_index: int) -> Tensor:
    """torch's checks in torch's order (shapes, then dtypes, then values); returns the
    target as int64."""
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if input.ndim != 1 and input.shape[0] != (target.shape[0] if target.ndim else 0):
        batch = target.shape[0] if target.ndim else 0
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({batch})."
        )
    classes = input.shape[0 if input.ndim == 1 else 1]
    if input.ndim <= 2:
        if target.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if input.ndim == 1 and target.ndim == 1:
            if target.numel() != 1:
                raise ValueError(
                    "For 1D input, 1D target must have size 1, but got target size: "
                    f"{target.numel()}"
                )
            target = target.reshape(())
    elif input.ndim == 4 and target.ndim != 3:
        raise RuntimeError(
            "only batches of spatial targets supported (3D tensors) but got targets of "
            f"dimension: {target.ndim}"
        )
    elif input.ndim == 4 and tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(
            f"size mismatch (got input: {list(input.shape)} , target: {list(target.shape)}"
        )
    elif tuple(target.shape[1:]) != tuple(input.shape[2:]):
        expected = [input.shape[0], *input.shape[2:]]
        raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
    if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
        raise RuntimeError(
            f"weight tensor should be defined either for all {classes} classes or no "
            f"classes but got weight tensor of shape: {list(weight.shape)}"
        )
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        raise RuntimeError(
            "expected target dtype to be Long or Byte, but got " + _short_type_name(target.dtype)
        )
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(
            f"expected scalar type {_short_type_name(input.dtype)} but found "
            f"{_short_type_name(weight.dtype)}"
        )
    return target if target.dtype is dtypes.int64 else target.to(dtypes.int64)


# --------------------------------------------------------------------------- cross_entropy


@public("cross_entropy")
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits ``input`` (classes on dim 1, or dim 0 unbatched) and
    class indices, or class probabilities of the input's shape; ``nll_loss(log_softmax(x))``
    for indices, so gradients stay finite for any logits."""
    reduction = reduction_name(reduction, size_average, reduce)
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if tuple(input.shape) == tuple(target.shape):
        if not target.dtype.is_floating_point:
            raise RuntimeError(
                "Expected floating point type for target with class probabilities, got "
                + _short_type_name(target.dtype)
            )
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    if label_smoothing > 0.0:
        _check_label_smoothing(label_smoothing)
        return _cross_entropy_smoothed(
            input, target, weight, reduction, ignore_index, label_smoothing
        )
    class_dim = 0 if input.ndim == 1 else 1
    log_probabilities = log_softmax(input, class_dim)
    return nll_loss(
        log_probabilities, target, weight, ignore_index=ignore_index, reduction=reduction
    )


def _check_label_smoothing(label_smoothing: float) -> None:
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")


def _class_weights_view(weight: Tensor, ndim: int, class_dim: int) -> Tensor:
    """The (C,) weight shaped to broadcast along the class dim of an ``ndim`` input."""
    shape = [1] * ndim
    shape[class_dim] = -1
    return weight.reshape(shape)


def _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing):
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
        raise RuntimeError(
            f"cross_entropy: weight tensor should be defined either for all {classes} classes "
            f"or no classes but got weight tensor of shape: {list(weight.shape)}"
        )
    log_probabilities = log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        _check_label_smoothing(label_smoothing)
        target = target * (1 - label_smoothing) + label_smoothing / classes
    products = log_probabilities * target
    if weight is not None:
        products = products * _class_weights_view(weight, input.ndim, class_dim)
    if reduction == "none":
        return -products.sum(class_dim)
    if reduction == "sum":
        return -products.sum()
    # the mean is over samples (every position but the class dim); none gives NaN, as torch.
    samples = input.numel() // classes if classes else 0
    return div_scalar(-products.sum(), samples)


def _cross_entropy_smoothed(input, target, weight, reduction, ignore_index, label_smoothing):
    """(1 - eps) * nll + eps / C * (the loss against a uniform target), ignoring as nll does."""
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    log_probabilities = log_softmax(input, class_dim)
    nll = nll_loss(
        log_probabilities, target, weight, ignore_index=ignore_index, reduction=reduction
    )
    target = target if target.dtype is dtypes.int64 else target.to(dtypes.int64)
    if input.ndim == 1 and target.ndim == 1:
        target = target.reshape(())
    ignored = target == ignore_index
    if weight is None:
        smooth = -log_probabilities.sum(class_dim)
    else:
        weighted = log_probabilities * _class_weights_view(weight, input.ndim, class_dim)
        smooth = -weighted.sum(class_dim)
    smooth = where(ignored, 0.0, smooth)
    if reduction == "mean":
        if weight is None:
            smooth = smooth.sum() / logical_not(ignored).sum()
        else:
            mask = class_mask(target, classes, input.ndim, ignore_index)
            smooth = smooth.sum() / target_weights(mask, weight, class_dim, input.dtype).sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return mul_scalar(nll, 1 - label_smoothing) + mul_scalar(smooth, label_smoothing / classes)


# ---------------------------------------------------------------------------- regression


def _check_weight_size(weight: Tensor, input: Tensor) -> None:
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")


def _weighted_reduction(loss: Tensor, weight: Tensor, reduction: str, mean_by_weight: bool):
    """torch's Python-side weighted losses: mse/l1 divide the mean by sum(weight), huber
    takes a plain mean of the weighted loss."""
    weighted = loss * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean":
        return weighted.sum() / weight.sum() if mean_by_weight else weighted.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def _mse_loss_vjp(g, out, x, y, *, reduction):
    shape = _broadcast(x.shape, y.shape)
    grad = (x - y) * (_per_element(g, reduction, shape) * 2)
    return (grad, -grad)


MSE_LOSS = OpDef(
    "mse_loss",
    rt.mse_loss,
    vjp=_mse_loss_vjp,
    shape=lambda x, y, *, reduction: _reduced_shape(_broadcast(x, y), reduction),
    promote="float",
)


@public("mse_loss")
def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Squared error (input - target)**2, reduced; with ``weight`` (the input's shape) the
    mean is sum(weight * error) / sum(weight)."""
    _warn_if_sizes_differ(input, target)
    if size_average is not None or reduce is not None:
        reduction = reduction_name(reduction, size_average, reduce)
    if weight is not None:
        _check_weight_size(weight, input)
        return _weighted_reduction((input - target) ** 2, weight, reduction, True)
    input, target = _broadcast_operands(input, target)
    return apply(MSE_LOSS, input, target, reduction=reduction_name(reduction))


@public("l1_loss")
def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Absolute error |input - target|, reduced; with ``weight`` the mean is
    sum(weight * error) / sum(weight)."""
    _warn_if_sizes_differ(input, target)
    if size_average is not None or reduce is not None:
        reduction = reduction_name(reduction, size_average, reduce)
    if weight is not None:
        _check_weight_size(weight, input)
        return _weighted_reduction(abs(input - target), weight, reduction, True)
    input, target = _broadcast_operands(input, target)
    return apply_reduction(abs(input - target), reduction_name(reduction))


def _smooth_l1_loss_vjp(g, out, x, y, *, reduction, beta):
    shape = _broadcast(x.shape, y.shape)
    grad = clamp((x - y) / beta, -1.0, 1.0) * _per_element(g, reduction, shape)
    return (grad, -grad)


SMOOTH_L1_LOSS = OpDef(
    "smooth_l1_loss",
    rt.smooth_l1_loss,
    vjp=_smooth_l1_loss_vjp,
    shape=lambda x, y, *, reduction, beta: _reduced_shape(_broadcast(x, y), reduction),
    promote="float",
)


@public("smooth_l1_loss")
def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 * d**2 / beta where |d| < beta, else |d| - 0.5 * beta (d = input - target);
    beta = 0 is the L1 loss."""
    _warn_if_sizes_differ(input, target)
    reduction = reduction_name(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    input, target = _broadcast_operands(input, target)
    if beta == 0.0:
        return apply_reduction(abs(input - target), reduction)
    return apply(SMOOTH_L1_LOSS, input, target, reduction=reduction, beta=float(beta))


def _huber_loss_vjp(g, out, x, y, *, reduction, delta):
    shape = _broadcast(x.shape, y.shape)
    grad = clamp(x - y, -delta, delta) * _per_element(g, reduction, shape)
    return (grad, -grad)


HUBER_LOSS = OpDef(
    "huber_loss",
    rt.huber_loss,
    vjp=_huber_loss_vjp,
    shape=lambda x, y, *, reduction, delta: _reduced_shape(_broadcast(x, y), reduction),
    # torch writes the loss into a tensor like the input: mixed dtypes give the input's.
    promote=lambda x, y, **attrs: (dtypes.result_type(x, y), x.dtype),
)


@public("huber_loss")
def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """0.5 * d**2 where |d| < delta, else delta * (|d| - 0.5 * delta) (d = input - target);
    with ``weight`` the weighted loss is reduced (its mean is a plain mean, as in torch)."""
    _warn_if_sizes_differ(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is not None:
        _check_weight_size(weight, input)
        loss = apply(HUBER_LOSS, input, target, reduction="none", delta=float(delta))
        return _weighted_reduction(loss, weight, reduction, False)
    return apply(HUBER_LOSS, input, target, reduction=reduction_name(reduction), delta=float(delta))


# -------------------------------------------------------------------- binary cross entropy


def _binary_cross_entropy_vjp(g, out, x, y, weight, *, reduction):
    scale = _per_element(g, reduction, x.shape)
    if not _is_one(weight):
        scale = scale * weight
    # torch's rule: the denominator is kept from 0 at x = 0 or 1 (EPSILON = 1e-12).
    grad_x = (x - y) / clamp((1 - x) * x, 1e-12) * scale
    grad_y = (log1p(-x) - log(x)) * scale
    return (grad_x, grad_y, None)


BINARY_CROSS_ENTROPY = OpDef(
    "binary_cross_entropy",
    rt.binary_cross_entropy,
    vjp=_binary_cross_entropy_vjp,
    shape=lambda x, y, w, *, reduction: _reduced_shape(x, reduction),
    promote=lambda x, y, weight, **attrs: (x.dtype, x.dtype),
    nondifferentiable_inputs=(2,),
    check=rt.check_probabilities,
)


@public("binary_cross_entropy")
def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-w * (t * log(p) + (1 - t) * log(1 - p)) for probabilities ``input``; each log is
    clamped at -100, as in torch."""
    reduction = reduction_name(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({_size_text(target.shape)}) that is different to the input "
            f"size ({_size_text(input.shape)}) is deprecated. Please ensure they have the same "
            "size."
        )
    if target.dtype is not input.dtype:
        raise RuntimeError(
            f"Found dtype {_short_type_name(target.dtype)} but expected "
            f"{_short_type_name(input.dtype)}"
        )
    _refuse_grad(weight, "binary_cross_entropy", "weight")
    if weight is None:
        weight = 1.0
    else:
        weight = weight.expand(_broadcast(target.shape, weight.shape))
    return apply(BINARY_CROSS_ENTROPY, input, target, weight, reduction=reduction)


def _softplus_of_negative(x: Tensor) -> Tensor:
    """log(1 + exp(-x)), finite for any x."""
    return relu(-x) + log1p(exp(-abs(x)))


def _binary_cross_entropy_with_logits_vjp(g, out, x, y, weight, pos_weight, *, reduction):
    shape = _broadcast(*(v.shape for v in (x, y, weight, pos_weight) if isinstance(v, Tensor)))
    scale = _per_element(g, reduction, shape)
    if not _is_one(weight):
        scale = scale * weight
    probability = sigmoid(x)
    if _is_one(pos_weight):
        grad_x = probability - y
        grad_y = -x
    else:
        grad_x = (1 + (pos_weight - 1) * y) * probability - pos_weight * y
        grad_y = (pos_weight - 1) * _softplus_of_negative(x) - x
    return (grad_x * scale, grad_y * scale, None, None)


BINARY_CROSS_ENTROPY_WITH_LOGITS = OpDef(
    "binary_cross_entropy_with_logits",
    rt.binary_cross_entropy_with_logits,
    vjp=_binary_cross_entropy_with_logits_vjp,
    shape=lambda x, y, w, p, *, reduction: _reduced_shape(_broadcast(x, y, w, p), reduction),
    # torch accumulates the loss in place into (1 - target): the result has the target's dtype.
    promote=lambda x, y, w, p, **attrs: (dtypes.result_type(x, y, w, p), y.dtype),
    nondifferentiable_inputs=(2, 3),
)


@public("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross entropy of ``sigmoid(input)``, computed from the logits without overflow:
    (1 - t) * x + (1 + (pos_weight - 1) * t) * log(1 + exp(-x)), times ``weight``."""
    reduction = reduction_name(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Target size ({_size_text(target.shape)}) must be the same as input size "
            f"({_size_text(input.shape)})"
        )
    _refuse_grad(weight, "binary_cross_entropy_with_logits", "weight")
    _refuse_grad(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    weight = 1.0 if weight is None else weight
    pos_weight = 1.0 if pos_weight is None else pos_weight
    return apply(
        BINARY_CROSS_ENTROPY_WITH_LOGITS, input, target, weight, pos_weight, reduction=reduction
    )


# ---------------------------------------------------------------------------------- kl_div


def _xlogx(t: Tensor) -> Tensor:
    """t * log(t), 0 at t = 0 (torch.xlogy(t, t)), with a finite gradient there."""
    return t * log(where(t == 0, 1.0, t))


@public("kl_div")
def kl_div(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Pointwise KL divergence target * (log(target) - input) for log-probabilities
    ``input``; 'batchmean' divides the sum by the batch size (the true KL divergence),
    'mean' by the number of elements (torch's default, with its warning)."""
    if size_average is not None or reduce is not None:
        applied = reduction_name(reduction, size_average, reduce)
    elif reduction == "batchmean":
        applied = "sum"
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the "
                "support size.'batchmean' divides only by the batch size, and aligns with the "
                "KL div math definition.'mean' will be changed to behave the same as "
                "'batchmean' in the next major release.",
                stacklevel=2,
            )
        applied = reduction_name(reduction)
    if log_target:
        pointwise = exp(target) * (target - input)
    else:
        pointwise = _xlogx(target) - target * input
    reduced = apply_reduction(pointwise, applied)
    if reduction == "batchmean" and input.ndim != 0:
        reduced = reduced / input.shape[0]
    return reduced
