"""Loop fusion for loop backends (Numba): clusters of elementwise ops over one iteration space,
each rendered as one ``@numba.njit`` loop kernel, with a cost model that says why.

``plan`` walks a function's statements in order and groups the nodes a loop can compute one
element at a time (an ``OpDef.scalar`` spelling, float or bool values, operands of the node's
shape, of lower rank or with size-1 axes broadcast, or single elements) by iteration space;
``sum``/``mean`` reductions of a cluster's values, over every axis or some, become
accumulators of the same loop, and slice backwards of its values (Rosenbrock's ``x[1:]``
and ``x[:-1]``) offset writes of it (``statements``). A cluster is closed (its kernel
emitted) when a statement outside it needs one of its values as an array. Everything else
(matmul, views, gathers, max ...) stays a numpy call between kernels.

The cost model: a transcendental op (``OpDef.scalar_libm``) stays in a loop when the
per-element cost measured for it there (scalar libm, ``loop_costs.COSTS``) times the number of
elements is at most what numpy's ufunc costs (SIMD: per element, plus a fixed cost per call)
plus the cost of splitting the loop around it; otherwise it is a numpy call between kernels.
A cluster of one op stays numpy (nothing to fuse); any other cluster becomes a loop, because
dispatch (small arrays) or memory passes (large ones) dominate. ``explain()`` lists each
decision with the numbers behind it.
"""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass, field

from ..ir.graph import CONST, OP, Node
from . import codegen, loop_costs, schedule

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
    # slice backwards of members, as offset writes: (the result, its parts)
    scatters: list[tuple[Node, list[Node]]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return _numel(self.shape)

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
        if source.kind != CONST and source.numel != 1 and not broadcasts(source.shape, node.shape):
            return "an operand of another shape"
        if (
            source.kind != CONST
            and source.dtype.is_floating_point
            and not (op.name == "where" and k == 0)
        ):
            floats.add(source.dtype.name)
    if len(floats) > 1 and op.name != "to_dtype":
        return "mixed float operands"
    if op.name not in ("to_dtype", "where") and node.dtype.is_floating_point:
        if floats and floats != {node.dtype.name}:
            return "a result in another float type"
    if op.scalar_libm and not libm_choice(node)[0]:
        return "libm"
    return None


# costs of ops missing from the table: a slow libm call against a vectorized ufunc
_UNMEASURED = {"loop_ns": 10.0, "numpy_ns": 1.0, "numpy_call_ns": 400}


def libm_choice(node: Node) -> tuple[bool, str]:
    """Whether the transcendental ``node`` is cheaper in a loop than as a numpy call, and the
    measured costs that say so (``loop_costs.COSTS``)."""
    dtype = _compute_dtype(node).name
    costs = loop_costs.COSTS.get((node.op.name, dtype), _UNMEASURED)
    n = node.numel
    in_loop = n * costs["loop_ns"]
    split = loop_costs.COSTS.get("kernel call", _UNMEASURED)["numpy_call_ns"]
    in_numpy = costs["numpy_call_ns"] + n * costs["numpy_ns"] + split
    reason = (
        f"loop {costs['loop_ns']:g} ns/element = {in_loop / 1000:.2f} us, numpy "
        f"{costs['numpy_ns']:g} ns/element + {costs['numpy_call_ns'] / 1000:.2f} us per call "
        f"+ {split / 1000:.2f} us to split the loop = {in_numpy / 1000:.2f} us"
    )
    return in_loop <= in_numpy, reason


def cache_options() -> dict[str, object]:
    """What the cost model's decisions depend on, for the compile cache's key."""
    digest = hashlib.sha256(repr(loop_costs.COSTS).encode("utf-8")).hexdigest()[:16]
    return {"loop_costs": digest, "small": SMALL}


def broadcasts(shape: tuple, target: tuple) -> bool:
    """``shape`` broadcasts to ``target`` (numpy's rule, right-aligned) without adding size."""
    if len(shape) > len(target):
        return False
    return all(a in (b, 1) for a, b in zip(shape[::-1], target[::-1], strict=False))


def _is_accumulator(node: Node) -> bool:
    """A ``sum`` or ``mean`` (over every axis or some) of a float array, in its dtype."""
    if node.kind != OP or node.op.name not in _REDUCTIONS or len(node.inputs) != 1:
        return False
    source = node.inputs[0]
    return (
        source.ndim >= 1
        and source.numel > 0
        and source.dtype is node.dtype
        and node.dtype.is_floating_point
        and (node.shape == () or reduced_axes(node) is not None)
    )


def reduced_axes(node: Node) -> tuple[int, ...] | None:
    """The axes of its operand that the reduction ``node`` sums (None: not a plain sum)."""
    ndim = node.inputs[0].ndim
    dims = node.attr_dict.get("dim")
    if dims is None:
        return tuple(range(ndim))
    dims = (dims,) if isinstance(dims, int) else dims
    if not isinstance(dims, tuple) or not all(isinstance(d, int) for d in dims):
        return None
    return tuple(sorted({d % ndim for d in dims}))


def plan(
    order: list[Node], decisions: list[str], plain: frozenset[int] = frozenset()
) -> list[Node | Cluster]:
    """``order``'s statements as plain nodes and loop clusters, in an order that computes
    every value before it is read; the cost model's decisions are appended to ``decisions``.
    The nodes in ``plain`` stay statements of their own (the sums of slice backwards, which
    ``statements`` writes into the loop that computes their parts)."""
    items: list[Node | Cluster] = []
    open_clusters: dict[tuple, Cluster] = {}
    member_of: dict[int, Cluster] = {}

    def flush(cluster: Cluster) -> None:
        cluster.open = False
        del open_clusters[cluster.shape]
        items.append(cluster)

    libm: dict[tuple, int] = {}
    for node in _fusion_order(order, plain):
        if node.id in plain:
            key, reduction = None, False
        elif _is_accumulator(node):
            key, reduction = node.inputs[0].shape, True
        else:
            why = loopable(node)
            key, reduction = (node.shape if why is None else None), False
            if why in (None, "libm") and node.op.scalar_libm:
                verdict = (node.op.name, _compute_dtype(node).name, node.numel, *libm_choice(node))
                libm[verdict] = libm.get(verdict, 0) + 1
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
    for (name, dtype, n, in_loop, reason), count in sorted(libm.items()):
        where = "in the loop" if in_loop else "numpy ufunc"
        decisions.append(f"{where}: {count} x {name} over {n} {dtype} elements ({reason})")
    return _apply_cost_model(items, decisions)


def _fusion_order(order: list[Node], plain: frozenset[int]) -> list[Node]:
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

    accumulators = {node.id for node in order if _is_accumulator(node)}

    def ready(node: Node) -> None:
        # a loop statement reading a reduction waits: it would close the reduction's loop
        fused = (
            node.id not in plain
            and (_is_accumulator(node) or loopable(node) is None)
            and not any(s.id in accumulators for s in node.inputs)
        )
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


def _operands(cluster: Cluster) -> tuple[list[Node], list[Node]]:
    """The values a cluster's kernel reads from outside it: arrays, and single elements."""
    members = {node.id for node in cluster.nodes}
    arrays, scalars = [], []
    seen: set[int] = set()
    for node in cluster.nodes:
        for source in node.inputs:
            if source.kind == CONST or source.id in members or source.id in seen:
                continue
            seen.add(source.id)
            full = source.shape == cluster.shape or source.numel != 1
            (arrays if full else scalars).append(source)
    return arrays, scalars


def _nested(cluster: Cluster, arrays: list[Node]) -> bool:
    """Whether the cluster's kernel is a nest of loops (one per axis) rather than one flat
    loop: lower-rank operands, per-axis reductions, or offset writes in more than 1-D."""
    return (
        any(n.id in cluster.reductions and n.shape != () for n in cluster.nodes)
        or any(s.shape != cluster.shape for s in arrays)
        or (bool(cluster.scatters) and len(cluster.shape) != 1)
    )


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
    ``buffers``: the workspace slots some outputs are written into (of ``_out_shape``).

    A cluster whose operands all have its shape (or one element) and whose reductions are
    full is one flat loop over its elements (the form LLVM vectorizes best); one with
    lower-rank operands or per-axis reductions is a nest of loops, one per axis, in which
    each operand is indexed by the axes it has."""
    buffers = buffers or {}
    arrays, scalars = _operands(cluster)
    nested = _nested(cluster, arrays)
    ndim = len(cluster.shape)
    index = _NestedIndex(cluster.shape) if nested else _FlatIndex()

    def as_argument(source: Node) -> str:
        text = names[source.id]
        if source in scalars or (not nested and ndim != 1):
            return f"{text}.reshape(-1)"
        return text

    statements, stores, accumulators, finals = [], [], [], []
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
            init, update, final = _accumulator(node, target, operands[0], index)
            accumulators.append(init)
            statements.append((update, comment(node)))
            finals += final
            continue
        statements.append((f"{target} = {scalar_text(node, operands)}", comment(node)))
        if node.id in outputs:
            stores.append(f"out_{target}[{index.of(cluster.shape)}] = {target}")
    for result, parts in cluster.scatters:
        # one part: a plain write; two: added to what the other wrote (the zeros start)
        operation = "=" if len(parts) == 1 else "+="
        for part in parts:
            at = index.shifted(slice_offsets(part, cluster))
            value = names[part.inputs[0].id]
            stores.append(f"out_{names[result.id]}[{at}] {operation} {value}{comment(part)}")
    output_nodes = [n for n in cluster.nodes if n.id in outputs]
    scatter_nodes = [result for result, _ in cluster.scatters]
    params = (
        [f"in_{names[s.id]}" for s in arrays]
        + [f"in_{names[s.id]}" for s in scalars]
        + [f"out_{names[n.id]}" for n in output_nodes + scatter_nodes]
    )
    source = codegen.render(
        "numba_kernel.py.j2",
        name=name,
        params=params,
        size=cluster.size,
        shape="x".join(map(str, cluster.shape)) or "1",
        heads=index.heads(cluster),
        scalars=[(names[s.id], f"in_{names[s.id]}[0]") for s in scalars],
        loads=[(names[s.id], f"in_{names[s.id]}[{index.of(s.shape)}]") for s in arrays],
        accumulators=accumulators,
        statements=statements,
        stores=stores,
        finals=finals,
    )
    call_lines = []
    for node in output_nodes:
        shape = _out_shape(node, cluster, nested)
        new = buffers.get(node.id) or f"np.empty({shape!r}, {_ctor(node.dtype)})"
        call_lines.append(f"{names[node.id]} = {new}")
    for node in scatter_nodes:
        call_lines.append(
            schedule._with_comment(
                f"{names[node.id]} = np.zeros({node.shape!r}, {_ctor(node.dtype)})", node
            )
        )
    arguments = [as_argument(s) for s in arrays + scalars]
    arguments += [names[n.id] for n in output_nodes + scatter_nodes]
    call_lines.append(f"{name}({', '.join(arguments)})")
    for node in output_nodes:
        if _out_shape(node, cluster, nested) != node.shape:
            call_lines.append(f"{names[node.id]} = {names[node.id]}.reshape({node.shape!r})")
    return Kernel(name, source, call_lines)


class _FlatIndex:
    """One loop over every element (``_i``); arrays are passed flattened."""

    def heads(self, cluster: Cluster) -> list[str]:
        return [f"for _i in range({cluster.size}):"]

    def of(self, shape: tuple) -> str:
        return "_i"

    def shifted(self, offsets: tuple) -> str:
        return f"_i + {offsets[0]}" if offsets[0] else "_i"


class _NestedIndex:
    """A loop per axis (``_i0``, ``_i1`` ...); an operand of lower rank or with size-1 axes
    is indexed by its own axes (right-aligned, numpy's broadcasting), 0 on its size-1 ones."""

    def __init__(self, shape: tuple):
        self.shape = shape

    def heads(self, cluster: Cluster) -> list[str]:
        return [f"for _i{k} in range({n}):" for k, n in enumerate(self.shape)]

    def of(self, shape: tuple, kept: tuple | None = None) -> str:
        offset = len(self.shape) - len(shape)
        parts = [
            f"_i{k + offset}" if n == self.shape[k + offset] and n != 1 else "0"
            for k, n in enumerate(shape)
        ]
        return ", ".join(parts) or "0"

    def shifted(self, offsets: tuple) -> str:
        return ", ".join(f"_i{k} + {o}" if o else f"_i{k}" for k, o in enumerate(offsets))


def _kept_shape(node: Node) -> tuple:
    """A per-axis reduction's result with its reduced axes kept as size 1."""
    axes = reduced_axes(node)
    return tuple(1 if k in axes else n for k, n in enumerate(node.inputs[0].shape))


def _out_shape(node: Node, cluster: Cluster, nested: bool) -> tuple:
    """The shape of the array the kernel writes ``node`` into."""
    if node.id in cluster.reductions:
        return (1,) if node.shape == () else _kept_shape(node)
    return cluster.shape if nested else (cluster.size,)


def _accumulator(node: Node, target: str, operand: str, index) -> tuple[str, str, list[str]]:
    """A reduction as an accumulator of the loop: its start, its update in the loop body and
    the lines that store it. Float32 sums accumulate in float64, then round once (numpy's
    pairwise float32 sum is within a few ulp of that)."""
    source = node.inputs[0]
    ctor = _ctor(node.dtype)
    count = source.numel // max(1, _numel(node.shape))
    scale = f" / {count}" if node.op.name == "mean" else ""
    acc = f"acc_{target}"
    if node.shape == ():
        return (
            f"{acc} = np.float64(0.0)",
            f"{acc} += {operand}",
            [f"out_{target}[0] = {ctor}({acc}{scale})"],
        )
    kept = _kept_shape(node)
    final = [
        f"{acc}_flat = {acc}.reshape(-1)",
        f"out_{target}_flat = out_{target}.reshape(-1)",
        f"for _k in range({_numel(kept)}):",
        f"    out_{target}_flat[_k] = {ctor}({acc}_flat[_k]{scale})",
    ]
    return (
        f"{acc} = np.zeros({kept!r}, np.float64)",
        f"{acc}[{index.of(kept)}] += {operand}",
        final,
    )


def _numel(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


# ---------------------------------------------------------------------------- statements


def statements(
    backend, function_name, order, results, param_ids, namer, role, helpers, workspace=None
):
    """One generated function's lines: numpy statements, and a call per loop kernel (whose
    source goes into ``helpers``); with the cost model's decisions, as ``(lines, notes)``.
    ``workspace``: the ``workspace.Slots`` that large temporaries (kernel outputs, ufunc
    passes) no result can alias are written into, or None."""
    notes: list[str] = []
    result_ids = {n.id for n in results}
    users: dict[int, set[int]] = {}
    for node in order:
        for source in node.inputs:
            users.setdefault(source.id, set()).add(node.id)
    groups = _scatter_groups(order, users, result_ids)
    plain = frozenset(n.id for result, parts in groups for n in (result, *parts))
    items = plan(order, notes, plain)
    absorbed, scatters = _place_scatters(items, groups, notes)
    # the slice backwards written by a loop: no reader of its values outside it
    in_loops = {
        p.id for item in items if isinstance(item, Cluster) for _, ps in item.scatters for p in ps
    }
    slots = {}
    if workspace is not None:
        steps = _workspace_steps(backend, items, scatters, absorbed, users, result_ids, in_loops)
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
        for node in item.nodes + [result for result, _ in item.scatters]:
            if node.id in role:
                namer.bind(node, role[node.id])
            else:
                namer.temporary(node)
        outputs = _kernel_outputs(item, users, result_ids, in_loops)
        name = f"_loop_{function_name}_{kernels}"
        kernels += 1
        # the backend picks the kernel's form (numba: its statements, or a tape)
        kernel = backend.render_cluster(item, name, namer.names, outputs, _comment, notes, slots)
        helpers[name] = kernel.source.rstrip()
        lines += kernel.call_lines
    return lines, [f"{function_name}: {note}" for note in notes]


def slice_offsets(part: Node, cluster: Cluster) -> tuple[int, ...] | None:
    """Where the slice backward ``part`` puts its operand, a value of ``cluster``'s loop: the
    start on each axis of the result, when the index is slices of step 1 over every axis
    (None when it is anything else)."""
    value, shape = part.inputs[0], part.shape
    if value.shape != cluster.shape or len(shape) != len(cluster.shape):
        return None
    items = getattr(part.attr_dict.get("index"), "items", part.attr_dict.get("index"))
    if not isinstance(items, tuple) or len(items) > len(shape):
        return None
    if not all(isinstance(k, slice) for k in items):
        return None
    starts = []
    for axis, size in enumerate(shape):
        start, stop, step = (items[axis] if axis < len(items) else slice(None)).indices(size)
        if step != 1 or stop - start != value.shape[axis]:
            return None
        starts.append(start)
    return tuple(starts)


def _slice_backward(node: Node) -> bool:
    return (
        node.kind == OP
        and node.op.name == "index_backward"
        and len(node.inputs) == 1
        and node.dtype is not None
        and node.dtype.is_floating_point
    )


def _scatter_groups(order, users, result_ids) -> list[tuple[Node, list[Node]]]:
    """Slice backwards that may become writes of a loop: sums of two (Rosenbrock's ``x[1:]``
    and ``x[:-1]``) and single ones, each as (the result, its parts)."""
    groups, taken = [], set()
    for node in order:
        if node.kind != OP or node.op.name != "add" or len(node.inputs) != 2:
            continue
        a, b = node.inputs
        if a.id != b.id and all(_basic_slice_backward(n, node, users, result_ids) for n in (a, b)):
            groups.append((node, [a, b]))
            taken |= {a.id, b.id}
    groups += [(n, [n]) for n in order if n.id not in taken and _slice_backward(n)]
    return groups


def _place_scatters(items, groups, notes) -> tuple[set[int], dict[int, list[Node]]]:
    """Put each group whose parts' operands a loop computes into that loop as offset writes
    (no zero-filled temporary per part, no pass to add them); a sum of two whose operands
    come from elsewhere becomes one zero array and two slice writes. Returns the nodes that
    need no statement of their own, and the sums written as slice writes."""
    member_of = {n.id: item for item in items if isinstance(item, Cluster) for n in item.nodes}
    absorbed: set[int] = set()
    fallback: dict[int, list[Node]] = {}
    for result, parts in groups:
        cluster = member_of.get(parts[0].inputs[0].id)
        inside = cluster is not None and all(
            member_of.get(p.inputs[0].id) is cluster
            and p.inputs[0].id in cluster.elementwise
            and slice_offsets(p, cluster) is not None
            for p in parts
        )
        if inside:
            cluster.scatters.append((result, parts))
            absorbed |= {result.id, *(p.id for p in parts)}
            shape = "x".join(map(str, cluster.shape))
            into = "x".join(map(str, result.shape))
            notes.append(
                f"loop over {shape}: {len(parts)} slice backward(s) as offset writes into one "
                f"zeroed {into} array (no scatter pass of their own)"
            )
        elif len(parts) == 2:
            fallback[result.id] = parts
            absorbed |= {p.id for p in parts}
    return absorbed, fallback


def _kernel_outputs(cluster: Cluster, users, result_ids, in_loops) -> set[int]:
    """The members of ``cluster`` its kernel stores: results, accumulators, values read by
    statements outside the loop (``in_loops``: slice backwards a loop writes, which read
    nothing as arrays)."""
    members = {n.id for n in cluster.nodes}
    return {
        n.id
        for n in cluster.nodes
        if n.id in result_ids
        or n.id in cluster.reductions
        or any(u not in members and u not in in_loops for u in users.get(n.id, ()))
    }


def _workspace_steps(backend, items, scatters, absorbed, users, result_ids, in_loops) -> list:
    """The statements as ``schedule.step_slots`` reads them: a kernel's array outputs and a
    large ufunc pass are new arrays that may live in the workspace (kernel outputs in the
    shape the kernel writes), a slice scatter-sum (of a loop or not) and any op with a fresh
    result are new arrays that do not, anything else may be a view of what it reads."""
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
            nested = _nested(item, _operands(item)[0])
            writes = [
                (
                    n,
                    (_out_shape(n, item, nested), n.dtype)
                    if large and n.id not in item.reductions
                    else None,
                )
                for n in item.nodes
                if n.id in _kernel_outputs(item, users, result_ids, in_loops)
            ]
            writes += [(result, None) for result, _ in item.scatters]
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
