"""The eager autograd engine against PyTorch 2.13's behaviour: node names, graph
introspection, accumulation, retain_grad, backward(inputs=), autograd.grad, hooks, ordering.

Expected values were produced by running the same statements with ``import torch``.
"""

from __future__ import annotations

import gc
import re
import sys
import weakref

import pytest

import symgrad as torch


def leaf(*values, dtype=None):
    return torch.tensor(list(values), dtype=dtype, requires_grad=True)


# ------------------------------------------------------------------------------ node names

X = [[1.0, 2.0], [3.0, 4.0]]
Y = [[0.5, 1.5], [2.5, 3.5]]

NAMES = [
    ("x + y", "AddBackward0"),
    ("x + 1", "AddBackward0"),
    ("1 + x", "AddBackward0"),
    ("x.add(y, alpha=2)", "AddBackward0"),
    ("x - y", "SubBackward0"),
    ("x - 1", "SubBackward0"),
    ("1 - x", "RsubBackward1"),
    ("x * y", "MulBackward0"),
    ("x * 2", "MulBackward0"),
    ("2 * x", "MulBackward0"),
    ("x / y", "DivBackward0"),
    ("x / 2", "DivBackward0"),
    ("2 / x", "MulBackward0"),
    ("x ** 2", "PowBackward0"),
    ("x.pow(3)", "PowBackward0"),
    ("x ** y", "PowBackward1"),
    ("2 ** x", "PowBackward2"),
    ("-x", "NegBackward0"),
    ("x.neg()", "NegBackward0"),
    ("x.sum()", "SumBackward0"),
    ("x.sum(0)", "SumBackward1"),
    ("x.sum(dim=1, keepdim=True)", "SumBackward1"),
    ("x.mean()", "MeanBackward0"),
    ("x.mean(0)", "MeanBackward1"),
    ("x.exp()", "ExpBackward0"),
    ("x.log()", "LogBackward0"),
    ("x.sqrt()", "SqrtBackward0"),
    ("x.sin()", "SinBackward0"),
    ("x.tanh()", "TanhBackward0"),
    ("x.sigmoid()", "SigmoidBackward0"),
    ("x.mm(y)", "MmBackward0"),
    ("x @ y", "MmBackward0"),
    ("x @ v", "MvBackward0"),
    ("v @ v", "DotBackward0"),
    ("x.view(4)", "ViewBackward0"),
    ("x.reshape(-1)", "ViewBackward0"),
    ("x.t()", "TBackward0"),
    ("x.T", "PermuteBackward0"),
    ("x.mT", "TransposeBackward0"),
    ("x.transpose(0, 1)", "TransposeBackward0"),
    ("x.permute(1, 0)", "PermuteBackward0"),
    ("x[0]", "SelectBackward0"),
    ("x[:, 1]", "SelectBackward0"),
    ("v[0]", "SelectBackward0"),
    ("x[1:]", "SliceBackward0"),
    ("x[[0, 1]]", "IndexBackward0"),
    ("x[x > 2]", "IndexBackward0"),
    ("x.clone()", "CloneBackward0"),
    ("x.double()", "ToCopyBackward0"),
    ("x.expand(3, 2, 2)", "ExpandBackward0"),
]


@pytest.mark.parametrize("expression, name", NAMES, ids=[e for e, _ in NAMES])
def test_grad_fn_names(expression, name):
    x = torch.tensor(X, requires_grad=True)
    y = torch.tensor(Y, requires_grad=True)
    v = torch.tensor([1.0, 2.0], requires_grad=True)
    out = eval(expression, {"torch": torch}, {"x": x, "y": y, "v": v})
    assert type(out.grad_fn).__name__ == name
    assert out.grad_fn.name() == name
    assert re.fullmatch(rf"<{name} object at 0x[0-9a-f]+>", repr(out.grad_fn))


def test_no_grad_fn_without_requires_grad():
    x = torch.tensor(X)
    assert (x * 2).grad_fn is None and (x * 2).is_leaf
    with torch.no_grad():
        y = torch.tensor(X, requires_grad=True) * 2
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf


# ------------------------------------------------------------------------ graph structure


def test_next_functions_with_accumulate_grad_and_none():
    x = leaf(1.0, 2.0)
    w = torch.tensor([3.0, 4.0])
    y = x * w
    (acc, nr), (missing, missing_nr) = y.grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and nr == 0
    assert acc.name() == "torch::autograd::AccumulateGrad"  # torch's C++ node names
    assert re.fullmatch(r"<AccumulateGrad object at 0x[0-9a-f]+>", repr(acc))
    assert acc.variable is x
    assert (missing, missing_nr) == (None, 0)
    # The leaf has one AccumulateGrad, shared by the graphs that use it while it lives.
    assert x.sum().grad_fn.next_functions[0][0] is acc


def test_leaf_keeps_its_accumulator_and_the_graph_does_not_keep_the_leaf():
    # The leaf holds its AccumulateGrad (an op on it makes none) and the node holds the leaf
    # weakly: no cycle, so a dropped leaf is freed by reference counting, gc or not.
    x = leaf(1.0, 2.0)
    first = (x + 1).grad_fn.next_functions[0][0]  # that graph is gone at once
    assert (x * 3).grad_fn.next_functions[0][0] is first
    y = x + 1
    freed = weakref.ref(x)
    gc.disable()
    try:
        del x
        assert freed() is None
        # torch would keep the leaf through the graph: here the node says it is gone
        assert y.grad_fn.next_functions[0][0].variable is None
        y.sum().backward()  # nothing to fill, nothing raised
    finally:
        gc.enable()


def test_next_functions_chain_and_metadata():
    x = leaf(1.0, 2.0)
    z = (x * 2 + 1).exp()
    add = z.grad_fn.next_functions[0][0]
    assert add.name() == "AddBackward0"
    assert add.next_functions[0][0].name() == "MulBackward0"
    assert add.next_functions[1] == (None, 0)  # the Python number
    assert z.grad_fn.metadata == {}
    z.grad_fn.metadata["tag"] = 1
    assert z.grad_fn.metadata == {"tag": 1}


def test_calling_a_node_directly():
    x = leaf(1.0, 2.0)
    y = x * torch.tensor([3.0, 4.0])
    grads = y.grad_fn(torch.ones(2))
    assert grads[0].tolist() == [3.0, 4.0]


# ---------------------------------------------------------------------------- accumulation


def test_first_gradient_is_a_copy():
    x = leaf(1.0, 2.0)
    g = torch.tensor([5.0, 6.0])
    (x * 1).backward(g)
    g.add_(1)
    assert x.grad.tolist() == [5.0, 6.0]
    direct = leaf(1.0, 2.0)
    g = torch.tensor([5.0, 6.0])
    direct.backward(g)  # backward of the leaf itself
    g.add_(1)
    assert direct.grad.tolist() == [5.0, 6.0]


def test_later_gradients_accumulate_in_place():
    x = leaf(1.0, 2.0)
    (x * 2).sum().backward()
    first = x.grad
    (x * 3).sum().backward()
    assert x.grad is first
    assert x.grad.tolist() == [5.0, 5.0]
    assert x.grad._version == 1
    assert x.grad.grad_fn is None and not x.grad.requires_grad


@pytest.fixture
def keep_create_graph_warning(monkeypatch):
    """The create_graph warning is emitted once per process: leave that state as found."""
    engine = getattr(torch.autograd, "engine", None)
    if hasattr(engine, "_warned_create_graph"):
        monkeypatch.setattr(engine, "_warned_create_graph", engine._warned_create_graph)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.usefixtures("keep_create_graph_warning")
def test_create_graph_accumulates_out_of_place():
    x = leaf(1.0, 2.0)
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    assert repr(first) == "tensor([ 3., 12.], grad_fn=<CopyBackwards>)"
    (x**2).sum().backward(create_graph=True)
    assert x.grad is not first
    assert repr(x.grad) == "tensor([ 5., 16.], grad_fn=<AddBackward0>)"
    assert repr(first) == "tensor([ 3., 12.], grad_fn=<CopyBackwards>)"  # untouched
    (second,) = torch.autograd.grad(first.sum(), x)  # higher order through .grad
    assert second.tolist() == [6.0, 12.0]


def test_zeroing_grad_between_steps():
    x = leaf(1.0, 2.0)
    (x * 2).sum().backward()
    x.grad.zero_()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    x.grad = None
    (x * 4).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_broadcast_gradients_are_summed_to_the_input_shape():
    a = torch.ones(2, 3, requires_grad=True)
    b = torch.ones(3, requires_grad=True)
    c = torch.ones(1, 3, requires_grad=True)
    (a * b * c).sum().backward()
    assert b.grad.shape == (3,) and b.grad.tolist() == [2.0, 2.0, 2.0]
    assert c.grad.shape == (1, 3) and c.grad.tolist() == [[2.0, 2.0, 2.0]]
    s = torch.tensor(2.0, requires_grad=True)
    (a * s).sum().backward()
    assert s.grad.shape == () and s.grad.item() == 6.0


def test_gradient_dtype_follows_the_input():
    x = leaf(1.0, 2.0)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype is torch.float32
    assert x.grad.tolist() == [3.0, 3.0]


# ------------------------------------------------------------------------------ retain_grad


def test_retain_grad():
    x = leaf(1.0, 2.0)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    z = (y * y).sum()
    z.backward(retain_graph=True)
    first = y.grad
    assert first.tolist() == [4.0, 8.0]
    z.backward()
    assert y.grad.tolist() == [8.0, 16.0]
    assert y.grad is not first  # out of place for non-leaves
    assert first.tolist() == [4.0, 8.0]
    assert x.grad.tolist() == [16.0, 32.0]


def test_retain_grad_is_idempotent():
    x = leaf(1.0, 2.0)
    y = x * 2
    y.retain_grad()
    y.retain_grad()
    y.sum().backward()
    assert y.grad.tolist() == [1.0, 1.0]


# --------------------------------------------------------------------- backward(inputs=...)


def test_backward_inputs_accumulates_only_there():
    a, b = leaf(1.0, 2.0), leaf(3.0, 4.0)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [3.0, 4.0]
    assert b.grad is None
    (a * b).sum().backward(inputs=b)
    assert b.grad.tolist() == [1.0, 2.0]
    assert a.grad.tolist() == [3.0, 4.0]


def test_backward_inputs_with_a_non_leaf():
    a = leaf(1.0, 2.0)
    y = a * 2
    (y * y).sum().backward(inputs=[y])
    assert a.grad is None
    assert y.retains_grad  # as in torch: the engine called retain_grad on it
    assert y.grad.tolist() == [4.0, 8.0]


# --------------------------------------------------------------------------- autograd.grad


def test_grad_does_not_touch_dot_grad():
    x = leaf(1.0, 2.0)
    y = x * 3
    y.retain_grad()
    result = torch.autograd.grad(y.sum(), x)
    assert isinstance(result, tuple) and len(result) == 1
    assert result[0].tolist() == [3.0, 3.0]
    assert x.grad is None
    assert y.grad.tolist() == [1.0, 1.0]  # as in torch, retain_grad hooks still run


def test_grad_with_several_inputs_and_outputs():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    gx, gw = torch.autograd.grad([(x * w).sum(), (x * x).sum()], [x, w])
    assert gx.tolist() == [5.0, 8.0] and gw.tolist() == [1.0, 2.0]
    (gy,) = torch.autograd.grad(x * w, x, grad_outputs=torch.tensor([1.0, -1.0]))
    assert gy.tolist() == [3.0, -4.0]


def test_grad_with_respect_to_a_non_leaf():
    x = leaf(1.0, 2.0)
    y = x * 2
    (gy,) = torch.autograd.grad((y * 3).sum(), y)
    assert gy.tolist() == [3.0, 3.0]


def test_grad_with_a_dict_of_inputs():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    grads = torch.autograd.grad((x * w).sum(), {"x": x, "w": w})
    assert list(grads) == ["x", "w"]
    assert grads["x"].tolist() == [3.0, 4.0] and grads["w"].tolist() == [1.0, 2.0]


def test_allow_unused_and_materialize_grads():
    x, w = leaf(1.0, 2.0), leaf(3.0)
    gx, gw = torch.autograd.grad((x * 2).sum(), [x, w], allow_unused=True)
    assert gx.tolist() == [2.0, 2.0] and gw is None
    gx, gw = torch.autograd.grad((x * 2).sum(), [x, w], materialize_grads=True)
    assert gw.tolist() == [0.0] and gw.dtype is torch.float32


@pytest.mark.parametrize(
    "fn, first, second",
    [
        (lambda x: x**3, [3.0, 12.0], [6.0, 12.0]),  # 3x^2, 6x
        (lambda x: x.sin(), [0.5403023, -0.4161468], [-0.8414710, -0.9092974]),  # cos, -sin
        (lambda x: x.exp() * x, [5.4365637, 22.1671683], [8.1548455, 29.5562244]),
    ],
    ids=["cube", "sin", "x_exp"],
)
def test_second_derivatives_with_create_graph(fn, first, second):
    x = leaf(1.0, 2.0)
    (g,) = torch.autograd.grad(fn(x).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    assert g.tolist() == pytest.approx(first, rel=1e-6)
    (g2,) = torch.autograd.grad(g.sum(), x)
    assert g2.tolist() == pytest.approx(second, rel=1e-6)


def test_create_graph_retains_the_graph_by_default():
    x = leaf(1.0, 2.0)
    out = (x * x).sum()
    torch.autograd.grad(out, x, create_graph=True)
    (again,) = torch.autograd.grad(out, x)  # retain_graph defaulted to create_graph
    assert again.tolist() == [2.0, 4.0]


# ----------------------------------------------------------------------------------- hooks


def test_hook_on_leaf_replaces_the_gradient_and_can_be_removed():
    x = leaf(1.0, 2.0)
    seen = []

    def hook(g):
        seen.append(g.tolist())
        return g * 10

    handle = x.register_hook(hook)
    (x * 2).sum().backward()
    handle.remove()
    (x * 2).sum().backward()
    assert seen == [[2.0, 2.0]]
    assert x.grad.tolist() == [22.0, 22.0]


def test_hook_on_leaf_applies_to_autograd_grad():
    x = leaf(1.0, 2.0)
    x.register_hook(lambda g: g * 10)
    (g,) = torch.autograd.grad((x * 2).sum(), x)
    assert g.tolist() == [20.0, 20.0]


def test_hooks_on_non_leaf_run_in_order_and_retain_grad_sees_the_result():
    x = leaf(1.0, 2.0)
    y = x * 2
    seen = []
    y.register_hook(lambda g: g * 10)
    y.register_hook(lambda g: seen.append(g.tolist()))  # returns None: keeps the gradient
    y.retain_grad()
    (y * 1).sum().backward()
    assert seen == [[10.0, 10.0]]
    assert y.grad.tolist() == [10.0, 10.0]
    assert x.grad.tolist() == [20.0, 20.0]


def test_retain_grad_runs_after_hooks_registered_later():
    x = leaf(1.0, 2.0)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    (y * 1).sum().backward()
    assert y.grad.tolist() == [10.0, 10.0]
    assert x.grad.tolist() == [20.0, 20.0]


def test_post_accumulate_grad_hook_sees_the_updated_grad():
    x = leaf(1.0, 2.0)
    seen = []
    handle = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    handle.remove()
    (x * 2).sum().backward()
    assert seen == [[2.0, 2.0], [4.0, 4.0]]


def test_node_hooks_see_none_for_inputs_that_need_no_gradient():
    x = leaf(1.0, 2.0)
    b = x * 2
    c = b + b
    calls = []
    b.grad_fn.register_hook(
        lambda grad_inputs, grad_outputs: calls.append((grad_inputs, grad_outputs))
    )
    c.sum().backward()
    [(grad_inputs, grad_outputs)] = calls  # the node ran once, with both gradients summed
    assert grad_inputs[0].tolist() == [4.0, 4.0] and grad_inputs[1] is None
    assert grad_outputs[0].tolist() == [2.0, 2.0]


def test_node_prehook_replaces_incoming_gradients():
    x = leaf(1.0, 2.0)
    y = x * 3
    y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 2,))
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_hooks_on_a_leafs_accumulate_grad_node_run_as_in_torch():
    # torch 2.13 runs a leaf's tensor hook, then its AccumulateGrad node's pre-hook (which
    # may replace the gradient), the accumulation (and post-accumulate hooks), then the node's
    # post-hook with no grad_inputs. symgrad used to skip the node's own hooks.
    x = torch.ones(2, requires_grad=True)
    y = (x * 2).sum()
    node = y.grad_fn.next_functions[0][0].next_functions[0][0]
    assert type(node).__name__ == "AccumulateGrad"
    seen = []
    x.register_hook(lambda g: seen.append(("tensor", g.tolist())))
    x.register_post_accumulate_grad_hook(lambda t: seen.append(("post_acc", t.grad.tolist())))
    node.register_prehook(lambda go: seen.append(("pre", [g.tolist() for g in go])))
    node.register_hook(lambda gi, go: seen.append(("post", gi, [g.tolist() for g in go])))
    y.backward()
    assert seen == [
        ("tensor", [2.0, 2.0]),
        ("pre", [[2.0, 2.0]]),
        ("post_acc", [2.0, 2.0]),
        ("post", (), [[2.0, 2.0]]),
    ]
    x2 = torch.ones(2, requires_grad=True)
    y2 = (x2 * 2).sum()
    y2.grad_fn.next_functions[0][0].next_functions[0][0].register_prehook(lambda go: (go[0] * 10,))
    y2.backward()
    assert x2.grad.tolist() == [20.0, 20.0]
    # autograd.grad does not run the leaf's node: its hooks stay silent
    seen.clear()
    (g,) = torch.autograd.grad((x * 3).sum(), x)
    assert g.tolist() == [3.0, 3.0] and [kind for kind, *_ in seen] == ["tensor"]


def test_hooks_run_with_grad_mode_off_unless_create_graph():
    x = leaf(1.0, 2.0)
    modes = []
    x.register_hook(lambda g: modes.append(torch.is_grad_enabled()))
    (x * x).sum().backward()
    torch.autograd.grad((x * x).sum(), x, create_graph=True)
    assert modes == [False, True]


# -------------------------------------------------------------------------- execution order


def test_diamond_node_runs_once_with_summed_gradients():
    x = leaf(1.0, 2.0)
    shared = x * 2
    runs = []
    shared.grad_fn.register_prehook(lambda grad_outputs: runs.append(grad_outputs[0].tolist()))
    out = (shared * 3 + shared.exp() * 0 + shared).sum()
    out.backward()
    assert runs == [[4.0, 4.0]]
    assert x.grad.tolist() == [8.0, 8.0]


def test_order_is_deterministic_and_follows_creation():
    def run():
        x = leaf(1.0, 2.0)
        order = []
        b = x * 2
        c = x * 3
        d = x * 4
        for name, t in (("b", b), ("c", c), ("d", d)):
            t.register_hook(lambda g, name=name: order.append(name))
        (b + c + d).sum().backward()
        return order

    # Like torch, the most recently created node runs first.
    assert run() == ["d", "c", "b"]
    assert all(run() == ["d", "c", "b"] for _ in range(5))


def long_chain(x, length=100_000):
    """``x ** 1.0 ** 1.0 ...``, and a weak reference to a tensor in its middle (each power
    saves its input, so the graph keeps that tensor alive)."""
    assert sys.getrecursionlimit() < length
    y = x
    for i in range(length):
        y = y**1.0
        if i == length // 2:
            middle = weakref.ref(y)
    return y, middle


def test_long_chain_backpropagates_without_recursion_error():
    x = leaf(1.0, 2.0)
    y, middle = long_chain(x)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    gc.collect()
    assert middle() is None  # backward released the saved tensors


def test_long_chain_is_freed_without_recursion_error():
    y, middle = long_chain(leaf(1.0))
    gc.collect()
    assert middle() is not None
    del y
    gc.collect()
    assert middle() is None
