"""Op-table cases for symgrad/ops/activation.py (torch.nn.functional names).

Static arguments (dims, slopes, shapes) are bound into each case's functions, since
``check_grads`` differentiates every tensor argument.
"""

import math

import numpy as np
from op_table import Arg, OpCase

import symgrad
from symgrad.ops import activation as F

SHAPES = [[Arg((3, 4))], [Arg((2, 1, 5))], [Arg(())]]


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _softplus(x, beta=1.0, threshold=20.0):
    z = beta * x
    return np.where(z > threshold, x, np.logaddexp(0, z) / beta)


def _softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _layer_norm(x, count, weight=None, bias=None, eps=1e-5):
    axes = tuple(range(x.ndim - count, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    out = (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    out = out if weight is None else out * weight
    return out if bias is None else out + bias


def _normalize(x, p, axis, eps=1e-12):
    norm = np.sum(np.abs(x) ** p, axis=axis, keepdims=True) ** (1 / p)
    return x / np.maximum(norm, eps)


def _pointwise(name, fn, reference, torch_fn, variants=None, **kw):
    return OpCase(name, fn, reference, variants or SHAPES, torch_fn=torch_fn, **kw)


def _along_dim(name, fn, reference, torch_name, configs):
    """One case per dim: (label, dim, variants)."""
    return [
        OpCase(
            f"{name}_{label}",
            lambda x, _d=dim: fn(x, _d),
            lambda x, _d=dim: reference(x, None if x.ndim == 0 else _d),
            variants,
            torch_fn=lambda torch, x, _d=dim: getattr(torch.nn.functional, torch_name)(x, _d),
        )
        for label, dim, variants in configs
    ]


SOFTMAX_DIMS = [
    ("d1", 1, [[Arg((3, 4))], [Arg((2, 1, 5))], [Arg((2, 3, 4), -30.0, 30.0)]]),
    ("d0", 0, [[Arg((3, 4))], [Arg((1, 5))], [Arg(())], [Arg((4,))]]),
    ("dlast", -1, [[Arg((2, 3, 4))], [Arg((3, 1))]]),
]


def _gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def _seeded_dropout(x):
    # Seeded on each call, so every evaluation (finite differences too) draws the same mask.
    symgrad.manual_seed(7)
    return F.dropout(x, p=0.3)


def _torch_f(name, **kw):
    return lambda torch, x: getattr(torch.nn.functional, name)(x, **kw)


CASES = [
    *_along_dim("softmax", F.softmax, _softmax, "softmax", SOFTMAX_DIMS),
    *_along_dim("log_softmax", F.log_softmax, _log_softmax, "log_softmax", SOFTMAX_DIMS),
    OpCase(
        "softmax_method",
        lambda x: x.softmax(-1),
        lambda x: _softmax(x, -1),
        [[Arg((3, 4))]],
        torch_fn=lambda torch, x: x.softmax(-1),
    ),
    OpCase(
        "log_softmax_method",
        lambda x: x.log_softmax(0),
        lambda x: _log_softmax(x, 0),
        [[Arg((3, 4))]],
        torch_fn=lambda torch, x: x.log_softmax(0),
    ),
    _pointwise("gelu", F.gelu, _gelu, _torch_f("gelu"), [[Arg((3, 4), -4, 4)], [Arg(())]]),
    _pointwise(
        "gelu_tanh",
        lambda x: F.gelu(x, approximate="tanh"),
        _gelu_tanh,
        _torch_f("gelu", approximate="tanh"),
        [[Arg((3, 4), -4, 4)], [Arg(())]],
    ),
    _pointwise("silu", F.silu, lambda x: x / (1 + np.exp(-x)), _torch_f("silu")),
    _pointwise(
        "softplus",
        F.softplus,
        _softplus,
        _torch_f("softplus"),
        [[Arg((3, 4), -30, 30)], [Arg((2, 1, 5))], [Arg(())]],
    ),
    _pointwise(
        "softplus_beta",
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda x: _softplus(x, 2.0, 3.0),
        _torch_f("softplus", beta=2.0, threshold=3.0),
        # beta * x crosses the threshold, where softplus turns into the identity
        [[Arg((3, 4), -3, 3)], [Arg((2, 1, 5), -3, 3)]],
    ),
    _pointwise("elu", F.elu, lambda x: np.where(x > 0, x, np.expm1(x)), _torch_f("elu")),
    _pointwise(
        "elu_alpha",
        lambda x: F.elu(x, alpha=0.5),
        lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)),
        _torch_f("elu", alpha=0.5),
    ),
    _pointwise(
        "leaky_relu",
        F.leaky_relu,
        lambda x: np.where(x > 0, x, 0.01 * x),
        _torch_f("leaky_relu"),
    ),
    _pointwise(
        "leaky_relu_slope",
        lambda x: F.leaky_relu(x, 0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
        _torch_f("leaky_relu", negative_slope=0.2),
    ),
    _pointwise(
        "logsigmoid",
        F.logsigmoid,
        lambda x: -np.logaddexp(0, -x),
        _torch_f("logsigmoid"),
        [[Arg((3, 4), -30, 30)], [Arg((2, 1, 5))], [Arg(())]],
    ),
    _pointwise(
        "hardtanh",
        F.hardtanh,
        lambda x: np.clip(x, -1, 1),
        _torch_f("hardtanh"),
    ),
    _pointwise(
        "hardtanh_bounds",
        lambda x: F.hardtanh(x, -0.5, 1.5),
        lambda x: np.clip(x, -0.5, 1.5),
        _torch_f("hardtanh", min_val=-0.5, max_val=1.5),
    ),
    _pointwise(
        "relu6",
        F.relu6,
        lambda x: np.clip(x, 0, 6),
        _torch_f("relu6"),
        [[Arg((3, 4), -2, 8)], [Arg((2, 1, 5), -2, 8)], [Arg((), -2, 8)]],
    ),
    _pointwise(
        "mish",
        F.mish,
        lambda x: x * np.tanh(np.logaddexp(0, x)),
        _torch_f("mish"),
        [[Arg((3, 4), -5, 5)], [Arg((2, 1, 5))], [Arg(())]],
    ),
    _pointwise("functional_relu", F.relu, lambda x: np.maximum(x, 0), _torch_f("relu")),
    OpCase(
        "normalize",
        F.normalize,
        lambda x: _normalize(x, 2, 1),
        [[Arg((3, 4))], [Arg((2, 3, 4))], [Arg((3, 1))]],
        torch_fn=_torch_f("normalize"),
    ),
    OpCase(
        "normalize_p1_last",
        lambda x: F.normalize(x, p=1.0, dim=-1),
        lambda x: _normalize(x, 1, -1),
        [[Arg((3, 4), positive_gap=0.1)], [Arg((2, 1, 5), positive_gap=0.1)]],
        torch_fn=_torch_f("normalize", p=1.0, dim=-1),
    ),
    OpCase(
        "normalize_p3_d0",
        lambda x: F.normalize(x, p=3.0, dim=0),
        lambda x: _normalize(x, 3, 0),
        [[Arg((3, 4), positive_gap=0.1)], [Arg((4,), positive_gap=0.1)]],
        torch_fn=_torch_f("normalize", p=3.0, dim=0),
    ),
    OpCase(
        "layer_norm",
        lambda x: F.layer_norm(x, (x.shape[-1],)),
        lambda x: _layer_norm(x, 1),
        [[Arg((3, 4))], [Arg((2, 3, 5))], [Arg((4,))]],
        torch_fn=lambda torch, x: torch.nn.functional.layer_norm(x, (x.shape[-1],)),
    ),
    OpCase(
        "layer_norm_affine",
        lambda x, w, b: F.layer_norm(x, tuple(w.shape), w, b),
        lambda x, w, b: _layer_norm(x, w.ndim, w, b),
        [
            [Arg((3, 4)), Arg((4,)), Arg((4,))],
            [Arg((2, 3, 4)), Arg((3, 4)), Arg((3, 4))],
            [Arg((2, 1, 3)), Arg((1, 3)), Arg((1, 3))],
        ],
        torch_fn=lambda torch, x, w, b: torch.nn.functional.layer_norm(x, tuple(w.shape), w, b),
    ),
    OpCase(
        "layer_norm_weight_only",
        lambda x, w: F.layer_norm(x, (4,), w, eps=1e-3),
        lambda x, w: _layer_norm(x, 1, w, eps=1e-3),
        [[Arg((3, 4)), Arg((4,))]],
        torch_fn=lambda torch, x, w: torch.nn.functional.layer_norm(x, (4,), w, eps=1e-3),
    ),
    OpCase(
        "layer_norm_bias_only",
        lambda x, b: F.layer_norm(x, (4,), None, b),
        lambda x, b: _layer_norm(x, 1, None, b),
        [[Arg((3, 4)), Arg((4,))]],
        torch_fn=lambda torch, x, b: torch.nn.functional.layer_norm(x, (4,), None, b),
    ),
    OpCase(
        "linear",
        F.linear,
        lambda x, w, b: x @ w.T + b,
        [
            [Arg((3, 4)), Arg((5, 4)), Arg((5,))],
            [Arg((2, 3, 4)), Arg((5, 4)), Arg((5,))],
            [Arg((4,)), Arg((5, 4)), Arg((5,))],
            [Arg((3, 4)), Arg((1, 4)), Arg((1,))],
        ],
        torch_fn=lambda torch, x, w, b: torch.nn.functional.linear(x, w, b),
    ),
    OpCase(
        "linear_no_bias",
        F.linear,
        lambda x, w: x @ w.T,
        [[Arg((3, 4)), Arg((5, 4))], [Arg((2, 3, 4)), Arg((4,))]],
        torch_fn=lambda torch, x, w: torch.nn.functional.linear(x, w),
    ),
    OpCase(
        "dropout",
        _seeded_dropout,
        lambda x: x * (np.random.default_rng(7).random(x.shape) >= 0.3) / 0.7,
        [[Arg((3, 4))], [Arg((2, 1, 5))], [Arg(())]],
    ),
    OpCase(
        "dropout_eval",
        lambda x: F.dropout(x, p=0.3, training=False),
        lambda x: x,
        [[Arg((3, 4))]],
        torch_fn=lambda torch, x: torch.nn.functional.dropout(x, p=0.3, training=False),
    ),
    OpCase(
        "one_hot",
        lambda x: F.one_hot(x, 5),
        lambda x: np.eye(5, dtype=np.int64)[x],
        [
            [Arg((3, 4), 0, 5, kind="int")],
            [Arg((6,), 0, 5, kind="int")],
            [Arg((), 0, 5, kind="int")],
        ],
        torch_fn=lambda torch, x: torch.nn.functional.one_hot(x, 5),
        grad=False,
    ),
]
