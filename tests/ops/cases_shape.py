"""Op-table cases for symgrad/ops/shape.py.

Each case is written once as ``op(lib, *tensors)``, run with ``lib=symgrad`` and, for the
oracle, with ``lib=torch``; static arguments (dims, sizes, offsets) are bound into it, because
``check_grads`` turns every argument into a tensor.
"""

import numpy as np
from op_table import Arg, OpCase

import symgrad


def case(name, op, reference, shapes, **kw):
    """An OpCase from ``op(lib, *xs)``; each entry of ``shapes`` is one shape (one input) or a
    list of Args."""
    variants = [s if isinstance(s, list) else [Arg(s)] for s in shapes]
    return OpCase(
        name,
        lambda *xs: op(symgrad, *xs),
        reference,
        variants,
        torch_fn=lambda torch, *xs: op(torch, *xs),
        **kw,
    )


def _like(shape):
    return Arg(shape, 0, 5, kind="int")


def _diagonal_reference(x, offset=0, dim1=0, dim2=1):
    return np.diagonal(x, offset, dim1, dim2).copy()


def _diag_embed_reference(x, offset=0, dim1=-2, dim2=-1):
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n), x.dtype)
    rows = np.arange(x.shape[-1]) + max(-offset, 0)
    out[..., rows, rows + offset] = x
    return np.moveaxis(out, (-2, -1), (dim1, dim2))


def _pad_reference(x, pad, value=0.0):
    for k in range(len(pad) // 2):
        d = x.ndim - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        x = np.take(x, range(max(-before, 0), x.shape[d] - max(-after, 0)), axis=d)
        widths = [(0, 0)] * x.ndim
        widths[d] = (max(before, 0), max(after, 0))
        x = np.pad(x, widths, constant_values=value)
    return x


CASES = [
    # ------------------------------------------------------------------ reshape and views
    case(
        "reshape_flat",
        lambda lib, x: x.reshape(-1),
        lambda x: x.reshape(-1),
        [(3, 4), (2, 1, 3), (), (1,)],
    ),
    case(
        "reshape_infer",
        lambda lib, x: lib.reshape(x, (2, -1)),
        lambda x: x.reshape(2, -1),
        [(4, 3), (2, 1, 5), (6,)],
    ),
    case(
        "reshape_noncontiguous",
        lambda lib, x: x.mT.reshape(3, -1),
        lambda x: np.swapaxes(x, -1, -2).reshape(3, -1),
        [(2, 3), (3, 1, 3)],
    ),
    case(
        "view",
        lambda lib, x: x.view(-1, 3),
        lambda x: x.reshape(-1, 3),
        [(2, 3), (3, 1, 3), (1, 3)],
    ),
    case(
        "view_as",
        lambda lib, x, y: x.view_as(y),
        lambda x, y: x.reshape(y.shape),
        # ``y`` only lends its shape: an int tensor, so nobody expects a gradient for it.
        [[Arg((2, 3)), _like((3, 2))], [Arg((4,)), _like((1, 4, 1))]],
    ),
    case("flatten", lambda lib, x: lib.flatten(x), lambda x: x.reshape(-1), [(2, 3, 4), (1,), ()]),
    case(
        "flatten_range",
        lambda lib, x: x.flatten(1, 2),
        lambda x: x.reshape(x.shape[:1] + (-1,) + x.shape[3:]),
        [(2, 3, 4), (2, 1, 1, 5)],
    ),
    case(
        "ravel_transposed",
        lambda lib, x: x.mT.ravel(),
        lambda x: np.swapaxes(x, -1, -2).ravel(),
        [(2, 3), (2, 1, 4)],
    ),
    case(
        "unflatten",
        lambda lib, x: x.unflatten(1, (2, -1)),
        lambda x: x.reshape(x.shape[:1] + (2, -1) + x.shape[2:]),
        [(3, 4), (1, 6, 2)],
    ),
    case("squeeze_all", lambda lib, x: x.squeeze(), np.squeeze, [(1, 3, 1), (2, 1), (1,), ()]),
    case(
        "squeeze_dim",
        lambda lib, x: lib.squeeze(x, 1),
        lambda x: np.squeeze(x, 1) if x.shape[1] == 1 else x.copy(),
        [(2, 1, 3), (2, 3)],
    ),
    case(
        "squeeze_dims",
        lambda lib, x: x.squeeze((0, -1)),
        lambda x: x.reshape(
            tuple(n for i, n in enumerate(x.shape) if not (i in (0, x.ndim - 1) and n == 1))
        ),
        [(1, 3, 1), (1, 3, 4), (2, 2)],
    ),
    case("unsqueeze", lambda lib, x: x.unsqueeze(-1), lambda x: x[..., None], [(2, 3), (), (1,)]),
    case("unsqueeze_front", lambda lib, x: lib.unsqueeze(x, 0), lambda x: x[None], [(2, 3), (1,)]),
    case(
        "permute",
        lambda lib, x: x.permute(2, 0, 1),
        lambda x: x.transpose(2, 0, 1),
        [(2, 3, 4), (1, 3, 1)],
    ),
    case(
        "permute_tuple",
        lambda lib, x: lib.permute(x, (1, -1, 0)),
        lambda x: x.transpose(1, 2, 0),
        [(2, 3, 4), (2, 1, 1)],
    ),
    case(
        "transpose",
        lambda lib, x: x.transpose(0, -1),
        lambda x: np.swapaxes(x, 0, -1),
        [(2, 3, 4), (1, 5), (3,)],
    ),
    case(
        "swapaxes",
        lambda lib, x: lib.swapaxes(x, 0, 1),
        lambda x: np.swapaxes(x, 0, 1),
        [(2, 3), (1, 2, 3)],
    ),
    case(
        "swapdims",
        lambda lib, x: x.swapdims(-1, -2),
        lambda x: np.swapaxes(x, -1, -2),
        [(2, 3), (4, 1, 3)],
    ),
    case("t", lambda lib, x: x.t(), lambda x: x.T.copy(), [(2, 3), (4,), (1, 3), ()]),
    case("T", lambda lib, x: x.T, lambda x: x.T.copy(), [(2, 3), (1, 4)]),
    case(
        "mT", lambda lib, x: x.mT, lambda x: np.swapaxes(x, -1, -2), [(2, 3, 4), (3, 1), (1, 2, 2)]
    ),
    case(
        "movedim",
        lambda lib, x: x.movedim(0, -1),
        lambda x: np.moveaxis(x, 0, -1),
        [(2, 3, 4), (1, 3)],
    ),
    case(
        "moveaxis_pairs",
        lambda lib, x: lib.moveaxis(x, (0, 1), (2, 0)),
        lambda x: np.moveaxis(x, (0, 1), (2, 0)),
        [(2, 3, 4), (1, 2, 1)],
    ),
    # ------------------------------------------------------------------- broadcast, tile
    case(
        "expand",
        lambda lib, x: x.expand(2, -1, 3),
        lambda x: np.broadcast_to(x, (2, 4, 3)),
        [(1, 4, 1), (4, 1), (4, 3), (2, 4, 3)],
    ),
    case(
        "expand_as",
        lambda lib, x, y: x.expand_as(y),
        lambda x, y: np.broadcast_to(x, y.shape),
        [[Arg((1, 3)), _like((2, 3))], [Arg((3, 1)), _like((2, 3, 4))], [Arg(()), _like((2,))]],
    ),
    case(
        "broadcast_to",
        lambda lib, x: lib.broadcast_to(x, (2, 3, 4)),
        lambda x: np.broadcast_to(x, (2, 3, 4)),
        [(3, 1), (1, 4), (), (2, 3, 4)],
    ),
    case(
        "repeat",
        lambda lib, x: x.repeat(2, 1, 3),
        lambda x: np.tile(x, (2, 1, 3)),
        [(3, 1), (2, 1, 2), (4,), ()],
    ),
    case(
        "repeat_zero", lambda lib, x: x.repeat(0, 2), lambda x: np.tile(x, (0, 2)), [(2, 3), (3,)]
    ),
    case(
        "tile",
        lambda lib, x: lib.tile(x, (2, 1)),
        lambda x: np.tile(x, (2, 1)),
        [(3,), (2, 3), (1, 2, 2)],
    ),
    case("tile_int", lambda lib, x: x.tile(3), lambda x: np.tile(x, 3), [(2,), (2, 1)]),
    case(
        "flip",
        lambda lib, x: x.flip(0, -1),
        lambda x: np.flip(x, (0, -1)).copy(),
        [(3, 4), (2, 1, 3)],
    ),
    case(
        "flip_tuple",
        lambda lib, x: lib.flip(x, (1,)),
        lambda x: np.flip(x, 1).copy(),
        [(3, 4), (2, 1, 3)],
    ),
    case("fliplr", lambda lib, x: lib.fliplr(x), np.fliplr, [(3, 4), (2, 3, 1)]),
    case("flipud", lambda lib, x: lib.flipud(x), np.flipud, [(3, 4), (5,)]),
    case("roll", lambda lib, x: x.roll(1, 0), lambda x: np.roll(x, 1, 0), [(4, 3), (1, 3)]),
    case(
        "roll_flat", lambda lib, x: lib.roll(x, 2), lambda x: np.roll(x, 2), [(3, 4), (5,), (1, 1)]
    ),
    case(
        "roll_dims",
        lambda lib, x: x.roll((1, -2), (0, -1)),
        lambda x: np.roll(x, (1, -2), (0, -1)),
        [(3, 4), (2, 1, 5)],
    ),
    # ------------------------------------------------------------------ diagonals, triangles
    case(
        "diagonal",
        lambda lib, x: x.diagonal(),
        _diagonal_reference,
        [(3, 4), (4, 3), (1, 1), (2, 2, 3)],
    ),
    case(
        "diagonal_offset",
        lambda lib, x: lib.diagonal(x, 1, 1, 2),
        lambda x: _diagonal_reference(x, 1, 1, 2),
        [(2, 3, 4), (2, 4, 1), (1, 3, 3)],
    ),
    case(
        "diagonal_negative",
        lambda lib, x: x.diagonal(-1, -1, 0),
        lambda x: _diagonal_reference(x, -1, -1, 0),
        [(3, 4), (2, 3, 3)],
    ),
    case(
        "diagonal_past_end",
        lambda lib, x: x.diagonal(5),
        lambda x: _diagonal_reference(x, 5),
        [(3, 4)],
    ),
    case(
        "diagonal_copy",
        lambda lib, x: lib.diagonal_copy(x, 0, 0, 1),
        _diagonal_reference,
        [(3, 4), (2, 2, 2)],
    ),
    case("diag_vector", lambda lib, x: lib.diag(x), np.diag, [(3,), (1,)]),
    case(
        "diag_vector_offset", lambda lib, x: lib.diag(x, -2), lambda x: np.diag(x, -2), [(3,), (1,)]
    ),
    case(
        "diag_matrix", lambda lib, x: x.diag(1), lambda x: np.diag(x, 1), [(3, 4), (4, 3), (1, 1)]
    ),
    case(
        "diag_embed",
        lambda lib, x: lib.diag_embed(x),
        _diag_embed_reference,
        [(2, 3), (3,), (1, 1)],
    ),
    case(
        "diag_embed_dims",
        lambda lib, x: lib.diag_embed(x, 1, 0, 2),
        lambda x: _diag_embed_reference(x, 1, 0, 2),
        [(2, 3), (4, 1)],
    ),
    case("tril", lambda lib, x: x.tril(), np.tril, [(3, 4), (2, 3, 3), (1, 1)]),
    case(
        "tril_offset", lambda lib, x: lib.tril(x, -1), lambda x: np.tril(x, -1), [(3, 4), (2, 4, 3)]
    ),
    case("triu", lambda lib, x: x.triu(), np.triu, [(3, 4), (2, 3, 3), (1, 1)]),
    case(
        "triu_offset", lambda lib, x: lib.triu(x, 2), lambda x: np.triu(x, 2), [(3, 4), (2, 1, 5)]
    ),
    # ----------------------------------------------------------------------------- padding
    case(
        "constant_pad_nd",
        lambda lib, x: lib.constant_pad_nd(x, (1, 2)),
        lambda x: _pad_reference(x, (1, 2)),
        [(3, 4), (2, 1, 3), (1,)],
    ),
    case(
        "constant_pad_nd_crop",
        lambda lib, x: lib.constant_pad_nd(x, (1, -1, -1, 2), 0.5),
        lambda x: _pad_reference(x, (1, -1, -1, 2), 0.5),
        [(3, 4), (2, 3, 2)],
    ),
    case(
        "constant_pad_nd_3d",
        lambda lib, x: lib.constant_pad_nd(x, (0, 1, 2, 0, 1, 1)),
        lambda x: _pad_reference(x, (0, 1, 2, 0, 1, 1)),
        [(2, 3, 4), (1, 1, 1)],
    ),
]
