"""The compiler's IR: hash-consed immutable nodes with static shapes and dtypes.

A ``Graph`` owns a table from structural keys to nodes, so building the same op on the same
inputs twice returns the same node: common subexpressions are shared for free. Every node
records where the user's code created it (file, line, source text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import dtypes

INPUT, CONST, CAPTURED, OP = "input", "const", "captured", "op"


@dataclass(frozen=True)
class Provenance:
    """Where a node came from: the user's file:line and source text; ``grad`` for backward."""

    filename: str
    line: int
    source: str
    grad: bool = False

    def short(self) -> str:
        import os

        return f"{os.path.basename(self.filename)}:{self.line}"

    def as_grad(self) -> Provenance:
        return Provenance(self.filename, self.line, self.source, True)


class Node:
    """One value of the graph: an input, a constant, a captured tensor, or an op application.

    ``attrs`` is a sorted tuple of (name, value) pairs; ``value`` is the Python number of a
    scalar constant; ``name`` the readable name of an input.
    """

    __slots__ = (
        "kind",
        "op",
        "inputs",
        "attrs",
        "shape",
        "dtype",
        "id",
        "provenance",
        "value",
        "name",
        "__weakref__",
    )

    def __init__(
        self, kind, op, inputs, attrs, shape, dtype, id, provenance, value=None, name=None
    ):
        self.kind = kind
        self.op = op
        self.inputs = inputs
        self.attrs = attrs
        self.shape = shape
        self.dtype = dtype
        self.id = id
        self.provenance = provenance
        self.value = value
        self.name = name

    @property
    def attr_dict(self) -> dict:
        return dict(self.attrs)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        # math.prod on the tuple of ints: asked several times per node by every pass.
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.numel * self.dtype.itemsize

    def type_text(self) -> str:
        """``f32[128,256]`` style type, as in jaxprs (a random generator has none)."""
        if self.dtype is None:
            return "Generator"
        return f"{short_dtype(self.dtype)}[{','.join(map(str, self.shape))}]"

    def label(self) -> str:
        if self.kind == OP:
            return self.op.name
        if self.kind == CONST:
            return repr(self.value)
        return self.name

    def __repr__(self) -> str:
        return f"%{self.id}<{self.label()} :: {self.type_text()}>"


_SHORT = {
    "float16": "f16",
    "float32": "f32",
    "float64": "f64",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "u8",
    "bool": "bool",
}


def short_dtype(d: dtypes.dtype) -> str:
    return _SHORT[d.name]


class Graph:
    """The node table of one trace. Nodes are created only through it, so they are unique."""

    def __init__(self):
        self._table: dict = {}
        self._next_id = 0
        self.inputs: list[Node] = []
        self.captured: list[Node] = []
        # node id -> (rule name, application number) for nodes a rewrite created; read by the
        # graph picture, which marks and boxes them.
        self.created_by: dict[int, tuple[str, int]] = {}
        self._rewrites = 0

    def record_rewrite(self, first_id: int, rule: str) -> None:
        """Attribute the nodes made since ``first_id`` (one rule application) to ``rule``."""
        self._rewrites += 1
        for node_id in range(first_id, self._next_id):
            self.created_by.setdefault(node_id, (rule, self._rewrites))

    def _new(self, kind, op, inputs, attrs, shape, dtype, provenance, value=None, name=None):
        node = Node(
            kind, op, inputs, attrs, tuple(shape), dtype, self._next_id, provenance, value, name
        )
        self._next_id += 1
        return node

    def input(self, name: str, shape, dtype, provenance=None) -> Node:
        node = self._new(INPUT, None, (), (), shape, dtype, provenance, name=name)
        self.inputs.append(node)
        return node

    def capture(self, name: str, shape, dtype, provenance=None) -> Node:
        node = self._new(CAPTURED, None, (), (), shape, dtype, provenance, name=name)
        self.captured.append(node)
        return node

    def const(self, value, dtype: dtypes.dtype) -> Node:
        """A scalar constant, printed from its number in generated code."""
        value = dtype.numpy.type(value).item()
        key = (CONST, type(value), value, dtype.name)
        node = self._table.get(key)
        if node is None:
            node = self._table[key] = self._new(CONST, None, (), (), (), dtype, None, value)
        return node

    def op(self, op, inputs: tuple[Node, ...], attrs: dict, shape, dtype, provenance) -> Node:
        frozen = tuple(sorted(attrs.items()))
        key = (op.name, tuple(i.id for i in inputs), frozen, dtype.name)
        node = self._table.get(key)
        if node is None:
            node = self._table[key] = self._new(
                OP, op, tuple(inputs), frozen, shape, dtype, provenance
            )
        return node

    def __len__(self) -> int:
        return self._next_id


def toposort(outputs, stop: set[int] = frozenset()) -> list[Node]:
    """Ancestors of ``outputs`` in dependency order, inputs first (iterative, so deep graphs
    cannot overflow the stack); nodes whose id is in ``stop`` are included as leaves."""
    seen: set[int] = set()
    order = []
    stack = [(n, False) for n in reversed(outputs)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node.id in seen:
            continue
        seen.add(node.id)
        stack.append((node, True))
        if node.id in stop:
            continue
        for child in reversed(node.inputs):
            if child.id not in seen:
                stack.append((child, False))
    return order


def count_ops(outputs) -> int:
    return sum(1 for n in toposort(outputs) if n.kind == OP)
