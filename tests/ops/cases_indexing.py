"""Op-table cases for symgrad/ops/indexing.py: ``t[index]`` with every kind of index,
``t[index] = value`` (gradients to the old values and to the value), and the index-tensor ops.

Index tensors are int Args (random, so repeated indices occur and their gradients must add up)
or static arrays where an op needs unique indices: where two writes land on one position, the
surviving one is implementation-defined and finite differences cannot check the gradient.
"""

import numpy as np
from op_table import Arg

from ops.cases_shape import case


def _args(*args):
    return [a if isinstance(a, Arg) else Arg(a) for a in args]


def _ints(shape, high, low=0):
    return Arg(shape, low, high, kind="int")


def _mask(shape):
    return Arg(shape, kind="bool")


def _static(values):
    return Arg(kind="static", value=np.asarray(values))


def _assigned(index):
    """``y = x * 1; y[index] = value; return y`` for symgrad, torch and numpy alike."""

    def op(lib, x, value):
        y = x * 1
        y[index] = value
        return y

    def reference(x, value):
        y = x.copy()
        y[index] = value
        return y

    return op, reference


def _setitem_case(name, index, variants):
    op, reference = _assigned(index)
    return case(name, op, reference, variants)


def _mask_assigned(x, mask, value):
    y = x * 1
    y[mask] = value
    return y


def _mask_assigned_reference(x, mask, value):
    y = x.copy()
    y[mask] = value
    return y


def _masked_select_reference(x, mask):
    shape = np.broadcast_shapes(x.shape, mask.shape)
    return np.broadcast_to(x, shape)[np.broadcast_to(mask, shape)]


def _through_view(lib, x, value):
    y = x * 1
    row = y[1]
    row[1:] = value
    return y


def _through_view_reference(x, value):
    y = x.copy()
    y[1, 1:] = value
    return y


def _gather_reference(x, dim, index):
    if x.ndim == 0:
        return x.copy()
    positions = list(np.indices(index.shape, sparse=True)) or [index]
    positions[dim] = index
    return x[tuple(positions)]


def _scatter_reference(x, dim, index, src):
    if x.ndim == 0:
        return np.array(src, dtype=x.dtype)
    out = x.copy()
    positions = list(np.indices(index.shape, sparse=True))
    positions[dim] = index
    out[tuple(positions)] = src if np.ndim(src) == 0 else src[tuple(map(slice, index.shape))]
    return out


def _scatter_add_reference(x, dim, index, src):
    if x.ndim == 0:
        return x + src
    out = x.copy()
    positions = list(np.indices(index.shape, sparse=True))
    positions[dim] = index
    np.add.at(out, tuple(positions), src[tuple(map(slice, index.shape))])
    return out


def _index_add_reference(x, dim, index, source, alpha=1.0):
    if x.ndim == 0:
        return x + alpha * source
    out = x.copy()
    np.add.at(out, (slice(None),) * dim + (index,), alpha * source)
    return out


def _take_along_reference(x, index, dim):
    shape = list(
        np.broadcast_shapes(
            x.shape[:dim] + (1,) + x.shape[dim + 1 :],
            index.shape[:dim] + (1,) + index.shape[dim + 1 :],
        )
    )
    x = np.broadcast_to(x, shape[:dim] + [x.shape[dim]] + shape[dim + 1 :])
    index = np.broadcast_to(index, shape[:dim] + [index.shape[dim]] + shape[dim + 1 :])
    return np.take_along_axis(x, index, dim)


# Along dim 0 each column holds distinct rows: scatter writes every position at most once.
UNIQUE_ROWS = [[2, 0, 1, 2], [0, 1, 2, 1]]

CASES = [
    # ---------------------------------------------------------------------- basic indices
    case("getitem_int", lambda lib, x: x[1], lambda x: x[1], [(3, 4), (2,), (2, 1, 3)]),
    case("getitem_negative", lambda lib, x: x[-1, -2], lambda x: x[-1, -2], [(3, 4), (2, 2, 1)]),
    case("getitem_slice", lambda lib, x: x[1:3], lambda x: x[1:3], [(4, 3), (2,), (5, 1)]),
    case(
        "getitem_slice_step",
        lambda lib, x: x[1::2, ::3],
        lambda x: x[1::2, ::3],
        [(5, 7), (2, 1), (4, 3, 2)],
    ),
    case(
        "getitem_slice_negative_bounds", lambda lib, x: x[-3:-1], lambda x: x[-3:-1], [(4, 2), (3,)]
    ),
    case("getitem_slice_past_end", lambda lib, x: x[1:10], lambda x: x[1:10], [(3, 2), (1,)]),
    case(
        "getitem_none",
        lambda lib, x: x[None, :, None],
        lambda x: x[None, :, None],
        [(3, 4), (2,), (1, 1)],
    ),
    case(
        "getitem_ellipsis", lambda lib, x: x[..., 0], lambda x: x[..., 0], [(2, 3, 4), (3, 1), (2,)]
    ),
    case(
        "getitem_ellipsis_middle",
        lambda lib, x: x[0, ..., None, 1:],
        lambda x: x[0, ..., None, 1:],
        [(2, 3, 4), (1, 2), (2, 1, 1, 3)],
    ),
    case("getitem_whole", lambda lib, x: x[...], lambda x: x[...].copy(), [(2, 3), ()]),
    case(
        "getitem_scalar_tensor_index",
        lambda lib, x, i: x[i],
        lambda x, i: x[i],
        [_args((3, 4), _static(2)), _args((2,), _static(-1))],
    ),
    # ------------------------------------------------------------------- advanced indices
    case(
        "getitem_list",
        lambda lib, x: x[[0, 2, 2, 1]],
        lambda x: x[[0, 2, 2, 1]],
        [(3, 4), (4,), (3, 1, 2)],
    ),
    case(
        "getitem_list_negative",
        lambda lib, x: x[:, [-1, 0, -1]],
        lambda x: x[:, [-1, 0, -1]],
        [(2, 3), (1, 2, 2)],
    ),
    case(
        "getitem_tensor",
        lambda lib, x, i: x[i],
        lambda x, i: x[i],
        [
            _args((3, 4), _ints((2, 2), 3)),
            _args((3,), _ints((5,), 3)),
            _args((2, 1, 3), _ints((1,), 2)),
        ],
    ),
    case(
        "getitem_tensor_negative",
        lambda lib, x, i: x[i],
        lambda x, i: x[i],
        [_args((4, 2), _ints((3,), 4, -4))],
    ),
    case(
        "getitem_two_tensors",
        lambda lib, x, i, j: x[i, j],
        lambda x, i, j: x[i, j],
        [
            _args((3, 4), _ints((3, 1), 3), _ints((4,), 4)),
            _args((2, 5, 2), _ints((2,), 2), _ints((2,), 5)),
        ],
    ),
    case(
        "getitem_slice_and_list",
        lambda lib, x: x[1:, [0, 0, 2]],
        lambda x: x[1:, [0, 0, 2]],
        [(3, 3), (2, 4), (2, 3, 1)],
    ),
    case(
        "getitem_int_and_list",
        lambda lib, x: x[1, [1, 0]],
        lambda x: x[1, [1, 0]],
        [(2, 3), (3, 2, 2)],
    ),
    case(
        "getitem_separated_lists",
        lambda lib, x: x[[0, 1], :, [1, 0]],
        lambda x: x[[0, 1], :, [1, 0]],
        [(2, 3, 2), (3, 1, 4)],
    ),
    case(
        "getitem_list_none",
        lambda lib, x: x[None, [1, 1]],
        lambda x: x[None, [1, 1]],
        [(2, 3), (3,)],
    ),
    case(
        "getitem_mask",
        lambda lib, x, m: x[m],
        lambda x, m: x[m],
        [
            _args((3, 4), _mask((3, 4))),
            _args((5,), _mask((5,))),
            _args((2, 1, 3), _mask((2, 1, 3))),
        ],
        compiles=False,  # the result's shape depends on the mask's values
    ),
    case(
        "getitem_mask_rows",
        lambda lib, x, m: x[m],
        lambda x, m: x[m],
        [_args((3, 4), _mask((3,))), _args((4, 1, 2), _mask((4, 1)))],
        compiles=False,  # the result's shape depends on the mask's values
    ),
    case(
        "getitem_mask_inner",
        lambda lib, x, m: x[:, m],
        lambda x, m: x[:, m],
        [_args((3, 4), _mask((4,))), _args((2, 3, 2), _mask((3, 2)))],
        compiles=False,  # the result's shape depends on the mask's values
    ),
    case(
        "getitem_mask_comparison",
        lambda lib, x: x[x > 0],
        lambda x: x[x > 0],
        [(3, 4), (5,)],
        compiles=False,  # the result's shape depends on the mask's values
    ),
    case("getitem_bool_scalar", lambda lib, x: x[True], lambda x: x[True], [(2, 3), ()]),
    # -------------------------------------------------------------------------- setitem
    _setitem_case("setitem_int", 1, [_args((3, 4), (4,)), _args((2, 1), (1,)), _args((3, 4), ())]),
    _setitem_case(
        "setitem_slice_broadcast",
        (slice(1, None), slice(None, None, 2)),
        [_args((3, 4), (2,)), _args((4, 5), (3, 1)), _args((3, 4), (1, 2, 2))],
    ),
    _setitem_case("setitem_ellipsis", (Ellipsis, 0), [_args((2, 3), (2,)), _args((2, 2, 1), ())]),
    _setitem_case(
        "setitem_list", ([2, 0],), [_args((3, 4), (2, 4)), _args((3, 2), (2,)), _args((4,), ())]
    ),
    _setitem_case("setitem_two_lists", ([0, 2], [1, 1]), [_args((3, 2), (2,)), _args((3, 3), ())]),
    _setitem_case(
        "setitem_slice_and_list",
        (slice(None), [3, 1]),
        [_args((2, 4), (2, 2)), _args((1, 4, 2), (2, 1))],
    ),
    case(
        "setitem_mask",
        lambda lib, x, m, v: _mask_assigned(x, m, v),
        _mask_assigned_reference,
        [_args((3, 4), _mask((3, 4)), ()), _args((4, 2), _mask((4,)), (2,))],
    ),
    case(
        "setitem_mask_number",
        lambda lib, x, m: _mask_assigned(x, m, -1.5),
        lambda x, m: _mask_assigned_reference(x, m, -1.5),
        [_args((3, 4), _mask((3, 4))), _args((4, 2), _mask((4,))), _args((2, 3), _mask((2,)))],
    ),
    case(
        "setitem_through_view",
        _through_view,
        _through_view_reference,
        [_args((3, 4), (3,)), _args((2, 3), ())],
        compiles=False,  # an in-place write through a view: compile refuses it
    ),
    # ------------------------------------------------------------------- gather, scatter
    case(
        "gather",
        lambda lib, x, i: x.gather(1, i),
        lambda x, i: _gather_reference(x, 1, i),
        [
            _args((3, 4), _ints((3, 2), 4)),
            _args((2, 5), _ints((1, 7), 5)),
            _args((2, 3, 2), _ints((2, 2, 1), 3)),
        ],
    ),
    case(
        "gather_dim0",
        lambda lib, x, i: lib.gather(x, 0, i),
        lambda x, i: _gather_reference(x, 0, i),
        [_args((3, 4), _ints((5, 4), 3)), _args((1,), _ints((3,), 1)), _args((), _static(0))],
    ),
    case(
        "scatter",
        lambda lib, x, i, s: x.scatter(0, i, s),
        lambda x, i, s: _scatter_reference(x, 0, i, s),
        [
            _args((3, 4), _static(UNIQUE_ROWS), (2, 4)),
            _args((3, 5), _static([[1, 2, 0]]), (1, 3)),
            _args((), _static(0), ()),
        ],
    ),
    case(
        "scatter_value",
        lambda lib, x, i: lib.scatter(x, 1, i, 1.5),
        lambda x, i: _scatter_reference(x, 1, i, 1.5),
        [_args((4, 3), _static(np.array(UNIQUE_ROWS).T)), _args((2, 3), _ints((1, 2), 3))],
    ),
    case(
        "scatter_add",
        lambda lib, x, i, s: x.scatter_add(0, i, s),
        lambda x, i, s: _scatter_add_reference(x, 0, i, s),
        [
            _args((3, 4), _ints((5, 4), 3), (5, 4)),
            _args((2, 3), _ints((1, 2), 2), (1, 2)),
            _args((1,), _ints((4,), 1), (4,)),
            _args((), _static(0), ()),
        ],
    ),
    case(
        "scatter_add_dim1",
        lambda lib, x, i, s: lib.scatter_add(x, -1, i, s),
        lambda x, i, s: _scatter_add_reference(x, 1, i, s),
        [_args((2, 3), _ints((2, 6), 3), (2, 6)), _args((3, 1), _ints((2, 3), 1), (2, 3))],
    ),
    # -------------------------------------------------------------- index_select, index_add
    case(
        "index_select",
        lambda lib, x, i: x.index_select(0, i),
        lambda x, i: np.take(x, i, 0) if x.ndim else x.copy(),
        [_args((3, 4), _ints((5,), 3)), _args((2,), _ints((1,), 2)), _args((), _static([0]))],
    ),
    case(
        "index_select_dim",
        lambda lib, x, i: lib.index_select(x, -1, i),
        lambda x, i: np.take(x, np.reshape(i, -1), -1),
        [_args((2, 3, 4), _ints((6,), 4)), _args((3, 1), _static(0))],
    ),
    case(
        "index_add",
        lambda lib, x, i, s: x.index_add(0, i, s),
        lambda x, i, s: _index_add_reference(x, 0, i, s),
        [
            _args((3, 4), _ints((5,), 3), (5, 4)),
            _args((2,), _ints((3,), 2), (3,)),
            _args((), _static(0), ()),
        ],
    ),
    case(
        "index_add_alpha",
        lambda lib, x, i, s: lib.index_add(x, 1, i, s, alpha=-2.0),
        lambda x, i, s: _index_add_reference(x, 1, i, s, -2.0),
        [_args((3, 4), _ints((2,), 4), (3, 2)), _args((2, 1, 2), _ints((3,), 1), (2, 3, 2))],
    ),
    # ------------------------------------------------------------------------ masked_fill
    case(
        "masked_fill",
        lambda lib, x, m: x.masked_fill(m, 0.5),
        lambda x, m: np.where(m, 0.5, x).astype(x.dtype),
        [
            _args((3, 4), _mask((3, 4))),
            _args((3, 4), _mask((4,))),
            _args((2, 4), _mask((3, 1, 4))),
            _args((), _mask((1,))),
        ],
    ),
    case(
        "masked_fill_tensor_value",
        lambda lib, x, m, v: lib.masked_fill(x, m, v),
        lambda x, m, v: np.where(m, v, x),
        [_args((3, 4), _mask((3, 4)), ()), _args((2, 1, 3), _mask((3,)), ())],
    ),
    # -------------------------------------------------------------- compositions of gather
    case(
        "take_along_dim",
        lambda lib, x, i: lib.take_along_dim(x, i, 1),
        lambda x, i: _take_along_reference(x, i, 1),
        [
            _args((3, 4), _ints((3, 2), 4)),
            _args((3, 4), _ints((1, 5), 4)),
            _args((1, 4), _ints((3, 2), 4)),
        ],
    ),
    case(
        "take_along_dim_flat",
        lambda lib, x, i: x.take_along_dim(i),
        lambda x, i: x.reshape(-1)[i.reshape(-1)],
        [_args((3, 4), _ints((5,), 12)), _args((2,), _ints((2, 2), 2))],
    ),
    case(
        "take",
        lambda lib, x, i: lib.take(x, i),
        lambda x, i: x.reshape(-1)[i],
        [_args((3, 4), _ints((2, 3), 12, -12)), _args((), _ints((2,), 1))],
    ),
    case("select", lambda lib, x: x.select(1, -1), lambda x: x[:, -1], [(3, 4), (2, 1, 3)]),
    case(
        "masked_select",
        lambda lib, x, m: lib.masked_select(x, m),
        _masked_select_reference,
        [_args((3, 4), _mask((4,))), _args((3, 1), _mask((3, 2)))],
        compiles=False,  # the result's shape depends on the mask's values
    ),
]
