"""Shape ops: reshape/view, flatten, squeeze, transpose/permute, expand, repeat, flip, roll,
diagonal, tril/triu, constant padding, clone and casts.

Ops marked ``is_view`` return numpy views that share the input's storage, as torch's views do;
ops that torch computes into new memory (flip, roll, repeat, pad ...) copy, so an in-place op
on their result never writes through to the input.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import devices, dtypes
from ..tensor import Tensor, _wrap_dim
from . import numpy_runtime as rt
from .registry import OpDef, apply, public


def _sizes(args) -> tuple[int, ...]:
    """Sizes given as varargs or as one sequence: ``view(2, 3)`` or ``view((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


def _dims(args) -> tuple[int, ...]:
    """Dims given as one int, varargs, or one sequence."""
    if len(args) == 1 and isinstance(args[0], (int, np.integer)):
        return (int(args[0]),)
    return _sizes(args)


def size_text(shape) -> str:
    """A shape as torch writes it in messages: ``[2, 3]``."""
    return f"[{', '.join(map(str, shape))}]"


def _numel(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def infer_shape(shape, numel: int) -> tuple[int, ...]:
    """Resolve one -1 in a requested shape, with torch's errors."""
    shape = tuple(shape)
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = _numel([n for n in shape if n != -1])
    if unknown:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[: unknown[0]] + (numel // known,) + shape[unknown[0] + 1 :]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# ----------------------------------------------------------------------- reshape / view


def _reshape_vjp(g, out, x, *, shape):
    return (g.reshape(tuple(x.shape)),)


def _reshape_name(args, attrs) -> str:
    # torch views a contiguous input, aliases a non-contiguous one when strides allow, and
    # otherwise copies (clone + _unsafe_view).
    data = args[0]._data
    if data.flags.c_contiguous:
        return "ViewBackward0"
    return "ReshapeAliasBackward0" if _viewable(data, attrs["shape"]) else "UnsafeViewBackward0"


def _viewable(data: np.ndarray, shape) -> bool:
    try:
        np.reshape(data, shape, copy=False)
    except ValueError:
        return False
    return True


RESHAPE = OpDef(
    "reshape",
    lambda x, *, shape: np.reshape(x, shape),
    vjp=_reshape_vjp,
    spelling="np.reshape({0}, {shape})",
    shape=lambda s, *, shape: shape,
    promote="first",
    saves="none",
    is_view=True,
    backward_name=_reshape_name,
)

VIEW_ERROR = (
    "view size is not compatible with input tensor's size and stride (at least one dimension "
    "spans across two contiguous subspaces). Use .reshape(...) instead."
)


@public("reshape", methods=("reshape",))
def reshape(input: Tensor, *shape) -> Tensor:
    """The same data with another shape (one dim may be -1); a copy only when no view fits."""
    return apply(RESHAPE, input, shape=infer_shape(_sizes(shape), input.numel()))


def _view(self: Tensor, *shape) -> Tensor:
    """A view with another shape (one dim may be -1); never copies."""
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        raise NotImplementedError("view(dtype) reinterprets bits; symgrad supports view(shape)")
    shape = infer_shape(_sizes(shape), self.numel())
    if not self._is_symbolic and not _viewable(self._data, shape):
        raise RuntimeError(VIEW_ERROR)
    return apply(RESHAPE, self, shape=shape)


Tensor.view = _view


def _view_as(self: Tensor, other: Tensor) -> Tensor:
    return self.view(tuple(other.shape))


def _reshape_as(self: Tensor, other: Tensor) -> Tensor:
    return reshape(self, tuple(other.shape))


Tensor.view_as = _view_as
Tensor.reshape_as = _reshape_as


@public("flatten", methods=("flatten",))
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim``..``end_dim`` into one (a 0-d tensor becomes 1-d)."""
    if input.ndim == 0:
        return reshape(input, (1,))
    start = _wrap_dim(start_dim, input.ndim)
    end = _wrap_dim(end_dim, input.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = tuple(input.shape)
    return reshape(input, shape[:start] + (_numel(shape[start : end + 1]),) + shape[end + 1 :])


@public("ravel", methods=("ravel",))
def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor (a view of a contiguous input, else a copy)."""
    return reshape(input.contiguous(), (-1,))


@public("unflatten", methods=("unflatten",))
def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one of them may be -1)."""
    dim = _wrap_dim(dim, input.ndim)
    sizes = _sizes((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten got an unexpected error:\nonly one dimension can be inferred")
    size = input.shape[dim]
    known = _numel([n for n in sizes if n != -1])
    if (-1 in sizes and (known == 0 or size % known)) or (-1 not in sizes and known != size):
        raise RuntimeError(
            f"unflatten: Provided sizes {size_text(sizes)} don't multiply up to the size of dim "
            f"{dim} ({size}) in the input tensor"
        )
    sizes = infer_shape(sizes, size)
    shape = tuple(input.shape)
    return reshape(input, shape[:dim] + sizes + shape[dim + 1 :])


# ------------------------------------------------------------------- squeeze / unsqueeze


def _squeezed_dims(shape, dim) -> tuple[int, ...]:
    """The size-1 dims that ``squeeze(dim)`` removes (``dim``: None, an int, or a tuple)."""
    dims = range(len(shape)) if dim is None else (dim,) if isinstance(dim, int) else dim
    return tuple(d for d in dims if d < len(shape) and shape[d] == 1)


def _squeeze_shape(shape, *, dim):
    removed = _squeezed_dims(shape, dim)
    return tuple(n for i, n in enumerate(shape) if i not in removed)


def _squeeze_name(args, attrs) -> str:
    dim = attrs["dim"]
    return f"SqueezeBackward{0 if dim is None else 1 if isinstance(dim, int) else 2}"


SQUEEZE = OpDef(
    "squeeze",
    rt.squeeze,
    vjp=lambda g, out, x, *, dim: (g.reshape(tuple(x.shape)),),
    shape=_squeeze_shape,
    promote="first",
    saves="none",
    is_view=True,
    backward_name=_squeeze_name,
)
UNSQUEEZE = OpDef(
    "unsqueeze",
    lambda x, *, dim: np.expand_dims(x, dim),
    vjp=lambda g, out, x, *, dim: (g.squeeze(dim),),
    spelling="np.expand_dims({0}, {dim})",
    shape=lambda s, *, dim: tuple(s[:dim]) + (1,) + tuple(s[dim:]),
    promote="first",
    saves="none",
    is_view=True,
)


@public("unsqueeze", methods=("unsqueeze",))
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim``."""
    return apply(UNSQUEEZE, input, dim=_wrap_dim(dim, input.ndim + 1))


@public("squeeze", methods=("squeeze",))
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove size-1 dimensions (only those in ``dim`` when given; others are kept)."""
    if isinstance(dim, (tuple, list)):
        dim = tuple(sorted({_wrap_dim(d, input.ndim) for d in dim}))
    elif dim is not None:
        dim = _wrap_dim(dim, input.ndim)
    return apply(SQUEEZE, input, dim=dim)


# ------------------------------------------------------------------ transpose / permute


def _permute_vjp(g, out, x, *, dims):
    return (g.permute(tuple(np.argsort(dims).tolist())),)


PERMUTE = OpDef(
    "permute",
    lambda x, *, dims: np.transpose(x, dims),
    vjp=_permute_vjp,
    spelling="np.transpose({0}, {dims})",
    shape=lambda s, *, dims: tuple(s[d] for d in dims),
    promote="first",
    saves="none",
    is_view=True,
    backward_name="PermuteBackward0",
)
TRANSPOSE = OpDef(
    "transpose",
    lambda x, *, dim0, dim1: np.swapaxes(x, dim0, dim1),
    vjp=lambda g, out, x, *, dim0, dim1: (g.transpose(dim0, dim1),),
    spelling="np.swapaxes({0}, {dim0}, {dim1})",
    shape=lambda s, *, dim0, dim1: _swapped(s, dim0, dim1),
    promote="first",
    saves="none",
    is_view=True,
)
T = OpDef(
    "t",
    lambda x: x.T,
    vjp=lambda g, out, x: (g.t(),),
    spelling="{0}.T",
    shape=lambda s: s[::-1],
    promote="first",
    saves="none",
    is_view=True,
)


def _swapped(shape, dim0, dim1):
    shape = list(shape)
    shape[dim0], shape[dim1] = shape[dim1], shape[dim0]
    return tuple(shape)


@public("permute", methods=("permute",))
def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dimensions."""
    dims = _sizes(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            "length of the desired ordering of dimensions i.e. input.dim() = "
            f"{input.ndim} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(_wrap_dim(d, input.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply(PERMUTE, input, dims=dims)


@public("transpose", methods=("transpose", "swapdims"))
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    ndim = input.ndim
    return apply(TRANSPOSE, input, dim0=_wrap_dim(dim0, ndim), dim1=_wrap_dim(dim1, ndim))


@public("swapdims")
def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Alias of ``transpose``."""
    return transpose(input, dim0, dim1)


@public("swapaxes", methods=("swapaxes",))
def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """Alias of ``transpose`` with numpy's argument names."""
    return transpose(input, axis0, axis1)


@public("t", methods=("t",))
def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dimensions."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return apply(T, input)


def _T(self: Tensor) -> Tensor:  # noqa: N802
    if self.ndim == 0:
        warnings.warn(
            "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",
            UserWarning,
            stacklevel=2,
        )
    elif self.ndim != 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
            "to reverse the dimensions of a tensor.",
            UserWarning,
            stacklevel=2,
        )
    return apply(PERMUTE, self, dims=tuple(range(self.ndim))[::-1])


def _mT(self: Tensor) -> Tensor:  # noqa: N802
    if self.ndim < 2:
        raise RuntimeError(
            "tensor.mT is only supported on matrices or batches of matrices. "
            f"Got {self.ndim}-D tensor."
        )
    return transpose(self, -2, -1)


Tensor.T = property(_T)
Tensor.mT = property(_mT)


@public("movedim", methods=("movedim",))
def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    source = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    destination = (
        (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    )
    if len(source) != len(destination):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(source)} dims) should "
            f"contain the same number of dims as destination ({list(destination)} dims)"
        )
    ndim = input.ndim
    source = tuple(_wrap_dim(d, ndim) for d in source)
    destination = tuple(_wrap_dim(d, ndim) for d in destination)
    for name, dims in (("source", source), ("destination", destination)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    order: list[int | None] = [None] * ndim
    for s, d in zip(source, destination, strict=True):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in source)
    return apply(PERMUTE, input, dims=tuple(next(rest) if o is None else o for o in order))


@public("moveaxis", methods=("moveaxis",))
def moveaxis(input: Tensor, source, destination) -> Tensor:
    """Alias of ``movedim``."""
    return movedim(input, source, destination)


# ------------------------------------------------------------------- expand / broadcast


def _expand_vjp(g, out, x, *, shape):
    return (g,)  # the engine sums the broadcast gradient to x's shape


EXPAND = OpDef(
    "expand",
    lambda x, *, shape: np.broadcast_to(x, shape),
    vjp=_expand_vjp,
    spelling="np.broadcast_to({0}, {shape})",
    shape=lambda s, *, shape: shape,
    promote="first",
    saves="none",
    is_view=True,
)


def expanded_shape(shape, sizes, dtype) -> tuple[int, ...]:
    """The shape ``expand(*sizes)`` gives a tensor of ``shape``, with torch's errors."""
    shape, sizes = tuple(shape), tuple(sizes)
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand(torch.{dtypes.LEGACY_NAMES[dtype.name]}{{{size_text(shape)}}}, "
            f"size={size_text(sizes)}): the number of sizes provided ({len(sizes)}) must be "
            f"greater or equal to the number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    for i in range(lead):
        if sizes[i] < 0:
            raise RuntimeError(
                f"The expanded size of the tensor ({sizes[i]}) isn't allowed in a leading, "
                f"non-existing dimension {i}"
            )
    target = tuple(shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    for i, n in enumerate(shape):
        if n != 1 and n != target[lead + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({target[lead + i]}) must match the existing "
                f"size ({n}) at non-singleton dimension {lead + i}.  Target sizes: "
                f"{size_text(sizes)}.  Tensor sizes: {size_text(shape)}"
            )
    return target


@public("expand", methods=("expand",))
def expand(input: Tensor, *sizes) -> Tensor:
    """A broadcast view with ``sizes`` (-1 keeps a dimension)."""
    shape = expanded_shape(tuple(input.shape), _sizes(sizes), input.dtype)
    return apply(EXPAND, input, shape=shape)


def _expand_as(self: Tensor, other: Tensor) -> Tensor:
    return expand(self, tuple(other.shape))


Tensor.expand_as = _expand_as


@public("broadcast_to", methods=("broadcast_to",))
def broadcast_to(input: Tensor, shape) -> Tensor:
    """``input.expand(shape)``."""
    return expand(input, tuple(shape))


# --------------------------------------------------------------------------- repeat / tile


def _repeat_vjp(g, out, x, *, repeats):
    # Each output dim is (repeat, size): sum the repeat halves back onto the input.
    padded = (1,) * (len(repeats) - x.ndim) + tuple(x.shape)
    split = tuple(n for pair in zip(repeats, padded, strict=True) for n in pair)
    summed = g.reshape(split).sum(tuple(range(0, len(split), 2)))
    return (summed.reshape(tuple(x.shape)),)


def _repeat_shape(s, *, repeats):
    padded = (1,) * (len(repeats) - len(s)) + tuple(s)
    return tuple(r * n for r, n in zip(repeats, padded, strict=True))


REPEAT = OpDef(
    "repeat",
    lambda x, *, repeats: np.tile(x, repeats),
    vjp=_repeat_vjp,
    spelling="np.tile({0}, {repeats})",
    shape=_repeat_shape,
    promote="first",
    saves="none",
)


def repeat(input: Tensor, *repeats) -> Tensor:
    """Tile the tensor ``repeats`` times along each dim (extra leading repeats add dims)."""
    repeats = _sizes(repeats)
    if len(repeats) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    shape = _repeat_shape(tuple(input.shape), repeats=repeats)
    if any(n < 0 for n in shape):
        negative = next(n for n in shape if n < 0)
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {negative}: {size_text(shape)}"
        )
    return apply(REPEAT, input, repeats=repeats)


Tensor.repeat = repeat


@public("tile", methods=("tile",))
def tile(input: Tensor, *dims) -> Tensor:
    """``repeat`` that accepts fewer repeats than dims (missing leading ones are 1)."""
    dims = _dims(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


# ----------------------------------------------------------------------------- flip / roll

FLIP = OpDef(
    "flip",
    lambda x, *, dims: np.flip(x, dims).copy(),
    vjp=lambda g, out, x, *, dims: (g.flip(dims),),
    spelling="np.flip({0}, {dims}).copy()",
    shape=lambda s, *, dims: s,
    promote="first",
    saves="none",
)


@public("flip", methods=("flip",))
def flip(input: Tensor, *dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in torch)."""
    wrapped = tuple(_wrap_dim(d, input.ndim) for d in _dims(dims))
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return apply(FLIP, input, dims=tuple(d for d in wrapped if input.ndim > 0))


@public("fliplr", methods=("fliplr",))
def fliplr(input: Tensor) -> Tensor:
    """Flip dim 1 (left/right)."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@public("flipud", methods=("flipud",))
def flipud(input: Tensor) -> Tensor:
    """Flip dim 0 (up/down)."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def _roll_vjp(g, out, x, *, shifts, dims):
    back = -shifts if dims is None else tuple(-s for s in shifts)
    return (apply(ROLL, g, shifts=back, dims=dims),)


ROLL = OpDef(
    "roll",
    lambda x, *, shifts, dims: np.roll(x, shifts, axis=dims),
    vjp=_roll_vjp,
    spelling="np.roll({0}, {shifts}, axis={dims})",
    shape=lambda s, *, shifts, dims: s,
    promote="first",
    saves="none",
)


@public("roll", methods=("roll",))
def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically along ``dims`` (of the flattened tensor when None)."""
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return apply(ROLL, input, shifts=int(shifts[0]), dims=None)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
        )
    dims = tuple(_wrap_dim(d, input.ndim) for d in dims)
    if input.ndim == 0:
        return apply(ROLL, input, shifts=0, dims=None)
    return apply(ROLL, input, shifts=tuple(int(s) for s in shifts), dims=dims)


# ------------------------------------------------------------------ diagonals, triangles


def _diagonal_numpy(x, *, offset, dim1, dim2):
    # A writable view (np.diagonal's is read-only), so in-place ops on it reach the input.
    matrices = np.moveaxis(x, (dim1, dim2), (-2, -1))
    matrices = matrices[..., :, offset:] if offset >= 0 else matrices[..., -offset:, :]
    n = min(matrices.shape[-2], matrices.shape[-1])
    return np.einsum("...ii->...i", matrices[..., :n, :n])


def _diagonal_shape(s, *, offset, dim1, dim2):
    rows, columns = s[dim1], s[dim2]
    n = max(min(rows, columns - offset) if offset >= 0 else min(rows + offset, columns), 0)
    return tuple(m for i, m in enumerate(s) if i not in (dim1, dim2)) + (n,)


def _diagonal_vjp(g, out, x, *, offset, dim1, dim2):
    return (apply(DIAG_EMBED, g, shape=tuple(x.shape), offset=offset, dim1=dim1, dim2=dim2),)


DIAGONAL = OpDef(
    "diagonal",
    _diagonal_numpy,
    vjp=_diagonal_vjp,
    spelling="np.diagonal({0}, {offset}, {dim1}, {dim2})",
    shape=_diagonal_shape,
    promote="first",
    saves="none",
    is_view=True,
)
DIAGONAL_COPY = OpDef(
    "diagonal_copy",
    lambda x, *, offset, dim1, dim2: np.diagonal(x, offset, dim1, dim2).copy(),
    vjp=_diagonal_vjp,
    spelling="np.diagonal({0}, {offset}, {dim1}, {dim2}).copy()",
    shape=_diagonal_shape,
    promote="first",
    saves="none",
    backward_name="DiagonalBackward0_copy",
)


DIAG_EMBED = OpDef(
    "diag_embed",
    rt.diag_embed,
    vjp=lambda g, out, x, *, shape, offset, dim1, dim2: (
        apply(DIAGONAL, g, offset=offset, dim1=dim1, dim2=dim2),
    ),
    shape=lambda s, *, shape, offset, dim1, dim2: shape,
    promote="first",
    saves="none",
    backward_name="DiagEmbedBackward0",
)


def _diagonal_dims(ndim: int, dim1: int, dim2: int) -> tuple[int, int]:
    first, second = _wrap_dim(dim1, ndim), _wrap_dim(dim2, ndim)
    if first == second:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return first, second


@public("diagonal", methods=("diagonal",))
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A view of the diagonal of the (``dim1``, ``dim2``) matrices, as the last dim; ``offset``
    > 0 is above the main diagonal."""
    first, second = _diagonal_dims(input.ndim, dim1, dim2)
    return apply(DIAGONAL, input, offset=int(offset), dim1=first, dim2=second)


@public("diagonal_copy")
def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """``diagonal`` as a new tensor instead of a view."""
    first, second = _diagonal_dims(input.ndim, dim1, dim2)
    return apply(DIAGONAL_COPY, input, offset=int(offset), dim1=first, dim2=second)


@public("diag_embed", methods=("diag_embed",))
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims ``dim1``, ``dim2`` of the result) whose ``offset`` diagonal is the
    last dim of ``input``; zeros elsewhere."""
    ndim = input.ndim + 1
    first, second = _diagonal_dims(ndim, dim1, dim2)
    size = (input.shape[-1] if input.ndim else 1) + abs(int(offset))
    rest = iter(tuple(input.shape)[:-1])
    shape = tuple(size if i in (first, second) else next(rest) for i in range(ndim))
    return apply(DIAG_EMBED, input, shape=shape, offset=int(offset), dim1=first, dim2=second)


@public("diag", methods=("diag",))
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor as a diagonal matrix, or the diagonal of a matrix (as a copy)."""
    if input.ndim == 1:
        n = input.shape[0] + abs(int(diagonal))
        return apply(DIAG_EMBED, input, shape=(n, n), offset=int(diagonal), dim1=0, dim2=1)
    if input.ndim == 2:
        return diagonal_copy(input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


TRIL = OpDef(
    "tril",
    lambda x, *, diagonal: np.tril(x, diagonal),
    vjp=lambda g, out, x, *, diagonal: (g.tril(diagonal),),
    spelling="np.tril({0}, {diagonal})",
    shape=lambda s, *, diagonal: s,
    promote="first",
    saves="none",
)
TRIU = OpDef(
    "triu",
    lambda x, *, diagonal: np.triu(x, diagonal),
    vjp=lambda g, out, x, *, diagonal: (g.triu(diagonal),),
    spelling="np.triu({0}, {diagonal})",
    shape=lambda s, *, diagonal: s,
    promote="first",
    saves="none",
)


@public("tril", methods=("tril",))
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements above the ``diagonal``-th diagonal of the last two dims."""
    if input.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return apply(TRIL, input, diagonal=int(diagonal))


@public("triu", methods=("triu",))
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements below the ``diagonal``-th diagonal of the last two dims."""
    if input.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return apply(TRIU, input, diagonal=int(diagonal))


# ------------------------------------------------------------------------ constant padding


def _constant_pad_shape(s, *, pad, value):
    shape = list(s)
    for k in range(len(pad) // 2):
        shape[len(s) - 1 - k] += pad[2 * k] + pad[2 * k + 1]
    return tuple(shape)


CONSTANT_PAD_ND = OpDef(
    "constant_pad_nd",
    rt.constant_pad,
    # Padding by the negated widths crops the padding away and pads back what was cropped.
    vjp=lambda g, out, x, *, pad, value: (
        apply(CONSTANT_PAD_ND, g, pad=tuple(-p for p in pad), value=0.0),
    ),
    shape=_constant_pad_shape,
    promote="first",
    saves="none",
)


def _pad_widths(pad, function: str) -> tuple[int, ...]:
    for position, p in enumerate(pad):
        if not isinstance(p, (int, np.integer)):
            raise TypeError(
                f"{function}(): argument 'pad' (position 2) must be tuple of ints, but found "
                f"element of type {type(p).__name__} at pos {position}"
            )
    return tuple(int(p) for p in pad)


def _check_padded_sizes(input: Tensor, pad: tuple[int, ...]) -> None:
    for k in range(len(pad) // 2):
        d = input.ndim - 1 - k
        if input.shape[d] + min(pad[2 * k], 0) + min(pad[2 * k + 1], 0) < 0:
            raise RuntimeError("narrow(): length must be non-negative.")


@public("constant_pad_nd")
def constant_pad_nd(input: Tensor, pad, value: float = 0) -> Tensor:
    """Pad with ``value``: ``pad`` is (before, after) per dim, last dim first; negative
    widths crop."""
    pad = _pad_widths(pad, "constant_pad_nd")
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) > 2 * input.ndim:
        raise RuntimeError(
            "Length of pad should be no more than twice the number of dimensions of the input. "
            f"Pad length is {len(pad)}while the input has {input.ndim}dimensions."
        )
    _check_padded_sizes(input, pad)
    return apply(CONSTANT_PAD_ND, input, pad=pad, value=value)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """torch.nn.functional.pad (constant mode): ``pad`` is (left, right, top, bottom, ...),
    last dim first; negative widths crop."""
    if mode != "constant":
        raise NotImplementedError(f"symgrad's pad supports mode='constant' only, not {mode!r}")
    widths = _pad_widths(pad, "pad")
    if len(widths) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(widths) > 2 * input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(widths)} and input of dimension {input.ndim}"
        )
    return constant_pad_nd(input, widths, 0 if value is None else value)


# ---------------------------------------------------------------------------- clone, casts


def _clone_numpy(x, *, order):
    return np.array(x, copy=True, order=order)


CLONE = OpDef(
    "clone",
    _clone_numpy,
    vjp=lambda g, out, x, *, order: (g,),
    spelling="np.array({0}, order={order})",
    promote="first",
    saves="none",
)


@public("clone", methods=("clone",))
def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy that does not share memory (its gradient flows back to ``input``); it keeps the
    input's memory layout, as torch's preserve_format does."""
    return apply(CLONE, input, order="K")


def _contiguous(self: Tensor, memory_format=None) -> Tensor:
    """Self when C-contiguous, else a C-contiguous copy."""
    return self if self._is_symbolic or self.is_contiguous() else apply(CLONE, self, order="C")


Tensor.contiguous = _contiguous

TO_DTYPE = OpDef(
    "to_dtype",
    lambda x, *, dtype: x.astype(dtype.numpy),
    vjp=lambda g, out, x, *, dtype: (g.to(x.dtype),),
    spelling="{0}.astype({dtype})",
    promote=lambda x, *, dtype: (None, dtype),
    saves="none",
    backward_name="ToCopyBackward0",
    elementwise=True,
    cost="cheap",
    fresh_result=True,
)


def to(self: Tensor, *args, dtype=None, device=None, copy: bool = False, **kwargs) -> Tensor:
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``: the CPU is the only
    device, so a device changes nothing (another raises torch's error)."""
    for a in args:
        if isinstance(a, (dtypes.dtype, type)) or _is_numpy_dtype(a):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        else:
            devices.check(devices.CPU if a is None else a)
    if device is not None:
        devices.check(device)
    if dtype is None:
        return clone(self) if copy else self
    dtype = dtypes.as_dtype(dtype)
    if dtype is self.dtype and not copy:
        return self
    return apply(TO_DTYPE, self, dtype=dtype)


def _cuda(self: Tensor, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
    raise devices.unavailable(devices.device("cuda"))


def _is_numpy_dtype(value) -> bool:
    try:
        return isinstance(value, np.dtype) or (
            isinstance(value, type) and issubclass(value, np.generic)
        )
    except TypeError:
        return False


def _type_cast(dtype):
    def method(self: Tensor, memory_format=None) -> Tensor:
        return to(self, dtype)

    return method


Tensor.to = to
Tensor.type = lambda self, dtype=None: (
    f"torch.{dtypes.LEGACY_NAMES[self.dtype.name]}" if dtype is None else to(self, dtype)
)
Tensor.float = _type_cast(dtypes.float32)
Tensor.double = _type_cast(dtypes.float64)
Tensor.half = _type_cast(dtypes.float16)
Tensor.long = _type_cast(dtypes.int64)
Tensor.int = _type_cast(dtypes.int32)
Tensor.bool = _type_cast(dtypes.bool_)
Tensor.cpu = lambda self, memory_format=None: self
Tensor.cuda = _cuda
Tensor.is_cpu = property(lambda self: True)
Tensor.get_device = lambda self: -1  # torch's answer for a CPU tensor
