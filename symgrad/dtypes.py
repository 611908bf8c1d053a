"""dtype objects, the default dtype, and torch's type-promotion rules."""

from __future__ import annotations

import numpy as np

# torch.result_type ranks tensors above Python scalars, so it needs the Tensor class; this module
# is below tensor.py (which needs dtypes to define Tensor), so tensor.py registers the class here
# right after defining it.
_tensor_class: tuple[type, ...] = ()


class dtype:  # noqa: N801 - torch spells it lower-case
    """A tensor element type; ``symgrad.float32`` and friends are the only instances."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_signed", "itemsize", "_kind")

    def __init__(self, name: str, numpy_dtype, kind: int):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = kind == _FLOAT
        self.is_signed = self.numpy.kind in "if"
        self.itemsize = self.numpy.itemsize
        self._kind = kind

    @property
    def is_complex(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"symgrad.{self.name}"

    def __reduce__(self):
        return (from_numpy_dtype, (self.numpy,))

    def to_real(self) -> dtype:
        return self

    @property
    def _scalar_name(self) -> str:
        """torch's ScalarType name (``Float``), used in some error messages."""
        return SCALAR_TYPE_NAMES[self.name]

    @property
    def _cpp_name(self) -> str:
        """The C++ type name (``float``, ``long int``), used in other error messages."""
        return CPP_NAMES[self.name]


_BOOL, _INT, _FLOAT = 0, 1, 2

bool_ = dtype("bool", np.bool_, _BOOL)
uint8 = dtype("uint8", np.uint8, _INT)
int8 = dtype("int8", np.int8, _INT)
int16 = dtype("int16", np.int16, _INT)
int32 = dtype("int32", np.int32, _INT)
int64 = dtype("int64", np.int64, _INT)
float16 = dtype("float16", np.float16, _FLOAT)
float32 = dtype("float32", np.float32, _FLOAT)
float64 = dtype("float64", np.float64, _FLOAT)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
BY_NUMPY = {d.numpy: d for d in ALL}

# torch's legacy type names, used in the "modified by an inplace operation" message.
LEGACY_NAMES = {
    "bool": "BoolTensor",
    "uint8": "ByteTensor",
    "int8": "CharTensor",
    "int16": "ShortTensor",
    "int32": "IntTensor",
    "int64": "LongTensor",
    "float16": "HalfTensor",
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
}

SCALAR_TYPE_NAMES = {
    "bool": "Bool",
    "uint8": "Byte",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
}
CPP_NAMES = {
    "bool": "bool",
    "uint8": "unsigned char",
    "int8": "signed char",
    "int16": "short int",
    "int32": "int",
    "int64": "long int",
    "float16": "c10::Half",
    "float32": "float",
    "float64": "double",
}

_default = float32

# (promotion rule, then per operand: its numpy dtype and whether it has dimensions, or the
# scalar's type) -> (compute dtype, result dtype). Filled by OpDef.dtypes_for; it depends on
# the default dtype, so set_default_dtype empties it.
PROMOTION_CACHE: dict[tuple, tuple] = {}


def get_default_dtype() -> dtype:
    """The dtype Python floats and float factories get (``symgrad.float32`` unless changed)."""
    return _default


def set_default_dtype(d: dtype) -> None:
    """Set the default floating point dtype (``float32`` or ``float64``, as torch allows)."""
    global _default
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default = d
    PROMOTION_CACHE.clear()


def from_numpy_dtype(numpy_dtype) -> dtype:
    if isinstance(numpy_dtype, dtype):
        return numpy_dtype
    try:
        return BY_NUMPY[np.dtype(numpy_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(numpy_dtype)}. The only "
            "supported types are: float64, float32, float16, int64, int32, int16, int8, "
            "uint8, and bool."
        ) from None


def as_dtype(d) -> dtype:
    """Accept a symgrad dtype, a numpy dtype, or the Python types ``float``/``int``/``bool``."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    return from_numpy_dtype(d)


def _category(d: dtype) -> int:
    return d._kind


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types: the smallest dtype both values fit in. Unlike numpy, a float
    type absorbs any integer type (int32 with float32 is float32, int64 with float16 is
    float16)."""
    if a is b:
        return a
    if a._kind != b._kind:
        return a if a._kind > b._kind else b
    return from_numpy_dtype(np.promote_types(a.numpy, b.numpy))


def scalar_dtype(value) -> dtype:
    """The dtype torch gives a bare Python scalar."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return _default


def result_type(*operands) -> dtype:
    """torch.result_type over tensors and Python scalars.

    Three priority classes: tensors with dimensions, zero-dim tensors, then Python scalars.
    A lower class changes the result only when its category (bool < int < float) is higher,
    and then a scalar contributes the default dtype of its category, not its own width.
    """
    Tensor = _tensor_class

    dimensioned = zero_dim = scalar = None
    for op in operands:
        if isinstance(op, Tensor):
            if op.ndim > 0:
                dimensioned = (
                    op.dtype if dimensioned is None else promote_types(dimensioned, op.dtype)
                )
            else:
                zero_dim = op.dtype if zero_dim is None else promote_types(zero_dim, op.dtype)
        elif op is not None:
            d = scalar_dtype(op)
            scalar = d if scalar is None else promote_types(scalar, d)
    result = None
    for candidate in (dimensioned, zero_dim, scalar):
        if candidate is None:
            continue
        if result is None:
            result = candidate
        elif _category(candidate) > _category(result):
            if candidate is scalar:
                candidate = _default if candidate.is_floating_point else int64
            result = candidate
    return result if result is not None else _default
