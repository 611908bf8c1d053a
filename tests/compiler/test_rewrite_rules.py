"""Each rewrite rule of ``symgrad/compiler/rules.py`` on its own: it fires on its pattern
(asserted on the rewritten graph and the rule's hit counter), the rewritten graph computes what
the traced graph computes on inputs including 0, -0, +-inf and nan (where a rule differs on
purpose, the README's documented exception is asserted explicitly), and it does not fire
where it must not.

Graphs are evaluated node by node with each op's own numpy ``eval``, so these tests do not
depend on the scheduler or the code generator.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest

import symgrad
from symgrad.autograd import grad_mode
from symgrad.compiler import rewrite, rules
from symgrad.ir import trace
from symgrad.ir.graph import CONST, INPUT, OP, Provenance, toposort
from symgrad.ops.registry import REGISTRY
from symgrad.tensor import Tensor

RULES = {r.name: r for phase in rules.PHASES for r in rules.RULES[phase]}
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan]
F64, I64 = symgrad.float64, symgrad.int64


def _values(shape, dtype, seed=0):
    """Random values with the special ones (0, -0, +-inf, nan) among them."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, size=shape)
    if dtype.is_floating_point and x.size:
        flat = x.reshape(-1)
        for k, value in enumerate(SPECIAL[: flat.size]):
            flat[(k * 7 + seed) % flat.size] = value
    return x.astype(dtype.numpy)


def _trace(fn, specs, grad=False):
    """(graph, inputs, outputs) of ``fn`` traced on inputs of these (shape, dtype)."""
    active = trace.Trace("rule_case")
    nodes = [active.graph.input(f"x{k}", shape, d) for k, (shape, d) in enumerate(specs)]
    provenance = Provenance(__file__, 0, "", grad=True) if grad else None
    with trace.tracing(active), grad_mode.no_grad():
        builder = rewrite.Builder(active.graph)
        builder.provenance = provenance
        if grad:
            with trace.provenance(provenance):
                out = fn(builder, *[Tensor._wrap(n) for n in nodes])
        else:
            out = fn(builder, *[Tensor._wrap(n) for n in nodes])
    out = out._data if isinstance(out, Tensor) else out
    return active.graph, nodes, out


def evaluate(root, inputs: dict):
    """The value of ``root`` given input values by node id: each op's numpy eval."""
    env = {}
    for node in toposort([root]):
        if node.kind == INPUT:
            env[node.id] = inputs[node.id]
        elif node.kind == CONST:
            env[node.id] = node.dtype.numpy.type(node.value)
        else:
            with np.errstate(all="ignore"):
                value = node.op.eval(*(env[i.id] for i in node.inputs), **node.attr_dict)
            env[node.id] = np.asarray(value, dtype=node.dtype.numpy)
    return env[root.id]


def _ops(root) -> set[str]:
    return {n.op.name for n in toposort([root]) if n.kind == OP}


def _class_mask(labels, compare="eq"):
    """nll_loss's mask of each row's target class (``le``: a mask true up to it)."""
    classes = symgrad.arange(4).reshape(1, 4)
    picked = labels.unsqueeze(1)
    hit = picked == classes if compare == "eq" else picked <= classes
    return symgrad.logical_and(hit, picked != -100)


def _nll_log_softmax_gradient(labels, p, scale=None):
    """The backward of log_softmax after nll_loss's, as reverse mode builds it: the mean's
    per-row share (or ``scale``), negated and put at each row's target."""
    mask = _class_mask(labels)
    hits = mask.any(1, keepdim=True)
    if scale is None:
        counted = hits.to(F64).reshape(8)
        scale = (counted / counted.sum()).unsqueeze(1)
    picked = symgrad.where(mask, -scale, 0.0)
    return picked - p * symgrad.where(hits, -scale, 0.0)


@dataclass
class Case:
    rule: str
    fn: object  # fn(builder, *symbolic tensors) -> tensor or node
    specs: list
    appears: tuple = ()  # op names the rewritten graph has
    disappears: tuple = ()  # op names it no longer has
    grad: bool = False  # built as backward (gradient) nodes
    documented: object = None  # documented(x, before, after) -> mask where they may differ


def _x(shape=(8,), d=F64):
    return [(shape, d)]


def _const(b, value, d=F64):
    return b.const(value, d)


def _full(b, shape, value, d=F64):
    op = REGISTRY["full"]
    return b.graph.op(op, (), {"shape": shape, "value": value, "dtype": d}, shape, d, None)


def _cast(b, x, d):
    return b.graph.op(REGISTRY["to_dtype"], (x,), {"dtype": d}, x.shape, d, None)


def _node(t):
    return t._data if isinstance(t, Tensor) else t


def _cancellation(inputs, before, after):
    """README: ``x - x -> 0`` drops the NaN eager produces for an inf or nan operand."""
    (x,) = inputs
    bad = ~np.isfinite(x)
    assert np.all(np.isnan(before[bad])) and np.all(after[bad] == 0)
    return bad


def _stable_form(inputs, before, after):
    """README: stable forms are finite where the plain form overflows; elsewhere they agree."""
    return ~np.isfinite(before) & np.isfinite(after)


def _masked_gradient(inputs, before, after):
    """README: a gradient masked by where stays 0 where the other branch's slope is inf/nan."""
    condition, g, h = inputs
    bad = ~condition & ~np.isfinite(h)
    assert np.all(np.isnan(before[bad])) and np.all(after[bad] == 0)
    return bad


POSITIVE = [
    Case(
        "fold_constants",
        lambda b, x: b.op("mul", x._data, b.op("add", _const(b, 2.0), _const(b, 3.0), dtype=F64)),
        _x(),
        disappears=("add",),
    ),
    Case("multiply_by_one", lambda b, x: x * 1, _x(), disappears=("mul",)),
    Case("multiply_by_one", lambda b, x: x / 1, _x(), disappears=("div",)),
    Case("add_zero", lambda b, x: x + 0, _x(), disappears=("add",)),
    Case("add_zero", lambda b, x: x - 0, _x(), disappears=("sub",)),
    Case("subtract_self", lambda b, x: x - x, _x(), disappears=("sub",), documented=_cancellation),
    Case("double_negation", lambda b, x: x.neg().neg(), _x(), disappears=("neg",)),
    Case("negate_constant_product", lambda b, x: -(x * 2), _x(), disappears=("neg",)),
    Case("constant_chain", lambda b, x: (x * 2) * 3, _x()),
    Case("constant_chain", lambda b, x: (x + 2) + 3, _x()),
    Case("constant_first", lambda b, x: b.op("mul", _const(b, 2.0), x._data), _x()),
    Case("power_one", lambda b, x: x**1, _x(), disappears=("pow",)),
    Case("reshape_chain", lambda b, x: x.reshape(2, 4).reshape(4, 2), _x()),
    Case("reshape_chain", lambda b, x: x.reshape(8), _x()),
    Case("reduce_over_every_dim", lambda b, x: x.sum(dim=(0, 1)), _x((2, 4))),
    Case(
        "drop_kept_dims",
        lambda b, x: x.sum(dim=1, keepdim=True).reshape(2),
        _x((2, 4)),
        disappears=("reshape",),
    ),
    Case("transpose_chain", lambda b, x: x.t().t(), _x((2, 4)), disappears=("t",)),
    Case(
        "transpose_chain",
        lambda b, x: x.transpose(0, 1).transpose(1, 0),
        _x((2, 4)),
        disappears=("transpose",),
    ),
    Case(
        "transpose_chain",
        lambda b, x: x.permute(1, 2, 0).permute(2, 0, 1),
        _x((2, 3, 4)),
        disappears=("permute",),
    ),
    Case("cast_to_same_dtype", lambda b, x: _cast(b, x._data, F64), _x(), disappears=("to_dtype",)),
    Case(
        "sum_of_broadcast",
        lambda b, x: x.expand(5, 3).sum(0),
        _x((3,)),
        disappears=("expand", "sum"),
    ),
    Case(
        "fold_broadcast_constants",
        lambda b, x: b.op("mul", _full(b, (8,), 2.0), _full(b, (8,), 3.0), dtype=F64),
        _x(),
        disappears=("mul",),
    ),
    Case(
        "broadcast_constant_operand",
        lambda b, x: b.op("mul", x._data, _full(b, (8,), 2.0)),
        _x(),
        disappears=("full",),
    ),
    Case(
        "matrix_times_column",
        lambda b, x, v: (x @ v.reshape(4, 1)).reshape(3),
        [((3, 4), F64), ((4,), F64)],
    ),
    Case(
        "log_of_one_plus",
        lambda b, x: (1 + x).log(),
        _x(),
        appears=("log1p",),
        documented=_stable_form,
    ),
    Case(
        "exp_minus_one", lambda b, x: x.exp() - 1, _x(), appears=("expm1",), documented=_stable_form
    ),
    Case(
        "log_of_sigmoid",
        lambda b, x: x.sigmoid().log(),
        _x(),
        appears=("logsigmoid",),
        documented=_stable_form,
    ),
    Case(
        "log_of_one_minus_sigmoid",
        lambda b, x: (1 - x.sigmoid()).log(),
        _x(),
        appears=("logsigmoid",),
        documented=_stable_form,
    ),
    Case(
        "sum_of_one_hot",
        lambda b, labels: symgrad.nn.functional.one_hot(labels, 4).to(F64).sum(-1),
        [((8,), I64)],
        disappears=("one_hot",),
    ),
    Case(
        "sum_of_one_hot",
        lambda b, labels: (symgrad.nn.functional.one_hot(labels, 4).to(F64) * 0.25).sum(-1),
        [((2, 3), I64)],
        disappears=("one_hot",),
    ),
    Case(
        "log_of_softmax",
        lambda b, x: x.softmax(1).log(),
        _x((2, 4)),
        appears=("log_softmax",),
        documented=_stable_form,
    ),
    Case(
        "log_of_sum_of_exp",
        lambda b, x: x.exp().sum(1).log(),
        _x((2, 4)),
        appears=("logsumexp",),
        documented=_stable_form,
    ),
    Case(
        "nan_safe_masked_gradient",
        lambda b, c, g, h: symgrad.where(c, g, 0.0) * h,
        [((8,), symgrad.bool), ((8,), F64), ((8,), F64)],
        grad=True,
        documented=_masked_gradient,
    ),
    Case("small_integer_power", lambda b, x: x**2, _x(), disappears=("pow",)),
    Case("small_integer_power", lambda b, x: x**3, _x(), disappears=("pow",)),
    Case("small_integer_power", lambda b, x: x**0.5, _x(), appears=("sqrt",)),
    Case("small_integer_power", lambda b, x: x**-1, _x(), appears=("reciprocal",)),
    Case("divide_by_constant", lambda b, x: x / 4, _x(), disappears=("div",)),
    Case("mean_as_sum", lambda b, x: x.mean(), _x(), appears=("sum",), disappears=("mean",)),
    Case(
        "sum_over_a_one_hot_mask",
        lambda b, t, v: symgrad.where(_class_mask(t), v, 0.0).sum(1, keepdim=True),
        [((8,), I64), ((8, 1), F64)],
        appears=("ge", "le"),  # a label hits its row when 0 <= label <= 3
        disappears=("sum",),
    ),
    Case(
        "sum_over_a_one_hot_mask",
        lambda b, t: _class_mask(t).to(F64).sum(1),
        [((8,), I64)],
        appears=("ge", "le"),
        disappears=("sum",),
    ),
    Case(
        "sum_over_a_one_hot_mask",  # distinct classes, not a range: any() over the row
        lambda b, t: (t.unsqueeze(1) == symgrad.tensor([[0, 2, 5, 3]])).to(F64).sum(1),
        [((8,), I64)],
        appears=("any",),
        disappears=("sum",),
    ),
    Case(
        "logits_cross_entropy_as_softplus",
        lambda b, x, y: symgrad.nn.functional.binary_cross_entropy_with_logits(x, y),
        _x() + _x(),
        appears=("logsigmoid",),
        disappears=("binary_cross_entropy_with_logits",),
    ),
    Case(
        "logits_cross_entropy_as_softplus",
        lambda b, x, y: symgrad.nn.functional.binary_cross_entropy_with_logits(
            x, y, reduction="none"
        ),
        _x() + _x(),
        appears=("logsigmoid",),
    ),
    Case(
        "softmax_minus_one_hot",
        lambda b, t, p: _nll_log_softmax_gradient(t, p),
        [((8,), I64), ((8, 4), F64)],
        disappears=("where",),
    ),
    Case(
        "mean_as_sum",
        lambda b, x: x.mean(1, keepdim=True),
        [((2, 4), symgrad.float32)],
        appears=("sum",),
        disappears=("mean",),
    ),
    Case(
        "transposed_matrix_times_vector",
        lambda b, m, v: m.t() @ v,
        [((4, 3), F64), ((4,), F64)],
        disappears=("t",),
    ),
    Case(
        "transposed_matrix_times_vector",
        lambda b, m, v: v @ m.transpose(0, 1),
        [((4, 3), F64), ((3,), F64)],
        disappears=("transpose",),
    ),
]

NEGATIVE = [
    Case("fold_constants", lambda b, x: x * 2, _x()),
    # An integer x times a float 1 is a float: not x itself.
    Case(
        "multiply_by_one", lambda b, x: b.op("mul", x._data, _const(b, 1.0), dtype=F64), _x(d=I64)
    ),
    Case("add_zero", lambda b, x: b.op("add", x._data, _const(b, 0.0), dtype=F64), _x(d=I64)),
    Case("add_zero", lambda b, x: 0 - x, _x()),
    Case("subtract_self", lambda b, x: x - x, _x(d=I64)),
    Case("subtract_self", lambda b, x, y: x - y, _x() + _x()),
    Case("double_negation", lambda b, x: -x, _x()),
    Case("negate_constant_product", lambda b, x, y: -(x * y), _x() + _x()),
    Case("constant_chain", lambda b, x, y: (x * y) * 3, _x() + _x()),
    Case("constant_first", lambda b, x: b.op("mul", x._data, _const(b, 2.0)), _x()),
    Case("power_one", lambda b, x: x**2, _x()),
    Case("reshape_chain", lambda b, x: x.reshape(2, 4), _x()),
    Case("reduce_over_every_dim", lambda b, x: x.sum(dim=0), _x((2, 4))),
    Case("reduce_over_every_dim", lambda b, x: x.sum(dim=(0, 1), keepdim=True), _x((2, 4))),
    Case("drop_kept_dims", lambda b, x: x.sum(dim=1, keepdim=True).reshape(1, 2), _x((2, 4))),
    Case("transpose_chain", lambda b, x: x.transpose(0, 1).transpose(1, 2), _x((2, 3, 4))),
    Case("cast_to_same_dtype", lambda b, x: x.to(symgrad.float32), _x()),
    Case("sum_of_broadcast", lambda b, x: x.expand(5, 3).sum(1), _x((3,))),
    Case("fold_broadcast_constants", lambda b, x: b.op("mul", x._data, _full(b, (8,), 3.0)), _x()),
    Case(
        "broadcast_constant_operand", lambda b, x: b.op("mul", x._data, _full(b, (4, 8), 2.0)), _x()
    ),
    Case("matrix_times_column", lambda b, x, m: x @ m, [((3, 4), F64), ((4, 2), F64)]),
    Case("log_of_one_plus", lambda b, x: (2 + x).log(), _x()),
    Case("exp_minus_one", lambda b, x: x.exp() - 2, _x()),
    Case("log_of_sigmoid", lambda b, x: x.sigmoid().exp(), _x()),
    Case("log_of_one_minus_sigmoid", lambda b, x: (2 - x.sigmoid()).log(), _x()),
    Case(
        "sum_of_one_hot",
        lambda b, labels: symgrad.nn.functional.one_hot(labels, 4).to(F64).sum(0),
        [((8,), I64)],
    ),
    Case("log_of_softmax", lambda b, x: x.softmax(1).exp(), _x((2, 4))),
    Case("log_of_sum_of_exp", lambda b, x: x.sin().sum(1).log(), _x((2, 4))),
    Case(
        "nan_safe_masked_gradient",
        lambda b, c, g, h: symgrad.where(c, g, 0.0) * h,
        [((8,), symgrad.bool), ((8,), F64), ((8,), F64)],
    ),
    Case("small_integer_power", lambda b, x: x**2.5, _x()),
    Case("divide_by_constant", lambda b, x: x / 0.0, _x()),
    Case("divide_by_constant", lambda b, x, y: x / y, _x() + _x()),
    # a 0-d quotient keeps eager's division (as fast on a scalar)
    Case("divide_by_constant", lambda b, x: x.sum() / 4, _x()),
    # float16's mean accumulates in float32, its sum in float16
    Case("mean_as_sum", lambda b, x: x.mean(), _x(d=symgrad.float16)),
    # true more than once per row (labels <= classes), or a value that varies along the row
    Case(
        "sum_over_a_one_hot_mask",
        lambda b, t, v: symgrad.where(_class_mask(t, "le"), v, 0.0).sum(1),
        [((8,), I64), ((8, 1), F64)],
    ),
    Case(
        "sum_over_a_one_hot_mask",
        lambda b, t, v: symgrad.where(_class_mask(t), v, 0.0).sum(1),
        [((8,), I64), ((8, 4), F64)],
    ),
    Case(
        "logits_cross_entropy_as_softplus",
        lambda b, x, y, w: symgrad.nn.functional.binary_cross_entropy_with_logits(
            x, y, pos_weight=w
        ),
        _x() + _x() + _x(),
    ),
    # a per-row scale that may be infinite: (p - 1) * inf would not be eager's nan
    Case(
        "softmax_minus_one_hot",
        lambda b, t, p, s: _nll_log_softmax_gradient(t, p, s),
        [((8,), I64), ((8, 4), F64), ((8, 1), F64)],
    ),
    Case("mean_as_sum", lambda b, x: x.mean(), _x((0,))),
    Case("transposed_matrix_times_vector", lambda b, m, n: m.t() @ n, [((4, 3), F64)] * 2),
]


def _apply(case):
    graph, inputs, root = _trace(case.fn, case.specs, case.grad)
    root = _node(root)
    hits = Counter()
    (after,) = rewrite.rewrite(graph, [root], [RULES[case.rule]], hits)
    return inputs, root, after, hits


@pytest.mark.parametrize("case", POSITIVE, ids=lambda c: c.rule)
def test_rule_fires_and_keeps_the_value(case):
    inputs, before, after, hits = _apply(case)
    assert hits[case.rule] > 0, f"{case.rule} did not fire"
    assert after is not before and after.shape == before.shape and after.dtype is before.dtype
    ops = _ops(after)
    assert set(case.appears) <= ops, f"{case.rule}: {case.appears} not in {ops}"
    assert not set(case.disappears) & ops, f"{case.rule}: {case.disappears} still in {ops}"
    for seed in range(3):
        values = {
            n.id: (_values(n.shape, n.dtype, seed) if n.dtype.is_floating_point else None)
            for n in inputs
        }
        for n in inputs:
            if n.dtype is symgrad.bool:
                values[n.id] = np.random.default_rng(seed).random(n.shape) < 0.5
            elif n.dtype is I64:  # class labels, in range for the cases' 4 classes
                values[n.id] = np.random.default_rng(seed).integers(0, 4, n.shape)
        expected, got = evaluate(before, values), evaluate(after, values)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        differs = np.zeros(expected.shape, dtype=bool)
        if case.documented is not None:
            ordered = [values[n.id] for n in inputs]
            differs = case.documented(ordered, expected, got)
        np.testing.assert_allclose(
            got[~differs], expected[~differs], rtol=1e-12, atol=0, equal_nan=True
        )


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: c.rule)
def test_rule_does_not_fire_off_its_pattern(case):
    _, before, after, hits = _apply(case)
    assert hits[case.rule] == 0 and after is before


def test_every_rule_has_its_own_cases():
    assert {c.rule for c in POSITIVE} == set(RULES)
    assert {c.rule for c in NEGATIVE} == set(RULES)


def test_documented_exceptions_really_differ():
    """The exceptions asserted above are real (else the masks would hide nothing)."""
    _, before, after, _ = _apply(next(c for c in POSITIVE if c.rule == "subtract_self"))
    x = np.array([np.inf, 1.0])
    (node,) = [n for n in toposort([before]) if n.kind == INPUT]
    assert np.isnan(evaluate(before, {node.id: x})[0]) and evaluate(after, {node.id: x})[0] == 0
