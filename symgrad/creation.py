"""Tensor factories (tensor, zeros, ones, arange, ...) and symgrad's random generator.

The random factories (rand, randn, randint ...) sample through an op, so they are in
``symgrad/ops/random.py``.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import devices, dtypes, random
from .ir import trace as tracing
from .tensor import Size, Tensor, own_counter

manual_seed = random.manual_seed


def default_generator() -> np.random.Generator:
    """symgrad's generator (what ``manual_seed`` seeds). Code that may be traced samples
    through ``symgrad.ops.random.sample`` instead, so compiled code draws on every call."""
    if tracing.current() is not None:
        raise tracing.TracingError(
            "symgrad.compile cannot read the random generator while tracing: numbers drawn "
            "then would be constants of the compiled code, the same on every call.\n"
            "symgrad hint: sample with symgrad.rand/randn/randint (compiled code draws anew "
            "on every call), or pass the numbers in as an argument."
        )
    return random.default_generator._numpy


def _finish(array: np.ndarray, dtype, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(array)
    trace = tracing.current()
    if trace is not None:
        trace.created[id(t)] = t  # made while tracing: a constant of the compiled code
    if requires_grad:
        if not t.dtype.is_floating_point:
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients"
            )
        t._requires_grad = True
    return t


def _sizes(size: tuple, name: str) -> tuple[int, ...]:
    """Sizes given as varargs or as one sequence, with the TypeErrors of torch's parser."""
    as_sequence = len(size) == 1 and isinstance(size[0], (tuple, list))
    if as_sequence:
        size = tuple(size[0])
    for i, n in enumerate(size):
        if _is_int(n):
            continue
        kind = type(n).__name__
        if i > 0:
            raise TypeError(
                f"{name}(): argument 'size' failed to unpack the object at pos {i + 1} with "
                f'error "type must be tuple of ints,but got {kind}"'
            )
        if as_sequence:
            raise TypeError(
                f"{name}(): argument 'size' (position 1) must be tuple of ints, but found "
                f"element of type {kind} at pos 0"
            )
        if len(size) > 1:
            raise TypeError(f"{name}() takes 1 positional argument but {len(size)} were given")
        raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not {kind}")
    size = tuple(int(n) for n in size)
    for n in size:
        if n < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(size)}")
    return size


def _is_int(value) -> bool:
    if isinstance(value, Tensor):
        return value.ndim == 0 and not value.dtype.is_floating_point
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _float_dtype(dtype) -> dtypes.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


def _to_numpy(data):
    """Nested Python data (numbers, lists, tensors, arrays) as an ndarray."""
    if isinstance(data, Tensor):
        return data._concrete("symgrad.tensor()")
    if isinstance(data, (list, tuple)):
        parts = [_to_numpy(d) for d in data]
        return np.stack(parts) if parts else np.array([])
    return np.asarray(data)


def _infer_dtype(data, array: np.ndarray) -> dtypes.dtype:
    if isinstance(data, (np.ndarray, np.generic, Tensor)):
        return dtypes.from_numpy_dtype(array.dtype)
    kind = array.dtype.kind
    if kind == "b":
        return dtypes.bool_
    if kind in "iu":
        return dtypes.int64
    if kind == "f":
        return (
            dtypes.get_default_dtype()
            if not _contains_typed_float(data)
            else (dtypes.from_numpy_dtype(array.dtype))
        )
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _contains_typed_float(data) -> bool:
    if isinstance(data, (list, tuple)):
        return any(_contains_typed_float(d) for d in data)
    return isinstance(data, (np.ndarray, np.floating, Tensor))


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor copying ``data`` (numbers, nested lists, arrays, tensors).

    >>> import symgrad
    >>> symgrad.tensor([1.0, 2.0])
    tensor([1., 2.])
    >>> symgrad.tensor([1, 2]).dtype
    symgrad.int64
    """
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True), "
            "rather than torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
    devices.check(device)
    array = _to_numpy(data)
    d = dtypes.as_dtype(dtype) if dtype is not None else _infer_dtype(data, array)
    return _finish(np.array(array, dtype=d.numpy, copy=True), d, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with an ndarray or tensor when the dtype allows."""
    devices.check(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (
        dtype is None or dtypes.as_dtype(dtype).numpy == data.dtype
    ):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtypes.from_numpy_dtype(array.dtype)
    return Tensor._wrap(array)


def _factory(fill, name: str):
    def build(*size, dtype=None, device=None, requires_grad: bool = False, out=None):
        devices.check(device)
        d = _float_dtype(dtype)
        return _finish(fill(_sizes(size, name), d.numpy), d, requires_grad)

    build.__name__ = name
    return build


zeros = _factory(np.zeros, "zeros")
ones = _factory(np.ones, "ones")
empty = _factory(np.empty, "empty")
zeros.__doc__ = "A tensor of zeros of the given size (varargs or a tuple)."
ones.__doc__ = "A tensor of ones of the given size (varargs or a tuple)."
empty.__doc__ = "An uninitialized tensor of the given size."


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (its dtype follows the value)."""
    devices.check(device)
    d = dtypes.as_dtype(dtype) if dtype is not None else dtypes.scalar_dtype(fill_value)
    return _finish(np.full(_sizes((size,), "full"), fill_value, dtype=d.numpy), d, requires_grad)


def _like(fill):
    def build(
        input: Tensor, dtype=None, device=None, requires_grad: bool = False, memory_format=None
    ) -> Tensor:
        devices.check(device)
        d = dtypes.as_dtype(dtype) if dtype is not None else input.dtype
        return _finish(fill(tuple(input.shape), d.numpy), d, requires_grad)

    return build


zeros_like = _like(np.zeros)
ones_like = _like(np.ones)
empty_like = _like(np.empty)


def full_like(
    input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    devices.check(device)
    d = dtypes.as_dtype(dtype) if dtype is not None else input.dtype
    return _finish(np.full(tuple(input.shape), fill_value, dtype=d.numpy), d, requires_grad)


def arange(
    start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments."""
    devices.check(device)
    if end is None:
        start, end = 0, start
    if dtype is None:
        floats = any(isinstance(v, float) for v in (start, end, step))
        d = dtypes.get_default_dtype() if floats else dtypes.int64
    else:
        d = dtypes.as_dtype(dtype)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    count = int(np.ceil((end - start) / step))
    values = start + step * np.arange(max(count, 0), dtype=np.float64)
    return _finish(values.astype(d.numpy), d, requires_grad)


def linspace(
    start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    devices.check(device)
    d = _float_dtype(dtype)
    return _finish(np.linspace(start, end, steps).astype(d.numpy), d, requires_grad)


def eye(
    n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """The identity matrix (n x m)."""
    devices.check(device)
    d = _float_dtype(dtype)
    return _finish(np.eye(n, m, dtype=d.numpy), d, requires_grad)


# ---------------------------------------------------------------- Tensor.new_* factories


def _new_tensor(self: Tensor, data, dtype=None, device=None, requires_grad: bool = False):
    """A new tensor copying ``data``, with this tensor's dtype unless ``dtype`` is given."""
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True), "
            "rather than tensor.new_tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
    devices.check(device)
    d = self.dtype if dtype is None else dtypes.as_dtype(dtype)
    array = np.array(_to_numpy(data), dtype=d.numpy, copy=True)
    return _finish(array, d, requires_grad)


def _new_factory(fill, name: str):
    def method(self: Tensor, *size, dtype=None, device=None, requires_grad: bool = False):
        devices.check(device)
        d = self.dtype if dtype is None else dtypes.as_dtype(dtype)
        return _finish(fill(_sizes(size, name), d.numpy), d, requires_grad)

    method.__name__ = name
    method.__doc__ = f"``{name}`` with this tensor's dtype unless ``dtype`` is given."
    return method


def _new_full(self: Tensor, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value``, with this tensor's dtype by default."""
    devices.check(device)
    d = self.dtype if dtype is None else dtypes.as_dtype(dtype)
    array = np.full(_sizes((size,), "new_full"), fill_value, dtype=d.numpy)
    return _finish(array, d, requires_grad)


Tensor.new_tensor = _new_tensor
Tensor.new_zeros = _new_factory(np.zeros, "new_zeros")
Tensor.new_ones = _new_factory(np.ones, "new_ones")
Tensor.new_empty = _new_factory(np.empty, "new_empty")
Tensor.new_full = _new_full


# ------------------------------------------------ legacy constructors: Tensor(...), FloatTensor


def _legacy_new(dtype: dtypes.dtype | None, name: str, args: tuple, device) -> Tensor:
    """torch's legacy constructor: ``(sizes...)`` or a ``Size`` gives an uninitialized
    tensor, one sequence or array gives its data, a tensor gives an alias of it."""
    devices.check(device)
    d = dtypes.get_default_dtype() if dtype is None else dtype
    if not args:
        return empty(0, dtype=d)
    if len(args) == 1:
        (data,) = args
        if isinstance(data, Tensor):
            alias = Tensor._wrap(data._concrete(name))
            alias._version_counter = own_counter(data)
            return alias
        if isinstance(data, (list, tuple, np.ndarray)) and not isinstance(data, Size):
            return tensor(data, dtype=d)
        if isinstance(data, Size):
            return empty(tuple(data), dtype=d)
        if isinstance(data, str):
            raise TypeError("new(): invalid data type 'str'")
        if not _is_int(data):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    return empty(*_sizes(args, name), dtype=d)


def _tensor_new(cls, *args, device=None) -> Tensor:
    return _legacy_new(None, "Tensor", args, device)


# ``symgrad.Tensor(...)`` is torch's legacy constructor (default dtype); ``Tensor._wrap``
# makes tensors everywhere else.
Tensor.__new__ = _tensor_new


class _LegacyTensorType(type):
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance.dtype is cls._dtype


def _legacy_class(dtype: dtypes.dtype) -> type:
    name = dtypes.LEGACY_NAMES[dtype.name]

    def new(cls, *args, device=None):
        return _legacy_new(dtype, name, args, device)

    doc = (
        f"torch.{name}: ``{name}([1, 2])`` copies data, ``{name}(2, 3)`` is uninitialized; "
        f"``isinstance(t, {name})`` is true for {dtype.name} tensors."
    )
    return _LegacyTensorType(name, (), {"__new__": new, "_dtype": dtype, "__doc__": doc})


FloatTensor = _legacy_class(dtypes.float32)
DoubleTensor = _legacy_class(dtypes.float64)
HalfTensor = _legacy_class(dtypes.float16)
LongTensor = _legacy_class(dtypes.int64)
IntTensor = _legacy_class(dtypes.int32)
ShortTensor = _legacy_class(dtypes.int16)
CharTensor = _legacy_class(dtypes.int8)
ByteTensor = _legacy_class(dtypes.uint8)
BoolTensor = _legacy_class(dtypes.bool_)
