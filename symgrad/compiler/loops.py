"""Loop fusion for loop backends (Numba): clusters of elementwise ops over one iteration space,
each rendered as one ``@numba.njit`` loop kernel, with a cost model that says why.

``plan`` walks a function's statements in order and groups the nodes a loop can compute one
element at a time (an ``OpDef.scalar`` spelling, float or bool values, operands of the node's
shape or single elements broadcast) by iteration space; full ``sum``/``mean`` reductions of
a cluster's values become accumulators of the same loop. A cluster is closed (its kernel
emitted) when a statement outside it needs one of its values as an array. Everything else
(matmul, views, gathers, reductions over one axis ...) stays a numpy call between kernels.

The cost model: a transcendental op (``OpDef.scalar_libm``) over more than ``LIBM_IN_NUMPY``
elements stays a numpy ufunc (SIMD there, scalar libm in a loop: 5-48 ns against 0.4-0.8 ns
per element measured on this machine); a cluster of one op stays numpy (nothing to fuse);
any other cluster becomes a loop, because dispatch (small arrays) or memory passes (large
ones) dominate. ``explain()`` lists each decision.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from ..ir.graph import CONST, OP, Node
from . import codegen, schedule

# Transcendental passes over more elements than this stay numpy's SIMD ufuncs.
LIBM_IN_NUMPY = 1024
# Below this many elements a loop wins by dispatch alone (one call instead of one per op).
SMALL = 4096
_LOOP_DTYPES = frozenset({"float32", "float64", "bool"})
_REDUCTIONS = frozenset({"sum", "mean"})


@dataclass
class Cluster:
    """Nodes computed in one loop over ``shape``; ``reductions`` are its accumulators."""

    shape: tuple
    nodes: list[Node] = field(default_factory=list)
    reductions: set[int] = field(default_factory=set)
    elementwise: set[int] = field(default_factory=set)
    open: bool = True

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def add(self, node: Node, reduction: bool) -> None:
        self.nodes.append(node)
        (self.reductions if reduction else self.elementwise).add(node.id)


def _compute_dtype(node: Node):
    """The dtype the op computes in: its first non-constant float operand's, else its own."""
    for source in node.inputs:
        if source.kind != CONST and source.dtype is not None and source.dtype.is_floating_point:
            return source.dtype
    return node.dtype


def loopable(node: Node) -> str | None:
    """Why ``node`` cannot be computed element by element in a loop (None when it can)."""
    op = node.op
    if node.kind != OP or op.scalar is None:
        return "no scalar spelling"
    if node.dtype is None or node.dtype.name not in _LOOP_DTYPES or node.numel == 0:
        return "not a float or bool value"
    floats = set()
    for k, source in enumerate(node.inputs):
        if source.dtype is None or source.dtype.name not in _LOOP_DTYPES:
            return "an operand that is not float or bool"
        if source.kind != CONST and source.shape != node.shape and source.numel != 1:
            return "an operand broadcast along an axis"
        if (
            source.kind != CONST
            and source.dtype.is_floating_point
            and not (op.name == "where" and k == 0)
        ):
            floats.add(source.dtype.name)
    if op.name == "expand" and node.inputs[0].numel != 1:
        return "a broadcast along an axis"
    if len(floats) > 1 and op.name != "to_dtype":
        return "mixed float operands"
    if op.name not in ("to_dtype", "where") and node.dtype.is_floating_point:
        if floats and floats != {node.dtype.name}:
            return "a result in another float type"
    if op.scalar_libm and node.numel > LIBM_IN_NUMPY:
        return "libm"
    return None


def _is_accumulator(node: Node) -> bool:
    """A full ``sum`` or ``mean`` of a float array into a scalar of the same dtype."""
    if node.kind != OP or node.op.name not in _REDUCTIONS or node.shape != ():
        return False
    source = node.inputs[0]
    return (
        len(node.inputs) == 1
        and source.ndim >= 1
        and source.numel > 0
        and source.dtype is node.dtype
        and node.dtype.is_floating_point
    )


def plan(order: list[Node], decisions: list[str]) -> list[Node | Cluster]:
    """``order``'s statements as plain nodes and loop clusters, in an order that computes
    every value before it is read; the cost model's decisions are appended to ``decisions``."""
    items: list[Node | Cluster] = []
    open_clusters: dict[tuple, Cluster] = {}
    member_of: dict[int, Cluster] = {}

    def flush(cluster: Cluster) -> None:
        cluster.open = False
        del open_clusters[cluster.shape]
        items.append(cluster)

    libm_kept: dict[str, int] = {}
    for node in _fusion_order(order):
        if _is_accumulator(node):
            key, reduction = node.inputs[0].shape, True
        else:
            why = loopable(node)
            key, reduction = (node.shape if why is None else None), False
            if why == "libm":
                libm_kept[node.op.name] = libm_kept.get(node.op.name, 0) + 1
        target = open_clusters.get(key) if key is not None else None
        for source in node.inputs:
            cluster = member_of.get(source.id)
            if cluster is None or not cluster.open:
                continue
            if cluster is target and source.id in cluster.elementwise and not reduction:
                continue
            if cluster is target and reduction and source.id in cluster.elementwise:
                continue
            flush(cluster)
            if cluster is target:
                target = None
        if key is None:
            items.append(node)
            continue
        if target is None:
            target = open_clusters[key] = Cluster(key)
        target.add(node, reduction)
        member_of[node.id] = target
    for cluster in list(open_clusters.values()):
        flush(cluster)
    for name, count in sorted(libm_kept.items()):
        decisions.append(
            f"numpy ufunc: {count} x {name} over more than {LIBM_IN_NUMPY} elements (numpy's "
            "SIMD loop is faster than scalar libm in a compiled loop)"
        )
    return _apply_cost_model(items, decisions)


def _fusion_order(order: list[Node]) -> list[Node]:
    """``order`` re-sorted so that loop statements come as early as their inputs allow: a
    numpy statement that reads a cluster's value closes the cluster, so the elementwise work
    that does not depend on it is taken first (a topological order; ties keep ``order``)."""
    position = {node.id: k for k, node in enumerate(order)}
    waiting = {node.id: 0 for node in order}
    readers: dict[int, list[Node]] = {}
    for node in order:
        for source in dict.fromkeys(s.id for s in node.inputs):
            if source in position:
                waiting[node.id] += 1
                readers.setdefault(source, []).append(node)
    loop_ready: list[tuple[int, int]] = []
    other_ready: list[tuple[int, int]] = []

    def ready(node: Node) -> None:
        fused = _is_accumulator(node) or loopable(node) is None
        heapq.heappush(loop_ready if fused else other_ready, (position[node.id], node.id))

    for node in order:
        if waiting[node.id] == 0:
            ready(node)
    by_id = {node.id: node for node in order}
    result = []
    while loop_ready or other_ready:
        _, node_id = heapq.heappop(loop_ready if loop_ready else other_ready)
        result.append(by_id[node_id])
        for reader in readers.get(node_id, ()):
            waiting[reader.id] -= 1
            if waiting[reader.id] == 0:
                ready(reader)
    return result


def _apply_cost_model(items, decisions) -> list[Node | Cluster]:
    """A cluster of one op is no fusion: its node goes back to numpy."""
    kept: list[Node | Cluster] = []
    for item in items:
        if isinstance(item, Cluster) and len(item.nodes) < 2:
            kept.extend(item.nodes)
            continue
        if isinstance(item, Cluster):
            shape = "x".join(map(str, item.shape)) or "scalar"
            why = (
                "small arrays: one call instead of one per op"
                if item.size <= SMALL
                else f"one pass over memory instead of {len(item.nodes)}"
            )
            sums = f", {len(item.reductions)} accumulators" if item.reductions else ""
            decisions.append(f"loop over {shape}: {len(item.elementwise)} ops{sums} ({why})")
        kept.append(item)
    return kept


# ---------------------------------------------------------------------------- rendering


def _ctor(dtype) -> str:
    return "np.bool_" if dtype.name == "bool" else f"np.{dtype.numpy.name}"


def _constant(node: Node, dtype) -> str:
    """A constant operand in the loop's element type (never a bare float: it would promote)."""
    if dtype.name == "bool":
        return repr(bool(node.value))
    # the shortest text that rounds to the value in its own dtype, when that is the loop's
    text = codegen.constant_text(node) if node.dtype is dtype else codegen.literal(node.value)
    return f"{_ctor(dtype)}({text})"


def scalar_text(node: Node, operands: list[str]) -> str:
    """One element of ``node`` from its operands' element texts."""
    op = node.op
    c = _ctor(_compute_dtype(node) if op.name != "to_dtype" else node.dtype)
    if op.name == "where":
        c = _ctor(node.dtype)
    attrs = node.attr_dict
    if callable(op.scalar):
        return op.scalar(operands, c, **attrs)
    printed = {k: codegen.literal(v) for k, v in attrs.items()}
    return op.scalar.format(*operands, c=c, **printed)


@dataclass
class Kernel:
    """A rendered loop: its source, and how the generated function calls it."""

    name: str
    source: str
    call_lines: list[str]


def render_kernel(
    cluster: Cluster,
    name: str,
    names: dict[int, str],
    outputs: set[int],
    comment,
    buffers: dict[int, str] | None = None,
) -> Kernel:
    """The ``@numba.njit`` kernel of ``cluster`` and the lines that call it. ``names``: the
    generated function's names of the nodes (cluster members included); ``outputs``: the
    members read outside the loop; ``comment(node)``: the user's line for a statement;
    ``buffers``: the workspace slots (flat arrays) some outputs are written into."""
    buffers = buffers or {}
    members = {node.id for node in cluster.nodes}
    arrays, scalars = [], []
    seen: set[int] = set()
    for node in cluster.nodes:
        for source in node.inputs:
            if source.kind == CONST or source.id in members or source.id in seen:
                continue
            seen.add(source.id)
            (arrays if source.shape == cluster.shape else scalars).append(source)
    flat = len(cluster.shape) != 1

    def as_argument(source: Node) -> str:
        text = names[source.id]
        return f"{text}.reshape(-1)" if flat or source.shape != cluster.shape else text

    statements, stores, accumulators = [], [], []
    for node in cluster.nodes:
        dtype = _compute_dtype(node)
        operands = [
            _constant(s, dtype if node.op.name != "where" or k else s.dtype)
            if s.kind == CONST
            else names[s.id]
            for k, s in enumerate(node.inputs)
        ]
        target = names[node.id]
        if node.id in cluster.reductions:
            accumulators.append((target, node))
            statements.append((f"acc_{target} += {operands[0]}", comment(node)))
            continue
        statements.append((f"{target} = {scalar_text(node, operands)}", comment(node)))
        if node.id in outputs:
            stores.append(f"out_{target}[_i] = {target}")
    output_nodes = [n for n in cluster.nodes if n.id in outputs]
    finals = []
    for target, node in accumulators:
        total = f"acc_{target}"
        if node.op.name == "mean":
            total = f"{total} / {cluster.size}"
        finals.append(f"out_{target}[0] = {_ctor(node.dtype)}({total})")
    params = (
        [f"in_{names[s.id]}" for s in arrays]
        + [f"in_{names[s.id]}" for s in scalars]
        + [f"out_{names[n.id]}" for n in output_nodes]
    )
    source = codegen.render(
        "numba_kernel.py.j2",
        name=name,
        params=params,
        size=cluster.size,
        shape="x".join(map(str, cluster.shape)) or "1",
        scalars=[(names[s.id], f"in_{names[s.id]}[0]") for s in scalars],
        loads=[(names[s.id], f"in_{names[s.id]}[_i]") for s in arrays],
        accumulators=[f"acc_{target} = np.float64(0.0)" for target, _ in accumulators],
        statements=statements,
        stores=stores,
        finals=finals,
    )
    call_lines = []
    for node in output_nodes:
        size = 1 if node.id in cluster.reductions else cluster.size
        new = buffers.get(node.id) or f"np.empty({size}, {_ctor(node.dtype)})"
        call_lines.append(f"{names[node.id]} = {new}")
    arguments = [as_argument(s) for s in arrays + scalars]
    arguments += [names[n.id] for n in output_nodes]
    call_lines.append(f"{name}({', '.join(arguments)})")
    for node in output_nodes:
        shape = () if node.id in cluster.reductions else cluster.shape
        if len(shape) != 1:
            call_lines.append(f"{names[node.id]} = {names[node.id]}.reshape({shape!r})")
    return Kernel(name, source, call_lines)


# ---------------------------------------------------------------------------- statements


def statements(
    backend, function_name, order, results, param_ids, namer, role, helpers, workspace=None
):
    """One generated function's lines: numpy statements, and a call per loop kernel (whose
    source goes into ``helpers``); with the cost model's decisions, as ``(lines, notes)``.
    ``workspace``: the ``workspace.Slots`` that large temporaries (kernel outputs, ufunc
    passes) no result can alias are written into, or None."""
    notes: list[str] = []
    items = plan(order, notes)
    result_ids = {n.id for n in results}
    users: dict[int, set[int]] = {}
    for node in order:
        for source in node.inputs:
            users.setdefault(source.id, set()).add(node.id)
    scatters = _slice_scatters(items, users, result_ids)
    absorbed = {part.id for parts in scatters.values() for part in parts}
    slots = {}
    if workspace is not None:
        steps = _workspace_steps(backend, items, scatters, absorbed, users, result_ids)
        slots = schedule.step_slots(steps, results, workspace, namer)
    lines: list[str] = []
    kernels = 0
    for item in items:
        if isinstance(item, Node) and item.id in absorbed:
            continue
        if isinstance(item, Node) and item.id in scatters:
            lines += _scatter_sum(item, scatters[item.id], namer, role)
            continue
        if isinstance(item, Node):
            lines += _plain(backend, item, namer, role, helpers, slots.get(item.id))
            continue
        for node in item.nodes:
            if node.id in role:
                namer.bind(node, role[node.id])
            else:
                namer.temporary(node)
        outputs = _kernel_outputs(item, users, result_ids)
        name = f"_loop_{function_name}_{kernels}"
        kernels += 1
        kernel = render_kernel(item, name, namer.names, outputs, _comment, slots)
        helpers[name] = kernel.source.rstrip()
        lines += kernel.call_lines
    return lines, [f"{function_name}: {note}" for note in notes]


def _kernel_outputs(cluster: Cluster, users, result_ids) -> set[int]:
    """The members of ``cluster`` its kernel stores: results, accumulators, values read by
    statements outside the loop."""
    members = {n.id for n in cluster.nodes}
    return {
        n.id
        for n in cluster.nodes
        if n.id in result_ids
        or n.id in cluster.reductions
        or any(u not in members for u in users.get(n.id, ()))
    }


def _workspace_steps(backend, items, scatters, absorbed, users, result_ids) -> list:
    """The statements as ``schedule.step_slots`` reads them: a kernel's array outputs and a
    large ufunc pass are new arrays that may live in the workspace (kernel outputs as flat
    arrays), a slice scatter-sum and any op with a fresh result are new arrays that do not,
    anything else may be a view of what it reads."""
    steps = []
    for item in items:
        if isinstance(item, Node) and item.id in absorbed:
            continue
        if isinstance(item, Node) and item.id in scatters:
            steps.append(([part.inputs[0] for part in scatters[item.id]], [(item, None)]))
        elif isinstance(item, Node):
            if backend.into_workspace(item) and item.numel >= schedule.LARGE:
                how = (item.shape, item.dtype)
            else:
                how = None if item.op.fresh_result else schedule.ALIAS
            steps.append((list(item.inputs), [(item, how)]))
        else:
            members = {n.id for n in item.nodes}
            reads = [s for n in item.nodes for s in n.inputs if s.id not in members]
            large = item.size >= schedule.LARGE
            writes = [
                (n, ((item.size,), n.dtype) if large and n.id not in item.reductions else None)
                for n in item.nodes
                if n.id in _kernel_outputs(item, users, result_ids)
            ]
            steps.append((reads, writes))
    return steps


def _basic_slice_backward(node: Node, add: Node, users, result_ids) -> bool:
    """``node`` scatters its operand into zeros through basic indices (slices, integers), and
    only ``add`` reads it."""
    if node.kind != OP or node.op.name != "index_backward" or len(node.inputs) != 1:
        return False
    items = getattr(node.attr_dict.get("index"), "items", node.attr_dict.get("index"))
    basic = isinstance(items, tuple) and all(
        isinstance(k, (slice, int)) or k is None or k is Ellipsis for k in items
    )
    return (
        basic
        and node.shape == add.shape
        and node.dtype is add.dtype
        and node.id not in result_ids
        and users.get(node.id) == {add.id}
    )


def _slice_scatters(items, users, result_ids) -> dict[int, tuple[Node, Node]]:
    """Sums of two slice backwards (Rosenbrock's ``x[1:]`` and ``x[:-1]``): written as one
    zero array and two slice assignments instead of two zero arrays and an add."""
    found = {}
    for item in items:
        if not isinstance(item, Node) or item.op.name != "add" or len(item.inputs) != 2:
            continue
        a, b = item.inputs
        if a.id != b.id and all(_basic_slice_backward(n, item, users, result_ids) for n in (a, b)):
            found[item.id] = (a, b)
    return found


def _scatter_sum(node: Node, parts, namer, role) -> list[str]:
    target = namer.bind(node, role[node.id]) if node.id in role else namer.temporary(node)
    lines = [
        schedule._with_comment(
            f"{target} = np.zeros({node.shape!r}, np.{node.dtype.numpy.name})", node
        )
    ]
    for k, part in enumerate(parts):
        index = codegen.literal(part.attr_dict["index"])
        operation = "=" if k == 0 else "+="
        lines.append(
            schedule._with_comment(
                f"{target}[{index}] {operation} {namer.names[part.inputs[0].id]}", part
            )
        )
    return lines


def _plain(backend, node, namer, role, helpers, into=None) -> list[str]:
    """The numpy statement of one node (and its guard), as the numpy backend writes it;
    ``into``: the workspace buffer it is written into."""
    operands = schedule._operands(node, namer, backend)
    lines = []
    check = backend.guard(node, operands, helpers)
    if check is not None:
        lines.append(schedule._with_comment(check, node))
    target = namer.bind(node, role[node.id]) if node.id in role else namer.temporary(node)
    if into is not None:
        lines.append(
            schedule._with_comment(
                f"{target} = {backend.expression_into(node, operands, into)}", node
            )
        )
        return lines
    try:
        text = backend.expression(node, operands, helpers)
    except codegen.CodegenError as error:
        where = node.provenance
        line = f" at {where.short()}: {where.source}" if where else ""
        raise codegen.CodegenError(
            f"symgrad.compile cannot generate code for {node.op.name}{line}: {error}"
        ) from None
    lines.append(schedule._with_comment(f"{target} = {text}", node))
    return lines


def _comment(node: Node) -> str:
    """The user's line a kernel statement computes, as a trailing comment."""
    p = node.provenance
    if p is None:
        return ""
    tag = " (grad)" if p.grad else ""
    source = p.source if len(p.source) <= 60 else p.source[:57] + "..."
    return f"  # {p.short()}{tag}  {source}"
