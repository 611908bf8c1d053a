"""Self-check mode (``SYMGRAD_CHECK=1``): generated code and eager symgrad side by side.

With the variable set when a function is compiled, every statement of the generated module
reports its value to an observer, which computes the same node eagerly (the op's own numpy
``eval`` on the eager values of its inputs) and raises ``CheckError`` at the first value that
differs, naming the node, its op and the user's line. A slow debugging mode: each call
evaluates the graph twice.
"""

from __future__ import annotations

import os

import numpy as np

from ..float_errors import quietly
from ..ir.graph import CONST, OP, Node
from ..ops.registry import evaluate


def enabled() -> bool:
    """Whether functions compiled now are built in self-check mode."""
    return os.environ.get("SYMGRAD_CHECK", "") not in ("", "0")


# The hook's definition in a checked module: a no-op, so an exported copy runs on its own;
# ``checked`` replaces it with an Observer for each call.
HOOK_SOURCE = (
    "def _observe(node_id, value):\n"
    '    """symgrad\'s self-check mode reads each value here (SYMGRAD_CHECK=1)."""'
)


class CheckError(AssertionError):
    """Compiled code computed a value that eager symgrad computes differently."""


class Observer:
    """Receives ``(node id, value)`` from each generated statement, parameters first."""

    def __init__(self, nodes: dict[int, Node], function: str):
        self.nodes = nodes
        self.function = function
        self.eager: dict[int, np.ndarray] = {}

    def __call__(self, node_id: int, value) -> None:
        node = self.nodes[node_id]
        arguments = [self._eager_value(i) for i in node.inputs]
        if node.kind != OP or any(a is None for a in arguments):
            self.eager[node_id] = value  # a parameter (or a value made from a generator)
            return
        expected = evaluate(node.op, arguments, node.attr_dict, None, node.dtype)
        problem = _difference(np.asarray(value), expected)
        if problem is not None:
            raise CheckError(_message(node, self.function, problem))
        # Later nodes are checked against eager values, so each report is about one node.
        self.eager[node_id] = expected

    def _eager_value(self, node: Node):
        if node.kind == CONST:
            return node.dtype.numpy.type(node.value)  # typed, as eager mode passes numbers
        if node.dtype is None:  # a random generator: not an array
            return None
        return self.eager.get(node.id)


def _difference(compiled: np.ndarray, expected: np.ndarray) -> str | None:
    if compiled.shape != expected.shape or compiled.dtype != expected.dtype:
        return (
            f"compiled {compiled.dtype}{list(compiled.shape)} vs eager "
            f"{expected.dtype}{list(expected.shape)}"
        )
    if expected.dtype.kind in "fc":
        tolerance = 1e-5 if expected.dtype.itemsize <= 4 else 1e-12
        close = np.isclose(compiled, expected, rtol=tolerance, atol=tolerance, equal_nan=True)
    else:
        close = compiled == expected
    if np.all(close):
        return None
    where = tuple(int(i) for i in np.argwhere(~np.asarray(close))[0])
    return (
        f"compiled {compiled[where].item()!r} vs eager {expected[where].item()!r} at index {where}"
    )


def _message(node: Node, function: str, problem: str) -> str:
    provenance = node.provenance
    if provenance is None:
        where = "no user line"
    else:
        grad = " (its gradient)" if provenance.grad else ""
        where = f"{provenance.filename}:{provenance.line}{grad}: {provenance.source}"
    return (
        f"symgrad check: compiled code differs from eager at node %{node.id} ({node.op.name}) "
        f"in {function}, {where}: {problem}"
    )


def checked(module, function: str, nodes: dict[int, Node]):
    """``module.<function>`` reporting to a fresh Observer on each call."""
    generated = getattr(module, function)

    def run(*args):
        module._observe = Observer(nodes, function)
        return generated(*args)

    run.__name__ = run.__qualname__ = function
    quiet = quietly(run)
    quiet.__wrapped__ = generated
    return quiet
