"""Indexing: ``t[index]`` (basic indexing gives views) and ``t[index] = value`` with autograd.

An index is normalized once into ``Index``, a hashable value (so it can be an op attribute and
part of a compiled graph); gradients of indexing scatter-add, so repeated indices accumulate.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .inplace import inplace
from .registry import OpDef, apply


class Index:
    """A normalized index: ints, slices, None, Ellipsis and integer/bool ndarrays."""

    __slots__ = ("items", "_key")

    def __init__(self, items: tuple):
        self.items = items
        self._key = tuple(_item_key(i) for i in items)

    @classmethod
    def from_user(cls, key) -> Index:
        if not isinstance(key, tuple):
            key = (key,)
        return cls(tuple(_normalize(k) for k in key))

    @property
    def is_advanced(self) -> bool:
        return any(isinstance(i, np.ndarray) for i in self.items)

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other) -> bool:
        return isinstance(other, Index) and self._key == other._key

    def __repr__(self) -> str:
        return "[" + ", ".join(_item_text(i) for i in self.items) + "]"

    def backward_name(self) -> str:
        if self.is_advanced:
            return "IndexBackward0"
        if any(isinstance(i, (int, np.integer)) for i in self.items):
            return "SelectBackward0"
        if any(isinstance(i, slice) for i in self.items):
            return "SliceBackward0"
        if any(i is None for i in self.items):
            return "UnsqueezeBackward0"
        return "AliasBackward0"


def _normalize(item):
    if isinstance(item, Tensor):
        item = item._concrete("indexing with a tensor")
        if item.ndim == 0 and item.dtype.kind in "iu":
            return int(item)
        return item
    if isinstance(item, (list, np.ndarray)):
        array = np.asarray(item)
        if array.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return array
    if isinstance(item, (bool, np.bool_)):
        return np.asarray(item)
    if isinstance(item, np.integer):
        return int(item)
    if isinstance(item, (int, slice)) or item is None or item is Ellipsis:
        return item
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
        "valid indices (got " + type(item).__name__ + ")"
    )


def _item_key(item):
    if isinstance(item, slice):
        return ("slice", item.start, item.stop, item.step)
    if isinstance(item, np.ndarray):
        return ("array", item.shape, item.dtype.str, item.tobytes())
    return item


def _item_text(item) -> str:
    if isinstance(item, slice):
        parts = ["" if v is None else str(v) for v in (item.start, item.stop)]
        text = ":".join(parts)
        return text + (f":{item.step}" if item.step is not None else "")
    if item is Ellipsis:
        return "..."
    if isinstance(item, np.ndarray):
        return repr(item.tolist())
    return repr(item)


def _getitem_numpy(x, *, index: Index):
    try:
        return x[index.items]
    except IndexError as error:
        raise IndexError(str(error).replace("axis", "dimension")) from None


def _getitem_shape(shape, *, index: Index):
    return np.empty(shape, dtype=np.bool_)[index.items].shape


def _getitem_vjp(g, out, x, *, index: Index):
    return (apply(INDEX_BACKWARD, g, shape=tuple(x.shape), index=index),)


GETITEM = OpDef(
    "getitem",
    _getitem_numpy,
    vjp=_getitem_vjp,
    spelling="{0}[{index}]",
    shape=_getitem_shape,
    promote="first",
    saves="none",
    is_view=True,
    backward_name=lambda args, attrs: attrs["index"].backward_name(),
)


def _index_backward_numpy(g, *, shape, index: Index):
    out = np.zeros(shape, dtype=g.dtype)
    if index.is_advanced:
        np.add.at(out, index.items, g)
    else:
        out[index.items] = g
    return out


INDEX_BACKWARD = OpDef(
    "index_backward",
    _index_backward_numpy,
    vjp=lambda g, out, x, *, shape, index: (apply(GETITEM, g, index=index),),
    spelling="_index_backward({0}, {shape}, {index})",
    shape=lambda s, *, shape, index: shape,
    promote="first",
    saves="none",
)


def _index_put_numpy(x, value, *, index: Index):
    out = x.copy()
    out[index.items] = value
    return out


def _index_put_vjp(g, out, x, value, *, index: Index):
    rest = apply(INDEX_PUT, g, 0.0, index=index)
    return (rest, apply(GETITEM, g, index=index) if isinstance(value, Tensor) else None)


INDEX_PUT = OpDef(
    "index_put",
    _index_put_numpy,
    vjp=_index_put_vjp,
    spelling="_index_put({0}, {1}, {index})",
    shape=lambda s, v, *, index: s,
    promote=lambda x, value, *, index: (None, x.dtype),
    saves="none",
)


def getitem(self: Tensor, key) -> Tensor:
    """``t[key]`` as torch indexes (basic indices give views)."""
    return apply(GETITEM, self, index=Index.from_user(key))


def setitem(self: Tensor, key, value) -> None:
    """``t[key] = value`` in place, recorded for autograd."""
    if isinstance(value, np.ndarray):
        value = Tensor._wrap(value.astype(self._data.dtype))
    elif isinstance(value, Tensor) and value.dtype is not self.dtype:
        value = value.to(self.dtype)
    inplace(self, INDEX_PUT, value, index=Index.from_user(key))


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
