"""The rewrite engine: apply a phase's rules bottom-up to a fixed point, with an iteration cap
and per-rule hit counters. Rules are data (``rules.py``); this file only applies them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..ops.registry import REGISTRY
from .graph import CONST, OP, Graph, Node, toposort

MAX_ITERATIONS = 16


@dataclass(frozen=True)
class Rule:
    """``apply(node, builder)`` returns a replacement node, or None when it does not match."""

    name: str
    phase: str
    apply: Callable[[Node, Builder], Node | None]
    doc: str


class Builder:
    """Makes nodes for rules: ops by registry name, scalar constants, with the node's
    provenance, in the graph being rewritten (so hash-consing still shares them)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.provenance = None

    def has(self, op_name: str) -> bool:
        return op_name in REGISTRY

    def op(self, op_name: str, *inputs: Node, dtype=None, **attrs) -> Node:
        op = REGISTRY[op_name]
        shape = tuple(op.shape(*(i.shape for i in inputs), **attrs))
        if dtype is None:
            # Only a non-constant operand fixes the dtype; constants alone need it said.
            typed = [i.dtype for i in inputs if i.kind != CONST]
            if not typed:
                raise ValueError(f"Builder.op({op_name!r}) of constants only needs dtype=")
            dtype = typed[0]
        return self.graph.op(op, inputs, attrs, shape, dtype, self.provenance)

    def const(self, value, dtype) -> Node:
        return self.graph.const(value, dtype)

    def rebuild(self, node: Node, inputs: tuple[Node, ...]) -> Node:
        return self.graph.op(
            node.op, inputs, node.attr_dict, node.shape, node.dtype, node.provenance
        )


def fold_constants(node: Node, builder: Builder) -> Node | None:
    """op(c1, c2, ...) -> c  (scalar constants only; computed with the op's own numpy code)"""
    if node.kind != OP or node.shape != () or not node.inputs:
        return None
    if not all(i.kind == CONST for i in node.inputs):
        return None
    values = [np.asarray(i.value, dtype=i.dtype.numpy) for i in node.inputs]
    with np.errstate(all="ignore"):
        result = np.asarray(node.op.eval(*values, **node.attr_dict))
    if result.shape != () or result.dtype.kind not in "biuf":
        return None
    return builder.const(result.item(), node.dtype)


def rewrite(
    graph: Graph, roots: list[Node], rules: list[Rule], hits: Counter | None = None
) -> list[Node]:
    """Rewrite the DAG under ``roots`` with ``rules`` until nothing changes (or the cap)."""
    hits = hits if hits is not None else Counter()
    builder = Builder(graph)
    for _ in range(MAX_ITERATIONS):
        replaced: dict[int, Node] = {}
        changed = False
        for node in toposort(roots):
            inputs = tuple(replaced.get(i.id, i) for i in node.inputs)
            current = node
            if inputs != node.inputs:
                current = builder.rebuild(node, inputs)
            current = _rewrite_node(current, rules, builder, hits)
            if current is not node:
                replaced[node.id] = current
                changed = True
        roots = [replaced.get(r.id, r) for r in roots]
        if not changed:
            break
    return roots


def _rewrite_node(node: Node, rules: list[Rule], builder: Builder, hits: Counter) -> Node:
    for _ in range(MAX_ITERATIONS):
        if node.kind != OP:
            return node
        builder.provenance = node.provenance
        for rule in rules:
            result = rule.apply(node, builder)
            if result is not None and result is not node:
                if result.shape != node.shape or result.dtype is not node.dtype:
                    raise AssertionError(f"rule {rule.name} changed a type: {node} -> {result}")
                hits[rule.name] += 1
                node = result
                break
        else:
            return node
    return node


def replace(builder: Builder, roots: list[Node], replacements: dict[int, Node]) -> list[Node]:
    """Rebuild the DAG under ``roots`` with some nodes (by id) replaced."""
    rebuilt: dict[int, Node] = {}
    for node in toposort(roots):
        if node.id in replacements:
            rebuilt[node.id] = replacements[node.id]
            continue
        inputs = tuple(rebuilt.get(i.id, i) for i in node.inputs)
        rebuilt[node.id] = builder.rebuild(node, inputs) if inputs != node.inputs else node
    return [rebuilt.get(r.id, r) for r in roots]
