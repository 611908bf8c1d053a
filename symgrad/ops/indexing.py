"""Indexing: ``t[index]`` (basic indices give views), ``t[index] = value`` with autograd, and
the index-tensor ops gather, scatter, scatter_add, index_select, index_add, masked_fill,
take_along_dim, take, select and masked_select.

A ``t[...]`` key is read as torch reads it and checked against the tensor's shape with torch's
messages. Its ints, slices, None and ... become ``Index``, a hashable op attribute; its
advanced parts (index tensors, lists, arrays; boolean masks as their ``nonzero()`` positions)
become integer tensor *inputs* of the op, marked by ``TENSOR`` in the Index, so a compiled
function takes new indices without a new graph. Gradients of indexing scatter-add: repeated
indices accumulate.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes, grad_mode
from ..ir.trace import TracingError
from ..tensor import Tensor, _wrap_dim
from . import numpy_runtime as rt
from .elementwise import where
from .inplace import inplace
from .registry import OpDef, apply, broadcast_error, public
from .shape import CONSTANT_PAD_ND, expanded_shape, size_text

# ---------------------------------------------------------------------------------- Index

INDEX_TYPES = (
    "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
    "indices (got {})"
)
INDEX_TENSOR_TYPES = "tensors used as indices must be long, int, byte or bool tensors"
SEQUENCE_AS_TUPLE = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
    "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be "
    "interpreted as tensor index, x[torch.tensor(seq)], which will result either in an error or "
    "a different result"
)
# Stands in an Index for the next integer index tensor among the op's inputs (a string, so
# generated code can print it).
TENSOR = "tensor"


class Index:
    """The static part of a key: ints, slices, None, Ellipsis, and ``TENSOR`` where an index
    tensor input goes."""

    __slots__ = ("items", "node_name")

    def __init__(self, items: tuple, node_name: str | None = None):
        self.items = items
        # The torch node name of the function that indexes (split, unbind ...); not part of
        # the index's identity.
        self.node_name = node_name

    @classmethod
    def from_user(cls, key, shape, masks=False) -> tuple[Index, tuple[Tensor, ...]]:
        """Read ``key`` as torch does, check it against ``shape`` with torch's errors, and
        split it into an Index and its index tensors: integer ones, and boolean masks as
        their ``nonzero()`` positions unless ``masks`` keeps them (an assignment through a
        mask has a shape known before the mask's values are)."""
        items = tuple(_normalize(k) for k in _as_tuple(key))
        _check(items, tuple(shape))
        static, tensors = [], []
        for item in items:
            if isinstance(item, Tensor):
                if item.dtype is dtypes.bool_ and not masks:
                    item._concrete("indexing with a boolean mask (the result's shape)")
                static.append(TENSOR)
                tensors.append(item)
            elif isinstance(item, np.ndarray) and item.dtype == np.bool_:
                if item.ndim == 0:  # True/False: a new dim of size 1/0 (numpy's meaning too)
                    static.append(bool(item))
                elif masks:
                    static.append(TENSOR)
                    tensors.append(Tensor._wrap(item))
                else:
                    static += [TENSOR] * item.ndim
                    tensors += [Tensor._wrap(positions) for positions in np.nonzero(item)]
            elif isinstance(item, np.ndarray):
                static.append(TENSOR)
                tensors.append(Tensor._wrap(item))
            else:
                static.append(item)
        return cls(tuple(static)), tuple(tensors)

    @property
    def is_advanced(self) -> bool:
        return any(isinstance(i, (str, bool)) for i in self.items)

    @property
    def is_alias(self) -> bool:
        """Only Ellipsis (or nothing): the whole tensor."""
        return all(i is Ellipsis for i in self.items)

    def _key(self) -> tuple:
        return tuple(_item_key(i) for i in self.items)

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other) -> bool:
        return isinstance(other, Index) and self._key() == other._key()

    def __repr__(self) -> str:
        return "[" + ", ".join(_item_text(i) for i in self.items) + "]"

    def backward_name(self, shape=()) -> str:
        """torch's node name: that of the last view op its indexing applies."""
        if self.node_name is not None:
            return self.node_name
        if self.is_advanced:
            return "IndexBackward0"
        if len(self.items) == 1:
            return _view_name(self.items[0]) or "AliasBackward0"
        # In a tuple index torch skips the slices that select a whole dim.
        used = sum(_dims_used(i) for i in self.items)
        name, dim = "AliasBackward0", 0
        for item in self.items:
            if item is Ellipsis:
                dim += len(shape) - used
                continue
            if not (isinstance(item, slice) and item.indices(shape[dim]) == (0, shape[dim], 1)):
                name = _view_name(item)
            dim += _dims_used(item)
        return name


def _check(items: tuple, shape: tuple[int, ...]) -> None:
    """Raise torch's error for a normalized key that does not fit a tensor of ``shape``."""
    ndim = len(shape)
    used = sum(_dims_used(i) for i in items)
    if used > ndim:
        if ndim == 0 and any(isinstance(i, (int, np.ndarray, Tensor)) for i in items):
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
            )
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    dim = 0
    advanced_shapes = []
    index_tensors = 0  # torch numbers an index tensor's dim among the index tensors
    for item in items:
        if item is Ellipsis:
            dim += ndim - used
        elif isinstance(item, slice):
            if item.step is not None and item.step <= 0:
                raise ValueError(
                    "slice step cannot be zero"
                    if item.step == 0
                    else "step must be greater than zero"
                )
            dim += 1
        elif isinstance(item, int):
            if not -shape[dim] <= item < shape[dim]:
                raise IndexError(
                    f"index {item} is out of bounds for dimension {dim} with size {shape[dim]}"
                )
            dim += 1
        elif _is_mask(item):
            for j in range(item.ndim):
                if item.shape[j] != shape[dim + j]:
                    raise IndexError(
                        f"The shape of the mask {size_text(item.shape)} at index {j} does not "
                        f"match the shape of the indexed tensor {size_text(shape)} at index "
                        f"{dim + j}"
                    )
            if isinstance(item, np.ndarray):  # a traced mask's count is not known yet
                advanced_shapes += [(int(item.sum()),)] * item.ndim
            index_tensors += item.ndim
            dim += item.ndim
        elif isinstance(item, (np.ndarray, Tensor)):
            if isinstance(item, np.ndarray):  # a traced index tensor is checked by numpy
                _check_bounds(item, index_tensors, shape[dim])
            advanced_shapes.append(tuple(item.shape))
            index_tensors += 1
            dim += 1
    if len(advanced_shapes) < 2:
        return
    try:
        np.broadcast_shapes(*advanced_shapes)
    except ValueError:
        raise IndexError(
            "shape mismatch: indexing tensors could not be broadcast together with shapes "
            + ", ".join(size_text(s) for s in advanced_shapes)
        ) from None


def _item_key(item):
    if isinstance(item, slice):
        return ("slice", item.start, item.stop, item.step)
    if isinstance(item, bool):  # True == 1, but x[True] is not x[1]
        return ("bool", item)
    return item


def _view_name(item) -> str | None:
    if isinstance(item, int):
        return "SelectBackward0"
    if isinstance(item, slice):
        return "SliceBackward0"
    if item is None:
        return "UnsqueezeBackward0"
    return None


def _dims_used(item) -> int:
    if item is None or item is Ellipsis:
        return 0
    return item.ndim if _is_mask(item) else 1


def _is_mask(item) -> bool:
    if isinstance(item, np.ndarray):
        return item.dtype == np.bool_
    return isinstance(item, Tensor) and item.dtype is dtypes.bool_


def _check_bounds(values: np.ndarray, label: int, size: int) -> None:
    outside = values[(values < -size) | (values >= size)]
    if outside.size:
        raise IndexError(
            f"index {outside.flat[0]} is out of bounds for dimension {label} with size {size}"
        )


def _as_tuple(key) -> tuple:
    """torch reads a short list holding sequences, tensors, slices, None or ... as a tuple."""
    if isinstance(key, tuple):
        return key
    if isinstance(key, list) and len(key) < 32:
        if any(
            isinstance(k, (Tensor, list, tuple, np.ndarray, slice)) or k is None or k is Ellipsis
            for k in key
        ):
            warnings.warn(SEQUENCE_AS_TUPLE, UserWarning, stacklevel=4)
            return tuple(key)
    return (key,)


def _normalize(item):
    """One key item as an int, slice, None, Ellipsis, ndarray (integer or bool), or an integer
    or bool Tensor whose values are not known yet (while tracing)."""
    if isinstance(item, Tensor):
        if item._is_symbolic and item.dtype in (dtypes.int64, dtypes.int32, dtypes.bool_):
            return item
        item = item._concrete("indexing with a tensor")
        if item.ndim == 0 and item.dtype in (np.int64, np.int32):
            return int(item)
        return _index_array(item)
    if isinstance(item, (list, range)):  # torch reads a range as the list of its values
        array = np.asarray(item)
        return _index_array(array if array.size else array.astype(np.int64))
    if isinstance(item, np.ndarray):
        return _index_array(item)
    if isinstance(item, (bool, np.bool_)):
        return np.asarray(item)
    if isinstance(item, (int, np.integer)):
        return int(item)
    if isinstance(item, slice):
        bounds = (item.start, item.stop, item.step)
        return slice(*(None if v is None else _slice_bound(v) for v in bounds))
    if item is None or item is Ellipsis:
        return item
    raise IndexError(INDEX_TYPES.format(type(item).__name__))


def _slice_bound(value) -> int:
    if isinstance(value, Tensor):
        value = value._concrete("a slice bound")
    return value if isinstance(value, int) else int(value.__index__())


def _index_array(array: np.ndarray) -> np.ndarray:
    if array.dtype not in (np.int64, np.int32, np.uint8, np.bool_):
        raise IndexError(INDEX_TENSOR_TYPES)
    if array.dtype == np.uint8:
        warnings.warn(
            "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
            "instead.",
            UserWarning,
            stacklevel=5,
        )
        return array.astype(np.bool_)
    return array


def _item_text(item) -> str:
    if isinstance(item, slice):
        parts = ["" if v is None else str(v) for v in (item.start, item.stop)]
        text = ":".join(parts)
        return text + (f":{item.step}" if item.step is not None else "")
    if item is Ellipsis:
        return "..."
    return repr(item)


# ------------------------------------------------------------- t[index] with basic indices


def _getitem_numpy(x, *, index):
    key = getattr(index, "items", index)
    # A trailing ... keeps an all-integer index a 0-d view (not a copied numpy scalar).
    if not any(k is Ellipsis for k in key):
        key = key + (Ellipsis,)
    return x[key]


def _getitem_shape(shape, *, index):
    return np.broadcast_to(np.empty((), np.bool_), shape)[getattr(index, "items", index)].shape


def _subscript_item(item) -> str:
    if isinstance(item, slice):
        start, stop, step = (
            "" if v is None else str(int(v)) for v in (item.start, item.stop, item.step)
        )
        return f"{start}:{stop}" + (f":{step}" if step else "")
    if item is Ellipsis:
        return "..."
    if item is None or isinstance(item, bool):
        return repr(item)
    return str(int(item))


def _getitem_spelling(operands, *, index) -> str:
    """``x[1:, None]`` in generated code (an all-integer index keeps a trailing ``...`` so
    that it gives a 0-d view, as the eager code does)."""
    items = index.items
    if all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in items):
        items = items + (Ellipsis,)
    return f"{operands[0]}[{', '.join(_subscript_item(i) for i in items)}]"


GETITEM = OpDef(
    "getitem",
    _getitem_numpy,
    vjp=lambda g, out, x, *, index: (apply(INDEX_BACKWARD, g, shape=tuple(x.shape), index=index),),
    spelling=_getitem_spelling,
    shape=_getitem_shape,
    promote="first",
    saves="none",
    is_view=True,
    backward_name=lambda args, attrs: attrs["index"].backward_name(tuple(args[0].shape)),
)

# -------------------------------------------------------- t[index] with index tensors (copy)


def _index_shape(shape, *index_shapes, index):
    rest = iter(index_shapes)
    key = tuple(
        np.zeros(next(rest), np.intp) if isinstance(k, str) else k
        for k in getattr(index, "items", index)
    )
    return np.broadcast_to(np.empty((), np.bool_), shape)[key].shape


def _index_vjp(g, out, x, *indices, index):
    grad = apply(INDEX_BACKWARD, g, *indices, shape=tuple(x.shape), index=index)
    return (grad,) + (None,) * len(indices)


# Index tensors (any number of them) follow the input: none is differentiable, and torch's
# node has an edge for the input only.
INDEX_TENSORS_AFTER_INPUT = range(1, 2**31)
INDEX_TENSORS_AFTER_VALUE = range(2, 2**31)


INDEX = OpDef(
    "index",
    rt.index,
    vjp=_index_vjp,
    shape=_index_shape,
    promote="first",
    nondifferentiable_inputs=INDEX_TENSORS_AFTER_INPUT,
    check=rt.check_index_tensors,
    backward_name=lambda args, attrs: attrs["index"].backward_name(),
)


def _index_backward_vjp(g, out, grad, *indices, shape, index):
    picked = apply(INDEX if index.is_advanced else GETITEM, g, *indices, index=index)
    return (picked,) + (None,) * len(indices)


INDEX_BACKWARD = OpDef(
    "index_backward",
    rt.index_backward,
    vjp=_index_backward_vjp,
    shape=lambda s, *index_shapes, shape, index: shape,
    promote="first",
)

# ---------------------------------------------------------------------- t[index] = value


def _value_gradient(g, value, indices, index):
    """The region of ``g`` that ``value`` was written to, as ``value``'s gradient (which the
    engine sums over broadcast dims)."""
    if not hasattr(value, "shape"):  # a Python number
        return None
    shape = tuple(value.shape)
    while shape and shape[0] == 1:  # torch drops a value's leading 1s before assigning
        shape = shape[1:]
    if index.items == (TENSOR,) and indices[0].dtype is dtypes.bool_:
        mask = indices[0]
        kept = g.ndim - mask.ndim
        if len(shape) <= kept:
            # The value is broadcast over the masked positions: sum them, in a form whose
            # shape does not depend on how many there are (so it compiles).
            region = where(mask.reshape(tuple(mask.shape) + (1,) * kept), g, 0.0)
            region = region.sum(tuple(range(mask.ndim)))
            return _with_leading_ones(region, len(value.shape))
    if any(i.dtype is dtypes.bool_ and i._is_symbolic for i in indices):
        raise TracingError(
            "symgrad.compile cannot differentiate a value assigned through a boolean mask "
            "within a larger index: the gradient's shape depends on the mask's values.\n"
            "symgrad hint: write symgrad.where(mask, value, x) instead."
        )
    region = apply(INDEX if index.is_advanced else GETITEM, g, *indices, index=index)
    return _with_leading_ones(region, len(value.shape))


def _with_leading_ones(region: Tensor, ndim: int) -> Tensor:
    if ndim <= region.ndim:
        return region
    return region.reshape((1,) * (ndim - region.ndim) + tuple(region.shape))


SETITEM = OpDef(
    "setitem",
    rt.setitem,
    vjp=lambda g, out, x, value, *, index: (
        apply(SETITEM, g, 0.0, index=index),
        _value_gradient(g, value, (), index),
    ),
    shape=lambda s, v, *, index: s,
    promote=lambda x, value, **attrs: (None, x.dtype),
    saves="none",
    backward_name="CopySlices",
)


def _index_put_vjp(g, out, x, value, *indices, index):
    rest = apply(INDEX_PUT, g, 0.0, *indices, index=index)
    return (rest, _value_gradient(g, value, indices, index)) + (None,) * len(indices)


INDEX_PUT = OpDef(
    "index_put",
    rt.index_put,
    vjp=_index_put_vjp,
    shape=lambda s, v, *index_shapes, index: s,
    promote=lambda x, value, *indices, **attrs: (None, x.dtype),
    nondifferentiable_inputs=INDEX_TENSORS_AFTER_VALUE,
    wraps_numbers=True,  # t[mask] = 2.0: torch's value is a (wrapped) tensor
)


def getitem(self: Tensor, key) -> Tensor:
    """``t[key]`` as torch indexes: basic indices give views, index tensors and masks copies."""
    index, tensors = Index.from_user(key, self.shape)
    if index.is_advanced:
        return apply(INDEX, self, *tensors, index=index)
    return apply(GETITEM, self, index=index)


def setitem(self: Tensor, key, value) -> None:
    """``t[key] = value`` in place, recorded for autograd (gradients reach both ``t``'s
    old value outside the region and ``value``)."""
    index, tensors = Index.from_user(key, self.shape, masks=True)
    if (
        grad_mode.is_recording()
        and self._requires_grad
        and self._grad_fn is None
        and self._base is None
        and not index.is_advanced
        and not index.is_alias
    ):
        # torch writes a basic index through a view of the leaf.
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )
    if isinstance(value, (np.ndarray, list, tuple)):
        value = Tensor._wrap(np.asarray(value).astype(self._data.dtype))
    if isinstance(value, Tensor):  # numpy casts it to self's dtype as it assigns
        region = _region_shape(tuple(self.shape), index, tensors)
        if region is not None:
            _check_assignable(tuple(value.shape), region, index.is_advanced, value.dtype)
    if index.is_advanced:
        inplace(self, INDEX_PUT, value, *tensors, index=index)
    else:
        inplace(self, SETITEM, value, index=index)


def _region_shape(shape, index: Index, tensors) -> tuple[int, ...] | None:
    """The shape of ``t[key]`` (None while a traced mask's count is unknown)."""
    arrays = []
    for t in tensors:
        if t._is_symbolic:
            if t.dtype is dtypes.bool_:
                return None
            arrays.append(np.zeros(tuple(t.shape), np.intp))
        else:
            arrays.append(t._data)
    rest = iter(arrays)
    key = tuple(next(rest) if isinstance(k, str) else k for k in index.items)
    return np.broadcast_to(np.empty((), np.bool_), shape)[key].shape


def _check_assignable(value_shape, region, advanced: bool, dtype) -> None:
    while value_shape and value_shape[0] == 1 and len(value_shape) > len(region):
        value_shape = value_shape[1:]
    if advanced:
        if len(value_shape) > len(region) or any(
            v not in (1, r) for v, r in zip(value_shape[::-1], region[::-1], strict=False)
        ):
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {size_text(value_shape)} cannot be "
                f"broadcast to indexing result of shape {size_text(region)}"
            )
        return
    expanded_shape(value_shape, region, dtype)  # torch expands the value: its errors


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem


# ------------------------------------------------------------------- index-tensor checks

_CPP_NAMES = {
    "float32": "float",
    "float64": "double",
    "float16": "c10::Half",
    "int64": "long int",
    "int32": "int",
    "int16": "short int",
    "int8": "signed char",
    "uint8": "unsigned char",
    "bool": "bool",
}
_SCALAR_NAMES = {
    "float32": "Float",
    "float64": "Double",
    "float16": "Half",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}


def _is_integer_index(index: Tensor) -> bool:
    return index.dtype in (dtypes.int64, dtypes.int32)


def _check_no_larger(index: Tensor, input: Tensor, dim: int, src: Tensor | None = None) -> None:
    for d in range(index.ndim):
        too_large = d != dim and index.shape[d] > input.shape[d]
        if too_large or (src is not None and index.shape[d] > src.shape[d]):
            message = (
                f"Expected index {size_text(index.shape)} to be no larger than self "
                f"{size_text(input.shape)} apart from dimension {dim}"
            )
            if src is not None:
                message += f" and to be no larger size than src {size_text(src.shape)}"
            raise RuntimeError(message)


def _padded_to(grad: Tensor, shape) -> Tensor:
    """A gradient of an index's shape, zero-padded to a larger source's shape."""
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    pad = tuple(p for d in reversed(range(len(shape))) for p in (0, shape[d] - grad.shape[d]))
    return apply(CONSTANT_PAD_ND, grad, pad=pad, value=0.0)


# -------------------------------------------------------------------------------- gather


GATHER = OpDef(
    "gather",
    rt.gather,
    vjp=lambda g, out, x, index, *, dim: (
        apply(GATHER_BACKWARD, g, index, shape=tuple(x.shape), dim=dim),
        None,
    ),
    shape=lambda s, i, *, dim: tuple(i),
    promote="first",
    nondifferentiable_inputs=(1,),
    check=rt.check_gather_index,
)
GATHER_BACKWARD = OpDef(
    "gather_backward",
    rt.gather_backward,
    vjp=lambda g, out, grad, index, *, shape, dim: (apply(GATHER, g, index, dim=dim), None),
    shape=lambda s, i, *, shape, dim: shape,
    promote="first",
    nondifferentiable_inputs=(1,),
    # torch computes this gradient as zeros.scatter_add(dim, index, grad).
    backward_name="ScatterAddBackward0",
)


@public("gather", methods=("gather",))
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` (for dim 0): values picked along ``dim``."""
    if not _is_integer_index(index):
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    if index.ndim != input.ndim and not (index.ndim == 0 and input.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    dim = _wrap_dim(dim, max(input.ndim, 1))
    for d in range(index.ndim):
        if d != dim and index.shape[d] > input.shape[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {size_text(index.shape)} "
                f"to be no larger than self {size_text(input.shape)} apart from dimension {dim}"
            )
    return apply(GATHER, input, index, dim=dim)


# ------------------------------------------------------------------- scatter, scatter_add


def _scatter_vjp(g, out, x, index, src, *, dim):
    rest = apply(SCATTER, g, index, 0.0, dim=dim)
    if not isinstance(src, Tensor):
        return (rest, None, None)
    return (rest, None, _padded_to(apply(GATHER, g, index, dim=dim), src.shape))


SCATTER = OpDef(
    "scatter",
    rt.scatter,
    vjp=_scatter_vjp,
    shape=lambda s, i, v, *, dim: tuple(s),
    promote="first",
    nondifferentiable_inputs=(1,),
    check=rt.check_scatter_index,
    backward_name=lambda args, attrs: (
        "ScatterBackward0" if isinstance(args[2], Tensor) else "ScatterBackward1"
    ),
)


SCATTER_ADD = OpDef(
    "scatter_add",
    rt.scatter_add,
    vjp=lambda g, out, x, index, src, *, dim: (
        g,
        None,
        _padded_to(apply(GATHER, g, index, dim=dim), src.shape),
    ),
    shape=lambda s, i, v, *, dim: tuple(s),
    promote="first",
    nondifferentiable_inputs=(1,),
    check=rt.check_scatter_index,
)


def _scatter_arguments(input: Tensor, dim: int, index: Tensor, src) -> int:
    """Check a scatter's arguments with torch's messages; returns the wrapped dim."""
    if not _is_integer_index(index):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if isinstance(src, Tensor) and src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    dim = _wrap_dim(dim, max(input.ndim, 1))
    if index.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if isinstance(src, Tensor) and src.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    _check_no_larger(index, input, dim, src if isinstance(src, Tensor) else None)
    return dim


def _scatter_source(src, value):
    if src is None and value is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' or 'value'")
    return value if src is None else src


@public("scatter", methods=("scatter",))
def scatter(input: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce=None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or the number ``value``) written at
    ``index`` along ``dim``."""
    if reduce is not None:
        raise NotImplementedError("symgrad's scatter has no reduce=; use scatter_add")
    src = _scatter_source(src, value)
    dim = _scatter_arguments(input, dim, index, src)
    return apply(SCATTER, input, index, src, dim=dim)


def _scatter_(self: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce=None):
    if reduce is not None:
        raise NotImplementedError("symgrad's scatter_ has no reduce=; use scatter_add_")
    src = _scatter_source(src, value)
    dim = _scatter_arguments(self, dim, index, src)
    return inplace(self, SCATTER, index, src, dim=dim)


@public("scatter_add", methods=("scatter_add",))
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    dim = _scatter_arguments(input, dim, index, src)
    return apply(SCATTER_ADD, input, index, src, dim=dim)


def _scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor):
    dim = _scatter_arguments(self, dim, index, src)
    return inplace(self, SCATTER_ADD, index, src, dim=dim)


Tensor.scatter_ = _scatter_
Tensor.scatter_add_ = _scatter_add_


# ---------------------------------------------------------------- index_select, index_add


INDEX_SELECT = OpDef(
    "index_select",
    rt.index_select,
    vjp=lambda g, out, x, index, *, dim: (
        apply(INDEX_SELECT_BACKWARD, g, index, shape=tuple(x.shape), dim=dim),
        None,
    ),
    shape=lambda s, i, *, dim: tuple(s[:dim]) + tuple(i) + tuple(s[dim + 1 :]) if s else (),
    promote="first",
    nondifferentiable_inputs=(1,),
    check=rt.check_select_index,
)
INDEX_SELECT_BACKWARD = OpDef(
    "index_select_backward",
    rt.index_select_backward,
    vjp=lambda g, out, grad, index, *, shape, dim: (
        apply(INDEX_SELECT, g, index, dim=dim),
        None,
    ),
    shape=lambda s, i, *, shape, dim: shape,
    promote="first",
    nondifferentiable_inputs=(1,),
    # torch computes this gradient as zeros.index_add(dim, index, grad).
    backward_name="IndexAddBackward0",
)


@public("index_select", methods=("index_select",))
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries ``index`` (a vector) of dim ``dim``; repeated indices repeat entries."""
    if not _is_integer_index(index):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    dim = _wrap_dim(dim, max(input.ndim, 1))
    if input.ndim and index.ndim == 0:
        index = index.reshape(1)
    return apply(INDEX_SELECT, input, index, dim=dim)


def _index_add_vjp(g, out, x, index, source, *, dim, alpha):
    picked = apply(INDEX_SELECT, g, index, dim=dim)
    return (g, None, picked if alpha == 1 else picked * alpha)


INDEX_ADD = OpDef(
    "index_add",
    rt.index_add,
    vjp=_index_add_vjp,
    shape=lambda s, i, v, *, dim, alpha: tuple(s),
    promote="first",
    nondifferentiable_inputs=(1,),
    check=rt.check_index_add_index,
)


def _index_add_arguments(input: Tensor, dim: int, index: Tensor, source: Tensor):
    if not _is_integer_index(index):
        raise RuntimeError(
            "index_add_(): Expected dtype int32/int64 for index but got: "
            f"{_SCALAR_NAMES[index.dtype.name]}"
        )
    if index.ndim > 1:
        raise IndexError(
            f"index_add_(): Index is supposed to be a vector, but got dim: {index.ndim} with "
            f"type: {_SCALAR_NAMES[index.dtype.name]} and size: {size_text(index.shape)}"
        )
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"index_add_(): self ({_SCALAR_NAMES[input.dtype.name]}) and source "
            f"({_SCALAR_NAMES[source.dtype.name]}) must have the same scalar type"
        )
    dim = _wrap_dim(dim, max(input.ndim, 1))
    if input.ndim and index.ndim == 0:
        index = index.reshape(1)
    others = [n for d, n in enumerate(input.shape) if d != dim]
    if source.ndim != input.ndim or others != [n for d, n in enumerate(source.shape) if d != dim]:
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified "
            f"dimension. Got self.shape = {size_text(input.shape)} source.shape = "
            f"{size_text(source.shape)}"
        )
    if input.ndim and index.shape[0] != source.shape[dim]:
        raise RuntimeError(
            f"index_add_(): Number of indices ({index.shape[0]}) should be equal to "
            f"source.size(dim): ({source.shape[dim]}), for dim: {dim}"
        )
    return dim, index


@public("index_add", methods=("index_add",))
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at entries ``index`` of dim ``dim``
    (repeated indices add up)."""
    dim, index = _index_add_arguments(input, dim, index, source)
    return apply(INDEX_ADD, input, index, source, dim=dim, alpha=alpha)


def _index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1):
    dim, index = _index_add_arguments(self, dim, index, source)
    return inplace(self, INDEX_ADD, index, source, dim=dim, alpha=alpha)


Tensor.index_add_ = _index_add_


# ---------------------------------------------------------------------------- masked_fill


def _masked_fill_vjp(g, out, x, mask, value):
    rest = where(mask, 0.0, g)
    return (rest, None, where(mask, g, 0.0) if isinstance(value, Tensor) else None)


MASKED_FILL = OpDef(
    "masked_fill",
    rt.masked_fill,
    vjp=_masked_fill_vjp,
    promote=lambda x, mask, value, **attrs: (None, x.dtype),
    nondifferentiable_inputs=(1,),
    backward_name=lambda args, attrs: (
        "MaskedFillBackward1" if isinstance(args[2], Tensor) else "MaskedFillBackward0"
    ),
)


def _masked_fill_arguments(input: Tensor, mask: Tensor, value) -> None:
    if mask.dtype is not dtypes.bool_:
        raise RuntimeError(
            "masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{_CPP_NAMES[mask.dtype.name]}"
        )
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s)."
        )
    message = broadcast_error(tuple(mask.shape), tuple(input.shape))
    if message:
        raise RuntimeError(message)


@public("masked_fill", methods=("masked_fill",))
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` (a number or a 0-d tensor) where ``mask`` is True, ``input`` elsewhere."""
    _masked_fill_arguments(input, mask, value)
    return apply(MASKED_FILL, input, mask, value)


def _masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    _masked_fill_arguments(self, mask, value)
    return inplace(self, MASKED_FILL, mask, value)


Tensor.masked_fill_ = _masked_fill_


# ------------------------------------------------- compositions: take_along_dim, take, ...


@public("take_along_dim", methods=("take_along_dim",))
def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` with ``input`` and ``indices`` broadcast (except along ``dim``); with
    ``dim=None``, indices into the flattened input."""
    if indices.dtype is not dtypes.int64:
        raise RuntimeError(
            "torch.take_along_dim(): dtype of indices should be Long but got "
            f"{_SCALAR_NAMES[indices.dtype.name]}"
        )
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if indices.ndim != input.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.ndim} dimensions for input, and {indices.ndim} "
            "dimensions for indices"
        )
    dim = _wrap_dim(dim, input.ndim)
    input_shape, indices_shape = list(input.shape), list(indices.shape)
    input_shape[dim] = indices_shape[dim] = 1
    message = broadcast_error(tuple(input_shape), tuple(indices_shape))
    if message:
        raise RuntimeError(message)
    common = list(np.broadcast_shapes(tuple(input_shape), tuple(indices_shape)))
    input = _expanded(input, common, dim)
    indices = _expanded(indices, common, dim)
    return gather(input, dim, indices)


def _expanded(tensor: Tensor, common: list[int], dim: int) -> Tensor:
    shape = tuple(common[:dim] + [tensor.shape[dim]] + common[dim + 1 :])
    return tensor if tuple(tensor.shape) == shape else tensor.expand(shape)


def _take_vjp(g, out, x, index):
    numel = int(np.prod(x.shape, dtype=np.int64))
    flat_index = index.reshape(-1)
    flat_index = where(flat_index < 0, flat_index + numel, flat_index)
    flat = apply(GATHER_BACKWARD, g.reshape(-1), flat_index, shape=(numel,), dim=0)
    return (flat.reshape(tuple(x.shape)), None)


TAKE = OpDef(
    "take",
    lambda x, index: np.take(x, index),
    vjp=_take_vjp,
    spelling="np.take({0}, {1})",
    shape=lambda s, i: tuple(i),
    promote="first",
    nondifferentiable_inputs=(1,),
    check=rt.check_take_index,
)


@public("take", methods=("take",))
def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened ``input`` at ``index`` (negative indices count from the end);
    the result has ``index``'s shape."""
    if index.dtype is not dtypes.int64:
        raise RuntimeError(
            f"take(): Expected a long tensor for index, but got {_SCALAR_NAMES[index.dtype.name]}"
        )
    return apply(TAKE, input, index)


@public("select", methods=("select",))
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view at position ``index`` of dim ``dim`` (that dim removed)."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = _wrap_dim(dim, input.ndim)
    index = int(index)
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {size_text(input.shape)} "
            f"at dimension {dim}"
        )
    return apply(GETITEM, input, index=Index((slice(None),) * dim + (index,)))


@public("masked_select", methods=("masked_select",))
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements where ``mask`` (broadcast with ``input``) is True, as a 1-D tensor."""
    if mask.dtype is not dtypes.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    message = broadcast_error(tuple(input.shape), tuple(mask.shape))
    if message:
        raise RuntimeError(message)
    shape = tuple(np.broadcast_shapes(tuple(input.shape), tuple(mask.shape)))
    if tuple(input.shape) != shape:
        input = input.expand(shape)
    if tuple(mask.shape) != shape:
        mask = mask.expand(shape)
    index, positions = Index.from_user(mask, shape)
    index.node_name = "MaskedSelectBackward0"
    return apply(INDEX, input, *positions, index=index)
