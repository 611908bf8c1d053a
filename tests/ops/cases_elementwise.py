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


CASES = [
    _unary("exp", np.exp),
    _unary("log", np.log, 0.1, 3.0),
    _unary("sqrt", np.sqrt, 0.1, 3.0),
    _unary("tanh", np.tanh),
    _unary("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    _unary("sin", np.sin),
    _unary("neg", np.negative),
    _binary("add", np.add),
    _binary("sub", np.subtract),
    _binary("mul", np.multiply),
    _binary("div", np.divide, gap=0.3),
    OpCase("pow_scalar", lambda x: x**3, lambda x: x**3, BROADCAST, torch_fn=lambda torch, x: x**3),
    OpCase(
        "pow_tensor",
        symgrad.pow,
        np.power,
        [[Arg((3, 4), 0.2, 2.0), Arg((3, 4))], [Arg((3, 1), 0.2, 2.0), Arg((4,))]],
        torch_fn=lambda torch, x, y: torch.pow(x, y),
    ),
    OpCase(
        "rsub_scalar", lambda x: 2 - x, lambda x: 2 - x, BROADCAST, torch_fn=lambda torch, x: 2 - x
    ),
]
