"""symgrad.testing: check_grads, and torch's gradcheck / gradgradcheck (symgrad.autograd).

Each checker must pass correct functions and catch deliberately wrong custom Functions: one
whose first derivative is wrong, and one whose first derivative is right but whose backward
is not itself differentiable correctly (wrong second derivative)."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from symgrad.autograd import Function, gradcheck, gradgradcheck
from symgrad.testing import GradcheckError, GradientCheckError, check_grads


def double(values, requires_grad=True):
    return symgrad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ------------------------------------------------------------------ custom Functions under test
class Sin(Function):
    """Correct: d sin = cos, written with symgrad ops (so it is differentiable again)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos()


class WrongFirstOrderSin(Function):
    """Wrong first derivative: the sign of cos is flipped."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * x.cos()


class WrongSecondOrderSquare(Function):
    """Right first derivative 2x, but computed from a detached x: the gradient of the
    gradient loses its dependence on x (second derivative 0 instead of 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x.detach() * grad


class WrongSecondInputMul(Function):
    """x * y whose gradient for y (input 1) is wrong."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * y, grad * x * 2


class IgnoresGradOutput(Function):
    """Returns d sum(sin x) whatever the incoming gradient: right for a scalar output whose
    gradient is 1, wrong for any other grad_output (e.g. zero)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin().sum()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return x.cos()


class Noisy(Function):
    """A backward that differs from run to run (non-reentrant)."""

    calls = 0

    @staticmethod
    def forward(ctx, x):
        return x * 3

    @staticmethod
    def backward(ctx, grad):
        Noisy.calls += 1
        return grad * (3 + Noisy.calls * 1e-9)


class UnmaterializedSin(Function):
    """Asks for undefined (None) gradients and must therefore handle them."""

    handles_none = True

    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, grad):
        if grad is None and UnmaterializedSin.handles_none:
            return None
        (x,) = ctx.saved_tensors
        return grad * x.cos()


class TwoOutputs(Function):
    """(2x, 3x) without materialized gradients: backward copes with either of them None."""

    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, grad_first, grad_second):
        grads = [g * k for g, k in ((grad_first, 2), (grad_second, 3)) if g is not None]
        return sum(grads) if grads else None


X = [0.3, -1.2, 2.0]


# ------------------------------------------------------------------ check_grads
@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (lambda x: x.sin(), [X]),
        (lambda x: (x * x).sum(), [X]),
        (lambda x, y: (x * y.exp(), (x - y).tanh().sum()), [X, [0.5, 0.1, -0.4]]),
        (lambda x: Sin.apply(x), [X]),
    ],
)
def test_check_grads_passes_correct_functions(fn, args):
    check_grads(fn, [np.asarray(a, dtype=np.float64) for a in args], order=2)


def test_check_grads_catches_wrong_first_order():
    with pytest.raises(GradientCheckError, match="^order 1 gradient of input 0 disagrees"):
        check_grads(WrongFirstOrderSin.apply, [np.array(X)], order=1)


def test_check_grads_catches_wrong_second_order_only_at_order_two():
    check_grads(WrongSecondOrderSquare.apply, [np.array(X)], order=1)
    with pytest.raises(GradientCheckError, match="^order 2 gradient of input 0 disagrees"):
        check_grads(WrongSecondOrderSquare.apply, [np.array(X)], order=2)


def test_check_grads_names_the_wrong_input():
    with pytest.raises(GradientCheckError, match="^order 1 gradient of input 1 disagrees"):
        check_grads(WrongSecondInputMul.apply, [np.array(X), np.array([1.0, 2.0, 3.0])], order=1)


def test_check_grads_refuses_float32():
    with pytest.raises(ValueError, match="check_grads needs float64 inputs"):
        check_grads(lambda x: x.sin(), [symgrad.tensor([1.0, 2.0])])


# ------------------------------------------------------------------ gradcheck: correct functions
@pytest.mark.parametrize(
    ("fn", "inputs"),
    [
        (symgrad.sin, (double(X),)),
        (lambda x: (x * x).sum(), (double(X),)),
        (lambda x, y: x @ y, (double(np.arange(6.0).reshape(2, 3) / 7), double(X))),
        (lambda x, y: (x * y, (x + y).exp().sum()), (double(X), double([0.1, 0.2, -0.3]))),
        (lambda x: x.reshape(3, 1), (double(X),)),
        (lambda x: x, (double(X),)),
        (lambda x: Sin.apply(x), (double(X),)),
        (lambda x: UnmaterializedSin.apply(x), (double(X),)),
        (lambda x: x * 2.5, (double(2.0),)),
    ],
)
@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_passes_correct_functions(fn, inputs, fast_mode):
    assert gradcheck(fn, inputs, fast_mode=fast_mode) is True


@pytest.mark.parametrize(
    ("fn", "inputs"),
    [
        (lambda x: x.tanh(), (double(X),)),
        (lambda x, y: (x * y.sin()).sum(), (double(X), double([0.1, 0.2, -0.3]))),
        (lambda x: Sin.apply(x), (double(X),)),
        (lambda x: (x.exp() * x, x.sigmoid()), (double(X),)),
    ],
)
@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradgradcheck_passes_correct_functions(fn, inputs, fast_mode):
    assert gradgradcheck(fn, inputs, fast_mode=fast_mode) is True


def test_gradcheck_differentiates_only_inputs_that_require_grad():
    x, y = double(X), double([1.0, 2.0, 3.0], requires_grad=False)
    # WrongSecondInputMul is wrong only for y, which is not checked here
    assert gradcheck(WrongSecondInputMul.apply, (x, y))
    assert gradcheck(lambda x, n: x * n, (x, 3))


def test_gradcheck_restores_the_inputs():
    x = double(X)
    data = x._data
    gradcheck(lambda x: (x * x).sum(), (x,))
    assert x._data is data
    np.testing.assert_array_equal(x.detach().numpy(), X)


def test_gradcheck_full_jacobians_match_torch_layout():
    # The message shows J[input element, output element], numerical then analytical.
    x = double([0.0, 1.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongFirstOrderSin.apply, (x,))
    message = str(info.value)
    numerical = message.split("numerical:")[1].split("analytical:")[0]
    analytical = message.split("analytical:")[1]
    assert "tensor([[1.0000, 0.0000],\n        [0.0000, 0.5403]]" in numerical
    assert "tensor([[-1.0000, -0.0000],\n        [-0.0000, -0.5403]]" in analytical


# ------------------------------------------------------------------ gradcheck: wrong functions
@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_catches_wrong_first_order(fast_mode):
    x = double(X)
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongFirstOrderSin.apply, (x,), fast_mode=fast_mode)
    assert str(info.value).startswith(
        "Jacobian mismatch for output 0 with respect to input 0,\nnumerical:"
    )
    if fast_mode:
        assert "Below, we recompute numerical and analytical jacobians in slow mode" in str(
            info.value
        )
    assert gradcheck(WrongFirstOrderSin.apply, (x,), raise_exception=False) is False


def test_gradcheck_names_the_wrong_input_and_output():
    x, y = double(X), double([1.0, 2.0, 3.0])
    with pytest.raises(GradcheckError, match="^Jacobian mismatch for output 0 with respect to inp"
                       "ut 1,"):  # fmt: skip
        gradcheck(WrongSecondInputMul.apply, (x, y))
    with pytest.raises(GradcheckError, match="^Jacobian mismatch for output 1 with respect to inp"
                       "ut 0,"):  # fmt: skip
        gradcheck(lambda x: (x.sin(), WrongFirstOrderSin.apply(x)), (x,))


def test_gradcheck_misses_a_wrong_second_order_that_gradgradcheck_catches():
    x = double(X)
    assert gradcheck(WrongSecondOrderSquare.apply, (x,))
    with pytest.raises(GradcheckError, match="^Jacobian mismatch for output 0 with respect to inp"):
        gradgradcheck(WrongSecondOrderSquare.apply, (x,))
    assert gradgradcheck(WrongSecondOrderSquare.apply, (x,), raise_exception=False) is False
    assert gradgradcheck(WrongSecondOrderSquare.apply, (x,), fast_mode=True,
                         raise_exception=False) is False  # fmt: skip


def test_gradgradcheck_with_given_grad_outputs():
    x = double(X)
    g = double([1.0, -2.0, 0.5])
    assert gradgradcheck(lambda x: x.sin() * x, (x,), (g,))
    # a grad_output that does not require grad is not differentiated
    assert gradgradcheck(lambda x: x.sin() * x, (x,), (double([1.0, 2.0, 3.0], False),))
    with pytest.raises(GradcheckError):
        gradgradcheck(WrongSecondOrderSquare.apply, (x,), g)


def test_gradgradcheck_random_grad_outputs_follow_manual_seed():
    def first_cotangent(**options):
        seen = []

        def record(x):
            y = x.sin()
            y.register_hook(lambda g: seen.append(g.detach().numpy().copy()))
            return y

        symgrad.manual_seed(7)
        assert gradgradcheck(record, (double(X),), **options)
        return seen[0]

    noncontiguous = first_cotangent(gen_non_contig_grad_outputs=True)
    np.testing.assert_array_equal(first_cotangent(), noncontiguous)
    assert np.all(np.abs(noncontiguous) <= 1.0) and len(set(noncontiguous)) == 3


def test_gradcheck_catches_backward_not_multiplied_by_grad_output():
    with pytest.raises(GradcheckError, match="^backward not multiplied by grad_output$"):
        gradcheck(IgnoresGradOutput.apply, (double(X),))


def test_gradcheck_catches_non_reentrant_backward():
    with pytest.raises(GradcheckError, match="^Backward is not reentrant"):
        gradcheck(Noisy.apply, (double(X),))
    assert gradcheck(Noisy.apply, (double(X),), nondet_tol=1e-6)


def test_gradcheck_checks_undefined_output_grads(monkeypatch):
    monkeypatch.setattr(UnmaterializedSin, "handles_none", False)
    with pytest.raises(GradcheckError, match="^Expected backward function to handle undefined"):
        gradcheck(UnmaterializedSin.apply, (double(X),))
    assert gradcheck(UnmaterializedSin.apply, (double(X),), check_undefined_grad=False)


def test_gradcheck_undefined_grads_of_several_outputs():
    # each output's gradient is undefined in turn (and all at once): TwoOutputs copes
    assert gradcheck(TwoOutputs.apply, (double(X),))
    assert gradgradcheck(lambda x: TwoOutputs.apply(x.sin()), (double(X),))


def test_gradcheck_without_differentiable_outputs():
    x = double(X)
    assert gradcheck(lambda x: symgrad.ones(2, dtype=symgrad.float64), (x,))
    with pytest.raises(GradcheckError, match="^Numerical gradient for function expected to be"):
        gradcheck(lambda x: x.detach() * 2, (x,))


# ------------------------------------------------------------------ gradcheck: arguments
def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="^gradcheck expects at least one input tensor to requir"):
        gradcheck(symgrad.sin, (double(X, requires_grad=False),))


def test_gradcheck_warns_for_float32_inputs():
    x = symgrad.tensor([0.5, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="^Input #0 requires gradient and is not a double"):
        gradcheck(symgrad.sin, (x,), eps=1e-3, atol=1e-2, rtol=1e-2)


def test_gradcheck_refuses_overlapping_inputs():
    x = double([1.0]).detach().expand(3).requires_grad_()
    with pytest.raises(RuntimeError, match="^The 0th input has a dimension with stride 0"):
        gradcheck(symgrad.sin, (x,))


def test_gradcheck_argument_errors():
    x = double(X)
    with pytest.raises(AssertionError, match="^Expected at least one of check_forward_ad or"):
        gradcheck(symgrad.sin, (x,), check_backward_ad=False)
    with pytest.raises(NotImplementedError, match="check_forward_ad=True"):
        gradcheck(symgrad.sin, (x,), check_forward_ad=True)
    with pytest.raises(NotImplementedError, match="check_batched_grad=True"):
        gradcheck(symgrad.sin, (x,), check_batched_grad=True)
    with pytest.raises(AssertionError, match="^Setting check_undefined_grad=True requires"):
        gradgradcheck(symgrad.sin, (x,), check_rev_over_rev=False, check_fwd_over_rev=True)
    with pytest.raises(NotImplementedError, match="check_fwd_over_rev=True"):
        gradgradcheck(symgrad.sin, (x,), check_fwd_over_rev=True)


def test_gradcheck_accepts_a_single_tensor_and_lists():
    assert gradcheck(symgrad.sin, double(X))
    assert gradcheck(lambda x, y: x * y, [double(X), double(X)])
    assert gradgradcheck(symgrad.tanh, double(X))
