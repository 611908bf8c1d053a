"""Build one cache entry: trace -> reverse -> rewrite by phases -> schedule -> render -> load.

The result is a ``Program``: the loaded generated module (``forward``, ``backward``,
``forward_backward``), its source, and what ``explain()`` reports about how it was built.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .. import dtypes, grad_mode
from ..ir import trace
from ..ir.graph import CAPTURED, CONST, INPUT, OP, Node, count_ops, toposort
from ..ops.constant import FULL
from ..ops.registry import capture
from ..tensor import Tensor
from ..version import __version__
from . import (
    backends,
    check,
    codegen,
    disk_cache,
    logs,
    reverse,
    rewrite,
    rules,
    schedule,
    simplify,
    workspace,
)
from .pytree import flatten, unflatten


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
    graph_roots: list = field(default_factory=list)  # the final graph, dumped on request
    graph_parts: GraphParts | None = None
    # The simplified graph's outputs and, per differentiated name, its seed-1 gradient (the
    # nodes forward_backward computes), and the nodes of ``captured``: what ``formula`` reads.
    output_nodes: list = field(default_factory=list)
    gradient_nodes: dict = field(default_factory=dict)
    captured_nodes: list = field(default_factory=list)
    schedule_notes: list = field(default_factory=list)  # the backend's decisions (explain)
    from_disk: bool = False  # loaded from the persistent cache: no graph (rebuilt to show it)
    # Per generated function with a workspace, its (shape, dtype) buffers (``workspace.py``):
    # the entry points pass each thread its own set.
    workspace_layouts: dict = field(default_factory=dict)
    backend: object = None
    # What the module was rendered from: ``standalone_source`` renders it again for export.
    rendered_from: tuple = ()

    def standalone_source(self) -> str:
        """The module with the runtime kernels it calls inlined (needs only its array
        library): what ``export()`` writes."""
        header, functions, helpers = self.rendered_from
        return self.backend.render(header, functions, helpers, standalone=True)

    @property
    def graph_text(self) -> str:
        """The final graph, one node a line (``graph_dump``): built only when asked for."""
        return graph_dump(self.graph_roots)


@dataclass
class GraphParts:
    """The final graph as ``fn.graph(...).to_dot()`` draws it: the forward outputs, the
    gradients, the values saved between them, and which rule created which node."""

    outputs: list[Node]
    output_names: list[str]
    gradients: list[Node]
    gradient_names: list[str]
    saved: list[Node]
    created_by: dict[int, tuple[str, int]]


class _Timer:
    def __init__(self, function_name: str):
        self.seconds = {}
        self.function_name = function_name
        self._start = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._start
        self._start = now
        logs.phase_done(self.function_name, phase, self.seconds[phase], sum(self.seconds.values()))


@dataclass
class _Traced:
    """What tracing the user's function produced."""

    trace: trace.Trace
    names: list[str]  # generated-code names of the argument leaves
    input_nodes: dict[int, Node]  # leaf position -> input node
    outputs: list[Node]
    output_kinds: list
    output_structure: object


@dataclass
class _Differentiated:
    """The reverse pass: gradients with symbolic cotangents, and with cotangent 1 (fused)."""

    wrt: list[Node]
    wrt_leaves: list[int]  # positions of the argument leaves in ``wrt``
    wrt_captured: list[int]
    differentiable: list[int]
    cotangents: list[Node]
    grads: list[Node]
    fused_grads: list[Node]
    fused_takes_cotangents: bool


@contextmanager
def _cyclic_gc_paused():
    """A build allocates tens of thousands of objects without cycles (nodes, tensors, lines);
    as they accumulate, the cyclic collector rescans them again and again (measured: a quarter
    of a 10,000-step chain's compile, and the part that grew faster than the graph). Reference
    counting still frees them; any cycle made meanwhile is collected afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_cyclic_gc_paused()
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
    disk=False,
    backend=None,
) -> Program:
    """Compile ``fn`` for these argument leaves (``dynamic[i]``: leaf i is an array).

    ``first_output_only``: differentiate only the first output (the others are auxiliary);
    ``backend``: the ``backends.Backend`` that writes and loads the code (default numpy);
    ``disk``: look the traced graph up in the persistent cache (``disk_cache``) and store
    what is built there; a program loaded from it has no graph (``from_disk``)."""
    backend = backends.get(backend or backends.DEFAULT)
    timer = _Timer(getattr(fn, "__name__", "function"))
    traced = _trace(fn, signature_args, leaves, paths, dynamic, resolve_name, backend)
    timer.lap("trace")
    options = (wrt_leaves, differentiate_captured, first_output_only)
    key = _disk_key(fn, traced, options, backend) if disk and not check.enabled() else None
    if key is not None:
        payload = disk_cache.load(key, _disk_versions(backend))
        program = None if payload is None else _from_payload(payload, traced, key, timer, backend)
        if program is not None:
            return program
    n_traced = len(traced.trace.captured_values)
    program = _build_traced(fn, traced, options, timer, backend, key)
    if key is not None:
        try:
            payload = _payload(program, n_traced)
        except disk_cache.Uncacheable as error:
            logs.timing.debug("not caching %s on disk: %s", traced.trace.function_name, error)
        else:
            disk_cache.store(key, payload, _disk_versions(backend))
    return program


def _build_traced(fn, traced, options, timer, backend, key=None) -> Program:
    """The stages after tracing: reverse, rewrites, SymPy, schedule, render, load."""
    wrt_leaves, differentiate_captured, first_output_only = options
    hits: Counter = Counter()
    graph = traced.trace.graph
    counts = {"traced": count_ops(traced.outputs)}
    with trace.tracing(traced.trace):
        stable = rules.RULES["canonicalize"] + rules.RULES["stabilize"]
        outputs = rewrite.rewrite(graph, traced.outputs, stable, hits)
        timer.lap("stabilize forward")
        diff = _differentiate(
            traced, outputs, wrt_leaves, differentiate_captured, first_output_only
        )
        roots = outputs + diff.grads + diff.fused_grads
        counts["after reverse"] = count_ops(roots)
        timer.lap("reverse")
        roots = _simplify(graph, roots, hits, counts, timer)
    n_out, n_wrt = len(outputs), len(diff.wrt)
    outputs = roots[:n_out]
    diff.grads = roots[n_out : n_out + n_wrt]
    diff.fused_grads = roots[n_out + n_wrt :]
    self_check = check.enabled()
    functions, helpers, params, saved, saved_nodes = _schedule(
        traced, outputs, diff, backend, self_check
    )
    timer.lap("schedule")
    function_name = traced.trace.function_name
    typed_params = ", ".join(f"{name}: {node.type_text()}" for node, name in params)
    header = {
        "signature": f"{function_name}({typed_params})",
        "version": _version(),
        "function": function_name,
        "origin": _origin(fn),
    }
    if self_check:
        helpers["_observe"] = check.HOOK_SOURCE
    source = backend.render(header, functions, helpers)
    module = _load(source, function_name, key, backend)
    timer.lap("render and load")
    entry_points = {name: workspace.bind(module, name) for name in _ENTRY_POINTS}
    if self_check:
        nodes = {node.id: node for node in toposort(roots + graph.inputs + graph.captured)}
        entry_points = {name: check.checked(module, name, nodes) for name in _ENTRY_POINTS}
    return Program(
        module=module,
        source=source,
        **entry_points,
        output_structure=traced.output_structure,
        output_kinds=traced.output_kinds,
        output_types=[(node.shape, node.dtype) for node in outputs],
        captured=list(traced.trace.captured_values),
        differentiable_outputs=diff.differentiable,
        wrt=list(diff.wrt_leaves),
        wrt_captured=diff.wrt_captured,
        n_saved=len(saved),
        fused_takes_cotangents=diff.fused_takes_cotangents,
        node_counts=counts,
        rule_hits=hits,
        saved=saved,
        phase_seconds=timer.seconds,
        graph_roots=roots,
        graph_parts=GraphParts(
            outputs,
            [_output_name(k, len(outputs)) for k in range(len(outputs))],
            diff.grads,
            [f"d_{node.name}" for node in diff.wrt],
            saved_nodes,
            graph.created_by,
        ),
        output_nodes=outputs,
        gradient_nodes={node.name: g for node, g in zip(diff.wrt, diff.fused_grads, strict=True)},
        captured_nodes=list(graph.captured),
        backend=backend,
        rendered_from=(header, functions, helpers),
        schedule_notes=[note for function in functions for note in function.notes],
        workspace_layouts=workspace.layouts(module),
    )


# ------------------------------------------------------------------- persistent cache


def _disk_versions(backend) -> dict:
    """The versions an entry depends on: symgrad's, numpy's, Python's, the backend's."""
    return disk_cache.versions(backend.cache_versions())


def _disk_key(fn, traced, options, backend) -> str | None:
    """The traced graph's disk-cache key (None when it holds an attribute without a stable
    text: that build stays in memory)."""
    wrt_leaves, differentiate_captured, first_output_only = options
    graph = traced.trace.graph
    captured = [
        "generator" if node.dtype is None else bool(getattr(value, "_requires_grad", False))
        for node, value in zip(graph.captured, traced.trace.captured_values, strict=True)
    ]
    facts = {
        "function": traced.trace.function_name,
        "origin": _origin(fn),
        "names": tuple(traced.names),
        "inputs": tuple(sorted(traced.input_nodes)),
        "outputs": tuple(k for k in traced.output_kinds if k[0] == "node"),
        "wrt": tuple(wrt_leaves),
        "differentiate_captured": differentiate_captured,
        "first_output_only": first_output_only,
        "captured_requires_grad": tuple(captured),
        "backend": backend.name,
        "backend_options": tuple(sorted(backend.cache_options().items())),
        "versions": tuple(sorted(_disk_versions(backend).items())),
    }
    try:
        return disk_cache.graph_key(traced.outputs, graph.inputs + graph.captured, facts)
    except disk_cache.Uncacheable as error:
        logs.timing.debug("not caching %s on disk: %s", traced.trace.function_name, error)
        return None


def _load(source: str, function_name: str, key: str | None, backend):
    """The generated module: from a file of the disk cache under ``key`` (its bytecode cached
    too), else as the backend loads it."""
    if key is not None:
        name = f"{codegen.MODULE_PREFIX}{codegen.sanitize(function_name)}_{key[:20]}"
        module = disk_cache.import_module(key, source, name)
        if module is not None:
            return backend.prepare(module)
    return backend.prepare(backend.load(source, function_name))


def _payload(program: Program, n_traced: int) -> dict:
    """What a disk entry keeps of a program: its source, the facts of its build, and the
    constant arrays the passes after tracing captured (gradient rules do)."""
    return {
        "late_captured": [disk_cache.array_text(v) for v in program.captured[n_traced:]],
        "source": program.source,
        "output_types": [[list(shape), d.name] for shape, d in program.output_types],
        "differentiable_outputs": list(program.differentiable_outputs),
        "wrt": list(program.wrt),
        "wrt_captured": list(program.wrt_captured),
        "n_saved": program.n_saved,
        "fused_takes_cotangents": program.fused_takes_cotangents,
        "node_counts": dict(program.node_counts),
        "rule_hits": dict(program.rule_hits),
        "saved": [list(s) for s in program.saved],
        "schedule_notes": list(program.schedule_notes),
        "build_seconds": dict(program.phase_seconds),
    }


def _from_payload(payload: dict, traced, key: str, timer, backend) -> Program | None:
    """The program of a disk entry, with this trace's outputs and captured values (None, with
    a warning, when the entry does not load: the caller rebuilds it)."""
    try:
        source = payload["source"]
        module = _load(source, traced.trace.function_name, key, backend)
        entry_points = {name: workspace.bind(module, name) for name in _ENTRY_POINTS}
        output_types = [
            (tuple(shape), dtypes.from_numpy_dtype(np.dtype(name)))
            for shape, name in payload["output_types"]
        ]
        counts = dict(payload["node_counts"])
        hits = Counter(payload["rule_hits"])
        saved = [tuple(s) for s in payload["saved"]]
        build_seconds = sum(payload["build_seconds"].values())
        fields = {
            name: payload[name]
            for name in ("differentiable_outputs", "wrt", "wrt_captured", "n_saved")
        }
        fused_takes_cotangents = bool(payload["fused_takes_cotangents"])
        late = [disk_cache.array_from_text(text) for text in payload["late_captured"]]
    except Exception as error:  # noqa: BLE001 - any bad entry is rebuilt, never trusted
        disk_cache.log.warning(
            "symgrad cache: ignoring the entry %s: it does not load (%s: %s); rebuilding it",
            key,
            type(error).__name__,
            error,
        )
        return None
    timer.lap("disk cache load")
    phases = dict(timer.seconds)
    phases["saved by the disk cache"] = build_seconds
    return Program(
        module=module,
        source=source,
        **entry_points,
        output_structure=traced.output_structure,
        output_kinds=traced.output_kinds,
        output_types=output_types,
        captured=list(traced.trace.captured_values) + late,
        fused_takes_cotangents=fused_takes_cotangents,
        node_counts=counts,
        rule_hits=hits,
        saved=saved,
        phase_seconds=phases,
        from_disk=True,
        backend=backend,
        schedule_notes=list(payload["schedule_notes"]),
        workspace_layouts=workspace.layouts(module),
        **fields,
    )


def _trace(fn, signature_args, leaves, paths, dynamic, resolve_name, backend) -> _Traced:
    """Run ``fn`` on symbolic tensors: one input node per array leaf."""
    function_name = getattr(fn, "__qualname__", getattr(fn, "__name__", "function"))
    active = trace.Trace(function_name, resolve_name)
    names = _argument_names(paths)
    input_nodes: dict[int, Node] = {}
    symbolic_leaves = list(leaves)
    for i, leaf in enumerate(leaves):
        if dynamic[i]:
            shape, dtype = backend.array_type(leaf._data if isinstance(leaf, Tensor) else leaf)
            node = active.graph.input(names[i], shape, dtypes.from_numpy_dtype(dtype))
            input_nodes[i] = node
            symbolic_leaves[i] = Tensor._wrap(node)
    args, kwargs = unflatten(signature_args, symbolic_leaves)
    with trace.tracing(active), grad_mode.no_grad():
        result = fn(*args, **kwargs)
        out_leaves, out_structure, _ = flatten(result)
        outputs, kinds = [], []
        for leaf in out_leaves:
            if isinstance(leaf, (Tensor, np.ndarray)):
                symbolic = isinstance(leaf, Tensor) and leaf._is_symbolic
                kinds.append(("node", len(outputs)))
                outputs.append(leaf._data if symbolic else capture(active, leaf))
            else:
                kinds.append(("static", leaf))
    _check_inputs_not_mutated(symbolic_leaves, input_nodes, names)
    return _Traced(active, names, input_nodes, outputs, kinds, out_structure)


def _differentiate(traced, outputs, wrt_leaves, differentiate_captured, first_output_only):
    """Gradients of the differentiable outputs w.r.t. the leaves that need them (and the
    captured tensors that require grad, in call mode)."""
    active = traced.trace
    graph = active.graph
    if differentiate_captured:
        # Call mode, as eagerly: an argument no output depends on gets no gradient edge
        # (its .grad stays None).
        used = _differentiable_ancestors(traced.outputs)
        wrt_leaves = [i for i in wrt_leaves if traced.input_nodes[i].id in used]
    wrt = [traced.input_nodes[i] for i in wrt_leaves]
    wrt_captured = [
        k
        for k, value in enumerate(active.captured_values)
        if differentiate_captured
        and isinstance(value, Tensor)
        and value._requires_grad
        and graph.captured[k].id in used
    ]
    wrt += [graph.captured[k] for k in wrt_captured]
    # Which outputs require grad is decided on the traced graph, by eager mode's rule:
    # a rewrite that cancels a dependence (x - x) must not change it.
    reachable = _requiring_grad(traced.outputs, wrt)
    differentiable = [
        k
        for k, node in enumerate(traced.outputs)
        if node.id in reachable and (k == 0 or not first_output_only)
    ]
    diff_outputs = [outputs[k] for k in differentiable]
    cotangents = [
        graph.input(f"d_{_output_name(k, len(outputs))}", node.shape, node.dtype)
        for k, node in zip(differentiable, diff_outputs, strict=True)
    ]
    # forward_backward seeds a scalar output with the constant 1, which then folds away.
    fused_takes_cotangents = any(node.shape != () for node in diff_outputs)
    if len(diff_outputs) == 1 and not fused_takes_cotangents:
        seed = graph.const(1.0, diff_outputs[0].dtype)
        fused_grads = _zero_filled(graph, reverse.gradients(diff_outputs, [seed], wrt), wrt)
        # The gradient is linear in the cotangent: backward scales the seed-1 gradients
        # once at the end instead of carrying the cotangent through every statement.
        grads = [_scaled(g, cotangents[0]) for g in fused_grads]
    else:
        grads = _zero_filled(graph, reverse.gradients(diff_outputs, cotangents, wrt), wrt)
        fused_grads = grads
        if diff_outputs and not fused_takes_cotangents:
            seeds = [graph.const(1.0, node.dtype) for node in diff_outputs]
            fused_grads = _zero_filled(graph, reverse.gradients(diff_outputs, seeds, wrt), wrt)
    return _Differentiated(
        wrt,
        wrt_leaves,
        wrt_captured,
        differentiable,
        cotangents,
        grads,
        fused_grads,
        fused_takes_cotangents,
    )


def _scaled(gradient: Node, cotangent: Node) -> Node:
    """``gradient * cotangent`` for a scalar cotangent, in the gradient's dtype."""
    with trace.provenance(gradient.provenance):
        product = Tensor._wrap(gradient) * Tensor._wrap(cotangent)
        if product.dtype is not gradient.dtype:
            product = product.to(gradient.dtype)
    return product._data


def _simplify(graph, roots, hits, counts, timer) -> list[Node]:
    """The rewrite phases, then SymPy on elementwise regions, then canonical again."""
    for phase in rules.PHASES:
        roots = rewrite.rewrite(graph, roots, rules.RULES[phase], hits)
        counts[f"after {phase}"] = count_ops(roots)
    timer.lap("rewrite")
    roots = simplify.simplify(roots, rewrite.Builder(graph), hits)
    timer.lap("sympy regions")
    roots = rewrite.rewrite(graph, roots, rules.RULES["canonicalize"], hits)
    counts["after sympy regions"] = count_ops(roots)
    timer.lap("rewrite")
    return roots


_ENTRY_POINTS = ("forward", "backward", "forward_backward")


def _schedule(traced, outputs, diff, backend, observe=False):
    """The three generated functions; what forward saves for backward, with its bytes."""
    graph = traced.trace.graph
    helpers: dict = {}
    params = [(traced.input_nodes[i], traced.names[i]) for i in sorted(traced.input_nodes)]
    params += [(node, node.name) for node in graph.captured]
    param_ids = {n.id for n, _ in params}
    forward_ids = {n.id for n in toposort(outputs)} | param_ids
    saved = schedule.saved_for_backward(forward_ids, diff.grads, diff.cotangents, param_ids)
    output_names = [_output_name(k, len(outputs)) for k in range(len(outputs))]
    grad_names = [f"d_{node.name}" for node in diff.wrt]
    namer = schedule.Namer()
    forward = schedule.build_function(
        "forward",
        params,
        outputs + saved,
        output_names + [f"s{k}" for k in range(len(saved))],
        helpers,
        "Outputs, then the values backward needs.",
        backend,
        namer,
        observe=observe,
        internal=len(saved),
    )
    saved_params = [(node, namer.names[node.id]) for node in saved]
    cotangent_params = [(node, node.name) for node in diff.cotangents]
    backward = schedule.build_function(
        "backward",
        saved_params + cotangent_params,
        diff.grads,
        grad_names,
        helpers,
        "Gradients of the inputs, from the saved values and the outputs' cotangents.",
        backend,
        observe=observe,
    )
    fused_params = params + (cotangent_params if diff.fused_takes_cotangents else [])
    forward_backward = schedule.build_function(
        "forward_backward",
        fused_params,
        outputs + diff.fused_grads,
        output_names + grad_names,
        helpers,
        "Outputs and gradients in one pass"
        + ("." if diff.fused_takes_cotangents else " (the output's cotangent is 1)."),
        backend,
        observe=observe,
    )
    saved_report = [
        (namer.names[n.id], n.type_text(), 0 if n.kind in (INPUT, CAPTURED) else n.nbytes)
        for n in saved
    ]
    return [forward, backward, forward_backward], helpers, params, saved_report, saved


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


def _differentiable_ancestors(outputs: list[Node]) -> set[int]:
    """Nodes a gradient can flow to from ``outputs`` (through differentiable positions)."""
    reached = {n.id for n in outputs}
    for node in reversed(toposort(outputs)):
        if node.id not in reached or node.kind != OP or not node.op.differentiable:
            continue
        if not node.dtype.is_floating_point:
            continue
        skip = node.op.nondifferentiable_inputs
        reached.update(i.id for k, i in enumerate(node.inputs) if k not in skip)
    return reached


def _requiring_grad(outputs: list[Node], sources: list[Node]) -> set[int]:
    """Nodes that would require grad eagerly: float results of a differentiable op with an
    input that requires grad in a differentiable position."""
    reached = {n.id for n in sources}
    for node in toposort(outputs):
        if node.kind != OP or not node.op.differentiable or not node.dtype.is_floating_point:
            continue
        skip = node.op.nondifferentiable_inputs
        if any(i.id in reached for k, i in enumerate(node.inputs) if k not in skip):
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
    return __version__
