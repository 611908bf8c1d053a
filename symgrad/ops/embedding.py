"""``embedding``: rows of a weight matrix picked by integer indices (torch.nn.functional).

One op with its own gradient rule: the output gradient's rows are added into the rows they
came from (``index_select_backward``, an index_add into zeros), rows of ``padding_idx`` get
none. The rule is written with symgrad ops, so it also runs while compiling and under
``create_graph=True``.
"""

from __future__ import annotations

from .. import dtypes
from ..tensor import Tensor
from . import numpy_runtime as rt
from .indexing import INDEX_SELECT_BACKWARD, _is_integer_index
from .registry import OpDef, apply

__all__ = ["embedding"]


def _embedding_numpy(weight, indices, *, padding_idx):
    return weight[indices]


def _embedding_vjp(g, out, weight, indices, *, padding_idx):
    rows, width = weight.shape
    if padding_idx is not None:
        g = g * (indices != padding_idx).unsqueeze(-1).to(g.dtype)
    flat = g.reshape(-1, width)
    grad = apply(INDEX_SELECT_BACKWARD, flat, indices.reshape(-1), shape=(rows, width), dim=0)
    return (grad, None)


EMBEDDING = OpDef(
    "embedding",
    _embedding_numpy,
    vjp=_embedding_vjp,
    spelling="{0}[{1}]",
    shape=lambda weight, indices, **_: tuple(indices) + tuple(weight[1:]),
    promote="first",
    nondifferentiable_inputs=(1,),
    check=rt.check_embedding_indices,
)


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """The rows ``weight[input]``; the rows at ``padding_idx`` receive no gradient.

    >>> import symgrad
    >>> import symgrad.nn.functional as F
    >>> F.embedding(symgrad.tensor([2, 0]), symgrad.arange(6.0).reshape(3, 2))
    tensor([[4., 5.],
            [0., 1.]])
    """
    if not _is_integer_index(input):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got torch.{dtypes.LEGACY_NAMES[input.dtype.name]} instead "
            "(while checking arguments for embedding)"
        )
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(
            "symgrad's embedding supports neither max_norm, scale_grad_by_freq nor sparse gradients"
        )
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = int(padding_idx) % rows
    return apply(EMBEDDING, weight, input, padding_idx=padding_idx)
