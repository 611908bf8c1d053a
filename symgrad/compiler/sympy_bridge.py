"""SymPy where it is cheap: simplify small elementwise clusters.

Never the whole graph (expression swell makes that explode): a cluster is at most
``MAX_CLUSTER`` elementwise ops that feed one result, each used only inside the cluster. Its
SymPy form is simplified, and the result replaces the cluster only when it has fewer ops and
the same shape and dtype. Results are cached by expression, so repeated patterns cost once.
"""

from __future__ import annotations

import functools

import sympy as sp

from ..ops import derivatives
from ..tensor import Tensor
from . import trace
from .graph import CONST, OP, Node, toposort
from .rewrite import Builder

MAX_CLUSTER = 8
MIN_CLUSTER = 3


def _sympy_op(node: Node) -> bool:
    return node.kind == OP and node.op.sympy is not None and node.dtype.is_floating_point


def _clusters(roots: list[Node]):
    """(root, members) for maximal single-output elementwise clusters, roots first."""
    order = toposort(roots)
    users: dict[int, int] = {}
    for node in order:
        for source_id in {source.id for source in node.inputs}:
            users[source_id] = users.get(source_id, 0) + 1
    for root in roots:
        users[root.id] = users.get(root.id, 0) + 1
    claimed: set[int] = set()
    for node in reversed(order):
        if node.id in claimed or not _sympy_op(node):
            continue
        members = [node]
        frontier = [node]
        while frontier and len(members) < MAX_CLUSTER:
            current = frontier.pop()
            for source in current.inputs:
                if (
                    _sympy_op(source)
                    and users.get(source.id) == 1
                    and source.id not in claimed
                    and source not in members
                    and source.dtype is node.dtype
                ):
                    members.append(source)
                    frontier.append(source)
        claimed.update(m.id for m in members)
        if len(members) >= MIN_CLUSTER:
            yield node, members


def to_sympy(root: Node, members: list[Node]):
    """The cluster as a SymPy expression over symbols for its outside inputs."""
    inside = {m.id for m in members}
    symbols: dict[int, sp.Symbol] = {}
    leaves: dict[sp.Symbol, Node] = {}
    built: dict[int, sp.Expr] = {}
    for node in toposort([root]):
        if node.id in built:
            continue
        if node.kind == CONST:
            built[node.id] = (
                sp.nsimplify(node.value) if float(node.value).is_integer() else sp.Float(node.value)
            )
        elif node.id in inside:
            built[node.id] = node.op.sympy(*(built[i.id] for i in node.inputs))
        else:
            symbol = symbols.setdefault(node.id, sp.Symbol(f"v{len(symbols)}", real=True))
            leaves[symbol] = node
            built[node.id] = symbol
    return built[root.id], leaves


@functools.lru_cache(maxsize=4096)
def _simplified(expr: sp.Expr) -> sp.Expr:
    """The shortest of a few cheap SymPy forms (``sympy.simplify`` itself takes 30-300 ms per
    cluster, too slow for a compile path): ``cancel`` for rational functions, and
    ``trigsimp`` when both sin and cos appear."""
    candidates = [expr, sp.cancel(expr)]
    if expr.has(sp.sin) and expr.has(sp.cos):
        candidates.append(sp.trigsimp(expr))
    return min(candidates, key=sp.count_ops)


def simplify(roots: list[Node], builder: Builder, hits) -> list[Node]:
    """Replace clusters whose simplified form has fewer ops."""
    replacements: dict[int, Node] = {}
    for root, members in _clusters(roots):
        expr, leaves = to_sympy(root, members)
        simpler = _simplified(expr)
        if sp.count_ops(simpler) >= len(members):
            continue
        first_id = len(builder.graph)
        try:
            env = {symbol: Tensor._wrap(node) for symbol, node in leaves.items()}
            with trace.provenance(root.provenance):
                rebuilt = derivatives.evaluate(simpler, env)
        except (NotImplementedError, KeyError):
            continue
        if not isinstance(rebuilt, Tensor):
            continue
        node = rebuilt._data
        outside = {n.id for n in toposort(list(leaves.values()))}
        new_ops = sum(1 for n in toposort([node]) if n.kind == OP and n.id not in outside)
        if new_ops < len(members) and node.shape == root.shape and node.dtype is root.dtype:
            replacements[root.id] = node
            hits["sympy_simplify"] += 1
            builder.graph.record_rewrite(first_id, "sympy_simplify")
    if not replacements:
        return roots
    from .rewrite import replace

    return replace(builder, roots, replacements)
