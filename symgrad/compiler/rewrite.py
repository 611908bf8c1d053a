"""The rewrite engine: apply a phase's rules bottom-up to a fixed point, with an iteration cap
and per-rule hit counters. Rules are data (``rules.py``); this file only applies them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..ir.graph import CONST, OP, Graph, Node
from ..ops.registry import REGISTRY

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
    if node.op.check is not None:
        try:
            node.op.check(*values, **node.attr_dict)
        except Exception:  # noqa: BLE001 - the guard in generated code raises it at run time
            return None
    with np.errstate(all="ignore"):
        result = np.asarray(node.op.eval(*values, **node.attr_dict))
    if result.shape != () or result.dtype.kind not in "biuf":
        return None
    return builder.const(result.item(), node.dtype)


def rewrite(
    graph: Graph, roots: list[Node], rules: list[Rule], hits: Counter | None = None
) -> list[Node]:
    """Rewrite the DAG under ``roots`` with ``rules`` to a fixed point, in one pass.

    A worklist settles each node once, inputs before users: a node's rules see inputs that are
    already final, and a replacement a rule builds is settled in turn (its new nodes too), so
    no node is revisited and the cost is linear in the graph. A chain of replacements of one
    node stops after ``MAX_ITERATIONS`` rules (the cap that guards rules undoing each other).
    """
    hits = hits if hits is not None else Counter()
    settled: dict[int, Node] = {}
    engine = _Settler(Builder(graph), rules, hits, settled)
    for root in roots:
        engine.settle(root)
    return [settled[r.id] for r in roots]


class _Settler:
    """The worklist of ``rewrite``: ``settled`` maps a node's id to its final form."""

    def __init__(self, builder: Builder, rules: list[Rule], hits: Counter, settled: dict):
        self.builder = builder
        self.rules = rules
        self.hits = hits
        self.settled = settled
        self.visits = 0  # nodes settled: linear in the graph (tests/compiler/test_linear.py)

    def settle(self, root: Node) -> None:
        settled = self.settled
        # Frames: (node, budget, replacement, expanded). A node is expanded (its inputs
        # pushed), then rewritten once; if a rule fires, its result is settled first (with one
        # rule less of budget) and a frame with ``replacement`` then maps the node to it.
        stack: list[tuple[Node, int, Node | None, bool]] = [(root, MAX_ITERATIONS, None, False)]
        while stack:
            node, budget, replacement, expanded = stack.pop()
            if replacement is not None:
                settled[node.id] = settled[replacement.id]
                continue
            if node.id in settled:
                continue
            if not expanded:
                stack.append((node, budget, None, True))
                stack.extend((i, budget, None, False) for i in node.inputs if i.id not in settled)
                continue
            self.visits += 1
            current = node
            inputs = tuple(settled[i.id] for i in node.inputs)
            if inputs != node.inputs:
                current = self.builder.rebuild(node, inputs)
                if current.id in settled:  # the rebuilt node met before, under another name
                    settled[node.id] = settled[current.id]
                    continue
            result = self._apply_first(current) if budget > 0 else None
            if result is None:
                settled[node.id] = settled[current.id] = current
                continue
            stack.append((node, budget, result, True))
            if result.id not in settled:
                stack.append((result, budget - 1, None, False))

    def _apply_first(self, node: Node) -> Node | None:
        """The result of the first rule that matches ``node``, or None."""
        if node.kind != OP:
            return None
        self.builder.provenance = node.provenance
        for rule in self.rules:
            first_id = len(self.builder.graph)
            result = rule.apply(node, self.builder)
            if result is not None and result is not node:
                if result.shape != node.shape or result.dtype is not node.dtype:
                    raise AssertionError(f"rule {rule.name} changed a type: {node} -> {result}")
                self.hits[rule.name] += 1
                self.builder.graph.record_rewrite(first_id, rule.name)
                return result
        return None
