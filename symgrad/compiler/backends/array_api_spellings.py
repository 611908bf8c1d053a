"""How ``array_api`` generated code writes each op: overrides on the default (numpy) table.

Generated code calls ``xp.*`` only, where ``xp`` is the array API (2023.12) namespace of the
arguments (``array_api_compat.array_namespace``): functions instead of methods, no ``out=``,
dtypes from the namespace (``xp.float32``), constants as weak Python scalars next to an
operator and as ``xp.asarray(value, dtype=..., device=device)`` where a function wants an
array. An op missing here whose default spelling is pure operators (``{0} + {1}``) keeps it;
any other op has no spelling in this backend and compiling it is an error naming the op.

A spelling is a format string over the operands and the printed attributes, or a function
``(node, operands, **attrs) -> str`` for ops whose text depends on shapes. An operand is its
array text (a constant as a typed 0-d array), except in operator-only spellings and runtime
calls, where a constant is a weak Python scalar (``operand.weak``; kernels take numbers).
Attributes are printed by this module's ``literal``: codegen's prints numpy names
(``np.float32``, ``np.inf``), this one the namespace's (``xp.float32``) and ``math.inf``.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ... import dtypes
from ...ir.graph import CONST, Node
from ...ops.indexing import TENSOR, Index
from .. import codegen

NAME = "array_api"


class Unsupported(Exception):
    """The op (with these attributes) has no spelling in the array API standard."""


class Operand(str):
    """An operand's text where an array is required (a name, or a constant as a typed 0-d
    array), with ``weak``: its text beside an operator (a constant as a weak Python scalar,
    whose dtype the array operand decides)."""

    arr: str
    weak: str

    def __new__(cls, text: str, weak: str | None = None):
        self = super().__new__(cls, text)
        self.arr = text
        self.weak = text if weak is None else weak
        return self

    def weakened(self) -> Operand:
        """This operand with its weak text as its text (for operator-only spellings)."""
        weak = Operand(self.weak, self.weak)
        weak.arr = self.arr
        return weak


# ------------------------------------------------------------------------------ literals


def dtype_text(d: dtypes.dtype) -> str:
    """``xp.float32``: the namespace's dtype object (``bool`` is ``xp.bool``)."""
    name = d.numpy.name
    if name not in STANDARD_DTYPES:
        raise Unsupported(f"dtype {name}")
    return f"xp.{name}"


STANDARD_DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float32 float64 "
    "complex64 complex128".split()
)


def literal(value) -> str:
    """Python source for an attribute value, from numbers: ``codegen.literal``'s text, with
    ``math``'s nan/inf and the namespace's dtypes (``xp.float32``); no numpy arrays."""
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return "math.nan" if math.isnan(value) else ("math.inf" if value > 0 else "-math.inf")
    if isinstance(value, dtypes.dtype):
        return dtype_text(value)
    if isinstance(value, Index):
        return literal(value.items)
    if isinstance(value, (tuple, list)):
        items = ", ".join(literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, np.ndarray):
        raise Unsupported("a numpy array attribute")
    try:
        return codegen.literal(value)
    except codegen.CodegenError as error:
        raise Unsupported(str(error)) from None


def scalar_text(node: Node) -> str:
    """A constant as a weak Python scalar, in the shortest text that rounds to its value."""
    value = node.value
    if isinstance(value, float) and math.isfinite(value) and node.dtype.itemsize < 8:
        text = repr(float(str(node.dtype.numpy.type(value))))
    else:
        text = literal(value)
    return f"({text})" if text.startswith("-") else text


def array_constant(node: Node) -> str:
    """A constant as a 0-d array of its dtype on the arguments' device."""
    return f"xp.asarray({scalar_text(node)}, dtype={dtype_text(node.dtype)}, device=device)"


def operands_of(node: Node, names: list[str]) -> list[Operand]:
    """The operands of ``node``: ``names`` of its array inputs (constants are printed)."""
    operands = []
    for source, name in zip(node.inputs, names, strict=True):
        if source.kind == CONST:
            operands.append(Operand(array_constant(source), scalar_text(source)))
        else:
            operands.append(Operand(name))
    return operands


# ----------------------------------------------------------------------- the spellings


def _call(function: str, arity: int = 1) -> str:
    arguments = ", ".join(f"{{{k}}}" for k in range(arity))
    return f"xp.{function}({arguments})"


def _runtime(function: str, arity: int, *attrs: str) -> str:
    """``rt.<function>(xp, operands..., attr=value...)``: a kernel of the runtime module."""
    arguments = ["xp"] + [f"{{{k}}}" for k in range(arity)]
    arguments += [f"{name}={{{name}}}" for name in attrs]
    return f"rt.{function}({', '.join(arguments)})"


def _cast_to_node(node: Node, operand: str, source: Node) -> str:
    """``operand`` in ``node``'s dtype (a reduction's input: bool sums count as int64)."""
    if source.kind == CONST or source.dtype is node.dtype:
        return operand
    return f"xp.astype({operand}, {dtype_text(node.dtype)})"


def _reduction(function: str, cast: bool = True):
    def spell(node, a, *, dim, keepdim, **_):
        operand = _cast_to_node(node, a[0], node.inputs[0]) if cast else a[0]
        arguments = [operand] + ([] if dim is None else [f"axis={literal(dim)}"])
        return f"xp.{function}({', '.join(arguments + ['keepdims=True'] * bool(keepdim))})"

    return spell


def _count_nonzero(node, a, *, dim):
    nonzero = a[0] if node.inputs[0].dtype is dtypes.bool_ else f"{a[0]} != 0"
    return f"xp.sum(xp.astype({nonzero}, xp.int64), axis={literal(dim)})"


def _moment(function):
    def spell(node, a, *, dim, correction, keepdim):
        if float(correction).is_integer():
            return (
                f"xp.{function}({a[0]}, axis={literal(dim)}, correction={literal(correction)}, "
                f"keepdims={keepdim})"
            )
        return (
            f"rt.variance(xp, {a[0]}, dim={literal(dim)}, correction={literal(correction)}, "
            f"keepdim={keepdim}, root={function == 'std'})"
        )

    return spell


def _transpose(node, a, *, dim0, dim1):
    ndim = len(node.inputs[0].shape)
    axes = list(range(ndim))
    if ndim == 0:
        return a[0]
    axes[dim0 % ndim], axes[dim1 % ndim] = axes[dim1 % ndim], axes[dim0 % ndim]
    return f"xp.permute_dims({a[0]}, {literal(tuple(axes))})"


def _t(node, a):
    if len(node.inputs[0].shape) < 2:
        return a[0]
    return f"xp.permute_dims({a[0]}, (1, 0))"


def _squeeze(node, a, *, dim):
    shape = node.inputs[0].shape
    dims = range(len(shape)) if dim is None else (dim,) if isinstance(dim, int) else dim
    axes = tuple(d % max(len(shape), 1) for d in dims if d < len(shape) and shape[d] == 1)
    return f"xp.squeeze({a[0]}, axis={literal(axes)})" if axes else a[0]


def _repeat(node, a, *, repeats):
    """``np.tile``: a broadcast of the input between new axes of the repeat counts."""
    shape = (1,) * (len(repeats) - len(node.inputs[0].shape)) + tuple(node.inputs[0].shape)
    spread = tuple(x for size in shape for x in (1, size))
    target = tuple(x for r, size in zip(repeats, shape, strict=True) for x in (r, size))
    expanded = f"xp.broadcast_to(xp.reshape({a[0]}, {literal(spread)}), {literal(target)})"
    return f"xp.reshape({expanded}, {literal(tuple(node.shape))})"


def _basic_key(index, shape) -> tuple:
    """``index``'s items with every slice clamped to its axis (the standard leaves slices
    past the end unspecified); Unsupported for index tensors and masks."""
    items = index.items
    if any(i is TENSOR or isinstance(i, (bool, np.bool_, np.ndarray)) for i in items):
        raise Unsupported("an index with tensors or masks")
    used = sum(i is not None and i is not Ellipsis for i in items)
    key, axis = [], 0
    for item in items:
        if item is Ellipsis:
            axis += len(shape) - used
        elif isinstance(item, slice) and (item.step is None or item.step > 0):
            start, stop, step = item.indices(shape[axis])
            stop = max(stop, start)
            key.append(slice(start or None, None if stop == shape[axis] else stop, item.step))
            axis += 1
            continue
        elif item is not None:
            axis += 1
        key.append(item)
    integers = all(isinstance(i, (int, np.integer)) for i in items)
    if Ellipsis not in items and (used < len(shape) or integers):
        # the standard wants every axis or an ellipsis; all-integer keys keep it too, so
        # that they give a 0-d array, as eager mode does, rather than a scalar
        key.append(Ellipsis)
    return tuple(key)


def _getitem(node, a, *, index):
    key = _basic_key(index, node.inputs[0].shape)
    return f"{a[0]}[{', '.join(_subscript(i) for i in key)}]"


def _subscript(item) -> str:
    if isinstance(item, slice):
        start, stop, step = (
            "" if v is None else literal(v) for v in (item.start, item.stop, item.step)
        )
        return f"{start}:{stop}" + (f":{step}" if step and step != "1" else "")
    if item is None:
        return "None"
    if item is Ellipsis:
        return "..."
    return literal(item)


def _index_backward(node, a, *, shape, index):
    if len(node.inputs) > 1:
        raise Unsupported("a scatter of index tensors")
    key = _basic_key(index, shape)
    return f"rt.index_backward(xp, {a[0]}, shape={literal(shape)}, key={literal(key)})"


def _setitem(node, a, *, index):
    key = _basic_key(index, node.shape)
    return f"rt.setitem(xp, {a[0]}, {a[1].weak}, key={literal(key)})"


def _index_select_backward(node, a, *, shape, dim):
    if not shape:
        return f"xp.reshape({a[0]}, ())"
    return f"rt.index_select_backward(xp, {a[0]}, {a[1]}, rows={shape[dim]}, dim={dim})"


def _index_select(node, a, *, dim):
    if not node.inputs[0].shape:
        return f"xp.asarray({a[0]}, copy=True)"
    flat = f"xp.take({a[0]}, xp.reshape({a[1]}, (-1,)), axis={dim})"
    return f"xp.reshape({flat}, {literal(tuple(node.shape))})"


def _embedding(node, a, *, padding_idx):
    indices = node.inputs[1]
    if len(indices.shape) == 1:
        return f"xp.take({a[0]}, {a[1]}, axis=0)"
    flat = f"xp.take({a[0]}, xp.reshape({a[1]}, (-1,)), axis=0)"
    return f"xp.reshape({flat}, {literal(tuple(node.shape))})"


def _typed(node: Node, operand: Operand, source: Node) -> str:
    """An array operand in ``node``'s dtype."""
    if source.kind == CONST:
        return f"xp.asarray({operand.weak}, dtype={dtype_text(node.dtype)}, device=device)"
    return _cast_to_node(node, operand, source)


def _masked_fill(node, a):
    return f"xp.where({a[1].arr}, {_typed(node, a[2], node.inputs[2])}, {a[0]})"


def _copy(node, a):
    """``x.copy_(src)``: ``src`` in ``x``'s dtype, broadcast to ``x``'s shape."""
    return f"xp.broadcast_to({_typed(node, a[1], node.inputs[1])}, {literal(tuple(node.shape))})"


def _addmm(node, a, *, beta, alpha):
    a = [o.weakened() for o in a]
    product = f"{a[1]} @ {a[2]}" if alpha == 1 else f"{literal(alpha)} * ({a[1]} @ {a[2]})"
    if beta == 0:
        return f"xp.broadcast_to({product}, {literal(tuple(node.shape))})"
    return f"{product} + {a[0]}" if beta == 1 else f"{product} + {literal(beta)} * {a[0]}"


def _add_scaled(operator):
    def spell(node, a, *, value):
        if not node.dtype.is_floating_point:
            value = int(value)  # torch casts value to the tensors' dtype first
        x, y, z = (o.weak for o in a)
        return f"{x} + {literal(value)} * {y} {operator} {z}"

    return spell


def _lerp(node, a):
    start, end, weight = (o.weakened() for o in a)
    return (
        f"xp.where(xp.abs({weight.arr}) < 0.5, {start} + {weight} * ({end} - {start}), "
        f"{end} - ({end} - {start}) * (1 - {weight}))"
    )


def _logical(function):
    """Logical ops take bools only in the standard: other inputs compare with zero."""

    def spell(node, a):
        operands = [
            o.arr if i.dtype is dtypes.bool_ else f"({o.arr} != 0)"
            for o, i in zip(a, node.inputs, strict=True)
        ]
        return f"xp.{function}({', '.join(operands)})"

    return spell


def _nan_ignoring(function):
    """``fmax``/``fmin``: a NaN loses to a number."""

    def spell(node, a):
        x, y = a[0].arr, a[1].arr
        return (
            f"xp.where(xp.isnan({y}), {x}, xp.where(xp.isnan({x}), {y}, xp.{function}({x}, {y})))"
        )

    return spell


def _div_rounded(node, a, *, rounding_mode):
    x, y = (o.weakened() for o in a)
    if rounding_mode == "floor":
        return f"{x} // {y}"
    if node.dtype.is_floating_point:
        return f"xp.trunc({x} / {y})"
    # integer division rounded toward zero: floor division, one up where it rounded down
    inexact = f"({x.arr} % {y} != 0) & (({x} < 0) != ({y} < 0))"
    return f"xp.where({inexact}, {x} // {y} + 1, {x} // {y})"


def _sign(node, a):
    if not node.dtype.is_floating_point:
        return f"xp.sign({a[0]})"
    return f"xp.where(xp.isnan({a[0]}), xp.zeros_like({a[0]}), xp.sign({a[0]}))"


def _round(node, a, *, decimals):
    if decimals == 0:
        return f"xp.round({a[0]})"
    scale = literal(10.0**decimals)
    return f"xp.round({a[0]} * {scale}) / {scale}"


def _isclose(node, a, *, rtol, atol, equal_nan):
    x, y = (o.arr for o in a)
    close = f"({x} == {y}) | (xp.abs({x} - {y}) <= {literal(atol)} + {literal(rtol)} * xp.abs({y}))"
    return f"{close} | (xp.isnan({x}) & xp.isnan({y}))" if equal_nan else close


def _gelu(node, a, *, approximate):
    if approximate != "tanh":
        raise Unsupported(why_not(node.op))
    return f"rt.gelu_tanh(xp, {a[0]})"


def _cat(node, a, *, dim):
    return f"xp.concat([{', '.join(o.arr for o in a)}], axis={dim})"


def _stack(node, a, *, dim):
    return f"xp.stack([{', '.join(o.arr for o in a)}], axis={dim})"


def _cumsum(node, a, *, dim, reverse, dtype=None):
    operand = _cast_to_node(node, a[0], node.inputs[0])
    return f"rt.cumsum(xp, {operand}, dim={dim}, reverse={reverse})"


def _vector_norm(node, a, *, ord, dim, keepdim, dtype=None):  # noqa: A002 - torch's name
    operand = _cast_to_node(node, a[0], node.inputs[0])
    return (
        f"rt.vector_norm(xp, {operand}, ord={literal(ord)}, dim={literal(dim)}, keepdim={keepdim})"
    )


def _triangle(upper: bool):
    return lambda node, a, *, diagonal: (
        f"rt.triangle(xp, {a[0]}, diagonal={diagonal}, upper={upper})"
    )


def _full(node, a, *, shape, value, dtype):
    return f"xp.full({literal(shape)}, {literal(value)}, dtype={dtype_text(dtype)}, device=device)"


def _array(node, a, *, values, shape, dtype):
    return (
        f"xp.reshape(xp.asarray({literal(values)}, dtype={dtype_text(dtype)}, device=device), "
        f"{literal(shape)})"
    )


def _nan_to_num(node, a, *, nan, posinf, neginf):
    return (
        f"rt.nan_to_num(xp, {a[0]}, nan={literal(nan)}, posinf={literal(posinf)}, "
        f"neginf={literal(neginf)})"
    )


_UNARY = {
    "abs": "abs",
    "acos": "acos",
    "acosh": "acosh",
    "asin": "asin",
    "asinh": "asinh",
    "atan": "atan",
    "atanh": "atanh",
    "bitwise_not": "bitwise_invert",
    "ceil": "ceil",
    "cos": "cos",
    "cosh": "cosh",
    "exp": "exp",
    "expm1": "expm1",
    "floor": "floor",
    "isfinite": "isfinite",
    "isinf": "isinf",
    "isnan": "isnan",
    "log": "log",
    "log10": "log10",
    "log1p": "log1p",
    "log2": "log2",
    "sin": "sin",
    "sinh": "sinh",
    "sqrt": "sqrt",
    "square": "square",
    "tan": "tan",
    "tanh": "tanh",
    "trunc": "trunc",
}
_BINARY = {
    "atan2": "atan2",
    "bitwise_and": "bitwise_and",
    "bitwise_or": "bitwise_or",
    "bitwise_xor": "bitwise_xor",
    "clamp_max": "minimum",
    "clamp_max_function": "minimum",
    "clamp_min": "maximum",
    "clamp_min_function": "maximum",
    "copysign": "copysign",
    "hypot": "hypot",
    "logaddexp": "logaddexp",
    "maximum": "maximum",
    "minimum": "minimum",
}

SPELLINGS: dict = {
    **{name: _call(function) for name, function in _UNARY.items()},
    **{name: _call(function, 2) for name, function in _BINARY.items()},
    # operators with weak scalars need nothing from xp
    "floor_divide": "{0} // {1}",
    "remainder": "{0} % {1}",
    "exp2": "2.0 ** {0}",
    "rsqrt": "1 / xp.sqrt({0})",
    "reciprocal": "1 / {0}",
    "frac": "{0} - xp.trunc({0})",
    "sign": _sign,
    "round": _round,
    "logical_not": _logical("logical_not"),
    "logical_and": _logical("logical_and"),
    "logical_or": _logical("logical_or"),
    "logical_xor": _logical("logical_xor"),
    "fmax": _nan_ignoring("maximum"),
    "fmin": _nan_ignoring("minimum"),
    "div_rounded": _div_rounded,
    "relu": "xp.where({0} < 0, xp.zeros_like({0}), {0})",
    "clamp": "xp.minimum(xp.maximum({0.arr}, {1.arr}), {2.arr})",
    "hardtanh": "xp.clip({0}, min={min_val}, max={max_val})",
    "where": "xp.where({0.arr}, {1.arr}, {2.arr})",
    "masked_fill": _masked_fill,
    "lerp": _lerp,
    "addcmul": _add_scaled("*"),
    "addcdiv": _add_scaled("/"),
    "addmm": _addmm,
    "isclose": _isclose,
    "nan_to_num": _nan_to_num,
    "to_dtype": "xp.astype({0}, {dtype})",
    "bernoulli": lambda node, a: f"xp.astype({a[1]} < {a[0]}, {dtype_text(node.dtype)})",
    # reductions
    "sum": _reduction("sum"),
    "prod": _reduction("prod"),
    "mean": _reduction("mean", cast=False),
    "max": _reduction("max", cast=False),
    "min": _reduction("min", cast=False),
    "amax": _reduction("max", cast=False),
    "amin": _reduction("min", cast=False),
    "max_dim": _reduction("max", cast=False),
    "min_dim": _reduction("min", cast=False),
    "argmax": _reduction("argmax", cast=False),
    "argmin": _reduction("argmin", cast=False),
    "all": _reduction("all", cast=False),
    "any": _reduction("any", cast=False),
    "count_nonzero": _count_nonzero,
    "var": _moment("var"),
    "std": _moment("std"),
    "logsumexp": _runtime("logsumexp", 1, "dim", "keepdim"),
    "cumsum": _cumsum,
    "vector_norm": _vector_norm,
    # shapes and copies
    "reshape": "xp.reshape({0}, {shape})",
    "permute": "xp.permute_dims({0}, {dims})",
    "transpose": _transpose,
    "t": _t,
    "unsqueeze": "xp.expand_dims({0}, axis={dim})",
    "squeeze": _squeeze,
    "expand": "xp.broadcast_to({0}, {shape})",
    "flip": "xp.flip({0}, axis={dims})",
    "roll": "xp.roll({0}, shift={shifts}, axis={dims})",
    "repeat": _repeat,
    "tril": _triangle(upper=False),
    "triu": _triangle(upper=True),
    "cat": _cat,
    "stack": _stack,
    "getitem": _getitem,
    "index_backward": _index_backward,
    "setitem": _setitem,
    "index_select": _index_select,
    "embedding": _embedding,
    "index_select_backward": _index_select_backward,
    "one_hot": _runtime("one_hot", 1, "num_classes"),
    "clone": "xp.asarray({0}, copy=True)",
    "copy": _copy,
    "fill_tensor": _copy,
    "fill": "xp.full_like({0}, {value})",
    "zero": "xp.zeros_like({0})",
    "full": _full,
    "array": _array,
    "linalg_det": "xp.linalg.det({0})",
    "linalg_inv": "xp.linalg.inv({0})",
    # composites with their own stable gradients: runtime kernels
    "sigmoid": _runtime("sigmoid", 1),
    "softplus": _runtime("softplus", 1, "beta", "threshold"),
    "logsigmoid": _runtime("logsigmoid", 1),
    "silu": _runtime("silu", 1),
    "elu": _runtime("elu", 1, "alpha"),
    "leaky_relu": _runtime("leaky_relu", 1, "negative_slope"),
    "mish": _runtime("mish", 1),
    "gelu": _gelu,
    "softmax": _runtime("softmax", 1, "dim"),
    "log_softmax": _runtime("log_softmax", 1, "dim"),
    "mse_loss": _runtime("mse_loss", 2, "reduction"),
    "huber_loss": _runtime("huber_loss", 2, "reduction", "delta"),
    "smooth_l1_loss": _runtime("smooth_l1_loss", 2, "reduction", "beta"),
    "binary_cross_entropy": _runtime("binary_cross_entropy", 3, "reduction"),
    "binary_cross_entropy_with_logits": _runtime(
        "binary_cross_entropy_with_logits", 4, "reduction"
    ),
    "nll_loss": _runtime("nll_loss", 3, "reduction", "ignore_index"),
}

# Guards, for ops whose numpy ``check`` raises torch's error on bad values: the runtime's
# xp version (which does nothing on lazy arrays). An op with a check and no guard here is
# not supported: compiled code would silently skip the error eager mode raises.
GUARDS: dict = {
    "floor_divide": "rt.check_integer_divisor(xp, {0}, {1})",
    "remainder": "rt.check_integer_divisor(xp, {0}, {1})",
    "nll_loss": "rt.check_targets(xp, {0}, {1}, {2}, reduction={reduction}, "
    "ignore_index={ignore_index})",
    "embedding": "rt.check_embedding_indices(xp, {0}, {1})",
    "div_rounded": "rt.check_integer_divisor(xp, {0}, {1})",
    "index_select": "rt.check_select_index(xp, {0}, {1}, dim={dim})",
    "binary_cross_entropy": "rt.check_probabilities(xp, {0})",
}


def _normalization(node, a, *, dims, eps, has_weight, has_bias):
    operands = ", ".join(["xp", *a])
    return (
        f"rt.layer_norm({operands}, dims={literal(dims)}, eps={literal(eps)}, "
        f"has_weight={has_weight}, has_bias={has_bias})"
    )


SPELLINGS["layer_norm"] = _normalization
SPELLINGS["batch_norm"] = _normalization

# A default spelling made of operators and operands only is valid array API code as it is.
_OPERATORS_ONLY = re.compile(r"[{}0-9\s+\-*/%@<>=!()]*")


def spelling_of(op):
    """This backend's spelling of ``op`` (None when it has none)."""
    found = SPELLINGS.get(op.name)
    if found is not None:
        return found
    default = op.spelling
    if isinstance(default, str) and _OPERATORS_ONLY.fullmatch(default):
        return default
    return None


def _format(spelling, node: Node, operands: list[Operand]) -> str:
    """A spelling filled in. Operator-only spellings and runtime calls (whose kernels take
    Python numbers) get constants as weak scalars; other calls get arrays."""
    attrs = node.attr_dict
    if callable(spelling):
        return spelling(node, operands, **attrs)
    if spelling.startswith("rt.") or _OPERATORS_ONLY.fullmatch(spelling):
        operands = [o.weakened() for o in operands]
    return spelling.format(*operands, **{k: literal(v) for k, v in attrs.items()})


def expression(node: Node, names: list[str]) -> str:
    """The array API expression computing ``node`` from its operands' names.

    Raises ``Unsupported`` when the standard cannot write the op (or its guard)."""
    op = node.op
    spelling = spelling_of(op)
    if spelling is None or (op.check is not None and op.name not in GUARDS):
        raise Unsupported(why_not(op))
    if 0 in node.shape:
        # an empty result is its shape and dtype (and libraries differ on empty inputs)
        return (
            f"xp.empty({literal(tuple(node.shape))}, dtype={dtype_text(node.dtype)}, device=device)"
        )
    return _format(spelling, node, operands_of(node, names))


def why_not(op) -> str:
    """Why ``op`` has no spelling in this backend."""
    return NOT_SPELLED.get(op.name, ("no array API form is known for it", True))[0]


def guard(node: Node, names: list[str]) -> str | None:
    """The guard statement before ``node`` (None for an op without a check)."""
    if node.op.check is None:
        return None
    if node.op.name not in GUARDS:
        raise Unsupported(why_not(node.op))
    return _format(GUARDS[node.op.name], node, operands_of(node, names))


def _batch_norm_eval(node, a, *, eps, has_weight, has_bias):
    operands = ", ".join(["xp", *a])
    return (
        f"rt.batch_norm_eval({operands}, eps={literal(eps)}, has_weight={has_weight}, "
        f"has_bias={has_bias})"
    )


SPELLINGS["batch_norm_eval"] = _batch_norm_eval
SPELLINGS.update(
    {
        "take": _runtime("take", 2),
        "constant_pad_nd": _runtime("constant_pad", 1, "pad", "value"),
        "shift": _runtime("shift", 1, "dim", "offset", "fill"),
        "diagonal": _runtime("diagonal", 1, "offset", "dim1", "dim2"),
        "diagonal_copy": _runtime("diagonal", 1, "offset", "dim1", "dim2"),
        "linalg_solve": _runtime("solve", 2, "left", "vector"),
        "linear_scan": _runtime("linear_scan", 2, "dim", "reverse"),
    }
)
GUARDS["take"] = "rt.check_take_index(xp, {0}, {1})"

# Ops without a spelling here, and why: what the 2023.12 standard lacks, or (``written``
# False) a form the standard allows that this backend does not write yet. Compiling one is
# an error that names the op and gives this reason.
NOT_SPELLED: dict[str, tuple[str, bool]] = {
    "erf": ("the standard has no erf", False),
    "gelu": ("approximate='none' needs erf, which the standard lacks ('tanh' is written)", False),
    "erfc": ("the standard has no erf", False),
    "fmod": ("the standard has no C-style (truncated) remainder", False),
    "einsum": ("the standard has no einsum", False),
    "cumprod": ("cumulative_prod is in the 2024.12 standard, not 2023.12", False),
    "gather": ("take_along_axis is in the 2024.12 standard, not 2023.12", False),
    "index": ("integer-array indexing is in the 2024.12 standard, not 2023.12", False),
    "index_put": ("the standard has no scatter (assignment through index arrays)", False),
    "scatter": ("the standard has no scatter", False),
    "scatter_add": ("the standard has no scatter-add", False),
    "index_add": ("the standard has no scatter-add", False),
    "sample": ("random sampling reads a numpy Generator", False),
    "gather_backward": ("the standard has no scatter-add", False),
    "diag_embed": ("not written yet", True),
    "unfold": ("not written yet (sliding windows as a stack of slices)", True),
    "fold": ("not written yet (sliding windows summed back)", True),
    "copy_slices": ("an in-place write through a view function", False),
}
