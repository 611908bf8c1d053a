"""Gradients as mathematics: a compiled graph read back as SymPy expressions.

``formula`` reads the graph the compiler generated code from, after its rewrites (the same
nodes ``forward_backward`` computes), and writes each output and each gradient as a SymPy
expression over the function's argument names:

- elementwise ops as scalar math, from each op's SymPy definition (``exp``, ``x*y``, ...);
- arrays of one or two dimensions as ``MatrixSymbol``s, so ``X @ w``, transposes and sums
  over an axis read as matrix calculus (``X.T*(sigmoid(X*w + b) - y)/5``, ``A.T*ones``);
- ops with no closed form as named functions (``logsumexp(z)``, ``sigmoid(z)``), each
  computed by the op's own numpy implementation when the formula is evaluated;
- dtype casts and copies as nothing: they change no number's meaning.

Only display is canonicalised (SymPy's automatic rules; numbers shown as the fractions they
are), never the compile path. ``Formula.numpy_functions`` lets ``sympy.lambdify`` evaluate a
formula, which is how the tests check that what is shown is what runs.

``formula_ops`` says how each op reads; ``formula_terms`` holds the SymPy classes this adds
and how they print.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.core.parameters import distribute
from sympy.core.symbol import Str

from ..ir.graph import CAPTURED, CONST, INPUT, OP, Node, toposort
from .formula_ops import RENDER, FormulaError, as_matrix, as_scalar, expands, layout, number
from .formula_terms import ArrayTerm, AsMatrix, Ones, latex, op_call, pretty_equation, text


# ----------------------------------------------------------------------------- conversion
class _Converter:
    """SymPy forms of graph nodes, with the numpy implementation of each named function."""

    def __init__(self, symbols: dict[int, object]):
        self.values: dict[int, object] = dict(symbols)
        self.numpy_functions: dict[str, object] = {"sum": np.sum}
        self._named: dict[str, type] = {}
        self._ambiguous: set[str] = set()  # ops that appear with different attributes

    def convert(self, roots: list[Node]) -> list:
        order = toposort(roots)
        variants: dict[str, set] = {}
        for node in order:
            if node.kind == OP:
                variants.setdefault(node.op.name, set()).add(repr(node.attrs))
        # An op used with different attributes shows them, so its calls stay distinct (and an
        # op of no inputs, whose attributes are all it has).
        self._ambiguous = {name for name, attrs in variants.items() if len(attrs) > 1}
        with distribute(False):  # keep (x + 2)*3/2 as the graph computes it, not 3*x/2 + 3
            for node in order:
                if node.id not in self.values:
                    self.values[node.id] = self._node(node)
        return [self.values[r.id] for r in roots]

    def _node(self, node: Node):
        if node.kind == CONST:
            return number(node.value, node.dtype)
        if node.kind in (INPUT, CAPTURED):
            raise FormulaError(f"formula: the graph input {node.name!r} has no symbol")
        layout(node.shape)  # refuse shapes with no display before building anything
        values = [self.values[i.id] for i in node.inputs]
        render = RENDER.get(node.op.name)
        result = render(node, values) if render is not None else None
        if result is None and node.op.sympy is not None and node.dtype.is_floating_point:
            result = self._elementwise(node, values)
        if result is None:
            result = self._named_call(node, values)
        if node.ndim == 0 and isinstance(result, sp.MatrixExpr):
            return ArrayTerm(result)
        return result if node.ndim == 0 else as_matrix(result, node.shape)

    def _elementwise(self, node: Node, values):
        terms = [as_scalar(v, n, node) for v, n in zip(values, node.inputs, strict=True)]
        op = node.op
        if expands(op):
            expr = op.sympy(*terms)
            if isinstance(expr, sp.Function):  # erf, erfc: numpy has no such function
                self.numpy_functions.setdefault(type(expr).__name__, _elementwise_numpy(op))
            return expr
        function = self._named.get(op.name)
        if function is None:
            function = self._named[op.name] = op_call(op.name, f"_np_{op.name}")
            self.numpy_functions[f"_np_{op.name}"] = _elementwise_numpy(op)
        return function(*terms)

    def _named_call(self, node: Node, values):
        """An op as a function named after it, computed by its own numpy ``eval``."""
        terms = [as_scalar(v, n) for v, n in zip(values, node.inputs, strict=True)]
        numpy_name = f"_np_{node.op.name}_{node.id}"
        self.numpy_functions[numpy_name] = _node_numpy(node)
        shown = _attributes_text(node, every=node.op.name in self._ambiguous or not node.inputs)
        name = f"{node.op.name}[{shown}]" if shown else node.op.name
        return op_call(name, numpy_name)(*terms)


def _attributes_text(node: Node, every: bool) -> str:
    """``1:`` for an index (always shown), ``dim=1`` for the others when ``every``."""
    parts = []
    for key, value in node.attrs:
        if key == "index":
            parts.append(str(value).removeprefix("[").removesuffix("]"))
        elif every and value is not None and key != "dtype":
            text = repr(value)
            parts.append(f"{key}={text if len(text) <= 24 else '...'}")
    return ", ".join(parts)


def _elementwise_numpy(op):
    def run(*arrays):
        with np.errstate(all="ignore"):
            return op.eval(*(np.asarray(a, dtype=np.float64) for a in arrays))

    return run


def _node_numpy(node: Node):
    """The op's numpy implementation on arrays in display layout (vectors as columns)."""
    op, attrs = node.op, node.attr_dict
    # Matrix products by ones (broadcasts) compute in floats: integer inputs (indices) are
    # given back their dtype.
    kinds = [(i.shape, layout(i.shape), i.dtype) for i in node.inputs]
    target = layout(node.shape) or ()

    def run(*arrays):
        inputs = [
            a
            if dtype is None  # a random generator
            else np.reshape(np.broadcast_to(a, shown or np.shape(a)), shape).astype(dtype.numpy)
            for a, (shape, shown, dtype) in zip(arrays, kinds, strict=True)
        ]
        with np.errstate(all="ignore"):
            return np.reshape(np.asarray(op.eval(*inputs, **attrs)), target)

    return run


# -------------------------------------------------------------------------------- Formula
class Formula:
    """A compiled function's output and gradients as SymPy expressions.

    ``output``: the output's expression (a tuple for several outputs); ``gradients``: argument
    name -> the gradient's expression; ``subexpressions``: (symbol, expression) pairs that
    ``str``, ``pretty()`` and ``latex()`` name once (``sympy.cse``) and the
    ``reduced_output``/``reduced_gradients`` refer to; ``symbols``: argument name -> its
    ``Symbol`` or ``MatrixSymbol``; ``constants``: name -> value of the arrays the function
    captured (closure variables, arrays made while tracing). ``numpy_functions`` maps the
    named functions to numpy for
    ``sympy.lambdify(..., modules=[formula.numpy_functions, "numpy"])``.

    A scalar output's gradients read ``d loss/d w`` (several scalar outputs: the gradient of
    their sum). When an output is not a scalar, ``cotangents`` is True and each gradient is
    the vector-Jacobian product with the outputs' cotangents, the symbols ``d_out``
    (``d_out0``, ...), labelled ``d_w`` as in the generated ``backward``.

    >>> import numpy as np, symgrad
    >>> print(symgrad.formula(lambda x: (x * x + 2 * x + 1).sum(), np.ones(3)))
    out = sum(x**2 + 2*x + 1)
    d out/d x = 2*x + 2
    """

    def __init__(
        self,
        function,
        output_names,
        outputs,
        gradients,
        symbols,
        constants,
        numpy_functions,
        cotangents=False,
    ):
        self.function = function
        self.cotangents = cotangents
        self.output_names = list(output_names)
        outputs = [_shown(expr) for expr in outputs]
        self.output = outputs[0] if len(outputs) == 1 else tuple(outputs)
        self.gradients = {name: _shown(expr) for name, expr in gradients.items()}
        self.symbols = dict(symbols)
        self.constants = dict(constants)
        self.numpy_functions = dict(numpy_functions)
        everything = list(outputs) + list(self.gradients.values())
        with distribute(False):  # cse rebuilds expressions: keep their factored form
            replacements, reduced = sp.cse(everything, symbols=_names_for(self.symbols))
            self.subexpressions, reduced = _worth_naming(replacements, reduced, self.symbols)
        reduced_outputs, reduced_grads = reduced[: len(outputs)], reduced[len(outputs) :]
        self.reduced_output = reduced_outputs[0] if len(outputs) == 1 else tuple(reduced_outputs)
        self.reduced_gradients = dict(zip(self.gradients, reduced_grads, strict=True))

    def _lines(self, named=True):
        """(label, expression) in reading order: subexpressions, outputs, gradients (or, not
        ``named``, the outputs and gradients written in full)."""
        if named:
            lines = [(str(symbol), expr) for symbol, expr in self.subexpressions]
            output, gradients = self.reduced_output, self.reduced_gradients
        else:
            lines, output, gradients = [], self.output, self.gradients
        outputs = output if isinstance(self.output, tuple) else [output]
        lines += list(zip(self.output_names, outputs, strict=True))
        if self.cotangents:
            lines += [(f"d_{name}", expr) for name, expr in gradients.items()]
            return lines
        of = self.output_names[0]
        if len(self.output_names) > 1:
            of = f"({' + '.join(self.output_names)})"
        lines += [(f"d {of}/d {name}", expr) for name, expr in gradients.items()]
        return lines

    def __str__(self) -> str:
        return "\n".join(f"{label} = {text(_shown(expr))}" for label, expr in self._lines())

    __repr__ = __str__

    def expanded(self) -> str:
        """The text with nothing named: each output and gradient written in full."""
        return "\n".join(
            f"{label} = {text(_shown(expr))}" for label, expr in self._lines(named=False)
        )

    def pretty(self) -> str:
        """Unicode math (``sympy.pretty``), one equation per block; a matrix product is
        written by juxtaposition (``Xᵀ u``), an elementwise one with ``⋅``."""
        named = {str(symbol): sp.pretty(symbol) for symbol, _ in self.subexpressions}
        return "\n\n".join(
            pretty_equation(named.get(label, label), _shown(expr)) for label, expr in self._lines()
        )

    def latex(self) -> str:
        """The equations as one LaTeX ``aligned`` block."""
        rows = [rf"{_latex_label(label)} &= {latex(_shown(expr))}" for label, expr in self._lines()]
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"


def _shown(expr):
    """Top-level wrappers print their content without the parentheses kept for products."""
    if isinstance(expr, AsMatrix):
        return expr.expr
    if isinstance(expr, ArrayTerm):
        return expr.matrix
    return expr


def _latex_label(label: str) -> str:
    if label.startswith("d ") and "/d " in label:
        of, name = label[2:].split("/d ", 1)
        return rf"\frac{{\partial\, \mathrm{{{_escape(of)}}}}}{{\partial\, {_escape(name)}}}"
    if "_" in label:  # an output's name, not a subexpression's u0
        return rf"\mathrm{{{_escape(label)}}}"
    return sp.latex(sp.Symbol(label))


def _escape(name: str) -> str:
    return name.replace("_", r"\_")


def _worth_naming(replacements, reduced, symbols):
    """Keep the subexpressions of two or more operations (``X*w + b``, not ``2*x`` or
    ``w.T``), put the others back in place, and number the kept ones from 0."""
    back: dict = {}
    kept = []
    names = _names_for(symbols)
    for symbol, expr in replacements:
        expr = expr.xreplace(back)
        if _operations(expr) < 2:
            back[symbol] = expr
            continue
        name = next(names)
        if isinstance(symbol, sp.MatrixSymbol):
            name = sp.MatrixSymbol(name.name, *symbol.shape)
        back[symbol] = name
        kept.append((name, expr))
    return kept, [expr.xreplace(back) for expr in reduced]


def _operations(expr) -> int:
    """Operations a reader sees in ``expr`` (wrappers and symbols count for nothing)."""
    free = (ArrayTerm, AsMatrix, sp.MatrixSymbol, Ones)
    count = 0
    for part in sp.preorder_traversal(expr):
        if not (part.is_Atom or isinstance(part, free) or isinstance(part, Str)):
            count += 1
    return count


def _names_for(symbols: dict):
    """Subexpression names that no argument uses: u0, u1, ... (or v0, ... and so on)."""
    taken = set(symbols)
    for prefix in ("u", "v", "z", "h", "sub"):
        if not any(name.startswith(prefix) and name[len(prefix) :].isdigit() for name in taken):
            return sp.numbered_symbols(prefix)
    return sp.numbered_symbols("_sub")


def symbol_for(node: Node):
    """An argument as SymPy sees it: a real ``Symbol`` for a scalar, else a ``MatrixSymbol``."""
    shape = layout(node.shape)
    if shape is None:
        return sp.Symbol(node.name, real=True)
    return sp.MatrixSymbol(node.name, *shape)


def from_program(function: str, program) -> Formula:
    """The ``Formula`` of a compiled program (``program.output_nodes``, ``gradient_nodes``)."""
    outputs = program.output_nodes
    gradients = program.gradient_nodes
    roots = list(outputs) + list(gradients.values())
    leaves = sorted(
        (n for n in toposort(roots) if n.kind in (INPUT, CAPTURED)), key=lambda n: n.id
    )  # the arguments in order, then captured values and cotangents
    symbols = {n.id: symbol_for(n) for n in leaves}
    converter = _Converter(symbols)
    values = converter.convert(roots)
    single = function if function.isidentifier() else "out"
    names = [single] if len(outputs) == 1 else [f"out{k}" for k in range(len(outputs))]
    grads = dict(zip(gradients, values[len(outputs) :], strict=True))
    by_name = {n.name: symbols[n.id] for n in leaves}
    used = {n.id for n in leaves}
    constants = {
        node.name: getattr(value, "_data", value)
        for node, value in zip(program.captured_nodes, program.captured, strict=True)
        if node.id in used
    }
    return Formula(
        function,
        names,
        values[: len(outputs)],
        grads,
        by_name,
        constants,
        converter.numpy_functions,
        cotangents=program.fused_takes_cotangents,
    )


def wrt_positions(wrt, paths: list[str], leaves, dynamic, default: list[int]) -> list[int]:
    """Leaf positions to differentiate: ``wrt`` names (``"w"``, ``["w", "b"]``, ``"params"``
    for every array inside it), or ``default`` when None (every float array if that is empty)."""
    floating = [i for i, leaf in enumerate(leaves) if dynamic[i] and _dtype_of(leaf).kind == "f"]
    if wrt is None:
        return list(default) or floating
    positions = set()
    for name in [wrt] if isinstance(wrt, str) else list(wrt):
        matches = [i for i in floating if paths[i] == name or paths[i].startswith(f"{name}[")]
        if not matches:
            raise ValueError(
                f"formula: wrt={name!r} names no floating-point array argument; "
                f"they are {[paths[i] for i in floating]}"
            )
        positions.update(matches)
    return sorted(positions)


def _dtype_of(leaf):
    return np.dtype(getattr(leaf, "_data", leaf).dtype)
