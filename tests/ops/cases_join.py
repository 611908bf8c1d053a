"""Op-table cases for symgrad/ops/join.py: cat, stack and friends, narrow and the splitting
functions (whose cases return tuples of views)."""

import numpy as np
from op_table import Arg

from ops.cases_shape import case


def _args(*shapes):
    return [Arg(s) for s in shapes]


def _split_reference(x, sizes, axis=0):
    bounds = np.cumsum(sizes)[:-1]
    return tuple(np.split(x, bounds, axis=axis))


CASES = [
    case(
        "cat",
        lambda lib, x, y: lib.cat([x, y]),
        lambda x, y: np.concatenate([x, y]),
        [_args((2, 3), (4, 3)), _args((1, 3), (1, 3)), _args((3,), (2,)), _args((1,), (1,))],
    ),
    case(
        "cat_dim",
        lambda lib, x, y, z: lib.cat((x, y, z), 1),
        lambda x, y, z: np.concatenate([x, y, z], 1),
        [_args((2, 3), (2, 1), (2, 2)), _args((1, 2, 4), (1, 1, 4), (1, 3, 4))],
    ),
    case(
        "cat_negative_dim",
        lambda lib, x, y: lib.concat([x, y], -1),
        lambda x, y: np.concatenate([x, y], -1),
        [_args((2, 3), (2, 1)), _args((4,), (1,))],
    ),
    case(
        "cat_same_tensor",
        lambda lib, x: lib.concatenate([x, x * 2], axis=0),
        lambda x: np.concatenate([x, x * 2]),
        [(2, 3), (1,)],
    ),
    case(
        "stack",
        lambda lib, x, y: lib.stack([x, y]),
        lambda x, y: np.stack([x, y]),
        [_args((2, 3), (2, 3)), _args((), ()), _args((1, 4), (1, 4))],
    ),
    case(
        "stack_last",
        lambda lib, x, y, z: lib.stack((x, y, z), -1),
        lambda x, y, z: np.stack([x, y, z], -1),
        [_args((2, 3), (2, 3), (2, 3)), _args((1,), (1,), (1,))],
    ),
    case(
        "hstack",
        lambda lib, x, y: lib.hstack([x, y]),
        lambda x, y: np.hstack([x, y]),
        [_args((2, 3), (2, 1)), _args((3,), (2,))],
    ),
    case(
        "vstack",
        lambda lib, x, y: lib.vstack([x, y]),
        lambda x, y: np.vstack([x, y]),
        [_args((2, 3), (1, 3)), _args((3,), (3,)), _args((), ())],
    ),
    case(
        "dstack",
        lambda lib, x, y: lib.dstack([x, y]),
        lambda x, y: np.dstack([x, y]),
        [_args((2, 3), (2, 3)), _args((3,), (3,)), _args((2, 1, 2), (2, 1, 1))],
    ),
    case(
        "column_stack",
        lambda lib, x, y: lib.column_stack([x, y]),
        lambda x, y: np.column_stack([x, y]),
        [_args((3,), (3, 2)), _args((), ())],
    ),
    case("narrow", lambda lib, x: x.narrow(1, 1, 2), lambda x: x[:, 1:3], [(3, 4), (1, 3, 2)]),
    case(
        "narrow_negative_start",
        lambda lib, x: lib.narrow(x, 0, -2, 2),
        lambda x: x[-2:],
        [(3, 4), (2,)],
    ),
    case("narrow_empty", lambda lib, x: x.narrow(0, 1, 0), lambda x: x[1:1], [(3, 2)]),
    case(
        "split",
        lambda lib, x: x.split(2),
        lambda x: _split_reference(x, [2, 2, 1][: -(-x.shape[0] // 2)]),
        [(5, 3), (2, 4), (1, 2)],
    ),
    case(
        "split_sizes",
        lambda lib, x: lib.split(x, [1, 3], 1),
        lambda x: _split_reference(x, [1, 3], 1),
        [(2, 4), (1, 4, 1)],
    ),
    case(
        "split_last_dim",
        lambda lib, x: x.split(3, -1),
        lambda x: tuple(np.split(x, range(3, x.shape[-1], 3), -1)),
        [(2, 7), (6,)],
    ),
    case(
        "chunk",
        lambda lib, x: x.chunk(3, 1),
        lambda x: tuple(np.split(x, range(3, 7, 3), 1)),
        [(2, 7)],
    ),
    case(
        "chunk_fewer",
        lambda lib, x: lib.chunk(x, 4),
        lambda x: tuple(np.split(x, [2, 4])),
        [(6,), (6, 1)],
    ),
    case("chunk_single", lambda lib, x: x.chunk(2, -1), lambda x: (x.copy(),), [(3, 1)]),
    case(
        "tensor_split_sections",
        lambda lib, x: x.tensor_split(3),
        lambda x: tuple(np.array_split(x, 3)),
        [(7, 2), (2,)],
    ),
    case(
        "tensor_split_indices",
        lambda lib, x: lib.tensor_split(x, [1, 3], 1),
        lambda x: tuple(np.array_split(x, [1, 3], 1)),
        [(2, 4), (1, 5)],
    ),
    case(
        "unbind",
        lambda lib, x: x.unbind(1),
        lambda x: tuple(np.moveaxis(x, 1, 0)),
        [(2, 3), (1, 1), (2, 2, 1)],
    ),
    case("unbind_first", lambda lib, x: lib.unbind(x), lambda x: tuple(x), [(3,), (2, 2)]),
]
