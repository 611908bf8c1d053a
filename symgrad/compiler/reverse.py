"""Reverse mode over the graph, driven by each op's ``vjp``.

The rules are the same functions the eager engine runs: here they receive symbolic Tensors, so
calling them adds the backward nodes to the same hash-consed graph. Gradients that arrive with
an input's broadcast shape are summed to its shape in one place (``reduce.sum_to_shape``).
"""

from __future__ import annotations

from ..ir import trace
from ..ir.graph import CONST, OP, Node, toposort
from ..ops.reduce import sum_to_shape
from ..tensor import Tensor


def _as_value(node: Node):
    """What a rule sees for an input: a Python number for scalar constants, else a Tensor."""
    if node.kind == CONST:
        return node.value
    return Tensor._wrap(node)


def _as_node(value, like: Node) -> Node:
    if isinstance(value, Tensor):
        return value._data
    graph_trace = trace.current()
    return graph_trace.graph.const(value, like.dtype)


def _fit(g: Tensor, target: Node) -> Tensor:
    """The one place a gradient is summed to its input's shape and cast to its dtype."""
    if tuple(g.shape) != target.shape:
        g = sum_to_shape(g, target.shape)
    if g.dtype is not target.dtype:
        g = g.to(target.dtype)
    return g


def gradients(outputs: list[Node], seeds: list[Node], wrt: list[Node]) -> list[Node | None]:
    """d(sum of seed . output)/d(each of ``wrt``); None where an input does not matter.

    Only nodes on a path from ``wrt`` to ``outputs`` are differentiated.
    """
    order = toposort(outputs)
    wrt_ids = {n.id for n in wrt}
    depends = set(wrt_ids)
    for node in order:
        if any(i.id in depends for i in node.inputs):
            depends.add(node.id)
    cotangents: dict[int, Tensor] = {}
    for out, seed in zip(outputs, seeds, strict=True):
        if out.id in depends:
            _accumulate(cotangents, out, Tensor._wrap(seed))
    for node in reversed(order):
        g = cotangents.get(node.id)
        if g is None or node.kind != OP:
            continue
        if not any(i.id in depends for i in node.inputs):
            continue
        _differentiate(node, g, cotangents, depends)
    return [cotangents[n.id]._data if n.id in cotangents else None for n in wrt]


def _differentiate(node: Node, g: Tensor, cotangents, depends) -> None:
    op = node.op
    if not op.differentiable:
        return
    args = [_as_value(i) for i in node.inputs]
    out = Tensor._wrap(node)
    with trace.provenance(node.provenance.as_grad() if node.provenance else None):
        try:
            grads = op.vjp(g, out, *args, **node.attr_dict)
        except AttributeError:
            # A rewrite folded a tensor operand into a constant (l1_loss(x, x) -> 0): the
            # rule reads it as the tensor eager mode gave it.
            args = [Tensor._wrap(i) for i in node.inputs]
            try:
                grads = op.vjp(g, out, *args, **node.attr_dict)
            except AttributeError as error:
                raise trace.TracingError(
                    f"symgrad.compile cannot differentiate {op.name} "
                    f"({_location(node)}): its gradient rule needs concrete values ({error})."
                ) from None
        grads = grads if isinstance(grads, (tuple, list)) else (grads,)
        for index, (source, grad) in enumerate(zip(node.inputs, grads, strict=False)):
            if grad is None or source.id not in depends or index in op.nondifferentiable_inputs:
                continue
            if not isinstance(grad, Tensor):
                grad = Tensor._wrap(_as_node(grad, source))
            _accumulate(cotangents, source, _fit(grad, source))


def _accumulate(cotangents, node: Node, g: Tensor) -> None:
    previous = cotangents.get(node.id)
    cotangents[node.id] = g if previous is None else previous + g


def _location(node: Node) -> str:
    p = node.provenance
    return "unknown line" if p is None else f"{p.short()}: {p.source}"
