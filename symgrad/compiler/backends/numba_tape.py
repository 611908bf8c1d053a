"""Tape kernels for the ``"numba"`` backend: a loop cluster as a table of ops that one small
compiled loop interprets, for clusters whose own kernel would take seconds to compile.

Numba types and lowers a kernel statement by statement (5-15 ms each on this machine), so
the 200-step chain's fused kernel of some 650 statements takes 4-7 s to compile. Its tape kernel
has one branch per *kind* of op (``sin`` of a float32, ``a * b``, ...: about ten), whatever
the number of ops, and compiles in about half a second; the ops themselves are rows of an
int32 table (opcode, destination register, operand registers) that the kernel walks for each
block of elements, inputs' loads, constants, outputs' stores and full sums being rows too
(one inner loop in all: Numba is slow to type loops). Each kind's statement is the op's
scalar spelling (``OpDef.scalar``) with the same typed constants as the kernel's, so a tape
computes the same numbers. Values live in registers of the cluster's float type; bool values
are held as 0 and 1.

``decide`` is the cost model's hook (``NumbaBackend.render_cluster``): a cluster of more than
``TAPE_OPS`` ops becomes a tape when it can be one. ``SYMGRAD_NUMBA_TAPE=always`` or
``never`` overrides it (``always`` lets the test suites run every cluster through a tape).
"""

from __future__ import annotations

import os
import string

from ...ir.graph import CONST, Node
from .. import codegen, loops

# A cluster of more ops than this is a tape. Measured first calls (chains of sin/tanh steps
# on 16 float32, Numba started): 65 ops 0.49 s as a kernel, 0.66 s as a tape; 130 ops 1.05 s
# and 1.03 s; 650 ops 4.6 s and 1.3 s. Calls take about as long either way.
TAPE_OPS = 100
# Registers of one block stay within about this many bytes (the first cache levels).
BLOCK_BYTES = 64 * 1024
_SLOTS = ("a", "b", "c", "e", "f", "g")
_FORMATTER = string.Formatter()


def mode() -> str:
    """``SYMGRAD_NUMBA_TAPE``: ``auto`` (the cost model decides), ``always`` or ``never``."""
    value = os.environ.get("SYMGRAD_NUMBA_TAPE", "auto").strip().lower()
    return value if value in ("always", "never") else "auto"


def register_dtype(cluster: loops.Cluster):
    """The one float dtype a tape of ``cluster`` computes in, or None when it cannot be a
    tape (operands or results of two float types, no float at all, an op with more
    operands than a tape row holds, or a cluster that is not one flat loop: operands of
    lower rank, per-axis reductions or offset writes, which only kernels index)."""
    if cluster.scatters:
        return None
    members = {node.id for node in cluster.nodes}
    floats = set()
    for node in cluster.nodes:
        if len(node.inputs) + len(_numeric_fields(node)) > len(_SLOTS):
            return None
        if node.id in cluster.reductions and node.shape != ():
            return None
        values = [node] + [s for s in node.inputs if s.kind != CONST]
        if any(
            s.id not in members and s.numel != 1 and s.shape != cluster.shape for s in values[1:]
        ):
            return None
        for value in values:
            if value.dtype is None or value.dtype.name not in ("float32", "float64", "bool"):
                return None
            if value.dtype.is_floating_point:
                floats.add(value.dtype)
    return floats.pop() if len(floats) == 1 else None


def decide(cluster: loops.Cluster) -> str | None:
    """Why ``cluster`` becomes a tape kernel, or None for a kernel of its own statements."""
    chosen = mode()
    if chosen == "never" or register_dtype(cluster) is None:
        return None
    if chosen == "always":
        return "tape (SYMGRAD_NUMBA_TAPE=always)"
    count = len(cluster.elementwise)
    if count <= TAPE_OPS:
        return None
    return (
        f"tape: {count} ops is more than {TAPE_OPS}, and Numba compiles a kernel at 5-15 ms "
        "per statement; a tape kernel has one statement per kind of op"
    )


def _spelling(node: Node, operands: list[str], registered: dict[str, str]) -> str:
    """``loops.scalar_text`` with the numeric attributes in ``registered`` read from
    registers (so ops that differ only in them share one kind)."""
    op = node.op
    c = loops._ctor(node.dtype if op.name in ("to_dtype", "where") else loops._compute_dtype(node))
    attrs = node.attr_dict
    if callable(op.scalar):
        return op.scalar(operands, c, **attrs)
    printed = {k: registered.get(k) or codegen.literal(v) for k, v in attrs.items()}
    return op.scalar.format(*operands, c=c, **printed)


def _numeric_fields(node: Node) -> list[str]:
    """The attributes a format-string spelling prints that are plain numbers: they go into
    registers (callable spellings keep theirs in the kind)."""
    if not isinstance(node.op.scalar, str):
        return []
    fields = {name for _, name, _, _ in _FORMATTER.parse(node.op.scalar) if name}
    attrs = node.attr_dict
    return sorted(
        name
        for name in fields
        if name in attrs
        and isinstance(attrs[name], (int, float))
        and not isinstance(attrs[name], bool)
    )


def render(
    cluster: loops.Cluster, name: str, names, outputs, comment, buffers=None
) -> loops.Kernel:
    """The tape kernel of ``cluster`` and the lines that call it (``loops.render_kernel``'s
    arguments and call convention; the tape, its constants, the registers and the
    accumulators are passed first)."""
    dtype = register_dtype(cluster)
    ctor = loops._ctor(dtype)
    tape = _Tape(ctor)
    arrays, scalars = loops._operands(cluster)  # a tape's arrays have the cluster's shape
    where: dict[int, int] = {}
    for source in arrays:
        param = f"in_{names[source.id]}"
        where[source.id] = tape.load(f"{ctor}({param}[_start + _j])", f"load {param}")
    for source in scalars:
        param = f"in_{names[source.id]}"
        where[source.id] = tape.load(f"{ctor}({param}[0])", f"load the scalar {param}")
    finals = []
    for node in cluster.nodes:
        if node.id in cluster.reductions:
            total = f"acc[{len(finals)}]"
            if node.op.name == "mean":
                total = f"{total} / {cluster.size}"
            accumulate = tape.kind("acc[_d] += regs[_a, _j]", "a full sum's accumulator")
            tape.row([accumulate, len(finals), where[node.inputs[0].id]], comment(node))
            finals.append(f"out_{names[node.id]}[0] = {loops._ctor(node.dtype)}({total})")
            continue
        compute = loops._compute_dtype(node)
        operands, sources = [], []
        for k, source in enumerate(node.inputs):
            boolean = source.dtype.name == "bool"
            if source.kind == CONST:
                target = source.dtype if node.op.name == "where" and k == 0 else compute
                sources.append(tape.constant(loops._constant(source, target)))
                boolean = target.name == "bool"
            else:
                sources.append(where[source.id])
            text = f"regs[_{_SLOTS[k]}, _j]"
            operands.append(f"({text} != 0)" if boolean else text)
        registered = {}
        attrs = node.attr_dict
        for field in _numeric_fields(node):
            registered[field] = f"regs[_{_SLOTS[len(sources)]}, _j]"
            sources.append(tape.constant(f"{ctor}({codegen.literal(attrs[field])})"))
        statement = f"regs[_d, _j] = {ctor}({_spelling(node, operands, registered)})"
        where[node.id] = tape.register()
        tape.row([tape.kind(statement, _label(node)), where[node.id], *sources], comment(node))
        if node.id in outputs:
            param = f"out_{names[node.id]}"
            test = " != 0" if node.dtype.name == "bool" else ""
            store = tape.kind(f"{param}[_start + _j] = regs[_a, _j]{test}", f"store {param}")
            tape.row([store, 0, where[node.id]], f"  # store {param}")
    registers = max(1, tape.registers)
    block = BLOCK_BYTES // (registers * dtype.itemsize)
    block = min(cluster.size, max(block, 16))
    output_nodes = [n for n in cluster.nodes if n.id in outputs]
    params = (
        [f"in_{names[s.id]}" for s in arrays]
        + [f"in_{names[s.id]}" for s in scalars]
        + [f"out_{names[n.id]}" for n in output_nodes]
    )
    width = max(len(values) for values, _ in tape.rows)
    source = codegen.render(
        "numba_tape.py.j2",
        name=name,
        rows=[(_row_text(values, width), text) for values, text in tape.rows],
        width=width,
        consts=tape.consts or [f"{ctor}(0)"],
        dtype=ctor,
        params=params,
        n_rows=len(tape.rows),
        kinds=tape.kinds,
        shape="x".join(map(str, cluster.shape)) or "1",
        size=cluster.size,
        block=block,
        slots=_SLOTS[: width - 2],
        finals=finals,
    )
    flat = len(cluster.shape) != 1

    def as_argument(node: Node) -> str:
        text = names[node.id]
        return f"{text}.reshape(-1)" if flat or node.shape != cluster.shape else text

    call_lines = []
    for node in output_nodes:
        size = 1 if node.id in cluster.reductions else cluster.size
        new = (buffers or {}).get(node.id) or f"np.empty({size}, {loops._ctor(node.dtype)})"
        call_lines.append(f"{names[node.id]} = {new}")
    arguments = [f"{name}_tape", f"{name}_consts", f"np.empty(({registers}, {block}), {ctor})"]
    arguments.append(f"np.zeros({max(1, len(finals))})")
    arguments += [as_argument(s) for s in arrays + scalars] + [names[n.id] for n in output_nodes]
    call_lines.append(f"{name}({', '.join(arguments)})")
    for node in output_nodes:
        shape = () if node.id in cluster.reductions else cluster.shape
        if len(shape) != 1:
            call_lines.append(f"{names[node.id]} = {names[node.id]}.reshape({shape!r})")
    return loops.Kernel(name, source, call_lines)


class _Tape:
    """The rows, kinds, registers and constants of one tape kernel being built."""

    def __init__(self, ctor: str) -> None:
        self.ctor = ctor
        self.rows: list[tuple[list[int], str]] = []
        self.kinds: list[dict] = []
        self._kind_numbers: dict[str, int] = {}
        self.consts: list[str] = []
        self._const_registers: dict[str, int] = {}
        self.registers = 0

    def register(self) -> int:
        self.registers += 1
        return self.registers - 1

    def kind(self, statement: str, label: str) -> int:
        """The opcode of ``statement`` (one branch of the kernel per distinct statement)."""
        if statement not in self._kind_numbers:
            self._kind_numbers[statement] = len(self.kinds)
            self.kinds.append({"statement": statement, "label": label})
        return self._kind_numbers[statement]

    def row(self, values: list[int], text: str) -> None:
        self.rows.append((values, text))

    def load(self, value: str, label: str) -> int:
        """A register loaded with ``value`` (an input's element) in each block."""
        target = self.register()
        self.row([self.kind(f"regs[_d, _j] = {value}", label), target], f"  # {label}")
        return target

    def constant(self, text: str) -> int:
        """The register holding the constant ``text`` (one per distinct constant)."""
        if text not in self._const_registers:
            self.consts.append(text)
            target = self.register()
            self.row([self.kind("regs[_d, _j] = consts[_a]", "a constant"), target], f"  # {text}")
            self.rows[-1][0].append(len(self.consts) - 1)
            self._const_registers[text] = target
        return self._const_registers[text]


def _row_text(values: list[int], width: int) -> str:
    """A tape row ``(op, dst, a, ...)`` padded with zeros to ``width`` columns."""
    return "(" + ", ".join(str(v) for v in values + [0] * (width - len(values))) + ")"


def _label(node: Node) -> str:
    """A kind's comment: the op (of the first row of the kind) and its result's dtype."""
    return f"{node.op.name} -> {node.dtype.name}"
