"""Scheduling: statement order, names, what the forward saves for the backward, ``del`` of dead
temporaries, buffer reuse (``out=``) into the function's own dead temporaries, and the
workspace: temporaries kept across calls (``workspace.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.graph import CONST, OP, Node, toposort
from . import codegen, workspace

# Temporaries smaller than this are left to the garbage collector: ``del`` and ``out=`` cost
# more than they save on small arrays.
LARGE = 1024
# Generated lines are cut to about this width: the quoted user line is shortened, not the code.
MAX_LINE = 110


@dataclass
class Function:
    """One generated function: its parameters, body lines and return expression."""

    name: str
    params: list[str]
    lines: list[str]
    returns: str
    doc: str
    saved: list[Node] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # the backend's scheduling decisions
    # The module constant naming the workspace's slots ("" when the function has none).
    workspace_layout: str = ""


def saved_for_backward(
    forward_nodes: set[int], backward_roots: list[Node], cotangents: list[Node], params: set[int]
) -> list[Node]:
    """Forward values the backward reads: the boundary between the two programs.

    Values computed only for the backward stay in the backward (they are not saved), and a
    saved value that one cheap op makes from other saved values or inputs is recomputed
    there instead of being kept alive (views, ``1 - p``, casts)."""
    forward_nodes = set(forward_nodes)
    while True:
        saved = _boundary(forward_nodes, backward_roots, cotangents)
        available = {n.id for n in saved} | params
        recompute = [
            n
            for n in saved
            if n.id not in params
            and _cheap(n)
            and all(i.kind == CONST or i.id in available for i in n.inputs)
        ]
        if not recompute:
            return saved
        forward_nodes -= {n.id for n in recompute}


def _cheap(node: Node) -> bool:
    return node.kind == OP and node.op.recomputable


def _boundary(forward_nodes, backward_roots, cotangents) -> list[Node]:
    stop = {n.id for n in cotangents} | forward_nodes
    saved: dict[int, Node] = {}
    for node in toposort(backward_roots, stop):
        if node.id in forward_nodes and node.kind != CONST:
            saved[node.id] = node
            continue
        for source in node.inputs:
            if source.id in forward_nodes and source.kind != CONST:
                saved[source.id] = source
    return sorted(saved.values(), key=lambda n: n.id)


class Namer:
    """Readable unique names: parameters keep theirs, temporaries are t0, t1, ..."""

    def __init__(self, reserved=()):
        self.names: dict[int, str] = {}
        self.used = set(reserved)
        self._counter = 0

    def bind(self, node: Node, name: str) -> str:
        name = self.unique(codegen.sanitize(name))
        self.names[node.id] = name
        return name

    def unique(self, name: str) -> str:
        """``name``, or ``name_1``, ... when the function already uses it (not for a node)."""
        base, k = name, 1
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        return name

    def temporary(self, node: Node) -> str:
        while f"t{self._counter}" in self.used:
            self._counter += 1
        return self.bind(node, f"t{self._counter}")


def build_function(
    name: str,
    params: list[tuple[Node, str]],
    results: list[Node],
    result_names: list[str],
    helpers: dict,
    doc: str,
    backend,
    namer: Namer | None = None,
    observe: bool = False,
    internal: int = 0,
) -> Function:
    """Statements computing ``results`` from ``params`` in dependency order; the last
    ``internal`` results are for the generated code only (values saved for backward);
    ``observe`` adds ``_observe(node id, value)`` after each (self-check mode, ``check.py``);
    ``backend`` spells the statements."""
    namer = namer or Namer()
    param_names = [
        namer.bind(node, pname) if node.id not in namer.names else namer.names[node.id]
        for node, pname in params
    ]
    param_ids = {node.id for node, _ in params}
    reached = toposort(results, param_ids)
    order = [n for n in reached if n.kind == OP and n.id not in param_ids]
    for node in reached:
        if node.kind not in (OP, CONST) and node.id not in param_ids:
            raise codegen.CodegenError(f"{name} reads {node.name}, which is not its parameter")
    role = {}
    for node, rname in zip(results, result_names, strict=True):
        if node.kind == OP and node.id not in role and node.id not in namer.names:
            role[node.id] = rname
    own = None
    # The self-check mode (observe) keeps every value it records: no buffer is reused there.
    slots = None if observe else workspace.Slots()
    if not observe:
        own = backend.schedule_statements(
            name, order, results, param_ids, namer, role, helpers, workspace=slots
        )
    notes = []
    if own is not None:
        statements, notes = own
    else:
        statements = _statements(
            order, results, param_ids, namer, role, helpers, backend, observe, slots
        )
    layout = ""
    if slots is not None and slots.types:
        layout = slots.layout_text(name)
        param_names.append(f"{workspace.PARAMETER}=None")
        statements.insert(0, workspace.unpack_line(name, slots.names))
    if observe:
        observed = [f"_observe({node.id}, {namer.names[node.id]})" for node, _ in params]
        statements = observed + statements
    public = len(results) - internal
    returns = ", ".join(
        _returned(n, namer, param_ids, backend) if k < public else _operand(n, namer, backend)
        for k, n in enumerate(results)
    )
    if len(results) == 1:
        returns += ","
    return Function(
        name, param_names, statements, f"({returns})", doc, notes=notes, workspace_layout=layout
    )


def _operand(node: Node, namer: Namer, backend) -> str:
    if node.kind == CONST:
        return backend.constant(node)
    return namer.names[node.id]


def _returned(node: Node, namer: Namer, param_ids: set[int], backend) -> str:
    """A result as returned: eager mode gives a new writable array where compiled code would
    hand back its own argument (``x * 1`` rewritten to ``x``, a gradient equal to the
    cotangent) or a read-only broadcast (the gradient of a sum), so those are copied."""
    text = _operand(node, namer, backend)
    if node.id in param_ids or (node.kind == OP and backend.read_only(node.op)):
        return backend.fresh_copy(text)
    return text


def _operands(node: Node, namer: Namer, backend) -> list[str]:
    """Operand texts of ``node``. A constant is a bare number only where the backend says
    the array operand decides the dtype (numpy: beside an array operand of an arithmetic
    ufunc); anywhere else a bare Python float would be float64 (or not an array at all), so
    it carries its dtype."""
    bare = backend.bare_constants(node)
    return [
        backend.constant(s, bare) if s.kind == CONST else namer.names[s.id] for s in node.inputs
    ]


class _Buffers:
    """Which owned buffers each value may share memory with, and until when each is read.

    A buffer is an array a ufunc statement allocated (at least ``LARGE`` elements). A value
    shares the buffers of the inputs it may be a view of (views, and any op not known to
    return a new array). A buffer may be written with ``out=`` only when no value sharing
    it is read later: that covers the value itself and every view of it."""

    def __init__(self, last_use: dict[int, int], backend):
        self.last_use = last_use
        self.backend = backend
        self.shares: dict[int, frozenset[int]] = {}  # node id -> buffers it may alias
        self.holder: dict[int, int] = {}  # node id -> the buffer it is (the whole array)
        self.end: dict[int, int] = {}  # buffer -> last statement reading a value sharing it
        self.types: dict[int, tuple] = {}  # buffer -> (shape, dtype)

    def computed(self, node: Node, reused: int | None) -> None:
        """Record ``node``'s value: written into buffer ``reused``, a new buffer, or an alias."""
        if reused is not None:
            shares = frozenset({reused})
            self.holder[node.id] = reused
        elif self._allocates(node):
            shares = frozenset({node.id})
            self.holder[node.id] = node.id
            self.types[node.id] = (node.shape, node.dtype)
        elif node.op.fresh_result:
            # reductions, casts, where, softmax: a new array; any other op may return a
            # view of an input, so its result is taken to share the inputs' buffers
            shares = frozenset()
        else:
            shares = frozenset().union(*(self.shares.get(i.id, ()) for i in node.inputs))
        self.shares[node.id] = shares
        for buffer in shares:
            self.end[buffer] = max(self.end.get(buffer, -1), self.last_use.get(node.id, -1))

    def reusable(self, node: Node, index: int) -> Node | None:
        """An input of ``node`` holding a whole buffer of its shape and dtype that nothing
        reads after statement ``index``."""
        if not (node.kind == OP and self.backend.writes_into(node.op)) or node.numel < LARGE:
            return None
        for source in node.inputs:
            buffer = self.holder.get(source.id)
            if (
                buffer is not None
                and self.end[buffer] <= index
                and self.types[buffer] == (node.shape, node.dtype)
            ):
                return source
        return None

    def _allocates(self, node: Node) -> bool:
        return node.kind == OP and self.backend.writes_into(node.op) and node.numel >= LARGE


def _buffer_plan(order, last_use, backend) -> tuple[_Buffers, dict[int, Node | None]]:
    """Which dead input each statement writes into (None: it allocates or aliases), and the
    buffers that result, with the last statement reading each: decided before any text is
    written, so that the workspace knows which buffers a returned value may alias."""
    buffers = _Buffers(last_use, backend)
    reuse = {}
    for i, node in enumerate(order):
        source = reuse[node.id] = buffers.reusable(node, i)
        buffers.computed(node, None if source is None else buffers.holder[source.id])
    return buffers, reuse


# How a backend's own statement (``step_slots``) makes a value: a view or other result that
# may share its inputs' memory; otherwise a new array, given as its workspace slot's
# (shape, dtype), or as None where it may not live in the workspace.
ALIAS = "alias"


def step_slots(steps, results: list[Node], slots, namer) -> dict[int, str]:
    """Workspace slots for a backend that writes its own statements (loop kernels): ``steps``
    lists per statement ``(values it reads, [(value it makes, how), ...])`` (``how``: see
    ``ALIAS``). A new array gets a slot (the returned node id -> slot name) unless a result
    may share its memory; a slot is free again after the last step reading its array or a
    view of it, as in ``_Buffers``."""
    shares: dict[int, frozenset[int]] = {}
    end: dict[int, int] = {}
    types: dict[int, tuple] = {}

    def read(node: Node, at: int) -> None:
        for buffer in shares.get(node.id, ()):
            end[buffer] = max(end[buffer], at)

    for k, (reads, writes) in enumerate(steps):
        for node in reads:
            read(node, k)
        for node, how in writes:
            if how == ALIAS:
                shares[node.id] = frozenset().union(*(shares.get(i.id, ()) for i in node.inputs))
            elif how is None:
                shares[node.id] = frozenset()
            else:
                shares[node.id] = frozenset({node.id})
                end[node.id] = k
                types[node.id] = how
    for node in results:
        read(node, len(steps))
    escaping = frozenset().union(*(shares.get(node.id, ()) for node in results))
    names = {}
    for k, (_, writes) in enumerate(steps):
        for node, _how in writes:
            if node.id in types and node.id not in escaping:
                shape, dtype = types[node.id]
                names[node.id] = slots.names[slots.take(shape, dtype, k, end[node.id], namer)]
    return names


def _statements(
    order, results, param_ids, namer, role, helpers, backend, observe=False, slots=None
):
    """One statement per node (``slots``: put the buffers no result can alias in the
    workspace)."""
    end = len(order)
    last_use = {}
    for i, node in enumerate(order):
        for source in node.inputs:
            last_use[source.id] = i
    for node in results:
        last_use[node.id] = end
    buffers, reuses = _buffer_plan(order, last_use, backend)
    # A buffer a result may share memory with (the result itself, or a view of it) is a
    # fresh array on every call: the caller owns it.
    escaping = frozenset().union(*(buffers.shares.get(node.id, ()) for node in results))
    in_workspace: set[int] = set()  # buffers held in workspace slots

    lines = []
    for i, node in enumerate(order):
        operands = _operands(node, namer, backend)
        check = backend.guard(node, operands, helpers)
        if check is not None:
            lines.append(_with_comment(check, node))
        reuse = reuses[node.id]
        target = namer.bind(node, role[node.id]) if node.id in role else None
        if reuse is not None:
            buffer = namer.names[reuse.id]
            if target is None:
                target = namer.names[node.id] = buffer
            text = backend.expression_into(node, operands, buffer)
        elif (
            slots is not None
            and buffers.holder.get(node.id) == node.id
            and node.id not in escaping
            and backend.into_workspace(node)
        ):
            target = target or namer.temporary(node)
            slot = slots.take(node.shape, node.dtype, i, buffers.end[node.id], namer)
            text = backend.expression_into(node, operands, slots.names[slot])
            in_workspace.add(node.id)
        else:
            target = target or namer.temporary(node)
            try:
                text = backend.expression(node, operands, helpers)
            except codegen.CodegenError as error:
                where = node.provenance
                line = f" at {where.short()}: {where.source}" if where else ""
                raise codegen.CodegenError(
                    f"symgrad.compile cannot generate code for {node.op.name}{line}: {error}"
                ) from None
        lines.append(_with_comment(f"{target} = {text}", node))
        if observe:
            lines.append(f"_observe({node.id}, {target})")
        dead = [
            s
            for s in _unique(node.inputs)
            if s.kind == OP
            and not s.op.is_view
            and s.id not in param_ids
            and last_use.get(s.id) == i
            and s.numel >= LARGE
            and namer.names[s.id] != target
            and buffers.holder.get(s.id) not in in_workspace
        ]
        if dead:
            lines.append("del " + ", ".join(dict.fromkeys(namer.names[s.id] for s in dead)))
    return lines


def _unique(nodes):
    seen = set()
    for n in nodes:
        if n.id not in seen:
            seen.add(n.id)
            yield n


def _with_comment(statement: str, node: Node) -> str:
    p = node.provenance
    if p is None:
        return statement
    tag = " (grad)" if p.grad else ""
    line = f"{statement:<40}  # {p.short()}{tag}  "
    source = p.source
    room = max(MAX_LINE - len(line), 20)
    if len(source) > room:
        source = source[: room - 3] + "..."
    return line + source
