"""Op-table cases for symgrad/ops/loss.py.

Static arguments come last in each variant (reduction, then options). Class weights are
static tuples, turned into tensors of the input's dtype inside the case: the table
differentiates every float array input, and torch gives nll/bce weights no gradient.
"""

import numpy as np
from op_table import Arg, OpCase

import symgrad
from symgrad.ops import loss

REDUCTIONS = ("none", "mean", "sum")
CLASS_WEIGHTS = (0.5, 2.0, 1.0, 0.25, 3.0)


def _weight_tensor(weight, like):
    return None if weight is None else symgrad.tensor(weight, dtype=like.dtype)


def _torch_weight(torch, weight, like):
    return None if weight is None else torch.tensor(weight, dtype=like.dtype)


# -------------------------------------------------------------------- numpy references


def _reduce(losses, reduction):
    if reduction == "mean":
        return np.mean(losses)
    if reduction == "sum":
        return np.sum(losses)
    return losses


def _log_softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _class_axis(x):
    return 0 if x.ndim == 1 else 1


def _nll(log_probabilities, target, weight, ignore_index, reduction):
    """Element by element: -w[t] * logp[n, t, ...], with the weighted mean."""
    axis = _class_axis(log_probabilities)
    moved = np.moveaxis(log_probabilities, axis, -1)
    weight = np.ones(moved.shape[-1]) if weight is None else np.asarray(weight)
    losses = np.zeros(target.shape)
    weights = np.zeros(target.shape)
    for index in np.ndindex(*target.shape):
        t = int(target[index])
        if t != ignore_index:
            weights[index] = weight[t]
            losses[index] = -weight[t] * moved[index + (t,)]
    if reduction == "mean":
        return np.sum(losses) / np.sum(weights)
    return _reduce(losses, reduction)


def _cross_entropy(x, target, reduction, weight=None, ignore_index=-100, smoothing=0.0):
    axis = _class_axis(x)
    classes = x.shape[axis]
    log_probabilities = _log_softmax(x, axis)
    if target.shape == x.shape:
        target = target * (1 - smoothing) + smoothing / classes
        w = np.ones(classes) if weight is None else np.asarray(weight)
        w = w.reshape([-1 if d == axis else 1 for d in range(x.ndim)])
        per_sample = -np.sum(log_probabilities * target * w, axis=axis)
        if reduction == "mean":
            return np.sum(per_sample) / (x.size // classes)
        return _reduce(per_sample, reduction)
    nll = _nll(log_probabilities, target, weight, ignore_index, reduction)
    if not smoothing:
        return nll
    w = np.ones(classes) if weight is None else np.asarray(weight)
    moved = np.moveaxis(log_probabilities, axis, -1)
    counted = target != ignore_index
    uniform = np.where(counted, -np.sum(moved * w, axis=-1), 0.0)
    if reduction == "mean":
        uniform = np.sum(uniform) / np.sum(np.where(counted, w[np.where(counted, target, 0)], 0))
    else:
        uniform = _reduce(uniform, reduction)
    return (1 - smoothing) * nll + smoothing / classes * uniform


def _mse(x, y, reduction):
    return _reduce((x - y) ** 2, reduction)


def _l1(x, y, reduction):
    return _reduce(np.abs(x - y), reduction)


def _smooth_l1(x, y, reduction, beta):
    d = np.abs(x - y)
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta), reduction)


def _huber(x, y, reduction, delta):
    d = np.abs(x - y)
    return _reduce(np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta)), reduction)


def _bce(p, t, reduction, weight=None):
    w = 1.0 if weight is None else np.asarray(weight)
    losses = -w * (t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))
    return _reduce(losses, reduction)


def _bce_logits(x, t, reduction, weight=None, pos_weight=None):
    p = 1 / (1 + np.exp(-x))
    w = 1.0 if weight is None else np.asarray(weight)
    pw = 1.0 if pos_weight is None else np.asarray(pos_weight)
    losses = -w * (pw * t * np.log(p) + (1 - t) * np.log(1 - p))
    return _reduce(losses, reduction)


def _kl_div(x, t, reduction, log_target=False):
    pointwise = np.exp(t) * (t - x) if log_target else t * (np.log(t) - x)
    if reduction == "batchmean":
        return np.sum(pointwise) / x.shape[0]
    return _reduce(pointwise, reduction)


# ----------------------------------------------------------------------- variants


def _int(shape, high, low=0):
    return Arg(shape, low, high, kind="int")


# (logits, class index target) shapes: batched, unbatched, 1-D and 2-D spatial.
CLASS_INDEX_SHAPES = [
    [Arg((4, 5), -3.0, 3.0), _int((4,), 5)],
    [Arg((5,), -3.0, 3.0), _int((), 5)],
    [Arg((2, 5, 3), -3.0, 3.0), _int((2, 3), 5)],
    [Arg((2, 5, 2, 2), -3.0, 3.0), _int((2, 2, 2), 5)],
]
# targets in [-1, 5), for ignore_index=-1 (or 2): some targets are ignored.
IGNORED_SHAPES = [
    [Arg((6, 5), -3.0, 3.0), _int((6,), 5, low=-1)],
    [Arg((2, 5, 3), -3.0, 3.0), _int((2, 3), 5, low=-1)],
]
PROBABILITY_SHAPES = [
    [Arg((4, 5), -3.0, 3.0), Arg((4, 5), 0.0, 1.0)],
    [Arg((5,), -3.0, 3.0), Arg((5,), 0.0, 1.0)],
    [Arg((2, 5, 3), -3.0, 3.0), Arg((2, 5, 3), 0.0, 1.0)],
]
PAIRS = [
    [Arg((3, 4)), Arg((3, 4))],
    [Arg((2, 1, 3)), Arg((2, 1, 3))],
    [Arg(()), Arg(())],
]
PROBABILITY_PAIRS = [
    [Arg((3, 4), 0.05, 0.95), Arg((3, 4), 0.0, 1.0)],
    [Arg((5,), 0.05, 0.95), Arg((5,), 0.0, 1.0)],
    [Arg((), 0.05, 0.95), Arg((), 0.0, 1.0)],
]
LOGIT_PAIRS = [
    [Arg((3, 4), -4.0, 4.0), Arg((3, 4), 0.0, 1.0)],
    [Arg((2, 1, 3), -4.0, 4.0), Arg((2, 1, 3), 0.0, 1.0)],
    [Arg((), -4.0, 4.0), Arg((), 0.0, 1.0)],
]
KL_PAIRS = [
    [Arg((3, 4), -3.0, 0.0), Arg((3, 4), 0.05, 1.0)],
    [Arg((2, 5), -3.0, 0.0), Arg((2, 5), 0.05, 1.0)],
]


def _cases(name, fn, reference, torch_fn, variants, reductions=REDUCTIONS, **options):
    """One OpCase per reduction, named ``<name>_<reduction>``, with ``options`` (keyword
    arguments of all three functions) bound in: check_grads passes only arrays."""
    return [
        OpCase(
            f"{name}_{reduction}",
            lambda *a, _o=dict(options, reduction=reduction): fn(*a, **_o),
            lambda *a, _o=dict(options, reduction=reduction): reference(*a, **_o),
            variants,
            torch_fn=lambda torch, *a, _o=dict(options, reduction=reduction): torch_fn(
                torch, *a, **_o
            ),
        )
        for reduction in reductions
    ]


def _ce(x, t, reduction, weight=None, ignore_index=-100, label_smoothing=0.0):
    return loss.cross_entropy(
        x,
        t,
        _weight_tensor(weight, x),
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
    )


def _torch_ce(torch, x, t, reduction, weight=None, ignore_index=-100, label_smoothing=0.0):
    return torch.nn.functional.cross_entropy(
        x,
        t,
        _torch_weight(torch, weight, x),
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
    )


def _cross_entropy_reference(x, t, reduction, weight=None, ignore_index=-100, label_smoothing=0):
    return _cross_entropy(x, t, reduction, weight, ignore_index, label_smoothing)


def _nll_case(x, t, reduction, weight=None, ignore_index=-100):
    weight = _weight_tensor(weight, x)
    return loss.nll_loss(x, t, weight, ignore_index=ignore_index, reduction=reduction)


def _torch_nll(torch, x, t, reduction, weight=None, ignore_index=-100):
    weight = _torch_weight(torch, weight, x)
    return torch.nn.functional.nll_loss(
        x, t, weight, ignore_index=ignore_index, reduction=reduction
    )


def _nll_reference(x, t, reduction, weight=None, ignore_index=-100):
    return _nll(x, t, weight, ignore_index, reduction)


def _bce_case(p, t, reduction, weight=None):
    return loss.binary_cross_entropy(p, t, _weight_tensor(weight, p), reduction=reduction)


def _torch_bce(torch, p, t, reduction, weight=None):
    weight = _torch_weight(torch, weight, p)
    return torch.nn.functional.binary_cross_entropy(p, t, weight, reduction=reduction)


def _bce_logits_case(x, t, reduction, weight=None, pos_weight=None):
    weight, pos_weight = _weight_tensor(weight, x), _weight_tensor(pos_weight, x)
    return loss.binary_cross_entropy_with_logits(
        x, t, weight, reduction=reduction, pos_weight=pos_weight
    )


def _torch_bce_logits(torch, x, t, reduction, weight=None, pos_weight=None):
    weight, pos_weight = _torch_weight(torch, weight, x), _torch_weight(torch, pos_weight, x)
    return torch.nn.functional.binary_cross_entropy_with_logits(
        x, t, weight, reduction=reduction, pos_weight=pos_weight
    )


def _pairwise(name):
    """The symgrad and torch functions of a (input, target, keyword options) loss."""
    return (
        lambda x, y, **kw: getattr(loss, name)(x, y, **kw),
        lambda torch, x, y, **kw: getattr(torch.nn.functional, name)(x, y, **kw),
    )


MSE, TORCH_MSE = _pairwise("mse_loss")
L1, TORCH_L1 = _pairwise("l1_loss")
SMOOTH_L1, TORCH_SMOOTH_L1 = _pairwise("smooth_l1_loss")
HUBER, TORCH_HUBER = _pairwise("huber_loss")
KL_DIV, TORCH_KL_DIV = _pairwise("kl_div")
KL_REDUCTIONS = ("none", "sum", "batchmean")  # 'mean' warns: tests/ops/test_loss.py

CASES = [
    *_cases("cross_entropy", _ce, _cross_entropy_reference, _torch_ce, CLASS_INDEX_SHAPES),
    *_cases(
        "cross_entropy_weighted_ignored",
        _ce,
        _cross_entropy_reference,
        _torch_ce,
        IGNORED_SHAPES,
        weight=CLASS_WEIGHTS,
        ignore_index=-1,
    ),
    *_cases(
        "cross_entropy_ignored_class",
        _ce,
        _cross_entropy_reference,
        _torch_ce,
        CLASS_INDEX_SHAPES[:1],
        ignore_index=2,
    ),
    *_cases(
        "cross_entropy_smoothed",
        _ce,
        _cross_entropy_reference,
        _torch_ce,
        CLASS_INDEX_SHAPES,
        label_smoothing=0.2,
    ),
    *_cases(
        "cross_entropy_smoothed_weighted_ignored",
        _ce,
        _cross_entropy_reference,
        _torch_ce,
        IGNORED_SHAPES,
        weight=CLASS_WEIGHTS,
        ignore_index=-1,
        label_smoothing=0.1,
    ),
    *_cases(
        "cross_entropy_probabilities", _ce, _cross_entropy_reference, _torch_ce, PROBABILITY_SHAPES
    ),
    *_cases(
        "cross_entropy_probabilities_weighted_smoothed",
        _ce,
        _cross_entropy_reference,
        _torch_ce,
        PROBABILITY_SHAPES,
        weight=CLASS_WEIGHTS,
        label_smoothing=0.3,
    ),
    *_cases("nll_loss", _nll_case, _nll_reference, _torch_nll, CLASS_INDEX_SHAPES),
    *_cases(
        "nll_loss_weighted_ignored",
        _nll_case,
        _nll_reference,
        _torch_nll,
        IGNORED_SHAPES,
        weight=CLASS_WEIGHTS,
        ignore_index=-1,
    ),
    *_cases(
        "nll_loss_ignored_class",
        _nll_case,
        _nll_reference,
        _torch_nll,
        CLASS_INDEX_SHAPES[:1] + CLASS_INDEX_SHAPES[2:],  # unbatched: could ignore everything
        ignore_index=3,
    ),
    *_cases("mse_loss", MSE, _mse, TORCH_MSE, PAIRS),
    *_cases("l1_loss", L1, _l1, TORCH_L1, PAIRS),
    *_cases("smooth_l1_loss", SMOOTH_L1, _smooth_l1, TORCH_SMOOTH_L1, PAIRS, beta=1.0),
    *_cases(
        "smooth_l1_loss_beta_half", SMOOTH_L1, _smooth_l1, TORCH_SMOOTH_L1, PAIRS[:1], beta=0.5
    ),
    *_cases(
        "smooth_l1_loss_beta_zero", SMOOTH_L1, _smooth_l1, TORCH_SMOOTH_L1, PAIRS[:1], beta=0.0
    ),
    *_cases("huber_loss", HUBER, _huber, TORCH_HUBER, PAIRS, delta=1.0),
    *_cases("huber_loss_small_delta", HUBER, _huber, TORCH_HUBER, PAIRS[:1], delta=0.4),
    *_cases("binary_cross_entropy", _bce_case, _bce, _torch_bce, PROBABILITY_PAIRS),
    *_cases(
        "binary_cross_entropy_weighted",
        _bce_case,
        _bce,
        _torch_bce,
        PROBABILITY_PAIRS[:1],
        weight=(0.5, 2.0, 1.0, 3.0),
    ),
    *_cases(
        "binary_cross_entropy_with_logits",
        _bce_logits_case,
        _bce_logits,
        _torch_bce_logits,
        LOGIT_PAIRS,
    ),
    *_cases(
        "binary_cross_entropy_with_logits_weighted",
        _bce_logits_case,
        _bce_logits,
        _torch_bce_logits,
        LOGIT_PAIRS[:1],
        weight=(0.5, 2.0, 1.0, 3.0),
        pos_weight=(3.0, 0.5, 1.0, 2.0),
    ),
    *_cases(
        "binary_cross_entropy_with_logits_pos_weight",
        _bce_logits_case,
        _bce_logits,
        _torch_bce_logits,
        LOGIT_PAIRS[1:2],
        pos_weight=(3.0, 0.5, 2.0),
    ),
    *_cases("kl_div", KL_DIV, _kl_div, TORCH_KL_DIV, KL_PAIRS, KL_REDUCTIONS),
    *_cases(
        "kl_div_log_target", KL_DIV, _kl_div, TORCH_KL_DIV, KL_PAIRS, KL_REDUCTIONS, log_target=True
    ),
]
