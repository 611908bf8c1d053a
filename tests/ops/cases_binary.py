"""Op-table cases for symgrad/ops/binary.py."""

import numpy as np
from op_table import Arg, OpCase

import symgrad

PAIR_SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (3,))]
TRIPLE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (4,)), ((), (2, 3), (3,))]


def _pairs(low=-2.0, high=2.0, gap=0.0, other_low=None, other_high=None):
    other_low = low if other_low is None else other_low
    other_high = high if other_high is None else other_high
    return [
        [Arg(a, low, high), Arg(b, other_low, other_high, positive_gap=gap)] for a, b in PAIR_SHAPES
    ]


def _binary(name, reference, variants=None, **kw):
    return OpCase(
        f"binary_{name}",
        getattr(symgrad, name),
        reference,
        _pairs() if variants is None else variants,
        torch_fn=lambda torch, x, y, _n=name: getattr(torch, _n)(x, y),
        **kw,
    )


def _lerp_reference(x, end, weight):
    return x + weight * (end - x)


def _integers(low, high):
    return [[Arg((3, 4), low, high, kind="int"), Arg((4,), low, high, kind="int")]]


CASES = [
    # ------------------------------------------------ rounding division and remainders
    _binary(
        "floor_divide",
        np.floor_divide,
        _pairs(-5.0, 5.0, gap=0.3, other_low=-2.0, other_high=2.0),
        grad=False,  # torch defines no derivative (its backward raises; tested separately)
    ),
    OpCase(
        "isclose",
        lambda x, y: symgrad.isclose(x, x + y * 1e-5, rtol=1e-5, atol=1e-6),
        lambda x, y: np.isclose(x, x + y * 1e-5, rtol=1e-5, atol=1e-6),
        _pairs(),
        torch_fn=lambda torch, x, y: torch.isclose(x, x + y * 1e-5, rtol=1e-5, atol=1e-6),
        grad=False,
    ),
    OpCase(
        "binary_floor_divide_int",
        symgrad.floor_divide,
        np.floor_divide,
        [[Arg((3, 4), -20, 20, kind="int"), Arg((4,), 1, 6, kind="int")]],
        torch_fn=lambda torch, x, y: torch.floor_divide(x, y),
        grad=False,
    ),
    _binary("remainder", np.remainder, _pairs(-5.0, 5.0, gap=0.3, other_low=-2.0, other_high=2.0)),
    OpCase(
        "binary_remainder_scalar",
        lambda x: symgrad.remainder(x, 0.7),
        lambda x: np.remainder(x, 0.7),
        [[Arg((3, 4), -5.0, 5.0)], [Arg((), -5.0, 5.0)]],
        torch_fn=lambda torch, x: torch.remainder(x, 0.7),
    ),
    OpCase(
        "binary_mod_operator",
        lambda x, y: x % y,
        np.remainder,
        _pairs(-5.0, 5.0, gap=0.3, other_low=-2.0, other_high=2.0)[:2],
        torch_fn=lambda torch, x, y: x % y,
    ),
    _binary("fmod", np.fmod, _pairs(-5.0, 5.0, gap=0.3, other_low=-2.0, other_high=2.0)),
    OpCase(
        "binary_fmod_scalar",
        lambda x: symgrad.fmod(x, -0.7),
        lambda x: np.fmod(x, -0.7),
        [[Arg((3, 4), -5.0, 5.0)]],
        torch_fn=lambda torch, x: torch.fmod(x, -0.7),
    ),
    OpCase(
        "binary_remainder_int",
        symgrad.remainder,
        np.remainder,
        [[Arg((3, 4), -20, 20, kind="int"), Arg((4,), -6, -1, kind="int")]],
        torch_fn=lambda torch, x, y: torch.remainder(x, y),
        grad=False,
    ),
    OpCase(
        "binary_fmod_int",
        symgrad.fmod,
        np.fmod,
        [[Arg((3, 4), -20, 20, kind="int"), Arg((4,), -6, -1, kind="int")]],
        torch_fn=lambda torch, x, y: torch.fmod(x, y),
        grad=False,
    ),
    # ---------------------------------------------------------------- maximum and minimum
    _binary("maximum", np.maximum),
    _binary("minimum", np.minimum),
    _binary("fmax", np.fmax),
    _binary("fmin", np.fmin),
    OpCase(
        "binary_fmax_nan",  # log of a negative is NaN: fmax returns the other input
        lambda x, y: symgrad.fmax(symgrad.log(x), y),
        lambda x, y: np.fmax(np.log(x), y),
        [[Arg((3, 4), -1.0, 2.0, positive_gap=0.1), Arg((4,))]],
        torch_fn=lambda torch, x, y: torch.fmax(torch.log(x), y),
    ),
    OpCase(
        "binary_fmin_nan",
        lambda x, y: symgrad.fmin(x, symgrad.log(y)),
        lambda x, y: np.fmin(x, np.log(y)),
        [[Arg((3, 4)), Arg((3, 4), -1.0, 2.0, positive_gap=0.1)]],
        torch_fn=lambda torch, x, y: torch.fmin(x, torch.log(y)),
    ),
    # ---------------------------------------------------------------- atan2, hypot, ...
    _binary("atan2", np.arctan2, _pairs(gap=0.2)),
    _binary("hypot", np.hypot, _pairs(gap=0.2)),
    _binary("logaddexp", np.logaddexp, _pairs(-5.0, 5.0)),
    _binary("copysign", np.copysign, _pairs(gap=0.2)),
    OpCase(
        "binary_copysign_scalar",
        lambda x: symgrad.copysign(x, -1.0),
        lambda x: np.copysign(x, -1.0),
        [[Arg((3, 4), positive_gap=0.1)], [Arg((), positive_gap=0.1)]],
        torch_fn=lambda torch, x: torch.copysign(x, -1.0),
    ),
    # ------------------------------------------------------------------------------ lerp
    OpCase(
        "binary_lerp_scalar",
        lambda x, end: symgrad.lerp(x, end, 0.3),
        lambda x, end: _lerp_reference(x, end, 0.3),
        _pairs(),
        torch_fn=lambda torch, x, end: torch.lerp(x, end, 0.3),
    ),
    OpCase(
        "binary_lerp_scalar_high",  # weight >= 0.5 takes torch's other formula
        lambda x, end: symgrad.lerp(x, end, 0.8),
        lambda x, end: _lerp_reference(x, end, 0.8),
        _pairs()[:2],
        torch_fn=lambda torch, x, end: torch.lerp(x, end, 0.8),
    ),
    OpCase(
        "binary_lerp_tensor",
        symgrad.lerp,
        _lerp_reference,
        [[Arg(a), Arg(b), Arg(c, -0.5, 1.5)] for a, b, c in TRIPLE_SHAPES],
        torch_fn=lambda torch, x, end, weight: torch.lerp(x, end, weight),
    ),
    # ------------------------------------------------------------------ addcmul, addcdiv
    OpCase(
        "binary_addcmul",
        lambda x, a, b: symgrad.addcmul(x, a, b, value=0.5),
        lambda x, a, b: x + 0.5 * a * b,
        [[Arg(a), Arg(b), Arg(c)] for a, b, c in TRIPLE_SHAPES],
        torch_fn=lambda torch, x, a, b: torch.addcmul(x, a, b, value=0.5),
    ),
    OpCase(
        "binary_addcmul_default",
        symgrad.addcmul,
        lambda x, a, b: x + a * b,
        [[Arg((3, 4)), Arg((3, 4)), Arg((4,))]],
        torch_fn=lambda torch, x, a, b: torch.addcmul(x, a, b),
    ),
    OpCase(
        "binary_addcdiv",
        lambda x, a, b: symgrad.addcdiv(x, a, b, value=-2.0),
        lambda x, a, b: x - 2.0 * a / b,
        [[Arg(a), Arg(b), Arg(c, positive_gap=0.3)] for a, b, c in TRIPLE_SHAPES],
        torch_fn=lambda torch, x, a, b: torch.addcdiv(x, a, b, value=-2.0),
    ),
    # ---------------------------------------------------------------------- bitwise ops
    *[
        OpCase(
            f"binary_{name}",
            getattr(symgrad, name),
            reference,
            _integers(-8, 8) + [[Arg((3, 4), kind="bool"), Arg((4,), kind="bool")]],
            torch_fn=lambda torch, x, y, _n=name: getattr(torch, _n)(x, y),
            grad=False,
        )
        for name, reference in [
            ("bitwise_and", np.bitwise_and),
            ("bitwise_or", np.bitwise_or),
            ("bitwise_xor", np.bitwise_xor),
        ]
    ],
    OpCase(
        "binary_invert_operator",
        lambda x: ~x,
        np.invert,
        [[Arg((3, 4), -8, 8, kind="int")], [Arg((3, 4), kind="bool")]],
        torch_fn=lambda torch, x: ~x,
        grad=False,
    ),
]
