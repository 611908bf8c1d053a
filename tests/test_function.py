"""Custom ``autograd.Function``: forward/backward/apply, ctx, node naming, multiple outputs,
non-differentiable and dirty outputs, materialized gradients, once_differentiable.

Expected values are PyTorch 2.13's for the same code.
"""

from __future__ import annotations

import math
import re

import pytest

import symgrad as torch
from symgrad.autograd import Function
from symgrad.autograd.function import once_differentiable

BACKWARD_TWICE = "^Trying to backward through the graph a second time"


class Square(Function):
    @staticmethod
    def forward(ctx, x, k=2.0):
        ctx.save_for_backward(x)
        ctx.k = k  # any attribute can be stored on ctx
        return x * x * k

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * ctx.k * x * grad, None


def leaf(*values):
    return torch.tensor(list(values), requires_grad=True)


def test_apply_forward_and_backward():
    x = leaf(1.0, 2.0)
    y = Square.apply(x, 3.0)
    assert repr(y) == "tensor([ 3., 12.], grad_fn=<SquareBackward>)"
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_node_is_named_after_the_function():
    x = leaf(1.0, 2.0)
    node = Square.apply(x, 3.0).grad_fn
    assert type(node).__name__ == "SquareBackward"
    assert node.name() == "SquareBackward"
    # A Python class, so its repr names the module, as torch's does.
    assert re.fullmatch(
        r"<\w+\.autograd\.function\.SquareBackward object at 0x[0-9a-f]+>", repr(node)
    )
    assert isinstance(node, torch.autograd.function.BackwardCFunction)
    # The non-tensor argument has no edge.
    [(accumulate, nr)] = node.next_functions
    assert type(accumulate).__name__ == "AccumulateGrad" and accumulate.variable is x and nr == 0


def test_keyword_arguments_and_chain_rule():
    x = leaf(1.0, 2.0)
    y = Square.apply(x * 3, k=0.5)  # (3x)^2 / 2
    y.sum().backward()
    assert x.grad.tolist() == [9.0, 18.0]


def test_saved_tensors_are_released_after_backward():
    x = leaf(1.0, 2.0)
    y = Square.apply(x)
    node = y.grad_fn
    assert node.saved_tensors[0] is x
    y.sum().backward()
    with pytest.raises(RuntimeError, match=BACKWARD_TWICE):
        node.saved_tensors  # noqa: B018
    with pytest.raises(RuntimeError, match=BACKWARD_TWICE):
        y.sum().backward()


def test_retain_graph_keeps_saved_tensors():
    x = leaf(1.0, 2.0)
    y = Square.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [8.0, 16.0]


def test_double_backward_through_a_differentiable_backward():
    x = leaf(1.0, 2.0)
    (g,) = torch.autograd.grad(Square.apply(x, 3.0).sum(), x, create_graph=True)
    assert g.tolist() == [6.0, 12.0] and g.requires_grad
    (g2,) = torch.autograd.grad(g.sum(), x)
    assert g2.tolist() == [6.0, 6.0]


class Needs(Function):
    @staticmethod
    def forward(ctx, a, b, c):
        ctx.seen_in_forward = ctx.needs_input_grad
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad, None


def test_needs_input_grad():
    a = leaf(1.0, 1.0)
    b = torch.ones(2)
    out = Needs.apply(a, b, 5)
    assert out.grad_fn.seen_in_forward == (True, False, False)
    assert out.grad_fn.needs_input_grad == (True, False, False)


def test_no_node_when_no_input_requires_grad():
    b = torch.ones(2)
    out = Needs.apply(b, b, 5)
    assert repr(out) == "tensor([2., 2.])"
    assert not out.requires_grad and out.grad_fn is None


def test_no_node_under_no_grad():
    x = leaf(1.0, 2.0)
    with torch.no_grad():
        y = Square.apply(x)
    assert repr(y) == "tensor([2., 8.])"


class Two(Function):
    @staticmethod
    def forward(ctx, a):
        index = torch.tensor([1, 0])
        ctx.mark_non_differentiable(index)
        return a * 2, a * 3, index

    @staticmethod
    def backward(ctx, g1, g2, g3):
        ctx.seen = (g1, g2, g3)
        return g1 * 2 + g2 * 3


def test_multiple_outputs_share_one_node():
    a = leaf(1.0, 1.0)
    p, q, index = Two.apply(a)
    assert repr(p) == "tensor([2., 2.], grad_fn=<TwoBackward>)"
    assert repr(q) == "tensor([3., 3.], grad_fn=<TwoBackward>)"
    assert p.grad_fn is q.grad_fn
    assert (p.output_nr, q.output_nr) == (0, 1)
    assert repr(index) == "tensor([1, 0])"
    assert not index.requires_grad and index.grad_fn is None


def test_unused_outputs_get_materialized_zero_gradients():
    a = leaf(1.0, 1.0)
    p, q, _ = Two.apply(a)
    p.sum().backward()
    g1, g2, g3 = p.grad_fn.seen
    assert g1.tolist() == [1.0, 1.0]
    assert g2.tolist() == [0.0, 0.0]
    assert g3.tolist() == [0, 0] and g3.dtype is torch.int64
    assert a.grad.tolist() == [2.0, 2.0]


def test_both_outputs_contribute():
    a = leaf(1.0, 1.0)
    p, q, _ = Two.apply(a)
    (p + q).sum().backward()
    assert a.grad.tolist() == [5.0, 5.0]


class NoMaterialize(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.set_materialize_grads(False)
        return a * 2, a * 3

    @staticmethod
    def backward(ctx, g1, g2):
        ctx.seen = (g1, g2)
        return g1 * 2 if g1 is not None else None


def test_set_materialize_grads_false_passes_none():
    a = leaf(1.0, 1.0)
    _, q = NoMaterialize.apply(a)
    q.sum().backward()
    g1, g2 = q.grad_fn.seen
    assert g1 is None and g2.tolist() == [1.0, 1.0]
    assert a.grad is None


class Dirty(Function):
    @staticmethod
    def forward(ctx, a):
        a.mul_(2)
        ctx.mark_dirty(a)
        return a

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_mark_dirty_returns_the_modified_input():
    a = leaf(1.0, 1.0)
    b = a * 1
    c = Dirty.apply(b)
    assert c is b
    assert repr(c) == "tensor([2., 2.], grad_fn=<DirtyBackward>)"
    assert b._version == 2  # mul_ and mark_dirty
    c.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]


def test_mark_dirty_on_a_leaf_requiring_grad():
    a = leaf(1.0, 1.0)
    with pytest.raises(
        RuntimeError,
        match="^a leaf Variable that requires grad has been used in an in-place operation.$",
    ):
        Dirty.apply(a)


class Cube(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a**3

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * 3 * a**2


def test_once_differentiable_backward_builds_no_graph():
    a = leaf(1.0, 2.0)
    (g,) = torch.autograd.grad(Cube.apply(a).sum(), a, create_graph=True)
    assert g.tolist() == [3.0, 12.0]
    assert not g.requires_grad and g.grad_fn is None


class Identity(Function):
    @staticmethod
    def forward(ctx, a):
        return a

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_returning_an_input_returns_a_new_tensor():
    a = leaf(1.0, 2.0)
    r = Identity.apply(a)
    assert r is not a
    assert repr(r) == "tensor([1., 2.], grad_fn=<IdentityBackward>)"
    assert r._version == 0
    r.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]


class ExtraNones(Function):
    @staticmethod
    def forward(ctx, a):
        return a * 1

    @staticmethod
    def backward(ctx, grad):
        return grad, None, None  # extra trailing Nones are dropped silently


class BroadcastGrad(Function):
    @staticmethod
    def forward(ctx, a):
        return a * 1

    @staticmethod
    def backward(ctx, grad):
        return torch.ones(4, 2)  # summed to the input's shape


def test_gradient_adjustments():
    a = leaf(1.0, 2.0)
    ExtraNones.apply(a).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]
    b = leaf(1.0, 2.0)
    BroadcastGrad.apply(b).sum().backward()
    assert b.grad.tolist() == [4.0, 4.0]


class SaveNone(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a, None)
        return a.clone()

    @staticmethod
    def backward(ctx, grad):
        a, nothing = ctx.saved_tensors
        assert nothing is None
        return grad * a


def test_save_for_backward_accepts_none():
    a = leaf(1.0, 2.0)
    SaveNone.apply(a).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0]


class SaveOutput(Function):
    @staticmethod
    def forward(ctx, a):
        out = a.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


def test_saved_output_checked_for_in_place_changes():
    a = leaf(0.0, 1.0)
    out = SaveOutput.apply(a)
    out.sum().backward(retain_graph=True)
    assert a.grad.tolist() == pytest.approx([1.0, 2.718281828], rel=1e-6)
    out.add_(1)
    with pytest.raises(
        RuntimeError,
        match=r"^one of the variables needed for gradient computation has been modified by an "
        r"inplace operation: \[torch.FloatTensor \[2\]\], which is output 0 of SaveOutput, is at "
        r"version 1; expected version 0 instead.",
    ):
        out.sum().backward()


class WithNumber(Function):
    @staticmethod
    def forward(ctx, a, scale):
        ctx.scale = scale
        return a * scale, scale * 2

    @staticmethod
    def backward(ctx, grad, _unused):
        return grad * ctx.scale, None


def test_non_tensor_outputs_pass_through():
    a = leaf(1.0, 2.0)
    out, number = WithNumber.apply(a, 3.0)
    assert number == 6.0
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


class Sinh(Function):
    """The double-backward tutorial's Sinh: two of the saved tensors are outputs 1 and 2."""

    @staticmethod
    def forward(ctx, x):
        expx = torch.exp(x)
        expnegx = torch.exp(-x)
        ctx.save_for_backward(x, expx, expnegx)
        return (expx - expnegx) / 2, expx, expnegx

    @staticmethod
    def backward(ctx, grad_out, grad_out_exp, grad_out_negexp):
        _, expx, expnegx = ctx.saved_tensors
        grad_input = grad_out * (expx + expnegx) / 2
        grad_input += grad_out_exp * expx
        grad_input -= grad_out_negexp * expnegx
        return grad_input


def test_double_backward_routes_saved_outputs_to_their_own_slots():
    # Regression: saved outputs 1 and 2 came back as output 0, so the second derivative of
    # sinh was cosh's (1.0453 at 0.3). torch 2.13 gives sinh(0.3) = 0.3045.
    x = torch.tensor(0.3, dtype=torch.double, requires_grad=True)
    (first,) = torch.autograd.grad(Sinh.apply(x)[0], x, create_graph=True)
    (second,) = torch.autograd.grad(first, x)
    assert first.item() == pytest.approx(1.0453385141288605, rel=1e-12)
    assert second.item() == pytest.approx(0.3045202934471426, rel=1e-12)
    # All three outputs contribute: d/dx (sinh + 2 exp + 3 exp(-x)), and its derivative.
    x = torch.tensor(0.3, dtype=torch.double, requires_grad=True)
    sinh, expx, expnegx = Sinh.apply(x)
    (first,) = torch.autograd.grad(sinh + 2 * expx + 3 * expnegx, x, create_graph=True)
    (second,) = torch.autograd.grad(first, x)
    assert first.item() == pytest.approx(math.cosh(0.3) + 2 * math.exp(0.3) - 3 * math.exp(-0.3))
    assert second.item() == pytest.approx(math.sinh(0.3) + 2 * math.exp(0.3) + 3 * math.exp(-0.3))


def test_gradgradcheck_through_a_multi_output_function():
    torch.manual_seed(0)
    x = torch.rand(3, 4, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: Sinh.apply(t)[0], (x,))
    assert torch.autograd.gradgradcheck(lambda t: Sinh.apply(t)[0], (x,))
    assert torch.autograd.gradgradcheck(lambda t: Sinh.apply(t), (x,))


def test_modified_saved_output_is_named_by_its_output_number():
    x = leaf(0.3, 1.0)
    sinh, expx, _ = Sinh.apply(x)
    expx.add_(1)
    with pytest.raises(
        RuntimeError, match=r"\[torch.FloatTensor \[2\]\], which is output 1 of Sinh,"
    ):
        sinh.sum().backward()
