"""Op-table cases for symgrad/ops/reduce.py.

``check_grads`` turns every argument into a tensor, so static arguments (dims, keepdim, orders)
are bound into each case's functions: ``_configured`` makes one case per configuration, named
``<op>_<label>``, each run on several shapes (with size-1 dims and 0-d tensors).
"""

import math

import numpy as np
from op_table import Arg, OpCase

import symgrad
from symgrad.ops.reduce import vector_norm


def _axis(dim, ndim):
    """numpy's axis for torch's dim: an empty tuple means every dim in torch, and a 0-d tensor
    accepts dim 0."""
    return None if dim == () or ndim == 0 else dim


def _configured(name, fn, reference, torch_fn, configs, **kw):
    """One OpCase per ``(label, statics, shapes)``: ``fn(*tensors, *statics)``."""
    return [
        OpCase(
            f"{name}_{label}",
            lambda *xs, _s=statics: fn(*xs, *_s),
            lambda *xs, _s=statics: reference(*xs, *_s),
            [[shape if isinstance(shape, Arg) else Arg(shape)] for shape in shapes],
            torch_fn=lambda torch, *xs, _s=statics: torch_fn(torch, *xs, *_s),
            **kw,
        )
        for label, statics, shapes in configs
    ]


def _dim_keepdim(name, reference, configs, **kw):
    """``symgrad.<name>(x, dim, keepdim)`` against ``reference(x, axis=, keepdims=)``."""
    return _configured(
        name,
        lambda x, d, k: getattr(symgrad, name)(x, d, k),
        lambda x, d, k: reference(x, axis=_axis(d, x.ndim), keepdims=k),
        lambda torch, x, d, k: getattr(torch, name)(x, d, k),
        configs,
        **kw,
    )


FULL = [(3, 4), (2, 1, 5), (), (1,)]
DIMS = [
    ("d1", (1, False), [(3, 4), (2, 1, 5), (1, 4)]),
    ("dlast_keepdim", (-1, True), [(3, 4), (2, 1, 5), (4,)]),
    ("dtuple_keepdim", ((0, 2), True), [(2, 1, 5), (2, 3, 4)]),
    ("dtuple_negative", ((-1, 0), False), [(2, 3, 4), (3, 4)]),
    ("dempty", ((), False), [(4,), (2, 3)]),
    ("scalar", (0, True), [()]),
]
ONE_DIM = [
    ("d1", (1, False), [(3, 4), (2, 1, 5)]),
    ("dlast_keepdim", (-1, True), [(3, 4), (2, 1, 5), (5,)]),
    ("d0", (0, False), [(5,), (1, 3), ()]),
]


# ----------------------------------------------------------------------------- references


def _with_indices(numpy_value, numpy_index):
    def reference(x, d, k):
        if x.ndim == 0:
            return x, np.zeros((), np.int64)
        return numpy_value(x, axis=d, keepdims=k), numpy_index(x, axis=d, keepdims=k)

    return reference


def _cumulative(numpy_function):
    def reference(x, d):
        return x.copy() if x.ndim == 0 else numpy_function(x, axis=d)

    return reference


def _arg(numpy_function):
    def reference(x, d, k):
        return np.zeros((), np.int64) if x.ndim == 0 else numpy_function(x, axis=d, keepdims=k)

    return reference


def _var(x, dim, correction, keepdim, root=False):
    out = np.var(x, axis=_axis(dim, x.ndim), ddof=correction, keepdims=keepdim)
    return np.sqrt(out) if root else out


def _vector_norm(x, p, dim=None, keepdim=False):
    magnitude = np.abs(x)
    if p == math.inf:
        return np.max(magnitude, axis=dim, keepdims=keepdim)
    if p == -math.inf:
        return np.min(magnitude, axis=dim, keepdims=keepdim)
    if p == 0:
        return np.sum(magnitude != 0, axis=dim, keepdims=keepdim).astype(x.dtype)
    return np.sum(magnitude**p, axis=dim, keepdims=keepdim) ** (1 / p)


def _logsumexp(x, axis, keepdims):
    peak = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis)


# ---------------------------------------------------------------------------------- norms

NORM_DIMS = [
    ("all", (None, False), [(3, 4), (2, 1, 5)]),
    ("d1_keepdim", (1, True), [(3, 4), (2, 1, 5)]),
    ("dtuple", ((0, -1), False), [(2, 1, 5), (3, 4)]),
]


def _away_from_zero(configs):
    """For orders whose gradient is not smooth at 0 (|x|^p with p < 2, sign(x))."""
    return [
        (label, statics, [Arg(shape, positive_gap=0.3) for shape in shapes])
        for label, statics, shapes in configs
    ]


def _norm(label, p, configs, **kw):
    return _configured(
        f"norm_p{label}",
        lambda x, d, k: symgrad.norm(x, p, d, k),
        lambda x, d, k: _vector_norm(x, 2 if p == "fro" else p, d, k),
        lambda torch, x, d, k: torch.norm(x, p, d, k),
        configs,
        **kw,
    )


def _vector_norm_cases():
    orders = [
        ("2", 2, NORM_DIMS),
        ("2_5", 2.5, NORM_DIMS[1:]),
        ("1", 1, _away_from_zero(NORM_DIMS[:2])),
        ("inf", math.inf, NORM_DIMS[2:]),
    ]
    return [
        case
        for label, order, configs in orders
        for case in _configured(
            f"vector_norm_ord{label}",
            lambda x, d, k, _o=order: vector_norm(x, _o, d, k),
            lambda x, d, k, _o=order: _vector_norm(x, _o, d, k),
            lambda torch, x, d, k, _o=order: torch.linalg.vector_norm(x, _o, d, k),
            configs,
        )
    ]


# ---------------------------------------------------------------------------------- cases

VAR_CONFIGS = [
    ("all", (None, 1, False), [(3, 4), (2, 1, 5)]),
    ("d1_c0_keepdim", (1, 0, True), [(3, 4), (2, 1, 5)]),
    ("dtuple_c2", ((0, 2), 2, False), [(2, 1, 5), (2, 3, 4)]),
    ("dlast_c0_5", (-1, 0.5, True), [(2, 1, 5), (4,)]),
]
TRUTH_VALUES = [
    Arg((3, 4), 0, 2, kind="int"),
    Arg((2, 1, 5), 0, 2, kind="int"),
    Arg((4, 6), kind="bool"),
    Arg((), 0, 2, kind="int"),
]
TRUTH_DIMS = [
    ("all", (None, False), TRUTH_VALUES),
    ("d1_keepdim", (1, True), TRUTH_VALUES[:3]),
    ("dtuple", ((0, -1), False), TRUTH_VALUES[:3]),
]

CASES = [
    # sum, mean
    OpCase(
        "sum_all", symgrad.sum, np.sum, [[Arg(s)] for s in FULL], torch_fn=lambda t, x: t.sum(x)
    ),
    *_dim_keepdim("sum", np.sum, DIMS),
    OpCase(
        "sum_dtype",
        lambda x: symgrad.sum(x, (0, -1), dtype=symgrad.float64),
        lambda x: np.sum(x, axis=(0, -1), dtype=np.float64),
        [[Arg((3, 4))], [Arg((2, 1, 5))]],
        torch_fn=lambda torch, x: torch.sum(x, (0, -1), dtype=torch.float64),
    ),
    OpCase(
        "mean_all", symgrad.mean, np.mean, [[Arg(s)] for s in FULL], torch_fn=lambda t, x: t.mean(x)
    ),
    *_dim_keepdim("mean", np.mean, DIMS),
    OpCase(
        "mean_dtype",
        lambda x: symgrad.mean(x, 1, keepdim=True, dtype=symgrad.float64),
        lambda x: np.mean(x, axis=1, keepdims=True, dtype=np.float64),
        [[Arg((3, 4))], [Arg((2, 1, 5))]],
        torch_fn=lambda torch, x: torch.mean(x, 1, keepdim=True, dtype=torch.float64),
    ),
    # prod, cumsum, cumprod
    OpCase(
        "prod_all", symgrad.prod, np.prod, [[Arg(s)] for s in FULL], torch_fn=lambda t, x: t.prod(x)
    ),
    *_dim_keepdim("prod", np.prod, ONE_DIM),
    *_configured(
        "cumsum",
        symgrad.cumsum,
        _cumulative(np.cumsum),
        lambda torch, x, d: torch.cumsum(x, d),
        [
            ("d1", (1,), [(3, 4), (2, 1, 5)]),
            ("dlast", (-1,), [(3, 4), (2, 1, 5), (1,), (5,)]),
            ("scalar", (0,), [()]),
        ],
    ),
    *_configured(
        "cumprod",
        symgrad.cumprod,
        _cumulative(np.cumprod),
        lambda torch, x, d: torch.cumprod(x, d),
        [
            ("d1", (1,), [(3, 4), (2, 1, 5)]),
            ("dfirst", (0,), [(3, 4), (5,), (1,)]),
            ("dlast", (-1,), [(2, 1, 5)]),
            ("scalar", (0,), [()]),
        ],
    ),
    # max, min and friends
    OpCase(
        "max_all", symgrad.max, np.max, [[Arg(s)] for s in FULL], torch_fn=lambda t, x: t.max(x)
    ),
    OpCase(
        "min_all", symgrad.min, np.min, [[Arg(s)] for s in FULL], torch_fn=lambda t, x: t.min(x)
    ),
    *_configured(
        "max",
        lambda x, d, k: symgrad.max(x, d, k),
        _with_indices(np.max, np.argmax),
        lambda torch, x, d, k: torch.max(x, d, k),
        ONE_DIM,
    ),
    *_configured(
        "min",
        lambda x, d, k: x.min(dim=d, keepdim=k),
        _with_indices(np.min, np.argmin),
        lambda torch, x, d, k: x.min(dim=d, keepdim=k),
        ONE_DIM,
    ),
    *_dim_keepdim("amax", np.max, DIMS),
    *_dim_keepdim("amin", np.min, DIMS),
    OpCase(
        "argmax_all",
        symgrad.argmax,
        np.argmax,
        [[Arg(s)] for s in FULL],
        torch_fn=lambda t, x: t.argmax(x),
        grad=False,
    ),
    *_configured(
        "argmax",
        lambda x, d, k: symgrad.argmax(x, d, k),
        _arg(np.argmax),
        lambda torch, x, d, k: torch.argmax(x, d, k),
        ONE_DIM,
        grad=False,
    ),
    *_configured(
        "argmin",
        lambda x, d, k: x.argmin(d, k),
        _arg(np.argmin),
        lambda torch, x, d, k: x.argmin(d, k),
        ONE_DIM,
        grad=False,
    ),
    # var, std
    *_configured(
        "var",
        lambda x, d, c, k: symgrad.var(x, d, correction=c, keepdim=k),
        _var,
        lambda torch, x, d, c, k: torch.var(x, d, correction=c, keepdim=k),
        VAR_CONFIGS,
    ),
    *_configured(
        "std",
        lambda x, d, c, k: x.std(d, correction=c, keepdim=k),
        lambda x, d, c, k: _var(x, d, c, k, root=True),
        lambda torch, x, d, c, k: x.std(d, correction=c, keepdim=k),
        VAR_CONFIGS,
    ),
    *_configured(
        "var_legacy",
        lambda x, *legacy: symgrad.var(x, *legacy),
        lambda x, *legacy: np.var(x, ddof=int(legacy[-1])),
        lambda torch, x, *legacy: torch.var(x, *legacy),
        [("unbiased", (True,), [(3, 4)]), ("biased", (False,), [(2, 1, 5)])],
    ),
    *_configured(
        "std_legacy",
        lambda x, d, u, k: symgrad.std(x, d, u, k),
        lambda x, d, u, k: np.std(x, axis=d, ddof=int(u), keepdims=k),
        lambda torch, x, d, u, k: torch.std(x, d, u, k),
        [("d0_biased", (0, False, True), [(3, 4)]), ("d2", (2, True, False), [(2, 1, 5)])],
    ),
    # norms
    *_norm("2", 2, NORM_DIMS),
    *_norm("fro", "fro", NORM_DIMS),
    *_norm("1", 1, _away_from_zero(NORM_DIMS)),
    *_norm("3", 3, NORM_DIMS),
    *_norm("1_5", 1.5, _away_from_zero(NORM_DIMS)),
    *_norm("0_5", 0.5, _away_from_zero(NORM_DIMS)),
    *_norm("minus1", -1, _away_from_zero(NORM_DIMS)),
    *_norm("inf", math.inf, NORM_DIMS),
    *_norm("minus_inf", -math.inf, NORM_DIMS),
    # ord 0 counts nonzeros: it has a grad_fn but no gradient (None, as in torch), which
    # test_reduce.py checks; the table compares values only.
    *_norm("0", 0, NORM_DIMS, grad=False),
    *_vector_norm_cases(),
    # logsumexp
    *_dim_keepdim(
        "logsumexp",
        _logsumexp,
        [
            ("d1", (1, False), [Arg((3, 4), -20.0, 20.0), Arg((2, 1, 5))]),
            ("dlast_keepdim", (-1, True), [Arg((3, 4)), Arg((2, 1, 5), -20.0, 20.0)]),
            ("dtuple", ((0, 2), False), [Arg((2, 1, 5)), Arg((2, 3, 4), -20.0, 20.0)]),
            ("scalar", (0, False), [Arg(())]),
        ],
    ),
    # truth values and counts (no gradients)
    *_dim_keepdim("all", np.all, TRUTH_DIMS, grad=False),
    *_dim_keepdim("any", np.any, TRUTH_DIMS, grad=False),
    *_configured(
        "count_nonzero",
        symgrad.count_nonzero,
        lambda x, d: np.count_nonzero(x, axis=d),
        lambda torch, x, d: torch.count_nonzero(x, d),
        [
            ("all", (None,), TRUTH_VALUES),
            ("d1", (1,), TRUTH_VALUES[:3]),
            ("dtuple", ((0, -1),), TRUTH_VALUES[:3]),
        ],
        grad=False,
    ),
]
