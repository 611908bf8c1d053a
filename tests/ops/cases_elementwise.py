"""Op-table cases for symgrad/ops/elementwise.py."""

import numpy as np
from op_table import Arg, OpCase

import symgrad

BROADCAST = [[Arg((3, 4))], [Arg((2, 1, 5))], [Arg(())]]
PAIRS = [
    [Arg((3, 4)), Arg((3, 4))],
    [Arg((3, 1)), Arg((1, 4))],
    [Arg((2, 3, 4)), Arg((4,))],
    [Arg(()), Arg((3,))],
]


def _unary(name, reference, low=-2.0, high=2.0, gap=0.0, **kw):
    variants = [[Arg(a.shape, low, high, positive_gap=gap)] for [a] in BROADCAST]
    return OpCase(
        name,
        getattr(symgrad, name),
        reference,
        variants,
        torch_fn=lambda torch, x, _n=name: getattr(torch, _n)(x),
        **kw,
    )


def _binary(name, reference, low=-2.0, high=2.0, gap=0.0, **kw):
    variants = [
        [Arg(a.shape, low, high), Arg(b.shape, low, high, positive_gap=gap)] for a, b in PAIRS
    ]
    return OpCase(
        name,
        getattr(symgrad, name),
        reference,
        variants,
        torch_fn=lambda torch, x, y, _n=name: getattr(torch, _n)(x, y),
        **kw,
    )


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


_erf = np.vectorize(__import__("math").erf, otypes=[float])
_erfc = np.vectorize(__import__("math").erfc, otypes=[float])


def _bounds(x_shape, min_shape, max_shape):
    """x with a lower bound below and an upper bound above 0 (some elements clamp)."""
    return [Arg(x_shape), Arg(min_shape, -1.5, -0.2), Arg(max_shape, 0.2, 1.5)]


CASES = [
    # ------------------------------------------------------------ exponentials, logarithms
    _unary("exp", np.exp),
    _unary("exp2", np.exp2),
    _unary("expm1", np.expm1),
    _unary("log", np.log, 0.1, 3.0),
    _unary("log2", np.log2, 0.1, 3.0),
    _unary("log10", np.log10, 0.1, 3.0),
    _unary("log1p", np.log1p, -0.9, 3.0),
    _unary("sqrt", np.sqrt, 0.1, 3.0),
    _unary("rsqrt", lambda x: 1 / np.sqrt(x), 0.1, 3.0),
    _unary("square", np.square),
    _unary("reciprocal", np.reciprocal, gap=0.3),
    # -------------------------------------------------------------- trigonometric, hyperbolic
    _unary("sin", np.sin),
    _unary("cos", np.cos),
    _unary("tan", np.tan, -1.2, 1.2),
    _unary("asin", np.arcsin, -0.9, 0.9),
    _unary("acos", np.arccos, -0.9, 0.9),
    _unary("atan", np.arctan, -3.0, 3.0),
    _unary("sinh", np.sinh),
    _unary("cosh", np.cosh),
    _unary("tanh", np.tanh),
    _unary("asinh", np.arcsinh, -3.0, 3.0),
    _unary("acosh", np.arccosh, 1.1, 3.0),
    _unary("atanh", np.arctanh, -0.9, 0.9),
    _unary("sigmoid", _sigmoid),
    _unary("erf", _erf),
    _unary("erfc", _erfc),
    # kinks at 0 are kept away from finite differences by the gap
    _unary("relu", lambda x: np.maximum(x, 0), gap=0.05),
    _unary("abs", np.abs, gap=0.05),
    _unary("neg", np.negative),
    # piecewise constant: zero gradients (finite differences never straddle a jump here)
    _unary("sign", np.sign, gap=0.05),
    _unary("floor", np.floor, -3.0, 3.0),
    _unary("ceil", np.ceil, -3.0, 3.0),
    _unary("round", np.round, -3.0, 3.0),
    _unary("trunc", np.trunc, -3.0, 3.0),
    _unary("frac", lambda x: x - np.trunc(x), -3.0, 3.0),
    OpCase(
        "round_decimals",
        lambda x: symgrad.round(x, decimals=1),
        lambda x: np.round(x, 1),
        [[Arg((3, 4), -30.0, 30.0)], [Arg((), -30.0, 30.0)]],
        torch_fn=lambda torch, x: torch.round(x, decimals=1),
    ),
    OpCase(
        "round_negative_decimals",
        lambda x: symgrad.round(x, decimals=-1),
        lambda x: np.round(x, -1),
        [[Arg((3, 4), -300.0, 300.0)]],
        torch_fn=lambda torch, x: torch.round(x, decimals=-1),
    ),
    # ----------------------------------------------------------------------------- clamp
    OpCase(
        "clamp_scalar",
        lambda x: symgrad.clamp(x, -0.5, 0.8),
        lambda x: np.clip(x, -0.5, 0.8),
        BROADCAST,
        torch_fn=lambda torch, x: torch.clamp(x, -0.5, 0.8),
    ),
    OpCase(
        "clamp_min_scalar",
        lambda x: symgrad.clamp(x, min=-0.5),
        lambda x: np.maximum(x, -0.5),
        BROADCAST,
        torch_fn=lambda torch, x: torch.clamp(x, min=-0.5),
    ),
    OpCase(
        "clip_max_scalar",
        lambda x: symgrad.clip(x, max=0.5),
        lambda x: np.minimum(x, 0.5),
        BROADCAST,
        torch_fn=lambda torch, x: torch.clip(x, max=0.5),
    ),
    OpCase(
        "clamp_tensor",
        symgrad.clamp,
        np.clip,
        [
            _bounds((3, 4), (3, 4), (3, 4)),
            _bounds((3, 4), (4,), (3, 1)),
            _bounds((2, 3), (3,), ()),
            # (torch's backward fails on a 0-d input with broadcast bounds: in-place logical_or_)
            _bounds((), (3,), (3,)),
        ],
        torch_fn=lambda torch, x, lo, hi: torch.clamp(x, lo, hi),
    ),
    OpCase(
        "clamp_tensor_inverted",  # min > max everywhere: the result is max
        symgrad.clamp,
        np.clip,
        [[Arg((3, 4)), Arg((3, 4), 0.5, 1.0), Arg((4,), -1.0, 0.4)]],
        torch_fn=lambda torch, x, lo, hi: torch.clamp(x, lo, hi),
    ),
    OpCase(
        "clamp_min_tensor",
        lambda x, lo: symgrad.clamp(x, min=lo),
        np.maximum,
        [[Arg((3, 4)), Arg((3, 4))], [Arg((2, 3)), Arg((3,))]],
        torch_fn=lambda torch, x, lo: torch.clamp(x, min=lo),
    ),
    OpCase(
        "clamp_min_function_scalar",
        lambda x: symgrad.clamp_min(x, -0.5),
        lambda x: np.maximum(x, -0.5),
        BROADCAST,
        torch_fn=lambda torch, x: torch.clamp_min(x, -0.5),
    ),
    OpCase(
        "clamp_max_method_tensor",
        lambda x, hi: x.clamp_max(hi),
        np.minimum,
        [[Arg((3, 4)), Arg((3, 4))], [Arg((2, 3)), Arg((3,))]],
        torch_fn=lambda torch, x, hi: x.clamp_max(hi),
    ),
    OpCase(
        "clamp_max_tensor",
        lambda x, hi: symgrad.clamp(x, max=hi),
        np.minimum,
        [[Arg((3, 4)), Arg((3, 4))], [Arg((3,)), Arg((2, 3))]],
        torch_fn=lambda torch, x, hi: torch.clamp(x, max=hi),
    ),
    # ----------------------------------------------------------------- non-finite values
    OpCase(
        "nan_to_num",  # log of negatives is NaN, log(0) never happens: NaN -> 0.5
        lambda x: symgrad.nan_to_num(symgrad.log(x), nan=0.5),
        lambda x: np.nan_to_num(np.log(x), nan=0.5),
        [[Arg((3, 4), -1.0, 2.0, positive_gap=0.05)], [Arg((), 0.2, 2.0)]],
        torch_fn=lambda torch, x: torch.nan_to_num(torch.log(x), nan=0.5),
    ),
    OpCase(
        "nan_to_num_inf",  # exp(400 x) overflows to inf for x > 1.8 (float64) -> posinf
        lambda x: symgrad.nan_to_num(symgrad.exp(x * 400), posinf=7.0),
        lambda x: np.nan_to_num(np.exp(x * 400), posinf=7.0),
        [[Arg((3, 4), -0.02, 2.0)]],
        torch_fn=lambda torch, x: torch.nan_to_num(torch.exp(x * 400), posinf=7.0),
        grad=False,  # exp(800) is a large finite value in neither dtype: nothing to check
    ),
    OpCase(
        "isnan",
        lambda x: symgrad.isnan(symgrad.log(x)),
        lambda x: np.isnan(np.log(x)),
        [[Arg((3, 4), -1.0, 1.0, positive_gap=0.05)]],
        torch_fn=lambda torch, x: torch.isnan(torch.log(x)),
        grad=False,
    ),
    OpCase(
        "isinf",
        lambda x: symgrad.isinf(symgrad.exp(x * 400)),
        lambda x: np.isinf(np.exp(x * 400)),
        [[Arg((3, 4), -2.0, 2.0)]],
        torch_fn=lambda torch, x: torch.isinf(torch.exp(x * 400)),
        grad=False,
    ),
    OpCase(
        "isfinite",
        lambda x: symgrad.isfinite(symgrad.log(x)),
        lambda x: np.isfinite(np.log(x)),
        [[Arg((3, 4), -1.0, 1.0, positive_gap=0.05)]],
        torch_fn=lambda torch, x: torch.isfinite(torch.log(x)),
        grad=False,
    ),
    OpCase(
        "logical_not",
        symgrad.logical_not,
        np.logical_not,
        [[Arg((3, 4), kind="bool")], [Arg((3, 4), -2, 3, kind="int")]],
        torch_fn=lambda torch, x: torch.logical_not(x),
        grad=False,
    ),
    # ------------------------------------------------------------------------ arithmetic
    _binary("add", np.add),
    _binary("sub", np.subtract),
    OpCase(
        # integers take dispatch's general path (floats its binary shortcut)
        "sub_int",
        symgrad.sub,
        np.subtract,
        [[Arg((3, 4), -5, 5, kind="int"), Arg((4,), -5, 5, kind="int")]],
        torch_fn=lambda torch, x, y: torch.sub(x, y),
        grad=False,
    ),
    _binary("mul", np.multiply),
    _binary("div", np.divide, gap=0.3),
    OpCase(
        "add_alpha",
        lambda x, y: symgrad.add(x, y, alpha=-2.5),
        lambda x, y: x - 2.5 * y,
        PAIRS,
        torch_fn=lambda torch, x, y: torch.add(x, y, alpha=-2.5),
    ),
    OpCase(
        "div_trunc",
        lambda x, y: symgrad.div(x, y, rounding_mode="trunc"),
        lambda x, y: np.trunc(x / y),
        [[Arg(a.shape, -5.0, 5.0), Arg(b.shape, positive_gap=0.3)] for a, b in PAIRS],
        torch_fn=lambda torch, x, y: torch.div(x, y, rounding_mode="trunc"),
    ),
    OpCase(
        "div_floor",
        lambda x, y: symgrad.div(x, y, rounding_mode="floor"),
        np.floor_divide,
        [[Arg(a.shape, -5.0, 5.0), Arg(b.shape, positive_gap=0.3)] for a, b in PAIRS],
        torch_fn=lambda torch, x, y: torch.div(x, y, rounding_mode="floor"),
    ),
    OpCase(
        "div_floor_scalar",
        lambda x: symgrad.div(x, -0.7, rounding_mode="floor"),
        lambda x: np.floor_divide(x, -0.7),
        [[Arg((3, 4), -5.0, 5.0)]],
        torch_fn=lambda torch, x: torch.div(x, -0.7, rounding_mode="floor"),
    ),
    OpCase(
        "div_trunc_int",
        lambda x, y: symgrad.div(x, y, rounding_mode="trunc"),
        lambda x, y: np.trunc(x / y),
        [[Arg((3, 4), -20, 20, kind="int"), Arg((4,), 1, 6, kind="int")]],
        torch_fn=lambda torch, x, y: torch.div(x, y, rounding_mode="trunc"),
        grad=False,
    ),
    OpCase("pow_scalar", lambda x: x**3, lambda x: x**3, BROADCAST, torch_fn=lambda torch, x: x**3),
    OpCase(
        "pow_scalar_fractional",
        lambda x: symgrad.pow(x, 1.5),
        lambda x: x**1.5,
        [[Arg((3, 4), 0.1, 2.0)], [Arg((), 0.1, 2.0)]],
        torch_fn=lambda torch, x: torch.pow(x, 1.5),
    ),
    OpCase(
        "pow_scalar_negative",
        lambda x: x**-2,
        lambda x: x**-2.0,
        [[Arg((3, 4), positive_gap=0.3)]],
        torch_fn=lambda torch, x: x**-2,
    ),
    OpCase(
        "pow_tensor",
        symgrad.pow,
        np.power,
        [[Arg((3, 4), 0.2, 2.0), Arg((3, 4))], [Arg((3, 1), 0.2, 2.0), Arg((4,))]],
        torch_fn=lambda torch, x, y: torch.pow(x, y),
    ),
    OpCase(
        "pow_scalar_base",
        lambda y: 2.5**y,
        lambda y: 2.5**y,
        BROADCAST,
        torch_fn=lambda torch, y: 2.5**y,
    ),
    OpCase(
        "rsub_scalar", lambda x: 2 - x, lambda x: 2 - x, BROADCAST, torch_fn=lambda torch, x: 2 - x
    ),
    OpCase(
        "rdiv_scalar",
        lambda x: 2 / x,
        lambda x: 2 / x,
        [[Arg((3, 4), positive_gap=0.3)]],
        torch_fn=lambda torch, x: 2 / x,
    ),
    # ------------------------------------------------------------- where and comparisons
    OpCase(
        "where",
        symgrad.where,
        np.where,
        [
            [Arg((3, 4), kind="bool"), Arg((3, 4)), Arg((3, 4))],
            [Arg((3, 1), kind="bool"), Arg((1, 4)), Arg((4,))],
            [Arg((1,), kind="bool"), Arg((2, 3)), Arg(())],  # (a 0-d bool is sampled as np.bool_)
        ],
        torch_fn=lambda torch, c, x, y: torch.where(c, x, y),
    ),
    OpCase(
        "where_scalar_branch",
        lambda c, x: symgrad.where(c, x, 0.5),
        lambda c, x: np.where(c, x, 0.5),
        [[Arg((3, 4), kind="bool"), Arg((3, 4))]],
        torch_fn=lambda torch, c, x: torch.where(c, x, 0.5),
    ),
    OpCase(
        "where_log_branch",  # the unselected log(x) is NaN for x < 0; its gradient is 0
        lambda x: symgrad.where(x > 0, symgrad.log(x), x),
        lambda x: np.where(x > 0, np.log(np.abs(x)), x),
        [[Arg((3, 4), positive_gap=0.1)]],
        torch_fn=lambda torch, x: torch.where(x > 0, torch.log(x), x),
    ),
    *[
        OpCase(
            name,
            getattr(symgrad, name),
            reference,
            [
                [Arg((3, 4), -2, 3, kind="int"), Arg((3, 4), -2, 3, kind="int")],
                [Arg((3, 1)), Arg((4,))],
                [Arg(()), Arg((3,))],
            ],
            torch_fn=lambda torch, x, y, _n=name: getattr(torch, _n)(x, y),
            grad=False,
        )
        for name, reference in [
            ("eq", np.equal),
            ("ne", np.not_equal),
            ("lt", np.less),
            ("le", np.less_equal),
            ("gt", np.greater),
            ("ge", np.greater_equal),
        ]
    ],
    OpCase(
        "lt_scalar",
        lambda x: x < 0.5,
        lambda x: x < 0.5,
        BROADCAST,
        torch_fn=lambda torch, x: x < 0.5,
        grad=False,
    ),
    *[
        OpCase(
            name,
            getattr(symgrad, name),
            reference,
            [
                [Arg((3, 4), kind="bool"), Arg((3, 4), kind="bool")],
                [Arg((3, 1), kind="bool"), Arg((4,), -1, 2, kind="int")],
                [Arg((2, 3), -1.0, 1.0), Arg((3,), kind="bool")],
            ],
            torch_fn=lambda torch, x, y, _n=name: getattr(torch, _n)(x, y),
            grad=False,
        )
        for name, reference in [
            ("logical_and", np.logical_and),
            ("logical_or", np.logical_or),
            ("logical_xor", np.logical_xor),
        ]
    ],
]
