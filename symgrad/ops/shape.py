"""Shape ops: reshape/view, transpose/permute, expand, squeeze/unsqueeze, clone, casts.

Ops marked ``is_view`` return numpy views that share the input's storage, as torch's views do.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _wrap_dim
from .registry import OpDef, apply, public


def _sizes(args) -> tuple[int, ...]:
    """Sizes given as varargs or as one sequence: ``view(2, 3)`` or ``view((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


def infer_shape(shape, numel: int) -> tuple[int, ...]:
    """Resolve one -1 in a requested shape, with torch's errors."""
    shape = tuple(shape)
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = int(np.prod([n for n in shape if n != -1], dtype=np.int64))
    if unknown:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[: unknown[0]] + (numel // known,) + shape[unknown[0] + 1 :]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _reshape_vjp(g, out, x, *, shape):
    return (g.reshape(tuple(x.shape)),)


RESHAPE = OpDef(
    "reshape",
    lambda x, *, shape: np.reshape(x, shape),
    vjp=_reshape_vjp,
    spelling="np.reshape({0}, {shape})",
    shape=lambda s, *, shape: shape,
    promote="first",
    saves="none",
    is_view=True,
    backward_name="ViewBackward0",
)


@public("reshape", methods=("reshape",))
def reshape(input: Tensor, *shape) -> Tensor:
    """The same data with another shape (one dim may be -1)."""
    return apply(RESHAPE, input, shape=infer_shape(_sizes(shape), input.numel()))


def _view(self: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        raise NotImplementedError("view(dtype) reinterprets bits; symgrad supports view(shape)")
    return reshape(self, *shape)


Tensor.view = _view


def _view_as(self: Tensor, other: Tensor) -> Tensor:
    return reshape(self, tuple(other.shape))


Tensor.view_as = _view_as
Tensor.reshape_as = _view_as


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
    dims = tuple(_wrap_dim(d, input.ndim) for d in _sizes(dims))
    if sorted(dims) != list(range(input.ndim)):
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            "length of the desired ordering of dimensions i.e. input.dim() = "
            f"{input.ndim} is not equal to len(dims) = {len(dims)}"
            if len(dims) != input.ndim
            else "permute(): duplicate dims are not allowed."
        )
    return apply(PERMUTE, input, dims=dims)


@public("transpose", methods=("transpose", "swapaxes", "swapdims"))
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    ndim = input.ndim
    return apply(TRANSPOSE, input, dim0=_wrap_dim(dim0, ndim), dim1=_wrap_dim(dim1, ndim))


@public("t", methods=("t",))
def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dimensions."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return apply(T, input)


def _T(self: Tensor) -> Tensor:  # noqa: N802
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


@public("expand", methods=("expand",))
def expand(input: Tensor, *sizes) -> Tensor:
    """A broadcast view with ``sizes`` (-1 keeps a dimension)."""
    sizes = _sizes(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{[{', '.join(map(str, input.shape))}]}}, "
            f"size=[{', '.join(map(str, sizes))}]): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the "
            f"tensor ({input.ndim})"
        )
    lead = len(sizes) - input.ndim
    shape = tuple(
        input.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes)
    )
    for i, n in enumerate(input.shape):
        if n != 1 and n != shape[lead + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[lead + i]}) must match the existing "
                f"size ({n}) at non-singleton dimension {lead + i}.  Target sizes: "
                f"[{', '.join(map(str, sizes))}].  Tensor sizes: "
                f"[{', '.join(map(str, input.shape))}]"
            )
    if shape == tuple(input.shape):
        return input
    return apply(EXPAND, input, shape=shape)


def _expand_as(self: Tensor, other: Tensor) -> Tensor:
    return expand(self, tuple(other.shape))


Tensor.expand_as = _expand_as


@public("unsqueeze", methods=("unsqueeze",))
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim``."""
    dim = _wrap_dim(dim, input.ndim + 1)
    shape = tuple(input.shape[:dim]) + (1,) + tuple(input.shape[dim:])
    return apply(RESHAPE, input, shape=shape)


@public("squeeze", methods=("squeeze",))
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove size-1 dimensions (only those in ``dim`` when given)."""
    if dim is None:
        dims = range(input.ndim)
    elif isinstance(dim, (tuple, list)):
        dims = {_wrap_dim(d, input.ndim) for d in dim}
    else:
        dims = {_wrap_dim(dim, input.ndim)}
    shape = tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1))
    return apply(RESHAPE, input, shape=shape)


def _clone_vjp(g, out, x):
    return (g,)


CLONE = OpDef(
    "clone",
    lambda x: np.array(x, copy=True),
    vjp=_clone_vjp,
    spelling="{0}.copy()",
    promote="first",
    saves="none",
)


@public("clone", methods=("clone",))
def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy that does not share memory (its gradient flows back to ``input``)."""
    return apply(CLONE, input)


def _contiguous(self: Tensor, memory_format=None) -> Tensor:
    return self if self.is_contiguous() else clone(self)


Tensor.contiguous = _contiguous

TO_DTYPE = OpDef(
    "to_dtype",
    lambda x, *, dtype: x.astype(dtype.numpy),
    vjp=lambda g, out, x, *, dtype: (g.to(x.dtype),),
    spelling="{0}.astype(np.{dtype.name})",
    promote=lambda x, *, dtype: (None, dtype),
    saves="none",
    backward_name="ToCopyBackward0",
)


def to(self: Tensor, *args, dtype=None, copy: bool = False, **kwargs) -> Tensor:
    """``to(dtype)``; a device argument of "cpu" is accepted and changes nothing."""
    for a in args:
        if isinstance(a, (dtypes.dtype, type)) or _is_numpy_dtype(a):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif a not in ("cpu", None):
            raise RuntimeError(f"symgrad runs on the CPU only; got device {a!r}")
    if dtype is None:
        return clone(self) if copy else self
    dtype = dtypes.as_dtype(dtype)
    if dtype is self.dtype and not copy:
        return self
    return apply(TO_DTYPE, self, dtype=dtype)


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
Tensor.cpu = lambda self: self
