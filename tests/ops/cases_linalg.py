"""Op-table cases for symgrad/ops/linalg.py.

The inverse, solve and determinant cases shift their matrix input by n * I (``_conditioned``):
uniform entries in [-1, 1) plus n on the diagonal make a diagonally dominant, well-conditioned
matrix, so the finite differences of the gradient checks are accurate.
"""

import numpy as np
from op_table import Arg, OpCase

import symgrad
from symgrad.ops import linalg


def _unit(shape):
    return Arg(shape, -1.0, 1.0)


def _conditioned(a):
    """a + n I, for symgrad tensors, numpy arrays and torch tensors alike."""
    n = a.shape[-1]
    if isinstance(a, np.ndarray):
        return a + n * np.eye(n, dtype=a.dtype)
    if isinstance(a, symgrad.Tensor):
        return a + n * symgrad.eye(n, dtype=a.dtype)
    import torch

    return a + n * torch.eye(n, dtype=a.dtype)


def _pairs(*shapes):
    return [[Arg(a), Arg(b)] for a, b in shapes]


def _einsum(name, equation, *shapes, variants=None):
    return OpCase(
        f"einsum_{name}",
        lambda *xs: symgrad.einsum(equation, *xs),
        lambda *xs: np.einsum(equation, *xs),
        variants or [[Arg(s) for s in shapes]],
        torch_fn=lambda torch, *xs: torch.einsum(equation, *xs),
    )


def _solve_reference(a, b, left=True):
    a = _conditioned(a)
    if not left:
        return np.swapaxes(
            _solve_reference_left(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2
        )
    return _solve_reference_left(a, b)


def _solve_reference_left(a, b):
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if vector:
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


CASES = [
    OpCase(
        "matmul",
        symgrad.matmul,
        np.matmul,
        _pairs(
            ((3,), (3,)),  # dot
            ((2, 3), (3,)),  # matrix @ vector
            ((3,), (3, 4)),  # vector @ matrix
            ((2, 3), (3, 4)),
            ((1, 1), (1, 1)),
            ((2, 2, 3), (2, 3, 4)),  # batched
            ((2, 1, 2, 3), (3, 3, 4)),  # 4-D, broadcast batch dims
            ((1, 2, 3), (4, 3, 2)),  # size-1 batch broadcast
            ((2, 3, 4), (4,)),  # batch @ vector
            ((3,), (2, 3, 4)),  # vector @ batch
        ),
        torch_fn=lambda torch, a, b: torch.matmul(a, b),
    ),
    OpCase(
        "matmul_operator",
        lambda a, b: a @ b,
        np.matmul,
        _pairs(((2, 3), (3, 4)), ((2, 1, 2, 3), (4, 3, 1))),
        torch_fn=lambda torch, a, b: a @ b,
    ),
    OpCase(
        "mm",
        symgrad.mm,
        np.matmul,
        _pairs(((2, 3), (3, 4)), ((1, 3), (3, 1)), ((4, 1), (1, 2))),
        torch_fn=lambda torch, a, b: torch.mm(a, b),
    ),
    OpCase(
        "addmm",
        symgrad.addmm,
        lambda c, a, b: c + a @ b,
        [
            [Arg((2, 4)), Arg((2, 3)), Arg((3, 4))],
            [Arg((4,)), Arg((2, 3)), Arg((3, 4))],
            [Arg(()), Arg((1, 3)), Arg((3, 1))],
        ],
        torch_fn=lambda torch, c, a, b: torch.addmm(c, a, b),
    ),
    OpCase(
        "addmm_scaled",
        lambda c, a, b: symgrad.addmm(c, a, b, beta=0.5, alpha=-2.0),
        lambda c, a, b: 0.5 * c - 2.0 * (a @ b),
        [[Arg((2, 4)), Arg((2, 3)), Arg((3, 4))], [Arg((1, 4)), Arg((2, 3)), Arg((3, 4))]],
        torch_fn=lambda torch, c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=-2.0),
    ),
    OpCase(
        "bmm",
        symgrad.bmm,
        np.matmul,
        _pairs(((2, 2, 3), (2, 3, 4)), ((1, 3, 3), (1, 3, 1))),
        torch_fn=lambda torch, a, b: torch.bmm(a, b),
    ),
    OpCase(
        "mv",
        symgrad.mv,
        np.matmul,
        _pairs(((2, 3), (3,)), ((1, 3), (3,)), ((3, 1), (1,))),
        torch_fn=lambda torch, a, b: torch.mv(a, b),
    ),
    OpCase(
        "dot",
        symgrad.dot,
        np.dot,
        _pairs(((3,), (3,)), ((1,), (1,))),
        torch_fn=lambda torch, a, b: torch.dot(a, b),
    ),
    OpCase(
        "outer",
        symgrad.outer,
        np.outer,
        _pairs(((3,), (4,)), ((1,), (2,)), ((2,), (1,))),
        torch_fn=lambda torch, a, b: torch.outer(a, b),
    ),
    _einsum("matmul", "ij,jk->ik", (2, 3), (3, 4)),
    _einsum("batched", "bij,bjk->bik", (2, 2, 3), (2, 3, 4)),
    _einsum("trace", "ii->", (3, 3)),
    _einsum("diagonal", "ii->i", (3, 3)),
    _einsum("batched_diagonal", "bii->bi", (2, 3, 3)),
    _einsum("transpose", "ij->ji", (2, 3)),
    _einsum("inner", "i,i->", (3,), (3,)),
    _einsum("outer", "i,j->ij", (3,), (4,)),
    _einsum("sum", "ij->", (2, 3)),
    _einsum("row_sum", "ij->i", (2, 3)),
    _einsum("implicit", "ij,jk", (2, 3), (3, 4)),
    _einsum("implicit_order", "kj,ji", (2, 3), (3, 4)),
    _einsum("three", "ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    _einsum("bilinear", "i,ij,j->", (2,), (2, 3), (3,)),
    _einsum("diagonal_product", "ii,i->i", (3, 3), (3,)),
    _einsum("elementwise", "ij,ij->ij", (2, 3), (2, 3)),
    _einsum(
        "ellipsis",
        "...ij,...jk->...ik",
        variants=[
            [Arg((2, 2, 3)), Arg((2, 3, 4))],
            [Arg((2, 1, 2, 3)), Arg((3, 3, 4))],  # ellipsis dims broadcast
            [Arg((2, 3)), Arg((3, 4))],  # empty ellipsis
        ],
    ),
    _einsum(
        "broadcast",
        "ij,jk->ik",
        variants=[[Arg((2, 1)), Arg((3, 4))], [Arg((2, 3)), Arg((1, 4))]],
    ),
    OpCase(
        "linalg_inv",
        lambda a: linalg.inv(_conditioned(a)),
        lambda a: np.linalg.inv(_conditioned(a)),
        [[_unit((3, 3))], [_unit((2, 3, 3))], [_unit((1, 1))], [_unit((2, 1, 2, 2))]],
        torch_fn=lambda torch, a: torch.linalg.inv(_conditioned(a)),
    ),
    OpCase(
        "inverse_method",
        lambda a: _conditioned(a).inverse(),
        lambda a: np.linalg.inv(_conditioned(a)),
        [[_unit((2, 2))]],
        torch_fn=lambda torch, a: _conditioned(a).inverse(),
    ),
    OpCase(
        "linalg_solve",
        lambda a, b: linalg.solve(_conditioned(a), b),
        _solve_reference,
        [
            [_unit((3, 3)), Arg((3,))],  # vector
            [_unit((3, 3)), Arg((3, 2))],  # matrix
            [_unit((2, 3, 3)), Arg((2, 3))],  # batch of vectors
            [_unit((2, 3, 3)), Arg((3, 2))],  # B broadcast over A's batch
            [_unit((3, 3)), Arg((2, 3, 1))],  # A broadcast over B's batch
            [_unit((1, 1)), Arg((1,))],
        ],
        torch_fn=lambda torch, a, b: torch.linalg.solve(_conditioned(a), b),
    ),
    OpCase(
        "linalg_solve_right",
        lambda a, b: linalg.solve(_conditioned(a), b, left=False),
        lambda a, b: _solve_reference(a, b, left=False),
        [[_unit((3, 3)), Arg((2, 3))], [_unit((2, 3, 3)), Arg((2, 4, 3))]],
        torch_fn=lambda torch, a, b: torch.linalg.solve(_conditioned(a), b, left=False),
    ),
    OpCase(
        "linalg_det",
        lambda a: linalg.det(_conditioned(a)),
        lambda a: np.linalg.det(_conditioned(a)),
        [[_unit((3, 3))], [_unit((2, 3, 3))], [_unit((1, 1))], [_unit((2, 1, 2, 2))]],
        torch_fn=lambda torch, a: torch.linalg.det(_conditioned(a)),
    ),
    OpCase(
        "det_method",
        lambda a: _conditioned(a).det(),
        lambda a: np.linalg.det(_conditioned(a)),
        [[_unit((2, 2))]],
        torch_fn=lambda torch, a: _conditioned(a).det(),
    ),
]
