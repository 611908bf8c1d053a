"""Op-table cases for the sampling ops of ``symgrad/ops/random.py``, given their noise as an
input so that they are deterministic: ``normal`` is ``mean + std * noise`` and ``bernoulli``
is ``uniform < p``. Their parameters get zero gradients, as in torch (they are not
reparameterized), so there is no finite-difference case; their draws are tested by moments in
``tests/test_generators.py`` and compiled against eager in ``tests/compiler/test_random.py``."""

from __future__ import annotations

from op_table import Arg, OpCase

from symgrad.ops.random import BERNOULLI, NORMAL
from symgrad.ops.registry import apply

CASES = [
    OpCase(
        "normal",
        lambda mean, std, noise: apply(NORMAL, mean, std, noise),
        lambda mean, std, noise: mean + std * noise,
        [
            [Arg((2, 3)), Arg((3,), 0.1, 2.0), Arg((2, 3))],
            [Arg(()), Arg((), 0.1, 2.0), Arg((4,))],
        ],
        grad=False,
    ),
    OpCase(
        "bernoulli",
        lambda p, uniform: apply(BERNOULLI, p, uniform),
        lambda p, uniform: (uniform < p).astype(p.dtype),
        [
            [Arg((2, 3), 0.05, 0.95), Arg((2, 3), 0.0, 1.0)],
            [Arg((3,), 0.05, 0.95), Arg((3,), 0.0, 1.0)],
        ],
        grad=False,
    ),
]
