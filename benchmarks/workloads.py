"""Benchmark workloads: each a symgrad loss, its hand-written numpy forward+backward, and inputs.

All float32. ``loss(*args)`` uses symgrad ops; ``numpy_value_and_grad(*args)`` is what a careful
person would write by hand, returning the loss and the gradients of the differentiated args.
"""

from __future__ import annotations

import numpy as np

import symgrad
import symgrad.nn.functional as F

F32 = np.float32


class Workload:
    def __init__(self, name, loss, numpy_value_and_grad, make_args, argnums=0):
        self.name = name
        self.loss = loss
        self.numpy_value_and_grad = numpy_value_and_grad
        self.make_args = make_args
        self.argnums = argnums


# ---------------------------------------------------------------------- tutorial, 2 x 2
def tutorial(x):
    y = x + 2
    z = y * y * 3
    return z.mean()


def tutorial_numpy(x):
    y = x + F32(2)
    out = (y * y * F32(3)).mean()
    return out, y * F32(6 / x.size)


# ------------------------------------------------------------------- x*x + 2x + 1, scalar
def quadratic(x):
    return (x * x + 2 * x + 1).sum()


def quadratic_numpy(x):
    return (x * x + F32(2) * x + F32(1)).sum(), F32(2) * x + F32(2)


# ------------------------------------------------------------- logistic regression 1000x100
def logistic(w, b, X, y):
    return F.binary_cross_entropy_with_logits(X @ w + b, y)


def logistic_numpy(w, b, X, y):
    z = X @ w + b
    loss = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean()
    p = 1 / (1 + np.exp(-z))
    g = (p - y) / F32(z.size)
    return loss, X.T @ g, g.sum()


# ------------------------------------ logistic regression as textbooks write it, 1000x100
def logistic_textbook(w, b, X, y):
    p = symgrad.sigmoid(X @ w + b)
    return -(y * symgrad.log(p) + (1 - y) * symgrad.log(1 - p)).mean()


def logistic_textbook_numpy(w, b, X, y):
    z = X @ w + b
    p = 1 / (1 + np.exp(-z))
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    g = (p - y) / F32(z.size)
    return loss, X.T @ g, g.sum()


# ------------------------------------------- softmax cross-entropy by hand, 1000x100 -> 10
def softmax_cross_entropy(W, X, labels):
    onehot = F.one_hot(labels, W.shape[1]).float()
    return -(onehot * symgrad.log(symgrad.softmax(X @ W, 1))).sum(1).mean()


def softmax_cross_entropy_numpy(W, X, labels):
    onehot = np.eye(W.shape[1], dtype=F32)[labels]
    z = X @ W
    shifted = z - z.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    loss = -(onehot * (shifted - np.log(total))).sum(axis=1).mean()
    g = (exp / total - onehot) / F32(X.shape[0])
    return loss, X.T @ g


# ---------------------------------------------- softmax cross-entropy, F.cross_entropy
def cross_entropy(W, X, labels):
    return F.cross_entropy(X @ W, labels)


# ----------------------------------------------------------------------- MLP 784-256-10
def mlp(W1, b1, W2, b2, x, labels):
    hidden = (x @ W1 + b1).tanh()
    return F.cross_entropy(hidden @ W2 + b2, labels)


def mlp_numpy(W1, b1, W2, b2, x, labels):
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = (np.log(total[:, 0]) - shifted[np.arange(n), labels]).mean()
    d_logits = exp / total
    d_logits[np.arange(n), labels] -= 1
    d_logits /= F32(n)
    d_h = d_logits @ W2.T
    d_pre = d_h * (1 - h * h)
    return loss, x.T @ d_pre, d_pre.sum(0), h.T @ d_logits, d_logits.sum(0)


# -------------------------------------------------------------- elementwise mix on 1e6
def mix(x):
    return (x.tanh() * x.sin() * (-x * x).exp() + (x * x).log1p()).sum()


def mix_numpy(x):
    t, s = np.tanh(x), np.sin(x)
    square = x * x
    e = np.exp(-square)
    loss = (t * s * e + np.log1p(square)).sum()
    grad = (1 - t * t) * s * e + t * np.cos(x) * e - 2 * x * t * s * e + 2 * x / (1 + square)
    return loss, grad


# ----------------------------------------------------------------------------- Rosenbrock
def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def rosenbrock_numpy(x):
    head, tail = x[:-1], x[1:]
    diff = tail - head * head
    loss = (F32(100) * diff * diff + (F32(1) - head) ** 2).sum()
    grad = np.zeros_like(x)
    grad[:-1] = F32(-400) * diff * head - F32(2) * (F32(1) - head)
    grad[1:] += F32(200) * diff
    return loss, grad


# ------------------------------------------------------------ 200-op elementwise chain, 16
CHAIN = 200


def chain(x):
    for _ in range(CHAIN // 4):
        x = (x.sin() * 0.9 + 0.1).tanh() * 1.1
    return x.sum()


def chain_numpy(x):
    saved = []
    for _ in range(CHAIN // 4):
        s = np.sin(x)
        t = np.tanh(s * F32(0.9) + F32(0.1))
        saved.append((x, t))
        x = t * F32(1.1)
    g = np.ones_like(x)
    for x_k, t in reversed(saved):
        g = g * F32(1.1) * (1 - t * t) * F32(0.9) * np.cos(x_k)
    return x.sum(), g


def _rng():
    return np.random.default_rng(0)


def _logistic_arguments():
    """w, b, X (1000x100), y: both logistic regression workloads."""
    return (
        _rng().standard_normal(100).astype(F32) * F32(0.1),
        np.zeros((), F32),
        _rng().standard_normal((1000, 100)).astype(F32),
        (_rng().random(1000) < 0.5).astype(F32),
    )


WORKLOADS = [
    Workload("tutorial 2x2", tutorial, tutorial_numpy, lambda: (np.ones((2, 2), F32),)),
    Workload("x*x+2x+1, 1 elem", quadratic, quadratic_numpy, lambda: (np.full(1, 3, F32),)),
    Workload(
        "logistic 1000x100",
        logistic,
        logistic_numpy,
        _logistic_arguments,
        argnums=(0, 1),
    ),
    Workload(
        "MLP 784-256-10 b128",
        mlp,
        mlp_numpy,
        lambda: (
            _rng().standard_normal((784, 256)).astype(F32) * F32(0.05),
            np.zeros(256, F32),
            _rng().standard_normal((256, 10)).astype(F32) * F32(0.05),
            np.zeros(10, F32),
            _rng().standard_normal((128, 784)).astype(F32),
            _rng().integers(0, 10, 128),
        ),
        argnums=(0, 1, 2, 3),
    ),
    Workload("mix 1e6", mix, mix_numpy, lambda: (_rng().standard_normal(1_000_000).astype(F32),)),
    Workload(
        "rosenbrock n=10",
        rosenbrock,
        rosenbrock_numpy,
        lambda: (_rng().standard_normal(10).astype(F32),),
    ),
    Workload(
        "rosenbrock n=1e5",
        rosenbrock,
        rosenbrock_numpy,
        lambda: (_rng().standard_normal(100_000).astype(F32),),
    ),
    Workload(
        "chain 200 ops, 16", chain, chain_numpy, lambda: (_rng().standard_normal(16).astype(F32),)
    ),
    Workload(
        "logistic textbook",
        logistic_textbook,
        logistic_textbook_numpy,
        _logistic_arguments,
        argnums=(0, 1),
    ),
    Workload(
        "softmax CE by hand",
        softmax_cross_entropy,
        softmax_cross_entropy_numpy,
        lambda: (
            _rng().standard_normal((100, 10)).astype(F32) * F32(0.1),
            _rng().standard_normal((1000, 100)).astype(F32),
            _rng().integers(0, 10, 1000),
        ),
    ),
    Workload(
        "F.cross_entropy",
        cross_entropy,
        softmax_cross_entropy_numpy,
        lambda: (
            _rng().standard_normal((100, 10)).astype(F32) * F32(0.1),
            _rng().standard_normal((1000, 100)).astype(F32),
            _rng().integers(0, 10, 1000),
        ),
    ),
]


def eager_value_and_grad(workload, args):
    """symgrad eager: tensors, forward, .backward()."""
    argnums = workload.argnums if isinstance(workload.argnums, tuple) else (workload.argnums,)
    tensors = [symgrad.from_numpy(a).requires_grad_(i in argnums) for i, a in enumerate(args)]
    loss = workload.loss(*tensors)
    loss.backward()
    return loss, [tensors[i].grad for i in argnums]


def check_agreement(workload, args, value_and_grad) -> None:
    """Assert that ``value_and_grad(*args)`` gives the hand-written numpy value and gradients."""
    expected_value, *expected_grads = workload.numpy_value_and_grad(*args)
    value, grads = value_and_grad(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    np.testing.assert_allclose(value, expected_value, rtol=2e-3, atol=1e-5)
    for got, expected in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(got, expected, rtol=2e-3, atol=1e-5)
