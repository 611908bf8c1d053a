"""Rewrite rules, by phase. Each rule's docstring gives its ``before -> after`` form.

- canonicalize: constant folding, algebraic identities, shape-op chains, sums of broadcasts;
- stabilize: numerically stable forms (log1p, expm1, softplus, log_softmax, logsumexp), run
  on the forward graph before differentiating so the gradients are stable too;
- specialize: cheaper spellings (x**2 -> x*x, division by a constant -> multiplication).
"""

from __future__ import annotations

import math

import numpy as np

from ..ops.registry import REGISTRY
from .graph import CONST, OP, Node
from .rewrite import Builder, Rule, fold_constants

PHASES = ("canonicalize", "stabilize", "specialize")
RULES: dict[str, list[Rule]] = {phase: [] for phase in PHASES}


def rule(phase: str):
    def register(fn):
        RULES[phase].append(Rule(fn.__name__, phase, fn, (fn.__doc__ or "").strip()))
        return fn

    return register


def _is(node: Node, op_name: str) -> bool:
    return node.kind == OP and node.op.name == op_name


def _const(node: Node, value=None) -> bool:
    return node.kind == CONST and (value is None or node.value == value)


def _same_type(candidate: Node, node: Node) -> Node | None:
    """``candidate`` if it can stand for ``node`` as is (same shape and dtype)."""
    if candidate.shape == node.shape and candidate.dtype is node.dtype:
        return candidate
    return None


# ---------------------------------------------------------------------------- canonicalize

rule("canonicalize")(fold_constants)


@rule("canonicalize")
def multiply_by_one(node: Node, b: Builder):
    """x * 1 -> x ;  1 * x -> x ;  x / 1 -> x"""
    if _is(node, "mul"):
        x, y = node.inputs
        if _const(y, 1):
            return _same_type(x, node)
        if _const(x, 1):
            return _same_type(y, node)
    if _is(node, "div") and _const(node.inputs[1], 1):
        return _same_type(node.inputs[0], node)
    return None


@rule("canonicalize")
def add_zero(node: Node, b: Builder):
    """x + 0 -> x ;  0 + x -> x ;  x - 0 -> x"""
    if _is(node, "add") or _is(node, "sub"):
        x, y = node.inputs
        if _const(y, 0):
            return _same_type(x, node)
        if _is(node, "add") and _const(x, 0):
            return _same_type(y, node)
    return None


@rule("canonicalize")
def subtract_self(node: Node, b: Builder):
    """x - x -> 0  (broadcast to x's shape)"""
    if _is(node, "sub") and node.inputs[0] is node.inputs[1] and node.dtype.is_floating_point:
        zero = b.const(0.0, node.dtype)
        return (
            zero if node.shape == () else b.op("expand", zero, dtype=node.dtype, shape=node.shape)
        )
    return None


@rule("canonicalize")
def double_negation(node: Node, b: Builder):
    """-(-x) -> x"""
    if _is(node, "neg") and _is(node.inputs[0], "neg"):
        return node.inputs[0].inputs[0]
    return None


@rule("canonicalize")
def negate_constant_product(node: Node, b: Builder):
    """-(x * c) -> x * (-c)"""
    if _is(node, "neg") and _is(node.inputs[0], "mul"):
        x, c = node.inputs[0].inputs
        if _const(c):
            return b.op("mul", x, b.const(-c.value, c.dtype), dtype=node.dtype)
    return None


@rule("canonicalize")
def constant_chain(node: Node, b: Builder):
    """(x * c1) * c2 -> x * (c1 * c2) ;  (x + c1) + c2 -> x + (c1 + c2)"""
    for name, combine in (("mul", lambda p, q: p * q), ("add", lambda p, q: p + q)):
        if _is(node, name) and _const(node.inputs[1]) and _is(node.inputs[0], name):
            x, c1 = node.inputs[0].inputs
            if _const(c1):
                value = combine(c1.value, node.inputs[1].value)
                return b.op(name, x, b.const(value, node.inputs[1].dtype), dtype=node.dtype)
    return None


@rule("canonicalize")
def constant_first(node: Node, b: Builder):
    """c * x -> x * c ;  c + x -> x + c  (so the other rules see one form)"""
    if (_is(node, "mul") or _is(node, "add")) and _const(node.inputs[0]):
        if not _const(node.inputs[1]):
            return b.op(node.op.name, node.inputs[1], node.inputs[0], dtype=node.dtype)
    return None


@rule("canonicalize")
def power_one(node: Node, b: Builder):
    """x ** 1 -> x"""
    if _is(node, "pow") and _const(node.inputs[1], 1):
        return _same_type(node.inputs[0], node)
    return None


@rule("canonicalize")
def reshape_chain(node: Node, b: Builder):
    """reshape(reshape(x, s1), s2) -> reshape(x, s2) ;  reshape(x, shape(x)) -> x ;
    reshape(array(v, s1), s2) -> array(v, s2)"""
    if not _is(node, "reshape"):
        return None
    x = node.inputs[0]
    if x.shape == node.shape:
        return x
    if _is(x, "reshape"):
        return b.op("reshape", x.inputs[0], shape=node.shape, dtype=node.dtype)
    if _is(x, "array"):
        attrs = dict(x.attr_dict, shape=node.shape)
        return b.graph.op(x.op, (), attrs, node.shape, node.dtype, x.provenance)
    return None


@rule("canonicalize")
def reduce_over_every_dim(node: Node, b: Builder):
    """sum(x, every dim, keepdim=False) -> sum(x)  (likewise mean: the plain form)"""
    if node.kind != OP or node.op.name not in ("sum", "mean") or not node.inputs:
        return None
    attrs = node.attr_dict
    dims = attrs.get("dim")
    if dims is None or attrs.get("keepdim") or tuple(dims) != tuple(range(node.inputs[0].ndim)):
        return None
    return b.graph.op(
        node.op, node.inputs, dict(attrs, dim=None), node.shape, node.dtype, node.provenance
    )


@rule("canonicalize")
def drop_kept_dims(node: Node, b: Builder):
    """reshape(sum(x, dims, keepdim=True), shape without them) -> sum(x, dims)"""
    if not _is(node, "reshape") or not _is(node.inputs[0], "sum"):
        return None
    total = node.inputs[0]
    attrs = total.attr_dict
    if not attrs["keepdim"]:
        return None
    dims = attrs["dim"] if attrs["dim"] is not None else tuple(range(total.ndim))
    kept = tuple(n for i, n in enumerate(total.shape) if i not in dims)
    if kept != node.shape:
        return None
    x = total.inputs[0]
    result = b.graph.op(
        total.op, (x,), dict(attrs, keepdim=False), node.shape, node.dtype, total.provenance
    )
    return result


@rule("canonicalize")
def transpose_chain(node: Node, b: Builder):
    """permute(permute(x, p), q) -> permute(x, p[q]) ;  transpose(transpose(x)) -> x ;
    t(t(x)) -> x ;  permute(x, identity) -> x"""
    x = node.inputs[0] if node.inputs else None
    if _is(node, "t") and _is(x, "t"):
        return x.inputs[0]
    if _is(node, "transpose") and _is(x, "transpose"):
        if {node.attr_dict["dim0"], node.attr_dict["dim1"]} == {
            x.attr_dict["dim0"],
            x.attr_dict["dim1"],
        }:
            return x.inputs[0]
    if _is(node, "permute"):
        dims = node.attr_dict["dims"]
        if dims == tuple(range(len(dims))):
            return x
        if _is(x, "permute"):
            inner = x.attr_dict["dims"]
            return b.op(
                "permute", x.inputs[0], dims=tuple(inner[d] for d in dims), dtype=node.dtype
            )
    return None


@rule("canonicalize")
def cast_to_same_dtype(node: Node, b: Builder):
    """x.to(dtype of x) -> x"""
    if _is(node, "to_dtype") and node.inputs[0].dtype is node.dtype:
        return node.inputs[0]
    return None


@rule("canonicalize")
def sum_of_broadcast(node: Node, b: Builder):
    """sum(expand(x), the dims x was broadcast over) -> reshape(x * count)"""
    if not _is(node, "sum") or not _is(node.inputs[0], "expand"):
        return None
    x = node.inputs[0].inputs[0]
    expanded = node.inputs[0].shape
    dims = node.attr_dict["dim"]
    dims = set(range(len(expanded))) if dims is None else set(dims)
    lead = len(expanded) - len(x.shape)
    broadcast = {
        i for i in range(len(expanded)) if i < lead or (x.shape[i - lead] == 1 and expanded[i] != 1)
    }
    if dims != broadcast or x.dtype is not node.dtype or x.kind == CONST:
        return None
    count = math.prod(expanded[d] for d in dims)
    scaled = b.op("mul", x, b.const(count, node.dtype), dtype=node.dtype)
    return b.op("reshape", scaled, shape=node.shape, dtype=node.dtype)


def _scalar_behind(node: Node):
    """The Python number a node holds everywhere (a constant, a fill, or a reshape/expand
    of one), or None."""
    while node.kind == OP and node.op.name in ("reshape", "expand", "squeeze", "unsqueeze"):
        node = node.inputs[0]
    if node.kind == CONST:
        return node.value
    if _is(node, "full"):
        return node.attr_dict["value"]
    return None


@rule("canonicalize")
def fold_broadcast_constants(node: Node, b: Builder):
    """op(fill(c1), fill(c2)) -> fill(op(c1, c2))  (cheap elementwise ops on constants
    broadcast to a shape)"""
    if not (node.kind == OP and node.op.elementwise and node.op.cost == "cheap"):
        return None
    if node.shape == ():
        return None
    values = [_scalar_behind(i) for i in node.inputs]
    if any(v is None for v in values) or all(i.kind == CONST for i in node.inputs):
        return None
    scalars = [np.asarray(v, dtype=i.dtype.numpy) for v, i in zip(values, node.inputs, strict=True)]
    with np.errstate(all="ignore"):
        value = np.asarray(node.op.eval(*scalars, **node.attr_dict)).item()
    return _fill(b, node, value)


def _fill(b: Builder, node: Node, value) -> Node:
    return b.graph.op(
        REGISTRY["full"],
        (),
        {"shape": node.shape, "value": value, "dtype": node.dtype},
        node.shape,
        node.dtype,
        node.provenance,
    )


@rule("canonicalize")
def broadcast_constant_operand(node: Node, b: Builder):
    """x * fill(c) -> x * c  (when x alone already has the result's shape; likewise for
    +, -, /)"""
    if not (node.kind == OP and node.op.name in ("add", "sub", "mul", "div")):
        return None
    for i, operand in enumerate(node.inputs):
        value = _scalar_behind(operand) if operand.kind == OP else None
        other = node.inputs[1 - i]
        if value is not None and other.shape == node.shape and other.kind != CONST:
            inputs = list(node.inputs)
            inputs[i] = b.const(value, operand.dtype)
            return b.op(node.op.name, *inputs, dtype=node.dtype)
    return None


@rule("canonicalize")
def matrix_times_column(node: Node, b: Builder):
    """squeeze(A @ reshape(v, (n, 1)), -1) -> A @ v  (v a vector: a matrix-vector product)"""
    if not (node.kind == OP and node.op.name in ("reshape", "squeeze")):
        return None
    product = node.inputs[0]
    if not _is(product, "matmul") or product.inputs[1].kind != OP:
        return None
    column = product.inputs[1]
    if (
        _is(column, "reshape")
        and column.inputs[0].ndim == 1
        and column.shape[-1] == 1
        and column.ndim == 2
        and product.inputs[0].ndim >= 2
    ):
        result = b.op("matmul", product.inputs[0], column.inputs[0], dtype=node.dtype)
        return _same_type(result, node)
    return None


# ------------------------------------------------------------------------------ stabilize


@rule("stabilize")
def log_of_one_plus(node: Node, b: Builder):
    """log(1 + x) -> log1p(x)"""
    if _is(node, "log") and _is(node.inputs[0], "add"):
        x, y = node.inputs[0].inputs
        if _const(y, 1) and x.dtype is node.dtype:
            return b.op("log1p", x, dtype=node.dtype)
        if _const(x, 1) and y.dtype is node.dtype:
            return b.op("log1p", y, dtype=node.dtype)
    return None


@rule("stabilize")
def exp_minus_one(node: Node, b: Builder):
    """exp(x) - 1 -> expm1(x)"""
    if _is(node, "sub") and _is(node.inputs[0], "exp") and _const(node.inputs[1], 1):
        return b.op("expm1", node.inputs[0].inputs[0], dtype=node.dtype)
    if _is(node, "add") and _is(node.inputs[0], "exp") and _const(node.inputs[1], -1):
        return b.op("expm1", node.inputs[0].inputs[0], dtype=node.dtype)
    return None


@rule("stabilize")
def log_of_sigmoid(node: Node, b: Builder):
    """log(sigmoid(x)) -> logsigmoid(x)  (= -softplus(-x), finite for any x)"""
    if _is(node, "log") and _is(node.inputs[0], "sigmoid") and b.has("logsigmoid"):
        return b.op("logsigmoid", node.inputs[0].inputs[0], dtype=node.dtype)
    return None


@rule("stabilize")
def log_of_one_minus_sigmoid(node: Node, b: Builder):
    """log(1 - sigmoid(x)) -> logsigmoid(-x)  (= -softplus(x), finite for any x)"""
    if not (_is(node, "log") and _is(node.inputs[0], "sub") and b.has("logsigmoid")):
        return None
    one, inner = node.inputs[0].inputs
    if _const(one, 1) and _is(inner, "sigmoid") and inner.dtype is node.dtype:
        return b.op("logsigmoid", b.op("neg", inner.inputs[0]))
    return None


def _float_one_hot(node: Node) -> bool:
    return _is(node, "to_dtype") and _is(node.inputs[0], "one_hot")


@rule("stabilize")
def sum_of_one_hot(node: Node, b: Builder):
    """sum(one_hot(l, k).to(float) [* c], dim=-1) -> c  (each row holds one 1: the
    cross-entropy gradient's sum over classes is known; one_hot refuses labels out of range)"""
    if not (_is(node, "sum") and node.inputs[0].shape and node.dtype.is_floating_point):
        return None
    x = node.inputs[0]
    scale = 1.0
    if _is(x, "mul") and _const(x.inputs[1]):
        x, scale = x.inputs[0], x.inputs[1].value
    if not _float_one_hot(x) or node.attr_dict["dim"] != (x.ndim - 1,):
        return None
    value = b.const(scale, node.dtype)
    return value if node.shape == () else _fill(b, node, scale)


@rule("stabilize")
def log_of_softmax(node: Node, b: Builder):
    """log(softmax(x, dim)) -> log_softmax(x, dim)"""
    if _is(node, "log") and _is(node.inputs[0], "softmax") and b.has("log_softmax"):
        inner = node.inputs[0]
        return b.op("log_softmax", inner.inputs[0], dtype=node.dtype, **inner.attr_dict)
    return None


@rule("stabilize")
def log_of_sum_of_exp(node: Node, b: Builder):
    """log(sum(exp(x), dim, keepdim)) -> logsumexp(x, dim, keepdim)"""
    if not (_is(node, "log") and _is(node.inputs[0], "sum") and b.has("logsumexp")):
        return None
    total = node.inputs[0]
    if not _is(total.inputs[0], "exp"):
        return None
    x = total.inputs[0].inputs[0]
    attrs = total.attr_dict
    dim = attrs["dim"] if attrs["dim"] is not None else tuple(range(x.ndim))
    return _same_type(b.op("logsumexp", x, dim=dim, keepdim=attrs["keepdim"]), node)


def _masked_zero(node: Node):
    """(condition, value, value_first) of where(c, v, 0) or where(c, 0, v), else None."""
    if not _is(node, "where"):
        return None
    condition, a, b = node.inputs
    if _const(b, 0):
        return condition, a, True
    if _const(a, 0):
        return condition, b, False
    return None


@rule("stabilize")
def nan_safe_masked_gradient(node: Node, b: Builder):
    """where(c, g, 0) * h -> where(c, g * h, 0) ;  where(c, g, 0) / h -> where(c, g / h, 0)
    (a gradient masked by where stays 0 where the unselected branch's slope is inf or NaN;
    only on the backward's nodes: the forward computes exactly what eager mode computes)"""
    if not (node.kind == OP and node.op.name in ("mul", "div")):
        return None
    if node.provenance is None or not node.provenance.grad:
        return None
    for index, operand in enumerate(node.inputs):
        if index == 1 and node.op.name == "div":
            break
        masked = _masked_zero(operand)
        if masked is None:
            continue
        condition, value, value_first = masked
        other = node.inputs[1 - index]
        pair = (value, other) if index == 0 else (other, value)
        inner = b.op(node.op.name, *pair, dtype=node.dtype)
        zero = b.const(0.0, node.dtype)
        branches = (inner, zero) if value_first else (zero, inner)
        result = b.graph.op(
            operand.op, (condition, *branches), {}, node.shape, node.dtype, node.provenance
        )
        return _same_type(result, node)
    return None


# ----------------------------------------------------------------------------- specialize


@rule("specialize")
def small_integer_power(node: Node, b: Builder):
    """x ** 2 -> x * x ;  x ** 3 -> x * x * x ;  x ** 0.5 -> sqrt(x) ;  x ** -1 -> 1 / x"""
    if not _is(node, "pow") or node.inputs[0].dtype is not node.dtype:
        return None
    x, power = node.inputs
    if not _const(power):
        return None
    exponent = power.value
    if exponent == 2:
        return b.op("mul", x, x, dtype=node.dtype)
    if exponent == 3:
        return b.op("mul", b.op("mul", x, x, dtype=node.dtype), x, dtype=node.dtype)
    if exponent == 0.5 and node.dtype.is_floating_point:
        return b.op("sqrt", x, dtype=node.dtype)
    if exponent == -1 and node.dtype.is_floating_point:
        return b.op("reciprocal", x, dtype=node.dtype)
    return None


@rule("specialize")
def divide_by_constant(node: Node, b: Builder):
    """x / c -> x * (1/c)  (c a finite nonzero constant; at most one rounding apart)"""
    if _is(node, "div") and _const(node.inputs[1]) and node.inputs[0].dtype is node.dtype:
        c = node.inputs[1].value
        if c != 0 and math.isfinite(c) and node.dtype.is_floating_point:
            return b.op("mul", node.inputs[0], b.const(1.0 / c, node.dtype), dtype=node.dtype)
    return None
