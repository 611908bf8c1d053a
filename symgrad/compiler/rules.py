"""Rewrite rules, by phase. Each rule's docstring gives its ``before -> after`` form.

- canonicalize: constant folding, algebraic identities, shape-op chains, sums of broadcasts;
- stabilize: numerically stable forms (log1p, expm1, softplus, log_softmax, logsumexp), run
  on the forward graph before differentiating so the gradients are stable too;
- specialize: cheaper spellings (x**2 -> x*x, division by a constant -> multiplication).
"""

from __future__ import annotations

import math

import numpy as np

from ..ir.graph import CONST, OP, Node
from ..ops.registry import REGISTRY
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


def _transposed_matrix(node: Node) -> Node | None:
    """A of a 2-D transpose(A) or t(A), else None."""
    if node.ndim == 2 and (_is(node, "t") or _is(node, "transpose")):
        return node.inputs[0]
    return None


@rule("canonicalize")
def transposed_matrix_times_vector(node: Node, b: Builder):
    """transpose(A) @ v -> v @ A ;  v @ transpose(A) -> A @ v  (A a matrix, v a vector: the
    same sums, without the transposed view)"""
    if not _is(node, "matmul"):
        return None
    left, right = node.inputs
    if right.ndim == 1 and _transposed_matrix(left) is not None:
        return _same_type(b.op("matmul", right, _transposed_matrix(left), dtype=node.dtype), node)
    if left.ndim == 1 and _transposed_matrix(right) is not None:
        return _same_type(b.op("matmul", _transposed_matrix(right), left, dtype=node.dtype), node)
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
        negated = b.op("neg", inner.inputs[0], dtype=node.dtype)  # x may be a constant
        return b.op("logsigmoid", negated, dtype=node.dtype)
    return None


@rule("stabilize")
def logits_cross_entropy_as_softplus(node: Node, b: Builder):
    """binary_cross_entropy_with_logits(x, y) -> mean(-logsigmoid(-x) - x * y)  (unit
    weights; likewise sum and none: the loss as the softplus the simplifier knows, so that its
    gradient becomes sigmoid(x) - y on the forward's pieces, as for the textbook form)"""
    if not _is(node, "binary_cross_entropy_with_logits") or not b.has("logsigmoid"):
        return None
    x, y, weight, pos_weight = node.inputs
    if not (_const(weight, 1) and _const(pos_weight, 1)) or x.shape != y.shape:
        return None
    if not (x.dtype is y.dtype is node.dtype and node.dtype.is_floating_point):
        return None
    dtype = node.dtype  # said: x and y may both be constants (x - x folded to 0)
    softplus = b.op("neg", b.op("logsigmoid", b.op("neg", x, dtype=dtype), dtype=dtype))
    loss = b.op("sub", softplus, b.op("mul", x, y, dtype=dtype), dtype=dtype)
    reduction = node.attr_dict["reduction"]
    if reduction != "none":
        loss = b.op(reduction, loss, dim=None, keepdim=False, dtype=None)
    return _same_type(loss, node)


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


def _distinct_along(node: Node, dim: int) -> bool:
    """A constant array (or a reshape of one) whose values differ from each other along
    ``dim`` (``arange``)."""
    source = node.inputs[0] if _is(node, "reshape") else node
    if not _is(source, "array") or node.ndim == 0:
        return False
    values = np.array(source.attr_dict["values"]).reshape(node.shape)
    ordered = np.sort(np.moveaxis(values, dim, -1), axis=-1)
    return bool(np.all(np.diff(ordered, axis=-1) != 0))


def _flat_along(node: Node, dim: int, ndim: int) -> bool:
    """``node`` broadcast to ``ndim`` dims is constant along ``dim`` (extent 1 there)."""
    axis = dim - (ndim - node.ndim)
    return axis < 0 or node.shape[axis] == 1


def _true_at_most_once(mask: Node, dim: int) -> bool:
    """``mask`` is true at most once along ``dim``: an ``eq`` of a value constant along it
    with distinct constants (a class mask, ``labels[:, None] == arange(C)``), or such a
    mask and'ed with anything."""
    if _is(mask, "logical_and"):
        return any(_true_at_most_once(m, dim) for m in mask.inputs)
    if not _is(mask, "eq"):
        return False
    for flat, distinct in (mask.inputs, reversed(mask.inputs)):
        if (
            _flat_along(flat, dim, mask.ndim)
            and distinct.ndim == mask.ndim
            and _distinct_along(distinct, dim)
        ):
            return True
    return False


def _single_dim(node: Node) -> int | None:
    """The one dim a reduction reduces (a vector's, when it reduces all), else None."""
    dims = node.attr_dict.get("dim")
    if dims is None:
        return 0 if node.inputs[0].ndim == 1 else None
    return dims[0] if len(dims) == 1 else None


@rule("canonicalize")
def sum_over_a_one_hot_mask(node: Node, b: Builder):
    """sum(where(m, v, 0), d) -> where(any(m, d), v, 0) ;  sum(m.to(t), d) -> any(m, d).to(t)
    (m true at most once along d, as a class mask; v constant along d: the nll_loss gradient's
    row sums, one pass over a bool mask instead of a cast and a sum)"""
    if not _is(node, "sum") or _single_dim(node) is None:
        return None
    dim, x = _single_dim(node), node.inputs[0]
    if _is(x, "where") and _scalar_behind(x.inputs[2]) == 0 and x.dtype is node.dtype:
        mask, value, zero = x.inputs
        if not (_true_at_most_once(mask, dim) and _flat_along(value, dim, x.ndim)):
            return None
        hit = _row_hit(mask, dim, b)
        result = b.op("where", hit, value, zero, dtype=node.dtype)
    elif _is(x, "to_dtype") and x.inputs[0].dtype.name == "bool" and x.dtype is node.dtype:
        mask = x.inputs[0]
        if not _true_at_most_once(mask, dim):
            return None
        hit = _row_hit(mask, dim, b)
        result = b.graph.op(x.op, (hit,), x.attr_dict, hit.shape, x.dtype, x.provenance)
    else:
        return None
    if result.shape != node.shape:
        result = b.op("reshape", result, shape=node.shape, dtype=node.dtype)
    return _same_type(result, node)


def _consecutive_along(node: Node, dim: int) -> int | None:
    """lo, when ``node`` is the constants lo, lo + 1, ... along ``dim`` (1 elsewhere)."""
    source = node.inputs[0] if _is(node, "reshape") else node
    if not _is(source, "array") or node.ndim == 0 or node.dtype.is_floating_point:
        return None
    if math.prod(node.shape) != node.shape[dim]:
        return None
    values = [int(v) for v in source.attr_dict["values"]]
    return values[0] if values == list(range(values[0], values[0] + len(values))) else None


def _row_hit(mask: Node, dim: int, b: Builder) -> Node:
    """any(mask, dim, keepdim=True), as compares on the label when mask is
    ``label == lo..hi`` (and'ed with a condition on the label alone): lo <= label <= hi."""
    hit = b.op("any", mask, dim=(dim,), keepdim=True)
    parts = mask.inputs if _is(mask, "logical_and") else (mask,)
    ranges = [p for p in parts if _is(p, "eq")]
    if len(ranges) != 1 or any(
        p.ndim != mask.ndim or not _flat_along(p, dim, p.ndim) for p in parts if p is not ranges[0]
    ):
        return hit
    label, numbers = ranges[0].inputs
    if _consecutive_along(label, dim) is not None:
        label, numbers = numbers, label
    low = _consecutive_along(numbers, dim)
    if (
        low is None
        or label.ndim != mask.ndim
        or label.dtype.is_floating_point
        or label.dtype.name == "bool"
    ):
        return hit
    if not _flat_along(label, dim, mask.ndim):
        return hit
    high = low + numbers.shape[dim] - 1
    limits = np.iinfo(label.dtype.numpy)
    if not limits.min <= low <= high <= limits.max:  # bounds the label's type can hold
        return hit
    truth = hit.dtype
    result = b.op(
        "logical_and",
        b.op("ge", label, b.const(low, label.dtype), dtype=truth),
        b.op("le", label, b.const(high, label.dtype), dtype=truth),
        dtype=truth,
    )
    for other in parts:
        if other is not ranges[0]:
            result = b.op("logical_and", result, other, dtype=truth)
    return result if result.shape == hit.shape and result.dtype is hit.dtype else hit


def _is_row_hit(node: Node, mask: Node, dim: int, b: Builder) -> bool:
    """``node`` is any(mask, dim, keepdim=True), as written or as ``_row_hit`` builds it."""
    if _is(node, "any") and node.inputs[0] is mask and node.attr_dict["keepdim"]:
        return _single_dim(node) == dim
    return node is _row_hit(mask, dim, b)


def _hit_scale(node: Node, hits: Node, b: Builder) -> Node | None:
    """``node`` rebuilt to be 0 where ``hits`` is false and finite where it is true, if it is
    1.0 per hit row or that over their count (the unweighted nll_loss's per-sample weights;
    the count taken as at least 1, which changes nothing where a row is hit), reshaped, or
    times a finite constant; else None."""
    if node.kind == OP and node.op.name in ("reshape", "unsqueeze", "expand"):
        inner = _hit_scale(node.inputs[0], hits, b)
        return None if inner is None else b.rebuild(node, (inner,))
    if _is(node, "mul") and _const(node.inputs[1]) and math.isfinite(node.inputs[1].value):
        inner = _hit_scale(node.inputs[0], hits, b)
        return None if inner is None else b.rebuild(node, (inner, node.inputs[1]))
    if _is(node, "div"):
        share, total = node.inputs
        count = share
        if _is(count, "mul") and _const(count.inputs[1]) and math.isfinite(count.inputs[1].value):
            count = count.inputs[0]
        if not (_is(total, "sum") and total.inputs[0] is count and _indicator(count, hits)):
            return None
        at_least_one = b.op("maximum", total, b.const(1.0, total.dtype), dtype=total.dtype)
        return b.rebuild(node, (share, at_least_one))
    return node if _indicator(node, hits) else None


def _indicator(node: Node, hits: Node) -> bool:
    """``node`` is ``hits`` as numbers (1 where true, 0 where false), maybe reshaped."""
    if not node.dtype.is_floating_point:
        return False
    source = node
    while source.kind == OP and source.op.name in ("reshape", "to_dtype"):
        source = source.inputs[0]
    return source is hits


@rule("canonicalize")
def softmax_minus_one_hot(node: Node, b: Builder):
    """where(m, -s, 0) - p * where(any(m, d), -s, 0) -> (p - m.to(float)) * s'
    (m true at most once along d; s a row's share of the rows m hits, finite there, and s'
    that share with 0 on the rows m misses: the gradient of nll_loss(log_softmax(z)) for class
    indices collapses to (softmax(z) - onehot) / n, and stays 0 when every target is
    ignored)"""
    if not _is(node, "sub"):
        return None
    picked, other = node.inputs
    masked = _masked_zero(picked)
    if masked is None or not masked[2] or not _is(masked[1], "neg"):
        return None
    mask, value = masked[0], masked[1]
    if _is(other, "mul"):
        p, scaled = other.inputs
        if _masked_zero(scaled) is None:
            p, scaled = scaled, p
        row = _masked_zero(scaled)
        if row is None or row[1] is not value or not row[2]:
            return None
    elif _is(other, "where") and _masked_zero(other) is not None and _is(other.inputs[1], "mul"):
        row = _masked_zero(other)  # after nan_safe_masked_gradient: where(r, p * -s, 0)
        if not row[2] or value not in row[1].inputs:
            return None
        p = row[1].inputs[1] if row[1].inputs[0] is value else row[1].inputs[0]
    else:
        return None
    hits = row[0]
    dims = [d for d in range(mask.ndim) if _true_at_most_once(mask, d)]
    if not any(_is_row_hit(hits, mask, d, b) for d in dims):
        return None
    if p.shape != node.shape or p.dtype is not node.dtype:
        return None
    rows = _hit_scale(value.inputs[0], hits, b)
    if rows is None:
        return None
    onehot = b.graph.op(
        REGISTRY["to_dtype"], (mask,), {"dtype": node.dtype}, mask.shape, node.dtype, b.provenance
    )
    difference = b.op("sub", p, onehot, dtype=node.dtype)
    return _same_type(b.op("mul", difference, rows, dtype=node.dtype), node)


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
def mean_as_sum(node: Node, b: Builder):
    """mean(x, dims) -> sum(x, dims) / count  (float32/float64: numpy's mean is this sum and
    this division behind a Python layer that costs four times the sum on a small array; the
    same rounding, bit for bit)"""
    if not _is(node, "mean") or node.dtype.numpy not in (np.float32, np.float64):
        return None
    x = node.inputs[0]
    attrs = node.attr_dict
    dims = attrs["dim"] if attrs["dim"] is not None else range(x.ndim)
    count = math.prod(x.shape[d] for d in dims)
    if x.dtype is not node.dtype or attrs.get("dtype") not in (None, node.dtype) or count == 0:
        return None
    total = b.op("sum", x, dim=attrs["dim"], keepdim=attrs["keepdim"], dtype=None)
    return _same_type(b.op("div", total, b.const(count, node.dtype)), node)


@rule("specialize")
def divide_by_constant(node: Node, b: Builder):
    """x / c -> x * (1/c)  (c a finite nonzero constant, x an array: at most one rounding
    apart; a 0-d x keeps the division, as fast and eager's rounding)"""
    if node.shape == ():
        return None
    if _is(node, "div") and _const(node.inputs[1]) and node.inputs[0].dtype is node.dtype:
        c = node.inputs[1].value
        if c != 0 and math.isfinite(c) and node.dtype.is_floating_point:
            return b.op("mul", node.inputs[0], b.const(1.0 / c, node.dtype), dtype=node.dtype)
    return None
