"""Build one cache entry: trace -> reverse -> rewrite by phases -> schedule -> render -> load.

The result is a ``Program``: the loaded generated module (``forward``, ``backward``,
``forward_backward``), its source, and what ``explain()`` reports about how it was built.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .. import dtypes
from ..autograd import grad_mode
from ..ops.constant import FULL
from ..tensor import Tensor
from . import codegen, reverse, rewrite, rules, schedule, sympy_bridge, trace
from .graph import CAPTURED, CONST, INPUT, Node, count_ops, toposort


@dataclass
class Program:
    """A compiled cache entry: the generated module and the facts of its build."""

    module: object
    source: str
    forward: object
    backward: object
    forward_backward: object
    output_structure: object
    output_kinds: list  # per output leaf: ("node", index) | ("static", value)
    output_types: list  # (shape, dtype) per output node
    captured: list  # concrete tensors/arrays passed in at call time
    differentiable_outputs: list[int]
    wrt: list[int]  # positions in the dynamic leaves (then captured) with gradients
    wrt_captured: list[int]
    n_saved: int
    fused_takes_cotangents: bool
    node_counts: dict = field(default_factory=dict)
    rule_hits: Counter = field(default_factory=Counter)
    saved: list = field(default_factory=list)  # (name, type text, bytes)
    phase_seconds: dict = field(default_factory=dict)
    graph_text: str = ""


class _Timer:
    def __init__(self):
        self.seconds = {}
        self._start = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._start
        self._start = now


def build(
    fn,
    signature_args,
    leaves,
    paths,
    dynamic,
    wrt_leaves,
    differentiate_captured,
    resolve_name,
    first_output_only=False,
) -> Program:
    """Compile ``fn`` for these argument leaves (``dynamic[i]``: leaf i is an array).

    ``first_output_only``: differentiate only the first output (the others are auxiliary)."""
    from .pytree import flatten, unflatten

    timer = _Timer()
    function_name = getattr(fn, "__qualname__", getattr(fn, "__name__", "function"))
    active = trace.Trace(function_name, resolve_name)
    graph = active.graph
    names = _argument_names(paths)
    input_nodes: dict[int, Node] = {}
    symbolic_leaves = list(leaves)
    for i, leaf in enumerate(leaves):
        if dynamic[i]:
            data = leaf._data if isinstance(leaf, Tensor) else leaf
            node = graph.input(names[i], data.shape, dtypes.from_numpy_dtype(data.dtype))
            input_nodes[i] = node
            symbolic_leaves[i] = Tensor._wrap(node)
    args, kwargs = unflatten(signature_args, symbolic_leaves)
    with trace.tracing(active), grad_mode.no_grad():
        result = fn(*args, **kwargs)
        out_leaves, out_structure, _ = flatten(result)
        output_nodes, output_kinds = [], []
        for leaf in out_leaves:
            if isinstance(leaf, (Tensor, np.ndarray)):
                node = (
                    leaf._data
                    if isinstance(leaf, Tensor) and leaf._is_symbolic
                    else (active.capture(leaf))
                )
                output_kinds.append(("node", len(output_nodes)))
                output_nodes.append(node)
            else:
                output_kinds.append(("static", leaf))
    _check_inputs_not_mutated(symbolic_leaves, input_nodes, names)
    timer.lap("trace")
    counts = {"traced": count_ops(output_nodes)}
    hits: Counter = Counter()

    with trace.tracing(active):
        output_nodes = rewrite.rewrite(
            graph, output_nodes, rules.RULES["canonicalize"] + rules.RULES["stabilize"], hits
        )
        timer.lap("stabilize forward")
        wrt_nodes = [input_nodes[i] for i in wrt_leaves]
        wrt_captured = [
            k
            for k, value in enumerate(active.captured_values)
            if differentiate_captured and isinstance(value, Tensor) and value._requires_grad
        ]
        wrt_nodes += [graph.captured[k] for k in wrt_captured]
        reachable = _reaching(output_nodes, wrt_nodes)
        differentiable = [
            k
            for k, node in enumerate(output_nodes)
            if node.id in reachable
            and node.dtype.is_floating_point
            and (k == 0 or not first_output_only)
        ]
        diff_outputs = [output_nodes[k] for k in differentiable]
        cotangents = [
            graph.input(f"d_{_output_name(k, len(output_nodes))}", node.shape, node.dtype)
            for k, node in zip(differentiable, diff_outputs, strict=True)
        ]
        grads = _zero_filled(
            graph, reverse.gradients(diff_outputs, cotangents, wrt_nodes), wrt_nodes
        )
        fused_takes_cotangents = any(node.shape != () for node in diff_outputs)
        if fused_takes_cotangents or not diff_outputs:
            fused_grads = grads
        else:
            seeds = [graph.const(1.0, node.dtype) for node in diff_outputs]
            fused_grads = _zero_filled(
                graph, reverse.gradients(diff_outputs, seeds, wrt_nodes), wrt_nodes
            )
        roots = output_nodes + grads + fused_grads
        counts["after reverse"] = count_ops(roots)
        timer.lap("reverse")
        for phase in rules.PHASES:
            roots = rewrite.rewrite(graph, roots, rules.RULES[phase], hits)
            counts[f"after {phase}"] = count_ops(roots)
        roots = sympy_bridge.simplify(roots, rewrite.Builder(graph), hits)
        roots = rewrite.rewrite(graph, roots, rules.RULES["canonicalize"], hits)
        counts["after sympy clusters"] = count_ops(roots)
        timer.lap("rewrite")
    n_out, n_wrt = len(output_nodes), len(wrt_nodes)
    output_nodes = roots[:n_out]
    grads = roots[n_out : n_out + n_wrt]
    fused_grads = roots[n_out + n_wrt :]

    helpers: dict = {}
    params = [(input_nodes[i], names[i]) for i in sorted(input_nodes)]
    params += [(node, node.name) for node in graph.captured]
    forward_ids = {n.id for n in toposort(output_nodes)} | {n.id for n, _ in params}
    saved = schedule.saved_for_backward(forward_ids, grads, cotangents, {n.id for n, _ in params})
    output_names = [_output_name(k, n_out) for k in range(n_out)]
    grad_names = [f"d_{node.name}" for node in wrt_nodes]
    forward_namer = schedule.Namer()
    forward = schedule.build_function(
        "forward",
        params,
        output_nodes + saved,
        output_names + [f"s{k}" for k in range(len(saved))],
        helpers,
        "Outputs, then the values backward needs.",
        forward_namer,
    )
    saved_params = [(node, forward_namer.names[node.id]) for node in saved]
    cotangent_params = [(node, node.name) for node in cotangents]
    backward = schedule.build_function(
        "backward",
        saved_params + cotangent_params,
        grads,
        grad_names,
        helpers,
        "Gradients of the inputs, from the saved values and the outputs' cotangents.",
    )
    fused_params = params + (cotangent_params if fused_takes_cotangents else [])
    forward_backward = schedule.build_function(
        "forward_backward",
        fused_params,
        output_nodes + fused_grads,
        output_names + grad_names,
        helpers,
        "Outputs and gradients in one pass"
        + ("." if fused_takes_cotangents else " (the output's cotangent is 1)."),
    )
    timer.lap("schedule")

    typed_params = ", ".join(f"{name}: {node.type_text()}" for node, name in params)
    header = {
        "signature": f"{function_name}({typed_params})",
        "version": _version(),
        "function": function_name,
        "origin": _origin(fn),
    }
    source = codegen.render_module(header, [forward, backward, forward_backward], helpers)
    module = codegen.load_module(source, function_name)
    timer.lap("render and load")
    return Program(
        module=module,
        source=source,
        forward=module.forward,
        backward=module.backward,
        forward_backward=module.forward_backward,
        output_structure=out_structure,
        output_kinds=output_kinds,
        output_types=[(node.shape, node.dtype) for node in output_nodes],
        captured=list(active.captured_values),
        differentiable_outputs=differentiable,
        wrt=list(wrt_leaves),
        wrt_captured=wrt_captured,
        n_saved=len(saved),
        fused_takes_cotangents=fused_takes_cotangents,
        node_counts=counts,
        rule_hits=hits,
        saved=[
            (
                forward_namer.names[n.id],
                n.type_text(),
                0 if n.kind in (INPUT, CAPTURED) else n.nbytes,
            )
            for n in saved
        ],
        phase_seconds=timer.seconds,
        graph_text=graph_dump(output_nodes + grads + fused_grads),
    )


def _argument_names(paths: list[str]) -> list[str]:
    names, used = [], set()
    for path in paths:
        name = codegen.sanitize(path.replace("[", "_").replace("]", "").replace("'", ""))
        base, k = name, 1
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        names.append(name)
    return names


def _output_name(index: int, count: int) -> str:
    return "out" if count == 1 else f"out{index}"


def _reaching(outputs: list[Node], sources: list[Node]) -> set[int]:
    reached = {n.id for n in sources}
    for node in toposort(outputs):
        if any(i.id in reached for i in node.inputs):
            reached.add(node.id)
    return reached


def _zero_filled(graph, grads, wrt_nodes) -> list[Node]:
    """Inputs the outputs do not depend on get zero gradients (fresh arrays)."""
    return [
        g
        if g is not None
        else graph.op(
            FULL,
            (),
            {"shape": node.shape, "value": 0.0, "dtype": node.dtype},
            node.shape,
            node.dtype,
            None,
        )
        for g, node in zip(grads, wrt_nodes, strict=True)
    ]


def _check_inputs_not_mutated(symbolic_leaves, input_nodes, names) -> None:
    for i, node in input_nodes.items():
        if symbolic_leaves[i]._data is not node:
            raise trace.TracingError(
                f"the compiled function modified its argument {names[i]!r} in place; "
                "symgrad.compile does not write results back into arguments.\n"
                "symgrad hint: return the new value instead (x = x + 1; return x)."
            )


def graph_dump(roots: list[Node]) -> str:
    """One node a line: ``%12 = mul %3, %7  :: f32[128,256]  # model.py:14``."""
    lines = []
    for node in toposort(roots):
        if node.kind == CONST:
            continue
        if node.kind in (INPUT, CAPTURED):
            lines.append(f"%{node.id} = {node.kind} {node.name}  :: {node.type_text()}")
            continue
        operands = ", ".join(
            codegen.constant_text(i) if i.kind == CONST else f"%{i.id}" for i in node.inputs
        )
        attrs = ", ".join(f"{k}={codegen.literal(v)}" for k, v in node.attrs if _printable(v))
        text = f"%{node.id} = {node.op.name} {operands}" + (f" [{attrs}]" if attrs else "")
        where = ""
        if node.provenance is not None:
            tag = " (grad)" if node.provenance.grad else ""
            where = f"  # {node.provenance.short()}{tag}"
        lines.append(f"{text}  :: {node.type_text()}{where}")
    return "\n".join(lines)


def _printable(value) -> bool:
    try:
        codegen.literal(value)
    except codegen.CodegenError:
        return False
    return True


def _origin(fn) -> str:
    code = getattr(fn, "__code__", None)
    if code is None:
        return "unknown file"
    import os

    return f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}"


def _version() -> str:
    from .. import __version__

    return __version__
