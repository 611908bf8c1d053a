"""symgrad/ops/loss.py beyond the op table: stability at +-1e4, torch's errors and warnings,
node names, dtypes and edge cases. Expected numbers were computed with PyTorch 2.13."""

import math
import re
import warnings

import numpy as np
import pytest

import symgrad
from symgrad.ops import loss
from symgrad.testing import check_grads

FLOATS = [symgrad.float32, symgrad.float64]
HUGE_LOGITS = [[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [0.0, 0.0, -1e4]]


def _leaf(values, dtype=symgrad.float64):
    return symgrad.tensor(values, dtype=dtype, requires_grad=True)


def _close(tensor, expected, dtype=symgrad.float64):
    rtol = 1e-6 if dtype is symgrad.float32 else 1e-10
    np.testing.assert_allclose(tensor.detach().numpy(), expected, rtol=rtol, atol=1e-7)


def _first_and_second_order(out, x):
    """d out / dx, and d (sum of squares of that) / dx, both finite checks need."""
    (grad,) = symgrad.autograd.grad(out, [x], create_graph=True)
    (second,) = symgrad.autograd.grad((grad * grad).sum(), [x])
    return grad, second


# ------------------------------------------------------------------------------ stability


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_is_exact_at_huge_logits(dtype):
    x = _leaf(HUGE_LOGITS, dtype)
    out = loss.cross_entropy(x, symgrad.tensor([1, 1, 2]), reduction="none")
    _close(out, [2e4, 0.0, 1e4 + math.log(2)], dtype)
    grad, second = _first_and_second_order(out.sum(), x)
    # softmax(x) - one_hot(target), row by row
    _close(grad, [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0], [0.5, 0.5, -1.0]], dtype)
    assert np.isfinite(second.numpy()).all()


@pytest.mark.parametrize("dtype", FLOATS)
def test_smoothed_cross_entropy_is_finite_at_huge_logits(dtype):
    x = _leaf(HUGE_LOGITS, dtype)
    out = loss.cross_entropy(x, symgrad.tensor([1, 1, 2]), label_smoothing=0.1)
    _close(out, 9777.975493504631, dtype)
    grad, second = _first_and_second_order(out, x)
    expected = [
        [0.3222222222, -0.3111111111, -0.0111111111],
        [-0.0111111111, 0.0222222222, -0.0111111111],
        [0.1555555556, 0.1555555556, -0.3111111111],
    ]
    np.testing.assert_allclose(grad.detach().numpy(), expected, rtol=1e-6, atol=1e-7)
    assert np.isfinite(second.numpy()).all()


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_with_probabilities_is_finite_at_huge_logits(dtype):
    x = _leaf(HUGE_LOGITS, dtype)
    scores = symgrad.tensor([[1.0, 2, 3], [0, 0, 0], [5, 1, 1]], dtype=dtype)
    probabilities = symgrad.softmax(scores, 1)
    out = loss.cross_entropy(x, probabilities)
    _close(out, 7241.1187820550695, dtype)
    grad, second = _first_and_second_order(out, x)
    expected = [
        [0.3033231423, -0.0815761570, -0.2217469853],
        [-0.1111111111, 0.2222222222, -0.1111111111],
        [-0.1548877187, 0.1607771927, -0.0058894740],
    ]
    np.testing.assert_allclose(grad.detach().numpy(), expected, rtol=1e-5, atol=1e-7)
    assert np.isfinite(second.numpy()).all()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("pos_weight", [None, 2.0])
def test_binary_cross_entropy_with_logits_is_exact_at_huge_logits(dtype, pos_weight):
    x = _leaf([1e4, -1e4, 1e4, -1e4, 0.0], dtype)
    y = _leaf([0.0, 1.0, 1.0, 0.0, 0.5], dtype)
    weights = None if pos_weight is None else symgrad.tensor([pos_weight], dtype=dtype)
    out = loss.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=weights)
    pw = 1.0 if pos_weight is None else pos_weight
    _close(out, [1e4, pw * 1e4, 0.0, 0.0, (1 + (pw - 1) * 0.5) * math.log(2)], dtype)
    grad_x, grad_y = symgrad.autograd.grad(out.sum(), [x, y], create_graph=True)
    # c * sigmoid(x) - pw * y with c = 1 + (pw - 1) * y
    _close(grad_x, [1.0, -pw, 0.0, 0.0, (1 + (pw - 1) * 0.5) * 0.5 - pw * 0.5], dtype)
    # (pw - 1) * log(1 + exp(-x)) - x
    grad_y_expected = [
        -1e4,
        (pw - 1) * 1e4 + 1e4,
        -1e4,
        (pw - 1) * 1e4 + 1e4,
        (pw - 1) * math.log(2),
    ]
    _close(grad_y, grad_y_expected, dtype)
    (second,) = symgrad.autograd.grad((grad_x * grad_x).sum() + (grad_y * grad_y).sum(), [x])
    assert np.isfinite(second.numpy()).all()


def test_binary_cross_entropy_clamps_the_log_at_minus_100():
    p = _leaf([0.0, 1.0, 0.5], symgrad.float32)
    out = loss.binary_cross_entropy(p, symgrad.tensor([1.0, 0.0, 1.0]), reduction="none")
    _close(out, [100.0, 100.0, math.log(2)], symgrad.float32)
    (grad,) = symgrad.autograd.grad(out[:2].sum() / 2, [p])
    np.testing.assert_allclose(grad.numpy()[:2], [-4.99999998e11, 4.99999998e11], rtol=1e-6)


# ------------------------------------------------------------------- values against torch


def test_smoothed_weighted_cross_entropy_matches_torch():
    x = symgrad.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    weight = symgrad.tensor([1.0, 2.0, 0.5])
    out = loss.cross_entropy(x, symgrad.tensor([2, 0]), weight, label_smoothing=0.15)
    assert out.item() == pytest.approx(0.6933175325393677, rel=1e-6)


def test_cross_entropy_ignores_the_default_index():
    x = symgrad.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    out = loss.cross_entropy(x, symgrad.tensor([2, -100]))
    assert out.item() == pytest.approx(0.24131132662296295, rel=1e-6)


@pytest.mark.parametrize("function", [loss.cross_entropy, loss.nll_loss])
def test_everything_ignored_gives_nan_mean_and_zero_sum(function):
    x = _leaf([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    target = symgrad.tensor([-100, -100])
    assert math.isnan(function(x, target).item())
    total = function(x, target, reduction="sum")
    assert total.item() == 0.0
    total.backward()
    assert not x.grad.numpy().any()


def test_unbatched_input_accepts_a_one_element_target():
    x = symgrad.tensor([0.5, -1.0, 2.0])
    out = loss.nll_loss(x, symgrad.tensor([1]), reduction="none")
    assert out.shape == () and out.item() == 1.0


def test_byte_targets_are_class_indices():
    x = symgrad.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    byte_target = symgrad.tensor([2, 0], dtype=symgrad.uint8)
    assert loss.nll_loss(x, byte_target).item() == -1.75


def test_probability_target_weight_gets_a_gradient():
    rng = np.random.default_rng(0)
    x, p, w = rng.normal(size=(4, 3)), rng.uniform(size=(4, 3)), rng.uniform(0.5, 2, size=3)
    check_grads(lambda x, p, w: loss.cross_entropy(x, p, w), [x, p, w])


@pytest.mark.parametrize(
    "function, mean_by_weight",
    [(loss.mse_loss, True), (loss.l1_loss, True), (loss.huber_loss, False)],
)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_elementwise_weight(function, mean_by_weight, reduction):
    rng = np.random.default_rng(1)
    x, y, w = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.uniform(size=(3, 4))
    out = function(*map(symgrad.tensor, (x, y)), reduction=reduction, weight=symgrad.tensor(w))
    unweighted = function(*map(symgrad.tensor, (x, y)), reduction="none").numpy()
    expected = {
        "none": w * unweighted,
        "sum": np.sum(w * unweighted),
        "mean": np.sum(w * unweighted) / np.sum(w) if mean_by_weight else np.mean(w * unweighted),
    }[reduction]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


def test_mse_loss_warns_and_broadcasts_a_smaller_target():
    x = symgrad.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    with pytest.warns(UserWarning, match=re.escape("Using a target size (torch.Size([3]))")):
        out = loss.mse_loss(x, symgrad.tensor([1.0, 0.0, -1.0]))
    assert out.item() == pytest.approx(1.7708333730697632, rel=1e-7)


def test_kl_div_mean_warns_and_divides_by_every_element():
    log_p = symgrad.log_softmax(symgrad.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), 1)
    q = symgrad.tensor([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        mean = loss.kl_div(log_p, q)
    assert mean.item() == pytest.approx(0.3380497992038727, rel=1e-6)
    batchmean = loss.kl_div(log_p, q, reduction="batchmean")
    assert batchmean.item() == pytest.approx(mean.item() * 3, rel=1e-6)


def test_kl_div_target_zero_contributes_nothing():
    out = loss.kl_div(symgrad.tensor([-1.0, -2.0]), symgrad.tensor([0.0, 1.0]), reduction="sum")
    assert out.item() == 2.0


def test_legacy_size_average_and_reduce_choose_the_reduction():
    x = symgrad.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    with pytest.warns(UserWarning, match=re.escape("please use reduction='sum' instead.")):
        out = loss.mse_loss(x, symgrad.flip(x, [0]), size_average=False)
    assert out.item() == 20.25
    with pytest.warns(UserWarning, match=re.escape("reduction='none'")):
        out = loss.l1_loss(x, x, reduce=False)
    assert out.shape == (2, 3)


def test_elementwise_mean_is_a_deprecated_mean():
    x = symgrad.tensor([1.0, 3.0])
    with pytest.warns(UserWarning, match="elementwise_mean"):
        out = loss.mse_loss(x, symgrad.zeros(2), reduction="elementwise_mean")
    assert out.item() == 5.0


# ------------------------------------------------------------------- node names and dtypes


def _named(out):
    return type(out.grad_fn).__name__


@pytest.mark.parametrize(
    "shape, target_shape, reduction, name",
    [
        ((4,), (), "none", "NllLossBackward0"),
        ((2, 4), (2,), "mean", "NllLossBackward0"),
        ((2, 4, 3), (2, 3), "none", "ViewBackward0"),
        ((2, 4, 3), (2, 3), "mean", "NllLoss2DBackward0"),
        ((2, 4, 3, 2), (2, 3, 2), "none", "NllLoss2DBackward0"),
        ((2, 4, 3, 2, 2), (2, 3, 2, 2), "sum", "NllLoss2DBackward0"),
    ],
)
def test_nll_loss_node_names_follow_torch(shape, target_shape, reduction, name):
    x = symgrad.randn(*shape, requires_grad=True)
    target = symgrad.randint(0, 4, target_shape)
    out = loss.nll_loss(x, target, reduction=reduction)
    assert _named(out) == name
    assert out.shape == (target_shape if reduction == "none" else ())


def test_loss_node_names_follow_torch():
    x = symgrad.randn(3, 4, requires_grad=True)
    y = symgrad.rand(3, 4)
    assert _named(loss.cross_entropy(x, symgrad.tensor([0, 1, 3]))) == "NllLossBackward0"
    assert _named(loss.mse_loss(x, y)) == "MseLossBackward0"
    assert _named(loss.l1_loss(x, y)) == "MeanBackward0"
    assert _named(loss.l1_loss(x, y, reduction="none")) == "AbsBackward0"
    assert _named(loss.smooth_l1_loss(x, y)) == "SmoothL1LossBackward0"
    assert _named(loss.huber_loss(x, y)) == "HuberLossBackward0"
    probabilities = symgrad.sigmoid(x)
    assert _named(loss.binary_cross_entropy(probabilities, y)) == "BinaryCrossEntropyBackward0"
    logits = loss.binary_cross_entropy_with_logits(x, y)
    assert _named(logits) == "BinaryCrossEntropyWithLogitsBackward0"
    assert _named(loss.kl_div(x, y, reduction="sum")) == "SumBackward0"


@pytest.mark.parametrize("dtype", FLOATS)
def test_losses_keep_the_input_dtype(dtype):
    x = symgrad.randn(3, 4, dtype=dtype)
    y = symgrad.rand(3, 4, dtype=dtype)
    target = symgrad.tensor([0, 1, 3])
    for out in (
        loss.cross_entropy(x, target),
        loss.nll_loss(x, target, symgrad.ones(4, dtype=dtype)),
        loss.mse_loss(x, y),
        loss.smooth_l1_loss(x, y),
        loss.huber_loss(x, y),
        loss.binary_cross_entropy(symgrad.sigmoid(x), y),
        loss.binary_cross_entropy_with_logits(x, y),
    ):
        assert out.dtype is dtype


@pytest.mark.parametrize(
    "function, first_second, second_first",
    [
        (loss.mse_loss, symgrad.float64, symgrad.float64),
        (loss.l1_loss, symgrad.float64, symgrad.float64),
        (loss.smooth_l1_loss, symgrad.float64, symgrad.float64),
        # torch's quirks: huber writes into a tensor like the input, bce-with-logits
        # accumulates into (1 - target)
        (loss.huber_loss, symgrad.float32, symgrad.float64),
        (loss.binary_cross_entropy_with_logits, symgrad.float64, symgrad.float32),
    ],
)
def test_mixed_dtypes_promote_like_torch(function, first_second, second_first):
    single = symgrad.rand(3, 4)
    double = symgrad.rand(3, 4, dtype=symgrad.float64)
    for reduction in ("none", "mean"):
        assert function(single, double, reduction=reduction).dtype is first_second
        assert function(double, single, reduction=reduction).dtype is second_first


# ------------------------------------------------------------------------------- errors

X = symgrad.zeros(3, 4)
TARGET = symgrad.tensor([0, 1, 2])
ERRORS = [
    (lambda: loss.nll_loss(X, symgrad.tensor([0, 1])), ValueError,
     "Expected input batch_size (3) to match target batch_size (2)."),
    (lambda: loss.nll_loss(X, symgrad.tensor([0, 1, 7])), IndexError,
     "Target 7 is out of bounds."),
    (lambda: loss.nll_loss(X, symgrad.tensor([0, 1, -1])), IndexError,
     "Target -1 is out of bounds."),
    (lambda: loss.nll_loss(X, symgrad.tensor([0.0, 1, 2])), RuntimeError,
     "expected target dtype to be Long or Byte, but got Float"),
    (lambda: loss.nll_loss(X, symgrad.tensor([0, 1, 2], dtype=symgrad.int32)), RuntimeError,
     "expected target dtype to be Long or Byte, but got Int"),
    (lambda: loss.nll_loss(X, TARGET, reduction="foo"), ValueError,
     "foo is not a valid value for reduction"),
    (lambda: loss.nll_loss(X, TARGET, weight=symgrad.ones(3)), RuntimeError,
     "weight tensor should be defined either for all 4 classes or no classes but got weight "
     "tensor of shape: [3]"),
    (lambda: loss.nll_loss(X, TARGET, weight=symgrad.ones(4, dtype=symgrad.float64)),
     RuntimeError, "expected scalar type Float but found Double"),
    (lambda: loss.nll_loss(X, symgrad.tensor([[0, 1, 2]])), ValueError,
     "Expected input batch_size (3) to match target batch_size (1)."),
    (lambda: loss.nll_loss(symgrad.zeros(2, 4), symgrad.zeros(2, 2, dtype=symgrad.int64)),
     RuntimeError, "0D or 1D target tensor expected, multi-target not supported"),
    (lambda: loss.nll_loss(symgrad.tensor(2.0), symgrad.tensor(2)), ValueError,
     "Expected 1 or more dimensions (got 0)"),
    (lambda: loss.nll_loss(symgrad.zeros(4), symgrad.zeros(2, dtype=symgrad.int64)), ValueError,
     "For 1D input, 1D target must have size 1, but got target size: 2"),
    (lambda: loss.nll_loss(symgrad.zeros(2, 4, 3), symgrad.zeros(2, 5, dtype=symgrad.int64)),
     RuntimeError, "Expected target size [2, 3], got [2, 5]"),
    (lambda: loss.nll_loss(symgrad.zeros(2, 4, 3, 2), symgrad.zeros(2, 3, dtype=symgrad.int64)),
     RuntimeError,
     "only batches of spatial targets supported (3D tensors) but got targets of dimension: 2"),
    (lambda: loss.nll_loss(symgrad.zeros(2, 4, 3, 2), symgrad.zeros(2, 3, 3, dtype=symgrad.int64)),
     RuntimeError, "size mismatch (got input: [2, 4, 3, 2] , target: [2, 3, 3]"),
    (lambda: loss.cross_entropy(X, symgrad.zeros(3, 4, dtype=symgrad.int64)), RuntimeError,
     "Expected floating point type for target with class probabilities, got Long"),
    (lambda: loss.cross_entropy(X, symgrad.rand(3, 4), ignore_index=0), RuntimeError,
     "ignore_index is not supported for floating point target"),
    (lambda: loss.cross_entropy(X, TARGET, label_smoothing=1.5), RuntimeError,
     "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    (lambda: loss.cross_entropy(X, symgrad.rand(3, 4), weight=symgrad.ones(3)), RuntimeError,
     "cross_entropy: weight tensor should be defined either for all 4 classes or no classes but "
     "got weight tensor of shape: [3]"),
    (lambda: loss.cross_entropy(X, symgrad.rand(3, 5)), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    (lambda: loss.smooth_l1_loss(X, X, beta=-1), RuntimeError,
     "smooth_l1_loss does not support negative values for beta."),
    (lambda: loss.huber_loss(X, X, delta=0), RuntimeError,
     "huber_loss does not support non-positive values for delta."),
    (lambda: loss.mse_loss(X, X, weight=symgrad.ones(4)), ValueError,
     "Weights and input must have the same size."),
    (lambda: loss.mse_loss(X, X, weight=symgrad.ones(3, 4), reduction="foo"), ValueError,
     "Invalid reduction mode: foo. Expected one of 'none', 'mean', 'sum'."),
    (lambda: loss.binary_cross_entropy(symgrad.rand(3), symgrad.rand(2)), ValueError,
     "Using a target size (torch.Size([2])) that is different to the input size "
     "(torch.Size([3])) is deprecated. Please ensure they have the same size."),
    (lambda: loss.binary_cross_entropy(X - 1, X), RuntimeError,
     "all elements of input should be between 0 and 1"),
    (lambda: loss.binary_cross_entropy(X, symgrad.zeros(3, 4, dtype=symgrad.float64)), RuntimeError,
     "Found dtype Double but expected Float"),
    (lambda: loss.binary_cross_entropy_with_logits(symgrad.zeros(3), symgrad.zeros(2)),
     ValueError,
     "Target size (torch.Size([2])) must be the same as input size (torch.Size([3]))"),
    (lambda: loss.kl_div(X, X, reduction="foo"), ValueError,
     "foo is not a valid value for reduction"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_errors_match_torch(call, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=re.escape(message)):
            call()


@pytest.mark.parametrize(
    "call, function, argument",
    [
        (lambda w: loss.nll_loss(X, TARGET, w), "nll_loss_forward", "weight"),
        (lambda w: loss.cross_entropy(X, TARGET, w), "nll_loss_forward", "weight"),
        (lambda w: loss.binary_cross_entropy(X, X, w), "binary_cross_entropy", "weight"),
        (
            lambda w: loss.binary_cross_entropy_with_logits(X, X, pos_weight=w),
            "binary_cross_entropy_with_logits",
            "pos_weight",
        ),
    ],
)
def test_constant_weights_refuse_requires_grad(call, function, argument):
    weight = symgrad.ones(4, requires_grad=True)
    message = (
        f"The function '{function}' is not differentiable with respect to argument "
        f"'{argument}'. This input cannot have requires_grad True."
    )
    with pytest.raises(RuntimeError, match=re.escape(message)):
        call(weight)
    with symgrad.no_grad():
        call(weight)
