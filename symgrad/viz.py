"""Graph pictures as Graphviz DOT: the eager autograd graph of a tensor (``make_dot``, the
information torchviz shows) and the compiled forward+backward graph (``fn.graph(...).to_dot()``).

Both return a ``Dot``: the DOT text as a ``str``, which ``render()`` writes as SVG or PNG and
Jupyter shows as a picture when the ``graphviz`` package (``pip install 'symgrad[viz]'``) and the
Graphviz programs (``apt-get install graphviz``) are installed; without them it stays text.

>>> import symgrad
>>> from symgrad.viz import make_dot
>>> w = symgrad.ones(3, requires_grad=True)
>>> print(make_dot((w * w).sum(), params={"w": w}).splitlines()[0])
digraph {
"""

from __future__ import annotations

import os
import shutil

from .compiler import codegen
from .ir.graph import CONST, INPUT, OP, toposort
from .tape import AccumulateGrad, OpBackward, SavedTensor
from .tensor import Tensor

try:
    import graphviz
except ImportError:  # optional: without it graphs stay DOT text
    graphviz = None

FORMATS = ("svg", "png")
INSTALL_HINT = (
    "pip install 'symgrad[viz]' (the graphviz package) and the Graphviz programs "
    "(apt-get install graphviz, brew install graphviz or conda install graphviz)"
)

_NODE_STYLE = (
    '  node [style=filled, shape=box, align=left, fontsize=10, height=0.2, fontname="monospace"]'
)


def can_render() -> bool:
    """Whether pictures can be made here: the graphviz package and Graphviz's ``dot``."""
    return graphviz is not None and shutil.which("dot") is not None


class RenderError(RuntimeError):
    """A picture was asked for and cannot be made here (what to install is in the message)."""


class Dot(str):
    """Graphviz DOT text (a ``str``) that renders itself as SVG or PNG."""

    @property
    def source(self) -> str:
        """The DOT text, as a plain ``str``."""
        return str.__str__(self)

    def pipe(self, format: str = "svg") -> bytes:  # noqa: A002  (graphviz's own name)
        """The rendered picture's bytes."""
        if format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
        if graphviz is None:
            raise RenderError(f"rendering a graph needs Graphviz: {INSTALL_HINT}")
        try:
            return graphviz.Source(self.source).pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise RenderError(
                f"rendering a graph needs the Graphviz programs (dot was not found): {INSTALL_HINT}"
            ) from None

    def render(self, path: str | os.PathLike, format: str = "svg") -> str:  # noqa: A002
        """Write the picture to ``path`` (exactly that name) and return the path."""
        data = self.pipe(format)
        with open(path, "wb") as f:
            f.write(data)
        return os.fspath(path)

    def _svg(self) -> str | None:
        try:
            return self.pipe("svg").decode("utf-8")
        except RenderError:
            return None

    def _repr_svg_(self) -> str | None:
        return self._svg()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {"text/plain": self.source}
        svg = self._svg()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle


def quote(text: str) -> str:
    """``text`` as a double-quoted DOT string (newlines become line breaks)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _statement(name: str, **attrs) -> str:
    parts = ", ".join(f"{key}={quote(str(value))}" for key, value in attrs.items())
    return f"  {name} [{parts}]" if parts else f"  {name}"


def _size_text(shape) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ")"


# ---------------------------------------------------------------------------- eager graph


def make_dot(tensor, params=None, show_saved: bool = False) -> Dot:
    """The autograd graph behind ``tensor`` (or a tuple of tensors) as DOT, like torchviz.

    One box per ``grad_fn`` named as torch names it (``MulBackward0``); each leaf's
    ``AccumulateGrad`` has a blue box with the leaf's name from ``params`` (a dict or
    ``named_parameters()``) and its shape; outputs are green. ``show_saved`` adds the tensors
    each node saved for backward (orange), named as torch exposes them (``_saved_self`` ->
    ``self``).
    """
    names = {id(t): name for name, t in (dict(params) if params is not None else {}).items()}
    outputs = list(tensor) if isinstance(tensor, (tuple, list)) else [tensor]
    ids: dict[int, str] = {}
    lines = ["digraph {", _NODE_STYLE, '  graph [size="12,12"]']

    def node_id(obj) -> str:
        return ids.setdefault(id(obj), f"n{len(ids)}")

    def label(t, name=None) -> str:
        name = name if name is not None else names.get(id(t), "")
        size = _size_text(t.shape)
        return f"{name}\n{size}" if name else size

    stack = []
    for out in outputs:
        lines.append(_statement(node_id(out), label=label(out), fillcolor="darkolivegreen1"))
        if out.grad_fn is not None:
            lines.append(f"  {node_id(out.grad_fn)} -> {node_id(out)}")
            stack.append(out.grad_fn)
    seen: set[int] = set()
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        lines.append(_statement(node_id(fn), label=type(fn).__name__, fillcolor="lightgrey"))
        if isinstance(fn, AccumulateGrad) and fn.variable is not None:
            var = fn.variable
            lines.append(_statement(node_id(var), label=label(var), fillcolor="lightblue"))
            lines.append(f"  {node_id(var)} -> {node_id(fn)}")
        if show_saved:
            for name, shape in _saved_tensors(fn):
                saved_name = f"{node_id(fn)}_{name}"
                lines.append(
                    _statement(saved_name, label=f"{name}\n{_size_text(shape)}", fillcolor="orange")
                )
                lines.append(f'  {node_id(fn)} -> {saved_name} [dir="none"]')
        for child, _ in reversed(fn.next_functions):
            if child is not None:
                lines.append(f"  {node_id(child)} -> {node_id(fn)}")
                stack.append(child)
    lines.append("}")
    return Dot("\n".join(_unique_lines(lines)) + "\n")


def _saved_tensors(fn):
    """(name, shape) of what ``fn`` keeps for backward, as torch names it."""
    if isinstance(fn, OpBackward) and not fn._released:
        arg_names = ("self", "other")
        for i, saved in enumerate(fn._saved_args or ()):
            if isinstance(saved, Tensor):  # a saved input (the others are placeholders)
                name = arg_names[i] if i < len(arg_names) else f"arg{i}"
                yield name, _saved_shape(saved)
        if fn._saved_out is not None:
            yield "result", _saved_shape(fn._saved_out)
    saved_arrays = getattr(fn, "_saved", None)  # a compiled function's saved values
    if isinstance(saved_arrays, (list, tuple)):
        for i, array in enumerate(saved_arrays):
            yield f"s{i}", getattr(array, "shape", ())


def _saved_shape(saved):
    """The shape of a saved input (a Tensor) or a saved output (a SavedTensor)."""
    if isinstance(saved, SavedTensor):
        return saved.data.shape if saved.data is not None else saved.tensor.shape
    return saved.shape


def _unique_lines(lines):
    """Drop repeated statements (a node reached twice), keeping the first."""
    seen = set()
    for line in lines:
        if line not in seen:
            seen.add(line)
            yield line


# ------------------------------------------------------------------------- compiled graph

_FORWARD, _BACKWARD, _SAVED, _INPUT, _COTANGENT, _RESULT = (
    "white",
    "lavender",
    "orange",
    "lightblue",
    "lightyellow",
    "darkolivegreen1",
)


def compiled_dot(parts, title: str = "") -> Dot:
    """The compiled graph of a ``pipeline.GraphParts`` as DOT.

    Forward ops are white, backward ops lavender, inputs blue, the outputs' cotangents yellow,
    results green; values saved for backward are orange. Nodes a rewrite rule created carry the
    rule's name and a red outline, and the nodes of one rule application are boxed together.
    """
    roots = list(parts.outputs) + list(parts.gradients)
    order = [n for n in toposort(roots) if n.kind != CONST]
    forward = {n.id for n in toposort(list(parts.outputs))}
    saved = {n.id for n in parts.saved}
    lines = [
        "digraph {",
        _NODE_STYLE,
        '  graph [size="12,12", fontsize=10, labelloc=t, label='
        + quote(
            f"{title}: forward white, backward lavender, saved for backward orange, "
            "made by a rewrite rule: red outline (boxed per application)"
        )
        + "]",
    ]
    groups: dict[int, list[int]] = {}
    for node in order:
        lines.append(_statement(f"n{node.id}", **_compiled_style(node, forward, saved, parts)))
        rule = parts.created_by.get(node.id)
        if rule is not None:
            groups.setdefault(rule[1], []).append(node.id)
    for application, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        rule = parts.created_by[members[0]][0]
        lines.append(f"  subgraph cluster_rewrite{application} {{")
        lines.append(f"    label={quote(rule)}; color=red; style=dashed;")
        lines += [f"    n{m};" for m in members]
        lines.append("  }")
    for node in order:
        for source in dict.fromkeys(i for i in node.inputs if i.kind != CONST):
            lines.append(f"  n{source.id} -> n{node.id}")
    results = list(zip(parts.outputs, parts.output_names, strict=True))
    results += list(zip(parts.gradients, parts.gradient_names, strict=True))
    for k, (node, name) in enumerate(results):
        lines.append(_statement(f"r{k}", label=name, fillcolor=_RESULT, shape="oval"))
        if node.kind != CONST:
            lines.append(f"  n{node.id} -> r{k}")
    lines.append("}")
    return Dot("\n".join(lines) + "\n")


def _compiled_style(node, forward: set[int], saved: set[int], parts) -> dict:
    if node.kind != OP:
        color = _INPUT if node.id in forward or node.kind != INPUT else _COTANGENT
        label = f"{node.name}\n{node.type_text()}"
        style = {"label": label, "fillcolor": color, "shape": "oval"}
    else:
        head = node.op.name
        if any(i.kind == CONST for i in node.inputs):
            operands = [codegen.constant_text(i) if i.kind == CONST else "." for i in node.inputs]
            head += "(" + ", ".join(operands) + ")"
        label = f"{head}\n{node.type_text()}"
        rule = parts.created_by.get(node.id)
        if rule is not None:
            label += f"\nrule: {rule[0]}"
        style = {"label": label, "fillcolor": _FORWARD if node.id in forward else _BACKWARD}
        if rule is not None:
            style.update(color="red", penwidth=2)
    if node.id in saved:
        style["fillcolor"] = _SAVED
    return style
