"""Joining and splitting: cat/concat, stack, hstack/vstack/dstack, narrow, split, chunk,
tensor_split, unbind.

cat and stack are ops with one input per tensor. The splitting functions return a tuple of
views, each its own ``t[...]`` node (torch has one multi-output node; the gradients agree).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..tensor import Tensor, _wrap_dim
from . import numpy_runtime as rt
from .indexing import GETITEM, Index
from .inplace import write_out
from .registry import OpDef, apply, public
from .shape import size_text

# --------------------------------------------------------------------------- cat, stack


def _cat_shape(*shapes, dim):
    shape = list(shapes[0])
    shape[dim] = sum(s[dim] for s in shapes)
    return tuple(shape)


def _cat_vjp(g, out, *inputs, dim):
    grads, start = [], 0
    for x in inputs:
        grads.append(narrow(g, dim, start, x.shape[dim]))
        start += x.shape[dim]
    return tuple(grads)


CAT = OpDef(
    "cat",
    rt.cat,
    vjp=_cat_vjp,
    shape=_cat_shape,
    saves="none",
)


def _tensor_list(tensors, name: str, argument: str = "tensors") -> list[Tensor]:
    if isinstance(tensors, Tensor):
        raise TypeError(
            f"{name}(): argument '{argument}' (position 1) must be tuple of Tensors, not Tensor"
        )
    return list(tensors)


@public("cat")
def cat(tensors: Sequence[Tensor], dim: int = 0, *, out=None) -> Tensor:
    """Join tensors along an existing dim ``dim`` (sizes must match elsewhere); dtypes are
    promoted as in arithmetic."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    # torch still skips 1-D empty tensors, whatever the other tensors' shapes.
    kept = [t for t in tensors if tuple(t.shape) != (0,)] or tensors[:1]
    first = kept[0]
    for position, t in enumerate(kept):
        if t.ndim == 0:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {position}) cannot be concatenated"
            )
        if t.ndim != first.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {first.ndim} and {t.ndim}"
            )
    dim = _wrap_dim(dim, first.ndim)
    for position, t in enumerate(kept):
        for d in range(first.ndim):
            if d != dim and t.shape[d] != first.shape[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{first.shape[d]} but got size {t.shape[d]} for tensor number {position} "
                    "in the list."
                )
    result = apply(CAT, *kept, dim=dim)
    return result if out is None else write_out(out, result, "cat")


@public("concat")
def concat(tensors: Sequence[Tensor], dim: int = 0, *, out=None) -> Tensor:
    """Alias of ``cat``."""
    return cat(tensors, dim, out=out)


@public("concatenate")
def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Alias of ``cat`` with numpy's argument name."""
    return cat(tensors, axis)


def _stack_shape(*shapes, dim):
    shape = list(shapes[0])
    shape.insert(dim, len(shapes))
    return tuple(shape)


def _stack_vjp(g, out, *inputs, dim):
    return tuple(g.select(dim, i) for i in range(len(inputs)))


STACK = OpDef(
    "stack",
    rt.stack,
    vjp=_stack_vjp,
    shape=_stack_shape,
    saves="none",
)


@public("stack")
def stack(tensors: Sequence[Tensor], dim: int = 0, *, out=None) -> Tensor:
    """Join same-shaped tensors along a new dim ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]
    for position, t in enumerate(tensors):
        if tuple(t.shape) != tuple(first.shape):
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {size_text(first.shape)} "
                f"at entry 0 and {size_text(t.shape)} at entry {position}"
            )
    result = apply(STACK, *tensors, dim=_wrap_dim(dim, first.ndim + 1))
    return result if out is None else write_out(out, result, "stack")


def _at_least(t: Tensor, ndim: int) -> Tensor:
    """numpy's atleast_1d/2d/3d: (n,) becomes (1, n) and (1, n, 1); (m, n) becomes (m, n, 1)."""
    if t.ndim >= ndim:
        return t
    shape = tuple(t.shape)
    if ndim == 3 and len(shape) == 2:
        return t.reshape(shape + (1,))
    if ndim == 3:
        return t.reshape((1,) + (shape or (1,)) + (1,))
    return t.reshape((1,) * (ndim - len(shape)) + shape)


@public("hstack")
def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [_at_least(t, 1) for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


@public("vstack")
def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 0, 1-D tensors as rows."""
    return cat([_at_least(t, 2) for t in _tensor_list(tensors, "vstack")], 0)


@public("row_stack")
def row_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Alias of ``vstack``."""
    return vstack(tensors)


@public("dstack")
def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 2 (depth), after making every tensor at least 3-D."""
    return cat([_at_least(t, 3) for t in _tensor_list(tensors, "dstack")], 2)


@public("column_stack")
def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 1, 0-D and 1-D tensors as columns."""
    tensors = _tensor_list(tensors, "column_stack")
    columns = [t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in tensors]
    return hstack(columns)


# ----------------------------------------------------------------- narrow and splitting


def _slice_along(input: Tensor, dim: int, start: int, stop: int, node_name=None) -> Tensor:
    items = (slice(None),) * dim + (slice(start, stop),)
    return apply(GETITEM, input, index=Index(items, node_name))


@public("narrow", methods=("narrow",))
def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """The view of ``length`` entries of dim ``dim`` from ``start`` (which may be negative or
    a 0-d integer tensor)."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    dim = _wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    start = int(start.item()) if isinstance(start, Tensor) else int(start)
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    start = start + size if start < 0 else start
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _slice_along(input, dim, start, start + length)


def _split_dim(tensor: Tensor, dim: int) -> int:
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    return _wrap_dim(dim, tensor.ndim)


def _split_sizes(tensor: Tensor, split_size_or_sections, dim: int) -> list[int]:
    size = tensor.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step < 0:
            raise RuntimeError(
                f"split expects split_size be non-negative, but got split_size={step}"
            )
        if step == 0:
            if size != 0:
                raise RuntimeError(
                    "split_size can only be 0 if dimension size is 0, but got dimension size "
                    f"of {size}"
                )
            return [0]
        return [min(step, size - start) for start in range(0, size, step)] or [0]
    sizes = [int(n) for n in split_size_or_sections]
    if any(n < 0 for n in sizes):
        raise RuntimeError(
            "split_with_sizes expects split_sizes have only non-negative entries, but got "
            f"split_sizes={size_text(sizes)}"
        )
    if sum(sizes) != size:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
            f"at dimension {dim}), but got split_sizes={size_text(sizes)}"
        )
    return sizes


def _pieces(tensor: Tensor, dim: int, sizes, node_name=None) -> tuple[Tensor, ...]:
    pieces, start = [], 0
    for n in sizes:
        pieces.append(_slice_along(tensor, dim, start, start + n, node_name))
        start += n
    return tuple(pieces)


@public("split")
def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of consecutive pieces along ``dim``: of ``split_size_or_sections`` entries each
    (the last may be smaller), or of the listed sizes."""
    dim = _split_dim(tensor, dim)
    sizes = _split_sizes(tensor, split_size_or_sections, dim)
    by_size = isinstance(split_size_or_sections, (int, np.integer))
    return _pieces(tensor, dim, sizes, "SplitBackward0" if by_size else "SplitWithSizesBackward0")


def _split_method(self: Tensor, split_size, dim: int = 0) -> tuple[Tensor, ...]:
    return split(self, split_size, dim)


Tensor.split = _split_method


@public("chunk", methods=("chunk",))
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most ``chunks`` views of equal size along ``dim`` (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    dim = _wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    if size == 0:
        return _pieces(input, dim, [0] * chunks, "SplitBackward0")
    return split(input, -(-size // chunks), dim)


@public("tensor_split", methods=("tensor_split",))
def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    """Views split into ``n`` near-equal sections (the first ``size % n`` one larger), or at
    the given indices."""
    if input.ndim == 0:
        raise RuntimeError(
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims"
        )
    dim = _wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        sizes = [small + 1] * extra + [small] * (sections - extra)
        return _pieces(input, dim, sizes)
    bounds = [0] + [min(max(int(i) + (size if i < 0 else 0), 0), size) for i in indices_or_sections]
    bounds.append(size)
    return tuple(
        _slice_along(input, dim, start, max(start, stop))
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    )


@public("unbind", methods=("unbind",))
def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of each entry along ``dim`` (that dim removed)."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = _wrap_dim(dim, input.ndim)
    prefix = (slice(None),) * dim
    return tuple(
        apply(GETITEM, input, index=Index(prefix + (i,), "UnbindBackward0"))
        for i in range(input.shape[dim])
    )
