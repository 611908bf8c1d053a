"""The ``"array_api"`` backend: generated code that calls only ``xp.*``, the array API
standard (2023.12) namespace of its arguments, so one module runs on NumPy, CuPy, torch,
Dask and array-api-strict arrays (``symgrad[array-api]`` installs array-api-compat).

Spellings are ``array_api_spellings.SPELLINGS`` over the default table; ops without a
one-line form call ``array_api_runtime`` kernels. No ``out=`` (an array API array may not be
writable), dtypes from the namespace, constants as weak Python scalars beside operators.
An op the standard cannot write is a compile-time error naming the op and this backend.

Guards (integer division by zero, index bounds, class targets) run on eager arrays only: on
lazy ones (Dask) checking a value would compute it, so compiled code skips them there.
"""

from __future__ import annotations

import functools

import numpy as np
from array_api_compat import array_namespace, is_array_api_obj
from array_api_compat import device as array_device

from ...ir.graph import Node
from ...tensor import Tensor
from .. import codegen
from . import array_api_spellings as spellings
from .base import Backend, kernel_result_needs_cast

_ENTRY_POINTS = ("forward", "backward", "forward_backward")


def _unsupported(node: Node, why: spellings.Unsupported) -> codegen.CodegenError:
    return codegen.CodegenError(
        f"op {node.op.name!r} has no spelling in backend 'array_api': {why}"
    )


class ArrayApiBackend(Backend):
    """Arrays of any array API library in, ``xp.*`` code, arrays of that library out."""

    name = spellings.NAME
    template = "array_api.py.j2"
    imports = (
        "import math",
        "",
        "from array_api_compat import array_namespace",
        "from array_api_compat import device as array_device",
    )
    runtime = "symgrad.compiler.backends.array_api_runtime"
    extra = "array-api"
    no_workspace = (
        "the array_api backend allocates every temporary: Dask and torch arrays are not "
        "written with out="
    )
    code_for_op = spellings.SPELLINGS

    def spelling(self, op):
        return spellings.spelling_of(op)

    def expression(self, node: Node, operands: list[str], helpers: dict) -> str:
        try:
            text = spellings.expression(node, operands)
        except spellings.Unsupported as why:
            raise _unsupported(node, why) from None
        if not (text.startswith("rt.") and kernel_result_needs_cast(node)):
            return text
        try:
            return f"xp.astype({text}, {spellings.dtype_text(node.dtype)})"
        except spellings.Unsupported as why:
            raise _unsupported(node, why) from None

    def guard(self, node: Node, operands: list[str], helpers: dict) -> str | None:
        try:
            return spellings.guard(node, operands)
        except spellings.Unsupported as why:
            raise _unsupported(node, why) from None

    def constant(self, node: Node, bare: bool = False) -> str:
        return spellings.scalar_text(node) if bare else spellings.array_constant(node)

    def read_only(self, op) -> bool:
        # spelled with xp.broadcast_to: a read-only view in numpy
        return op.name in ("expand", "copy", "fill_tensor")

    def fresh_copy(self, text: str) -> str:
        return f"xp.asarray({text}, copy=True)"

    def is_array(self, value) -> bool:
        return not isinstance(value, Tensor) and is_array_api_obj(value)

    def array_type(self, value):
        shape = tuple(value.shape)
        if not all(isinstance(n, int) for n in shape):
            raise ValueError(
                f"symgrad.compile: backend 'array_api' needs arrays of known shape, got a "
                f"{type(value).__name__} of shape {shape}\nsymgrad hint: a Dask array with "
                "unknown chunk sizes gets them from .compute_chunk_sizes()"
            )
        return shape, numpy_dtype(value.dtype, type(value))

    def to_output(self, value):
        # array_api_compat's numpy functions return numpy scalars for 0-d results
        return np.asarray(value) if isinstance(value, np.generic) else value

    def prepare(self, module):
        for entry in _ENTRY_POINTS:
            function = getattr(module, entry)
            if not hasattr(function, "__wrapped__"):  # a module the disk cache imported before
                setattr(module, entry, _one_namespace(function))
        return module


@functools.cache
def numpy_dtype(dtype, array_type) -> np.dtype:
    """The numpy dtype of the same name as an array API dtype (torch.float32 -> float32)."""
    try:
        return np.dtype(dtype)
    except TypeError:
        pass
    name = str(dtype).rsplit(".", 1)[-1].rstrip("'>")
    if name in spellings.STANDARD_DTYPES:
        return np.dtype(name)
    raise TypeError(f"backend 'array_api' does not know the dtype {dtype!r} of a {array_type}")


def _one_namespace(function):
    """``function`` called with arrays of one library: numpy arguments beside arrays of one
    other library (numpy weights with Dask data) are converted to that library first, and
    numpy scalars become 0-d arrays."""

    @functools.wraps(function)
    def call(*arrays):
        kinds = {type(a) for a in arrays}
        if len(kinds) > 1 or any(issubclass(k, np.generic) for k in kinds):
            arrays = _converted(arrays)
        return function(*arrays)

    return call


def _converted(arrays):
    arrays = [np.asarray(a) if isinstance(a, np.generic) else a for a in arrays]
    foreign = [a for a in arrays if not isinstance(a, np.ndarray)]
    if not foreign:
        return arrays
    xp, place = array_namespace(*foreign), array_device(foreign[0])
    return [xp.asarray(a, device=place) if isinstance(a, np.ndarray) else a for a in arrays]
