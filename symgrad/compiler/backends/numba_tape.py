"""Tape kernels for the ``"numba"`` backend: a loop cluster as a table of ops that one small
compiled loop interprets, for clusters whose own kernel would take seconds to compile.

Numba types and lowers a kernel statement by statement (about 15 ms each on this machine), so
the 200-step chain's fused kernel of some 600 statements takes 7 s to compile. Its tape kernel
has one branch per *kind* of op (``sin`` of a float32, ``a * b``, ...: about ten), whatever
the number of ops, and compiles in well under a second; the ops themselves are rows of an
int32 table (opcode, destination register, operand registers) that the kernel walks for each
block of elements. Each kind's statement is the op's scalar spelling (``OpDef.scalar``) with
the same typed constants as the kernel's, so a tape computes the same numbers. Values live in
registers of the cluster's float type; bool values are held as 0 and 1.

``decide`` is the cost model's hook (``NumbaBackend.render_cluster``): a cluster of more than
``TAPE_OPS`` ops becomes a tape when it can be one. ``SYMGRAD_NUMBA_TAPE=always`` or
``never`` overrides it (``always`` lets the test suites run every cluster through a tape).
"""

from __future__ import annotations

import os
import string

from ...ir.graph import CONST, Node
from .. import codegen, loops

# A cluster of more ops than this is a tape (its kernel would take over ~0.6 s to compile).
TAPE_OPS = 40
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
    tape (operands or results of two float types, no float at all, or an op with more
    operands than a tape row holds)."""
    floats = set()
    for node in cluster.nodes:
        if len(node.inputs) + len(_numeric_fields(node)) > len(_SLOTS):
            return None
        values = [node] + [s for s in node.inputs if s.kind != CONST]
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
    count = len(cluster.nodes)
    if count <= TAPE_OPS:
        return None
    return (
        f"tape: {count} ops is more than {TAPE_OPS}, and Numba compiles a kernel at about "
        "15 ms per statement; the tape's compiled loop has one branch per kind of op"
    )


class _Registers:
    """Register numbers: inputs, then scalars, then constants, then computed values."""

    def __init__(self) -> None:
        self.count = 0

    def take(self) -> int:
        self.count += 1
        return self.count - 1


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


def render(cluster: loops.Cluster, name: str, names, outputs, comment) -> loops.Kernel:
    """The tape kernel of ``cluster`` and the lines that call it (``loops.render_kernel``'s
    arguments and call convention, with the tape and its constants passed first)."""
    dtype = register_dtype(cluster)
    ctor = loops._ctor(dtype)
    members = {node.id for node in cluster.nodes}
    registers = _Registers()
    where: dict[int, int] = {}
    arrays, scalars = [], []
    for node in cluster.nodes:
        for source in node.inputs:
            if source.kind == CONST or source.id in members or source.id in where:
                continue
            where[source.id] = -1
            (arrays if source.shape == cluster.shape else scalars).append(source)
    for source in arrays + scalars:
        where[source.id] = registers.take()
    first_const = registers.count
    consts: list[str] = []

    def constant(text: str) -> int:
        consts.append(text)
        return registers.take()

    kinds: dict[str, int] = {}
    kind_list: list[dict] = []
    rows: list[tuple[str, str]] = []
    n_acc = 0
    width = 3
    finals, stores = [], []
    value_nodes = [n for n in cluster.nodes if n.id not in cluster.reductions]
    # constants first: their registers are filled once, before the computed values'
    operand_registers: dict[int, list[int]] = {}
    attribute_registers: dict[int, list[int]] = {}
    for node in value_nodes:
        compute = loops._compute_dtype(node)
        slots = []
        for k, source in enumerate(node.inputs):
            if source.kind == CONST:
                target = source.dtype if node.op.name == "where" and k == 0 else compute
                slots.append(constant(loops._constant(source, target)))
            else:
                slots.append(None)
        operand_registers[node.id] = slots
        attrs = node.attr_dict
        attribute_registers[node.id] = [
            constant(f"{ctor}({codegen.literal(attrs[field])})") for field in _numeric_fields(node)
        ]
    for node in cluster.nodes:
        if node.id in cluster.reductions:
            source = node.inputs[0]
            rows.append((f"(-1, {n_acc}, {where[source.id]})", comment(node)))
            total = f"acc[{n_acc}]"
            if node.op.name == "mean":
                total = f"{total} / {cluster.size}"
            finals.append(f"out_{names[node.id]}[0] = {loops._ctor(node.dtype)}({total})")
            n_acc += 1
            continue
        operands, sources = [], []
        for k, source in enumerate(node.inputs):
            register = operand_registers[node.id][k]
            if register is None:
                register = where[source.id]
            sources.append(register)
            text = f"regs[_{_SLOTS[k]}, _j]"
            boolean = source.dtype.name == "bool" or (
                source.kind == CONST and node.op.name == "where" and k == 0
            )
            operands.append(f"({text} != 0)" if boolean else text)
        fields = _numeric_fields(node)
        registered = {}
        for field, register in zip(fields, attribute_registers[node.id], strict=True):
            registered[field] = f"regs[_{_SLOTS[len(sources)]}, _j]"
            sources.append(register)
        statement = f"regs[_d, _j] = {ctor}({_spelling(node, operands, registered)})"
        if statement not in kinds:
            kinds[statement] = len(kind_list)
            kind_list.append({"statement": statement, "label": _label(node)})
        where[node.id] = registers.take()
        width = max(width, 2 + len(sources))
        row = ", ".join(str(r) for r in [kinds[statement], where[node.id], *sources])
        rows.append((f"({row})", comment(node)))
        if node.id in outputs:
            stores.append((where[node.id], f"out_{names[node.id]}", node.dtype.name == "bool"))
    rows = [(_pad(row, width), text) for row, text in rows]
    block = max(1, min(cluster.size, BLOCK_BYTES // max(1, registers.count * dtype.itemsize)))
    block = min(cluster.size, max(block, 16))
    output_nodes = [n for n in cluster.nodes if n.id in outputs]
    params = (
        [f"in_{names[s.id]}" for s in arrays]
        + [f"in_{names[s.id]}" for s in scalars]
        + [f"out_{names[n.id]}" for n in output_nodes]
    )
    source = codegen.render(
        "numba_tape.py.j2",
        name=name,
        rows=rows,
        width=width,
        consts=consts,
        dtype=ctor,
        params=params,
        n_rows=len(rows),
        kinds=kind_list,
        shape="x".join(map(str, cluster.shape)) or "1",
        size=cluster.size,
        block=block,
        registers=max(1, registers.count),
        n_acc=max(1, n_acc),
        first_const=first_const,
        scalars=[(where[s.id], f"in_{names[s.id]}[0]") for s in scalars],
        loads=[(where[s.id], f"in_{names[s.id]}") for s in arrays],
        slots=_SLOTS[: width - 2],
        stores=stores,
        finals=finals,
    )
    flat = len(cluster.shape) != 1

    def as_argument(node: Node) -> str:
        text = names[node.id]
        return f"{text}.reshape(-1)" if flat or node.shape != cluster.shape else text

    call_lines = []
    for node in output_nodes:
        size = 1 if node.id in cluster.reductions else cluster.size
        call_lines.append(f"{names[node.id]} = np.empty({size}, {loops._ctor(node.dtype)})")
    arguments = [f"{name}_tape", f"{name}_consts"]
    arguments += [as_argument(s) for s in arrays + scalars] + [names[n.id] for n in output_nodes]
    call_lines.append(f"{name}({', '.join(arguments)})")
    for node in output_nodes:
        shape = () if node.id in cluster.reductions else cluster.shape
        if len(shape) != 1:
            call_lines.append(f"{names[node.id]} = {names[node.id]}.reshape({shape!r})")
    return loops.Kernel(name, source, call_lines)


def _pad(row: str, width: int) -> str:
    """A tape row ``(op, dst, a, ...)`` padded with zeros to ``width`` columns."""
    values = row.strip("()").split(", ")
    return "(" + ", ".join(values + ["0"] * (width - len(values))) + ")"


def _label(node: Node) -> str:
    """A kind's comment: the op and its operands' dtypes."""
    types = ", ".join("const" if s.kind == CONST else s.dtype.name for s in node.inputs)
    return f"{node.op.name}({types}) -> {node.dtype.name}"
