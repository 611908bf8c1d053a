"""The textbook targets: losses written the way textbooks write them compile to the gradient a
person derives on paper (checked by the backward's elementwise op count on the final graph,
and by value), and stay finite in float32 at |z| up to 1e4 where the math is finite."""

from __future__ import annotations

import re

import numpy as np
import pytest
from extras import need

import symgrad
import symgrad.nn.functional as F
from symgrad.compiler import simplify
from symgrad.ops.registry import REGISTRY

ELEMENTWISE = {name for name, op in REGISTRY.items() if op.sympy is not None} | {
    "sigmoid",
    "softplus",
    "logsigmoid",
    "pow",
}
LINE = re.compile(r"%(\d+) = (\S+)(.*?)  :: (\S+).*?(\(grad\))?$")


def _program(fn, *args):
    compiled = symgrad.compile(fn)
    tensors = [symgrad.tensor(a, requires_grad=(k == 0)) for k, a in enumerate(args)]
    return compiled._entry_for(tuple(tensors), {}).program


def backward_elementwise_ops(fn, *args, of_type=None, every_op=False) -> list[str]:
    """Elementwise ops the gradient computes beyond what the forward already computed (the
    seed-1 gradient: nodes scaled by an incoming cotangent ``d_*`` are left out); with
    ``of_type`` (``"f32[6,4]"``), only those giving values of that type; with ``every_op``,
    the other ops too (where, sum, casts)."""
    nodes, users, types = {}, {}, {}
    for line in _program(fn, *args).graph_text.splitlines():
        match = LINE.match(line)
        node_id, op, rest, type_, grad = match.groups()
        operands = [int(i) for i in re.findall(r"%(\d+)", rest)]
        nodes[int(node_id)] = (op, operands, bool(grad), rest.strip())
        types[int(node_id)] = type_
        for operand in operands:
            users.setdefault(operand, []).append(int(node_id))
    cotangent = {i for i, (op, _, _, rest) in nodes.items() if op == "input" and "d_" in rest}

    def ancestors(roots):
        seen, stack = set(), list(roots)
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(nodes[node][1])
        return seen

    roots = [i for i in nodes if i not in users]
    forward = ancestors([r for r in roots if not nodes[r][2]])
    tainted = {i for i in nodes if ancestors([i]) & cotangent}
    backward = ancestors(roots) - forward - tainted
    if of_type is not None:
        backward = {i for i in backward if types[i] == of_type}
    return sorted(nodes[i][0] for i in backward if every_op or nodes[i][0] in ELEMENTWISE)


def value_and_grad64(fn, *args):
    args64 = [np.asarray(a, np.float64) if a.dtype.kind == "f" else a for a in args]
    return symgrad.value_and_grad(fn)(*args64)


# ------------------------------------------------------------------------------ the losses


def logistic(z, y):
    p = symgrad.sigmoid(z)
    return -(y * symgrad.log(p) + (1 - y) * symgrad.log(1 - p)).mean()


def logistic_model(w, b, X, y):
    p = symgrad.sigmoid(X @ w + b)
    return -(y * symgrad.log(p) + (1 - y) * symgrad.log(1 - p)).mean()


def softmax_cross_entropy(z, labels):
    onehot = F.one_hot(labels, z.shape[1]).float()
    return -(onehot * symgrad.log(symgrad.softmax(z, 1))).sum(1).mean()


def mse(yhat, y):
    return ((yhat - y) ** 2).mean()


def tanh_layer(x, W):
    return symgrad.tanh(x @ W).sum()


def quadratic(x):
    return (x * x + 2 * x + 1).sum()


def tutorial(x):
    return (3 * (x + 2) ** 2).mean()


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


RNG = np.random.default_rng(0)
Z = RNG.standard_normal((6, 4)).astype(np.float32)
LABELS = np.array([0, 3, 1, 1, 2, 0])
Y = (RNG.random(24) < 0.5).astype(np.float32)


def _sigmoid64(z):
    return 0.5 * (1 + np.tanh(np.asarray(z, np.float64) / 2))


def _softmax64(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


# --------------------------------------------------------------------- the hand-derived forms


SIGMOID_MINUS_Y_OVER_N = ["mul", "sigmoid", "sub"]  # (sigmoid(z) - y) / n


def test_logistic_regression_gradient_is_sigmoid_minus_y_over_n():
    z = Z.reshape(-1)
    assert backward_elementwise_ops(logistic, z, Y) == SIGMOID_MINUS_Y_OVER_N
    _, grad = symgrad.value_and_grad(logistic)(z, Y)
    np.testing.assert_allclose(grad, (_sigmoid64(z) - Y) / z.size, rtol=1e-5, atol=1e-8)


def test_logistic_regression_model_shares_z_between_forward_and_backward():
    X = RNG.standard_normal((24, 5)).astype(np.float32)
    w = RNG.standard_normal(5).astype(np.float32)
    b = np.float32(0.5)
    ops = backward_elementwise_ops(logistic_model, w, np.asarray(b), X, Y)
    assert ops == SIGMOID_MINUS_Y_OVER_N
    value, (gw, gb) = symgrad.value_and_grad(logistic_model, argnums=(0, 1))(w, b, X, Y)
    dz = (_sigmoid64(X @ w + b) - Y) / Y.size
    np.testing.assert_allclose(gw, X.T.astype(np.float64) @ dz, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gb, dz.sum(), rtol=1e-5, atol=1e-7)


def test_softmax_cross_entropy_by_hand_is_softmax_minus_onehot_over_n():
    assert backward_elementwise_ops(softmax_cross_entropy, Z, LABELS) == ["exp", "mul", "sub"]
    _, grad = symgrad.value_and_grad(softmax_cross_entropy)(Z, LABELS)
    onehot = np.eye(4)[LABELS]
    np.testing.assert_allclose(grad, (_softmax64(Z) - onehot) / 6, rtol=1e-5, atol=1e-7)


def cross_entropy(z, labels):
    return F.cross_entropy(z, labels)


def _cross_entropy_gradient64(z, labels, ignore_index=-100):
    """(softmax(z) - onehot) / n over the counted rows, 0 on the ignored ones (float64)."""
    counted = labels != ignore_index
    onehot = np.eye(z.shape[1])[np.where(counted, labels, 0)] * counted[:, None]
    return (_softmax64(z) - onehot) * counted[:, None] / max(counted.sum(), 1)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    """Over the (n, C) logits: exp of the forward's log_softmax, minus the one-hot (the class
    mask as floats), times each row's share 1/n (0 on ignored rows); the share itself is a
    division over n rows."""
    ops = backward_elementwise_ops(cross_entropy, Z, LABELS, of_type="f32[6,4]", every_op=True)
    assert ops == ["exp", "mul", "sub", "to_dtype"]
    assert backward_elementwise_ops(cross_entropy, Z, LABELS) == ["div", "exp", "mul", "sub"]
    value, grad = symgrad.value_and_grad(cross_entropy)(Z, LABELS)
    np.testing.assert_allclose(grad, _cross_entropy_gradient64(Z, LABELS), rtol=1e-5, atol=1e-7)
    exact = -np.log(_softmax64(Z))[np.arange(6), LABELS].mean()
    np.testing.assert_allclose(value, exact, rtol=1e-6)
    z = symgrad.tensor(Z, requires_grad=True)
    explained = str(symgrad.compile(cross_entropy).explain(z, LABELS))
    assert "softmax_minus_one_hot" in explained and "sum_over_a_one_hot_mask" in explained


def test_cross_entropy_gradient_with_some_targets_ignored():
    labels = np.array([0, -100, 1, 1, -100, 0])
    value, grad = symgrad.value_and_grad(cross_entropy)(Z, labels)
    np.testing.assert_allclose(grad, _cross_entropy_gradient64(Z, labels), rtol=1e-5, atol=1e-7)
    assert not grad[1].any() and not grad[4].any()
    labels = np.array([2, 2, 0, 1, 3, 2])
    value, grad = symgrad.value_and_grad(
        lambda z, t: F.cross_entropy(z, t, ignore_index=2, reduction="sum")
    )(Z, labels)
    expected = _cross_entropy_gradient64(Z, labels, ignore_index=2) * 3  # sum: 3 counted rows
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-7)


def test_cross_entropy_with_every_target_ignored_is_nan_with_zero_gradient():
    """torch 2.13: the loss is nan (a mean over no weight) and the gradient 0, not nan; the
    textbook form divides by the count taken as at least 1, so it keeps that."""
    labels = np.full(6, -100)
    value, grad = symgrad.value_and_grad(cross_entropy)(Z, labels)
    assert np.isnan(value) and value.dtype == np.float32
    np.testing.assert_array_equal(grad, np.zeros_like(Z))
    z = symgrad.tensor(Z, requires_grad=True)
    loss = symgrad.compile(cross_entropy)(z, symgrad.tensor(labels))
    loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(z.grad.numpy(), np.zeros_like(Z))
    eager = symgrad.tensor(Z, requires_grad=True)
    cross_entropy(eager, symgrad.tensor(labels)).backward()
    np.testing.assert_array_equal(eager.grad.numpy(), np.zeros_like(Z))


@pytest.mark.parametrize(
    "labels", [[0, -100, 1, 1, -100, 0], [-100] * 6], ids=["some_ignored", "all_ignored"]
)
def test_cross_entropy_ignoring_targets_equals_torch(labels):
    torch = need("torch")
    z = torch.tensor(Z, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(z, torch.tensor(labels))
    expected.backward()
    value, grad = symgrad.value_and_grad(cross_entropy)(Z, np.array(labels))
    np.testing.assert_allclose(value, expected.detach().numpy(), rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(grad, z.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_cross_entropy_with_probability_targets_is_softmax_times_mass_minus_target_over_n():
    """(softmax(z) * sum(t) - t) / n: (softmax(z) - t) / n where each row of t sums to 1."""
    targets = RNG.random((6, 4)).astype(np.float32)
    ops = backward_elementwise_ops(cross_entropy, Z, targets, of_type="f32[6,4]")
    assert ops == ["exp", "mul", "mul", "sub"]
    _, grad = symgrad.value_and_grad(cross_entropy)(Z, targets)
    t64 = targets.astype(np.float64)
    expected = (_softmax64(Z) * t64.sum(1, keepdims=True) - t64) / 6
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-7)


def test_mse_gradient_reuses_the_forward_difference():
    y = Z + 1
    assert backward_elementwise_ops(mse, Z, y) == ["mul"]
    _, grad = symgrad.value_and_grad(mse)(Z, y)
    np.testing.assert_allclose(grad, 2 * (Z - y) / Z.size, rtol=1e-6)


def test_tanh_layer_gradient_is_one_minus_t_squared_of_the_forward_t():
    W = RNG.standard_normal((4, 3)).astype(np.float32)
    assert backward_elementwise_ops(tanh_layer, Z, W) == ["mul", "sub"]
    _, grad = symgrad.value_and_grad(tanh_layer)(Z, W)
    t = np.tanh(Z.astype(np.float64) @ W)
    np.testing.assert_allclose(grad, (1 - t * t) @ W.T, rtol=1e-5, atol=1e-6)


def test_quadratic_gradient_is_two_x_plus_two_reusing_the_forward_two_x():
    x = Z.reshape(-1)
    assert backward_elementwise_ops(quadratic, x) == ["add"]
    _, grad = symgrad.value_and_grad(quadratic)(x)
    np.testing.assert_allclose(grad, 2 * x + 2, rtol=1e-6)


def test_tutorial_gradient_is_three_halves_of_x_plus_two():
    x = np.ones((2, 2), np.float32)
    assert backward_elementwise_ops(tutorial, x) == ["mul"]
    _, grad = symgrad.value_and_grad(tutorial)(x)
    np.testing.assert_allclose(grad, 3 * (x + 2) / 2)


def test_rosenbrock_gradient_takes_the_hand_gradients_passes():
    """By hand: diff = x[1:] - x[:-1]**2 and 1 - x[:-1] from the forward, then
    -400 * diff * x[:-1] - 2 * (1 - x[:-1]) (4 passes), 200 * diff (1) and adding the two
    into the gradient (1)."""
    x = Z.reshape(-1)[:8]
    assert len(backward_elementwise_ops(rosenbrock, x)) == 6
    _, grad = symgrad.value_and_grad(rosenbrock)(x)
    x64 = x.astype(np.float64)
    diff = x64[1:] - x64[:-1] ** 2
    expected = np.zeros_like(x64)
    expected[:-1] = -400 * diff * x64[:-1] - 2 * (1 - x64[:-1])
    expected[1:] += 200 * diff
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-4)


# ------------------------------------------------------------------- finite at |z| up to 1e4

BIG = np.array([1e4, -1e4, 30.0, -30.0, 5.0, 0.0], np.float32)
BIG_Y = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.5], np.float32)


def test_logistic_regression_is_finite_at_1e4_in_float32():
    """Eager overflows here (log(1 - sigmoid(30)) is log(0) in float32); the compiled loss and
    gradient equal the exact ones within float32 rounding."""
    value, grad = symgrad.value_and_grad(logistic)(BIG, BIG_Y)
    z = BIG.astype(np.float64)
    exact_value = np.mean(np.logaddexp(0, z) - BIG_Y * z)
    np.testing.assert_allclose(value, exact_value, rtol=1e-6)
    # sigmoid(z) - y rounds to float32 before the difference: an absolute error of one ulp
    # of 1 (divided by n)
    eps = np.finfo(np.float32).eps
    expected = (_sigmoid64(z) - BIG_Y) / z.size
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=eps / z.size)
    assert value.dtype == np.float32 and grad.dtype == np.float32


def test_softmax_cross_entropy_is_finite_at_1e4_in_float32():
    z = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 30.0], [0.0, 0.0, 0.0]], np.float32)
    labels = np.array([1, 1, 2])
    value, grad = symgrad.value_and_grad(softmax_cross_entropy)(z, labels)
    z64 = z.astype(np.float64)
    log_probabilities = z64 - z64.max(1, keepdims=True)
    log_probabilities -= np.log(np.exp(log_probabilities).sum(1, keepdims=True))
    exact = -log_probabilities[np.arange(3), labels].mean()
    np.testing.assert_allclose(value, exact, rtol=1e-6)
    expected = (_softmax64(z) - np.eye(3)[labels]) / 3
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "fn, args",
    [
        (mse, (BIG, BIG_Y)),
        (tanh_layer, (BIG.reshape(2, 3), np.eye(3, dtype=np.float32))),
        (quadratic, (BIG,)),
        (tutorial, (BIG,)),
        (rosenbrock, (BIG,)),
        (
            F.cross_entropy,
            (np.array([[1e4, -1e4, 0.0], [0.0, 30.0, -1e4]], np.float32), np.array([1, 0])),
        ),
        (
            F.cross_entropy,
            (
                np.array([[1e4, -1e4, 0.0], [0.0, 30.0, -1e4], [3.0, 1e4, 1.0]], np.float32),
                np.array([1, -100, 2]),
            ),
        ),
        (F.binary_cross_entropy_with_logits, (BIG, BIG_Y)),
    ],
    ids=[
        "mse",
        "tanh_layer",
        "quadratic",
        "tutorial",
        "rosenbrock",
        "cross_entropy",
        "cross_entropy_ignoring",
        "logits_cross_entropy",
    ],
)
def test_targets_are_finite_at_1e4_in_float32_and_equal_float64(fn, args):
    value, grad = symgrad.value_and_grad(fn)(*args)
    value64, grad64 = value_and_grad64(fn, *args)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(value, value64, rtol=2e-6)
    np.testing.assert_allclose(grad, grad64, rtol=2e-6, atol=2e-6 * np.abs(grad64).max())


def test_the_simplifier_is_what_made_them_textbook(monkeypatch):
    """Without the SymPy phase the logistic gradient keeps the chain rule's shape."""
    monkeypatch.setattr(simplify, "WORK_BUDGET", 0)
    assert len(backward_elementwise_ops(logistic, Z.reshape(-1), Y)) > 3
