"""SymPy where it is cheap and worth it: elementwise regions, forward and backward together.

A *region* is a set of elementwise float ops of one dtype (``+ - * /``, ``exp``, ``log``,
``tanh``, ``sigmoid``, ``softplus``, ...), forward and backward nodes alike, connected through
each other or through an input they read, that no path leaves and re-enters (so replacing it
cannot create a cycle). Each region becomes one
SymPy expression per value used outside it, over symbols for its inputs, with the sigmoid
family as opaque functions (``identities.py``). The cheapest of a few forms (as built, expanded,
common factors pulled out, each with and without the family's identities) replaces the region
when it needs fewer numpy passes, and the forward and backward share every subexpression they
have in common (the graph is hash-consed).

Safety: a candidate is accepted only if, evaluated in float64 on a grid of test points that
includes 0, +-1 and NaN for every input, it equals the region as written wherever that is
finite, and is NaN, +-inf where the region is. So ``x*y/y`` never becomes ``x`` (NaN at
``y = 0``) and ``x - x`` never becomes 0 (NaN at ``x = NaN``). What it may change is rounding:
``(1 - sigmoid(z)) / (1 - sigmoid(z))`` cancels although float32 rounds ``1 - sigmoid(30)``
to 0 (the documented stabilization: the result is finite where the math is).

Cost: one walk over the graph to find regions, then work per region on its members only
(at most ``MAX_REGION`` ops, expressions of at most ``MAX_TREE`` SymPy ops), until the
regions tried hold ``WORK_BUDGET`` ops in all; past it, the remaining regions stay as they
are. The budget counts ops, not seconds, so that the same graph gives the same code on every
machine and under any load (generated code is deterministic and cached on disk by content).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from ..ir.graph import CONST, OP, Node, toposort
from ..ops import derivatives
from ..ops.registry import REGISTRY
from . import identities
from .rewrite import Builder
from .rules import _scalar_behind

MAX_REGION = 48
MAX_TREE = 300
MAX_EXPANDED_TERMS = 32
WORK_BUDGET = 2000  # region ops per compile: about 0.1-0.2 s of SymPy on a 2-core machine

# numpy passes of ops whose generated code is more than one ufunc call (default 1).
_PASSES = {"sigmoid": 4, "softplus": 6, "logsigmoid": 8, "rsqrt": 2}

# op name -> SymPy form, where it is not ``op.sympy`` (the family is kept opaque).
# log1p and expm1 stay functions, so that SymPy never turns them back into log(1 + x).
_TO_SYMPY = {
    "sigmoid": lambda x: identities.Sigmoid(x),
    "logsigmoid": lambda x: -identities.Softplus(-x),
    "log1p": lambda x: log1p(x),
    "expm1": lambda x: expm1(x),
    "pow": lambda x, exponent: x**exponent,
}

# SymPy function -> op name for rebuilding (the elementwise library, then the family).
_FROM_SYMPY = {
    **derivatives._FUNCTION_NAMES,
    identities.Sigmoid: "sigmoid",
    log1p: "log1p",
    expm1: "expm1",
}

_TEST_VALUES = (0.0, 1.0, -1.0, 0.5, -2.0, 2.5, -0.25, math.nan)
_MAX_TEST_POINTS = 4096


def _member(node: Node) -> bool:
    """An op the region converter understands, on floats."""
    if node.kind != OP or not node.dtype.is_floating_point or not node.inputs:
        return False
    name = node.op.name
    if name == "softplus":
        return node.attr_dict == {"beta": 1.0, "threshold": 20.0}
    if name == "pow":
        return node.inputs[1].kind == CONST
    return name in _TO_SYMPY or node.op.sympy is not None


@dataclass
class Region:
    """Members in dependency order; outputs: members used outside (or roots)."""

    members: list[Node]
    outputs: list[Node] = field(default_factory=list)


def regions(order: list[Node], roots: list[Node]) -> list[Region]:
    """The graph's elementwise regions, in dependency order (one walk over ``order``).

    ``depth`` counts exits from elementwise code along the longest path: a member and its
    member input join only at equal depth, so a path that leaves a region (through a
    reduction, a matmul) and comes back always lands in a deeper region."""
    member = {n.id: _member(n) for n in order}
    depth: dict[int, int] = {}
    parent: dict[int, int] = {}
    readers: dict[tuple, int] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for node in order:
        d = 0
        for source in node.inputs:
            leaves_region = member[source.id] and not (
                member[node.id] and source.dtype is node.dtype
            )
            d = max(d, depth[source.id] + leaves_region)
        depth[node.id] = d
        if member[node.id]:
            parent[node.id] = node.id
            for source in node.inputs:
                if member[source.id] and source.dtype is node.dtype and depth[source.id] == d:
                    parent[find(source.id)] = find(node.id)
                elif not member[source.id] and source.kind != CONST:
                    # readers of one input at one depth (the forward's x * 2 and the
                    # backward's x + 1) share a region, so the backward can reuse the forward
                    reader = readers.setdefault((source.id, d, node.dtype), node.id)
                    parent[find(reader)] = find(node.id)
    groups: dict[int, list[Node]] = {}
    for node in order:
        if member[node.id]:
            groups.setdefault(find(node.id), []).append(node)
    chunks = []
    for members in groups.values():
        for start in range(0, len(members), MAX_REGION):
            chunks.append(Region(members[start : start + MAX_REGION]))
    _mark_outputs(order, roots, chunks)
    chunks.sort(key=lambda r: r.members[-1].id)
    return chunks


def _mark_outputs(order, roots, chunks) -> None:
    region_of = {m.id: k for k, r in enumerate(chunks) for m in r.members}
    used_outside: set[int] = {r.id for r in roots}
    for node in order:
        home = region_of.get(node.id)
        for source in node.inputs:
            if source.id in region_of and region_of[source.id] != home:
                used_outside.add(source.id)
    for region in chunks:
        region.outputs = [m for m in region.members if m.id in used_outside]


# ------------------------------------------------------------------------ graph -> SymPy


@dataclass
class _Converted:
    expressions: list[sp.Expr]
    leaves: list[Node]  # leaf k is the symbol v{k}
    # The same outputs with each compound member used more than once named w{k}, and the
    # definitions of the names: the forward's intermediates, for the backward to reuse.
    named: list[sp.Expr] = field(default_factory=list)
    definitions: list[tuple[sp.Symbol, sp.Expr]] = field(default_factory=list)


def _constant(value) -> sp.Expr:
    return sp.Integer(int(value)) if float(value).is_integer() else sp.Rational(value)


def _tree_size(region: Region, position: dict[int, int]) -> int:
    """Ops in the region's outputs written as trees (what SymPy holds), without SymPy."""
    size: dict[int, int] = {}
    for node in region.members:
        size[node.id] = 1 + sum(size[i.id] if i.id in position else 1 for i in node.inputs)
    return sum(size[o.id] for o in region.outputs)


def convert(region: Region) -> _Converted | None:
    """The region's outputs as SymPy expressions (None past ``MAX_TREE`` ops as trees)."""
    position = {m.id: k for k, m in enumerate(region.members)}
    if _tree_size(region, position) > MAX_TREE:
        return None
    built: dict[int, sp.Expr] = {}
    named: dict[int, sp.Expr] = {}  # members as the named view sees them
    definitions: list[tuple[sp.Symbol, sp.Expr]] = []
    uses = Counter(i.id for m in region.members for i in m.inputs if i.id in position)
    leaves: list[Node] = []
    leaf_index: dict[int, int] = {}
    for node in region.members:
        arguments, named_arguments = [], []
        for source in node.inputs:
            if source.id in position:
                arguments.append(built[source.id])
                named_arguments.append(named[source.id])
            elif _scalar_behind(source) is not None:  # a constant, or one broadcast
                value = _scalar_behind(source)
                if not math.isfinite(value):  # SymPy's oo and nan are not IEEE's: keep as written
                    return None
                arguments.append(_constant(value))
                named_arguments.append(arguments[-1])
            else:
                if source.dtype is not node.dtype:  # numpy would promote a rebuilt op
                    return None
                if source.id not in leaf_index:
                    leaf_index[source.id] = len(leaves)
                    leaves.append(source)
                k = leaf_index[source.id]
                arguments.append(sp.Symbol(f"v{k}", real=True))
                named_arguments.append(arguments[-1])
        built[node.id] = _sympy_form(node, arguments)
        named[node.id] = _sympy_form(node, named_arguments)
        if uses[node.id] > 1 and (named[node.id].is_Add or named[node.id].is_Mul):
            name = sp.Symbol(f"w{len(definitions)}", real=True)
            definitions.append((name, named[node.id]))
            named[node.id] = name
    return _Converted(
        [built[o.id] for o in region.outputs],
        leaves,
        [named[o.id] for o in region.outputs],
        definitions,
    )


def _sympy_form(node: Node, arguments: list) -> sp.Expr:
    to_sympy = _TO_SYMPY.get(node.op.name)
    if node.op.name == "softplus":
        return identities.Softplus(*arguments)
    if to_sympy is not None:
        return to_sympy(*arguments)
    return node.op.sympy(*arguments)


# ------------------------------------------------------------------ choosing a form


def _cost(expr: sp.Expr, seen: set) -> int:
    """numpy passes to compute ``expr`` as ``rebuild`` writes it (shared parts once)."""
    if expr in seen or expr.is_Symbol or expr.is_number:
        return 0
    seen.add(expr)
    reused = _extends(expr, seen)
    if reused is not None:
        return 1 + _cost(reused, seen)
    if expr.is_Add or expr.is_Mul:
        coefficient, rest = expr.as_coeff_Add() if expr.is_Add else expr.as_coeff_Mul()
        parts = (sp.Add if expr.is_Add else sp.Mul).make_args(rest)
        own = len(parts) - 1 + (coefficient not in (0, 1))
        if expr.is_Add:  # a negative term is a subtraction, not a negation
            parts = [-p if p.could_extract_minus_sign() else p for p in parts]
        return own + sum(_cost(p, seen) for p in parts)
    if expr.is_Pow:
        base, exponent = expr.args
        own = int(abs(exponent)) - 1 if exponent.is_Integer and abs(exponent) <= 3 else 1
        return max(own, 1) + _cost(base, seen)
    name = "softplus" if isinstance(expr, identities.Softplus) else _FROM_SYMPY.get(expr.func)
    return _PASSES.get(name, 1) + sum(_cost(a, seen) for a in expr.args)


def _extends(expr: sp.Expr, known) -> sp.Expr | None:
    """The factor (term) ``f`` of a product (sum) whose other factors (terms) are ``known``
    as a whole, so that ``expr`` costs one op on top of it."""
    if not (expr.is_Mul or expr.is_Add) or len(expr.args) > 8:
        return None
    for part in sorted(expr.args, key=_order):
        rest = _without(expr, part)
        if rest in known and not (rest.is_number or rest.is_Symbol):
            return part
    return None


def _without(expr: sp.Expr, part: sp.Expr) -> sp.Expr:
    """``expr`` less one of its factors (terms), not re-evaluated: ``(a + b)/8 * y`` less
    ``y`` is ``(a + b)/8``, where ``expr / y`` would distribute the 1/8."""
    others = list(expr.args)
    others.remove(part)
    return others[0] if len(others) == 1 else expr.func._from_args(others)


def _total_cost(expressions) -> int:
    seen: set = set()
    return sum(_cost(e, seen) for e in expressions)


@functools.lru_cache(maxsize=2048)
def choose(expressions: tuple) -> tuple[tuple, tuple]:
    """The cheapest form of the outputs together: (expressions, identities used).

    Identity subsets apply to all outputs at once (so they keep sharing terms), and the
    arguments of functions are held as atoms while expanding: ``y * z - softplus(z)`` for
    ``z = a + b`` stays that, instead of ``a*y + b*y - softplus(a + b)``."""
    joint, atoms = _freeze_arguments(sp.Tuple(*expressions))
    candidates = []
    for form, fired in identities.forms(joint):
        shapes = []
        for e in form.args:
            # thawed before factoring: rebuilding c * (a + b) would distribute c again
            plain = e.xreplace(atoms)
            expanded = sp.expand(e).xreplace(atoms) if _terms(e) <= MAX_EXPANDED_TERMS else plain
            shapes.append([plain, expanded, sp.factor_terms(plain), sp.factor_terms(expanded)])
        for shape in range(4):  # one shape for all outputs, then each output's best
            chosen = [options[shape] for options in shapes]
            candidates.append((tuple(chosen), fired))
        for k, options in enumerate(shapes):  # given the others'
            chosen[k] = min(options, key=lambda o: _total_cost(chosen[:k] + [o] + chosen[k + 1 :]))
        candidates.append((tuple(chosen), fired))
    best, fired = min(candidates, key=lambda c: (_total_cost(c[0]), sum(c[1].values())))
    return best, tuple(sorted(fired.items()))


def _terms(expr: sp.Expr) -> int:
    """How many terms expanding ``expr`` gives at most (expansion grows as a product)."""
    if expr.is_Add:
        return sum(_terms(a) for a in expr.args)
    if expr.is_Mul:
        return math.prod(_terms(a) for a in expr.args)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        return _terms(expr.base) ** int(expr.exp)
    return 1


def _freeze_arguments(expr: sp.Expr):
    """``expr`` with each compound function argument (up to sign) replaced by a symbol."""
    atoms: dict = {}
    frozen: dict = {}
    for e in sp.preorder_traversal(expr):
        if isinstance(e, sp.Function):
            for argument in e.args:
                negated = argument.could_extract_minus_sign()
                key = -argument if negated else argument
                if key.is_Symbol or key.is_Number:
                    continue
                if key not in atoms:
                    atoms[key] = sp.Dummy(f"u{len(atoms)}", real=True)
                frozen[key] = atoms[key]
                frozen[argument] = -atoms[key] if negated else atoms[key]
    return expr.xreplace(frozen), {symbol: key for key, symbol in atoms.items()}


# ----------------------------------------------------------------------- SymPy -> graph


class _Rebuilder:
    """Builds graph nodes for SymPy expressions (shared subexpressions built once)."""

    def __init__(self, builder: Builder, leaves: list[Node], dtype, definitions=None):
        self.builder = builder
        self.dtype = dtype
        self.memo: dict = {sp.Symbol(f"v{k}", real=True): leaf for k, leaf in enumerate(leaves)}
        self.definitions = definitions or {}  # w{k} -> its expression, built when first used

    def const(self, value) -> Node:
        value = sp.sympify(value)
        if not (value.is_real and value.is_finite):  # zoo (1/0), nan, oo: not IEEE's values
            raise NotImplementedError(f"constant {value}")
        return self.builder.const(float(value), self.dtype)

    def op(self, name: str, *inputs: Node, **attrs) -> Node:
        if name not in REGISTRY:
            raise NotImplementedError(name)
        return self.builder.op(name, *inputs, dtype=self.dtype, **attrs)

    def __call__(self, expr: sp.Expr) -> Node:
        node = self.memo.get(expr)
        if node is None:
            node = self.memo[expr] = self._build(expr)
        return node

    def _build(self, expr: sp.Expr) -> Node:
        if expr in self.definitions:
            return self(self.definitions[expr])
        if expr.is_number:  # free of symbols: log(2) too
            return self.const(expr)
        if expr.is_Add:
            return self._sum(expr)
        if expr.is_Mul:
            return self._product(expr)
        if expr.is_Pow:
            return self._power(*expr.args)
        if isinstance(expr, identities.Softplus):
            return self._softplus(expr.args[0])
        name = _FROM_SYMPY.get(expr.func)
        if name is None:
            raise NotImplementedError(f"no op for {expr.func}")
        return self.op(name, *(self(a) for a in expr.args))

    def _softplus(self, argument: sp.Expr) -> Node:
        """max(u, 0) + log1p(exp(-|u|)): finite for any u, six numpy passes (the softplus op
        takes ten: its beta and threshold)."""
        u = self(argument)
        tail = self.op("log1p", self.op("exp", self.op("neg", self.op("abs", u))))
        return self.op("add", self.op("maximum", u, self.const(0)), tail)

    def _sum(self, expr: sp.Expr) -> Node:
        part = _extends(expr, self.memo)
        if part is not None:  # a sum built already, plus one more term
            rest = self(_without(expr, part))
            if part.could_extract_minus_sign():
                return self.op("sub", rest, self(-part))
            return self.op("add", rest, self(part))
        positive, negative = [], []
        for term in sorted(expr.args, key=_order):
            if term.could_extract_minus_sign():
                negative.append(-term)
            else:
                positive.append(term)
        if not positive:  # -a*c - b: the first term carries the sign (a * -c) when it can
            first = -negative.pop(0)
            result = self(first) if first.as_coeff_Mul()[0] != -1 else None
            if result is None:
                result = self.op("neg", self(-first))
            for term in negative:
                result = self._minus(result, term)
            return result
        result = self._sum_of(positive)
        for term in negative:
            result = self._minus(result, term)
        return result

    def _sum_of(self, terms) -> Node:
        # (a + b) + c through the memo: a sum the forward already built is reused
        if len(terms) == 1:
            return self(terms[0])
        return self.op("add", self(sp.Add(*terms[:-1])), self(terms[-1]))

    def _term(self, term: sp.Expr) -> Node:
        return self(term)

    def _minus(self, left: Node, term: sp.Expr) -> Node:
        return self.op("sub", left, self._term(term))

    def _product(self, expr: sp.Expr) -> Node:
        part = _extends(expr, self.memo)
        if part is not None:  # a product built already, times one more factor
            return self.op("mul", self(_without(expr, part)), self(part))
        coefficient, rest = expr.as_coeff_Mul()
        numerator, denominator = [], []
        for factor in sorted(sp.Mul.make_args(rest), key=_order):
            base, exponent = factor.as_base_exp()
            if exponent.is_Integer and exponent < 0:
                denominator.append(base ** (-exponent))
            else:
                numerator.append(factor)
        result = None
        if len(numerator) == 1:
            result = self(numerator[0])
        elif numerator:  # (a * b) * c through the memo, as for sums
            result = self.op("mul", self(sp.Mul(*numerator[:-1])), self(numerator[-1]))
        for factor in denominator:
            divisor = self(factor)
            result = self.op("div", self.const(1) if result is None else result, divisor)
        if coefficient == -1:
            return self.op("neg", result)
        if coefficient != 1:
            return self.op("mul", result, self.const(coefficient))
        return result

    def _power(self, base: sp.Expr, exponent: sp.Expr) -> Node:
        if base == 2:
            return self.op("exp2", self(exponent))
        if base.is_number:
            raise NotImplementedError(f"power of {base}")
        if exponent == 2:
            b = self(base)
            return self.op("mul", b, b)
        if exponent == 3:
            b = self(base)
            return self.op("mul", self.op("mul", b, b), b)
        if exponent == sp.Rational(1, 2):
            return self.op("sqrt", self(base))
        if exponent == -sp.Rational(1, 2):
            return self.op("rsqrt", self(base))
        if exponent.is_Integer and exponent < 0:
            return self.op("div", self.const(1), self(base ** (-exponent)))
        if exponent.is_number:
            return self.op("pow", self(base), self.const(exponent))
        raise NotImplementedError(f"power {exponent}")


def _order(expr: sp.Expr):
    """Compound terms first and the region's inputs last, so that a product or sum that
    extends another (``x * (e * s * t)``) finds it as its prefix; then SymPy's order."""
    return (expr.is_Symbol, sp.default_sort_key(expr))


# ------------------------------------------------------------------------- safety check


def _test_points(count: int) -> np.ndarray:
    """(count, points) float64 values: the full grid of ``_TEST_VALUES`` when it is small,
    else a fixed sample of it."""
    values = np.array(_TEST_VALUES)
    total = len(values) ** count
    if total <= _MAX_TEST_POINTS:
        grid = np.meshgrid(*([values] * count), indexing="ij")
        return np.stack([g.ravel() for g in grid]) if count else np.zeros((0, 1))
    rng = np.random.default_rng(0)
    return values[rng.integers(0, len(values), size=(count, _MAX_TEST_POINTS))]


def _evaluate(outputs: list[Node], leaves: list[Node], points: np.ndarray) -> list[np.ndarray]:
    """The nodes' values (float64) with leaf k set to ``points[k]``; walks only the nodes
    between ``outputs`` and ``leaves``."""
    values = {leaf.id: points[k] for k, leaf in enumerate(leaves)}
    stop = set(values)
    for node in toposort(outputs, stop=stop):
        if node.id in values:
            continue
        if _scalar_behind(node) is not None:  # a constant, or one broadcast: as convert
            values[node.id] = np.float64(_scalar_behind(node))
            continue
        if node.kind != OP:
            raise NotImplementedError("a region reached past its inputs")
        arguments = [values[i.id] for i in node.inputs]
        values[node.id] = np.asarray(node.op.eval(*arguments, **node.attr_dict), np.float64)
    return [np.broadcast_to(values[o.id], points.shape[1:]) for o in outputs]


def same_values(before: list[Node], after: list[Node], leaves: list[Node]) -> bool:
    """Whether ``after`` equals ``before`` on the test points, NaN and +-inf included."""
    points = _test_points(len(leaves))
    with np.errstate(all="ignore"):
        old = _evaluate(before, leaves, points)
        new = _evaluate(after, leaves, points)
    for a, b in zip(old, new, strict=True):
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            return False
        finite = np.isfinite(a)
        if not np.array_equal(a[~finite & ~np.isnan(a)], b[~finite & ~np.isnan(a)]):
            return False
        if not np.allclose(a[finite], b[finite], rtol=1e-9, atol=1e-12):
            return False
    return True


# ------------------------------------------------------------------------------ the phase


def simplify(roots: list[Node], builder: Builder, hits: Counter) -> list[Node]:
    """Replace each elementwise region by its cheapest safe form, in graph order until the
    regions tried hold ``WORK_BUDGET`` ops; ``hits`` counts regions rewritten and the
    identities they used."""
    order = toposort(roots)
    replacements: dict[int, Node] = {}
    work = 0
    for region in regions(order, roots):
        if len(region.members) < 2 or not region.outputs:
            continue
        work += len(region.members)
        if work > WORK_BUDGET:
            hits["sympy_budget_reached"] += 1
            break
        replacements.update(_simplify_region(region, builder, hits))
    if not replacements:
        return roots
    return replace(builder, roots, replacements)


def _simplify_region(region: Region, builder: Builder, hits: Counter) -> dict[int, Node]:
    converted = convert(region)
    if converted is None:
        return {}
    count = len(region.outputs)
    best, fired = choose(tuple(converted.expressions))
    definitions: dict = {}
    if converted.definitions:  # the view that names shared intermediates, if cheaper
        names = [name for name, _ in converted.definitions]
        joint = tuple(converted.named) + tuple(d for _, d in converted.definitions)
        named_best, named_fired = choose(joint)
        if _total_cost(named_best) < _total_cost(best):
            best, fired = named_best[:count], named_fired
            definitions = dict(zip(names, named_best[count:], strict=True))
    old_cost = sum(_PASSES.get(m.op.name, 1) for m in region.members)
    if _total_cost(tuple(best) + tuple(definitions.values())) >= old_cost:
        return {}
    dtype = region.outputs[0].dtype
    rebuild = _Rebuilder(builder, converted.leaves, dtype, definitions)
    first_id = len(builder.graph)
    new = []
    try:
        for old, expr in zip(region.outputs, best, strict=True):
            builder.provenance = old.provenance  # forward outputs come first: shared nodes
            new.append(rebuild(expr))  # keep the forward's line
    except NotImplementedError:
        return {}
    pairs = list(zip(region.outputs, new, strict=True))
    if any(node.shape != old.shape or node.dtype is not old.dtype for old, node in pairs):
        return {}
    replaced = {old.id: node for old, node in pairs if node is not old}
    stop = {leaf.id for leaf in converted.leaves}
    if any(n.id in replaced for n in toposort(new, stop=stop)):
        return {}  # a new output reuses a node being replaced: keep the region as written
    if not same_values(region.outputs, new, converted.leaves):
        hits["sympy_rejected_unsafe"] += 1
        return {}
    hits["sympy_simplify"] += 1
    builder.graph.record_rewrite(first_id, "sympy_simplify")
    for name, count in fired:
        hits[f"identity: {name}"] += count
    return replaced


def replace(builder: Builder, roots: list[Node], replacements: dict[int, Node]) -> list[Node]:
    """Rebuild the DAG under ``roots`` with some nodes (by id) replaced by new nodes whose
    own inputs may in turn be replaced (one walk; a replacement's inputs come first)."""
    rebuilt: dict[int, Node] = {}
    state: dict[int, int] = {}  # 1: inputs pending, 2: done
    stack = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if node.id in rebuilt:
            continue
        target = replacements.get(node.id)
        sources = (target,) if target is not None else node.inputs
        if not expanded:
            if state.get(node.id) == 1:
                raise AssertionError(f"replacement cycle at {node}")
            state[node.id] = 1
            stack.append((node, True))
            stack.extend((s, False) for s in reversed(sources) if s.id not in rebuilt)
            continue
        if target is not None:
            rebuilt[node.id] = rebuilt[target.id]
        else:
            inputs = tuple(rebuilt[i.id] for i in node.inputs)
            rebuilt[node.id] = builder.rebuild(node, inputs) if inputs != node.inputs else node
    return [rebuilt[r.id] for r in roots]
