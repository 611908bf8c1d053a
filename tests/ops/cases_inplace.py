"""Op-table cases for symgrad/ops/inplace.py and clone: in-place writes on a clone (so the
inputs stay untouched), the way compiled code meets them. A write through a view (CopySlices)
is eager-only: compile refuses it while tracing."""

import numpy as np
from op_table import Arg

from ops.cases_shape import case


def _write_through_view(lib, x, v):
    y = x.clone()
    y[0].mul_(v)
    return y


def _write_through_view_reference(x, v):
    y = x.copy()
    y[0] *= v
    return y


CASES = [
    case("clone", lambda lib, x: x.clone() * 2, lambda x: x * 2, [(2, 3), (), (1, 4)]),
    case(
        "copy_",
        lambda lib, x, y: x.clone().copy_(y) * x,
        lambda x, y: np.broadcast_to(y, x.shape) * x,
        [[Arg((2, 3)), Arg((3,))], [Arg((2, 3)), Arg((2, 3))], [Arg(()), Arg(())]],
    ),
    case(
        "fill_tensor",
        lambda lib, x, v: x.clone().fill_(v) * x,
        lambda x, v: np.full_like(x, v) * x,
        [[Arg((2, 3)), Arg(())], [Arg((4,)), Arg(())]],
    ),
    case(
        "fill_number",
        lambda lib, x: x.clone().fill_(1.5) * x,
        lambda x: np.full_like(x, 1.5) * x,
        [(2, 3), ()],
    ),
    case(
        "zero_",
        lambda lib, x: x.clone().zero_() + x,
        lambda x: np.zeros_like(x) + x,
        [(2, 3), ()],
    ),
    # An argument the result does not depend on: its gradient is a zero fill (op "full").
    case(
        "unused_argument",
        lambda lib, x, y: x * 2,
        lambda x, y: x * 2,
        [[Arg((2, 3)), Arg((3,))]],
    ),
    case(
        "copy_slices",
        _write_through_view,
        _write_through_view_reference,
        [[Arg((2, 3)), Arg(())], [Arg((3, 1)), Arg((1,))]],
        compiles=False,
    ),
]
