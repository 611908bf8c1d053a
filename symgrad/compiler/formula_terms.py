"""The SymPy pieces a gradient formula is built from, beyond SymPy's own.

Elementwise math is written as scalar SymPy expressions and matrix calculus as SymPy matrix
expressions; two wrappers let each appear inside the other (``sigmoid(X*w + b)`` is a scalar
function of a matrix product; ``X.T*(sigmoid(z) - y)`` a product with an elementwise result).
Each class prints as text, as unicode (``sympy.pretty``), as LaTeX, and as numpy code for
``sympy.lambdify``, where every array is laid out as a matrix: a vector of n values is an
(n, 1) column, a scalar a number.

A matrix product must never read as an elementwise one: the text writes it ``X.T @ u`` (and
``*`` is elementwise, as in numpy); unicode and LaTeX write it by juxtaposition (``Xᵀ u``)
and an elementwise product with a dot.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm, stringPict
from sympy.printing.str import StrPrinter

_ATOMIC = (sp.MatrixSymbol, sp.OneMatrix, sp.ZeroMatrix, sp.Identity)


def _atomic(matrix) -> bool:
    if isinstance(matrix, sp.Transpose):
        matrix = matrix.arg
    return isinstance(matrix, _ATOMIC)


class ArrayTerm(sp.Expr):
    """A matrix expression used as a term of elementwise math: ``sigmoid(X*w + b)``.

    It binds like a sum unless it is a single symbol, so ``y*(X*w)`` keeps its parentheses and
    an elementwise product is never read as a matrix product."""

    is_commutative = True  # elementwise products commute

    def __new__(cls, matrix):
        return sp.Expr.__new__(cls, matrix)

    @property
    def matrix(self):
        return self.args[0]

    @property
    def precedence(self) -> int:
        return PRECEDENCE["Atom"] if _atomic(self.matrix) else PRECEDENCE["Add"]

    def _sympystr(self, printer) -> str:
        return printer._print(self.matrix)

    def _latex(self, printer) -> str:
        return printer._print(self.matrix)

    def _pretty(self, printer):
        form = printer._print(self.matrix)
        if _atomic(self.matrix):
            return form
        # Binds like a sum: products and powers parenthesize it, sums and calls need not.
        return prettyForm("\n".join(form.picture), form.baseline, binding=prettyForm.ADD)

    def _numpycode(self, printer) -> str:
        return printer._print(self.matrix)


class AsMatrix(MatrixExpr):
    """An elementwise (or named-function) result used as a matrix: ``X.T*(sigmoid(z) - y)``.

    ``expr`` is scalar math over ``ArrayTerm``s; the wrapper gives it its matrix shape. In a
    matrix product, sums and products inside are put in parentheses, so an elementwise
    product is never read as a matrix one."""

    def __new__(cls, expr, rows: int, cols: int):
        return sp.Basic.__new__(cls, expr, sp.Integer(rows), sp.Integer(cols))

    @property
    def expr(self):
        return self.args[0]

    @property
    def shape(self):
        return (self.args[1], self.args[2])

    def _grouped(self) -> bool:
        return isinstance(self.expr, (sp.Add, sp.Mul, sp.Pow))

    @property
    def precedence(self) -> int:
        # Binds like a sum: matrix products and transposes put it in parentheses.
        return PRECEDENCE["Add"] if self._grouped() else precedence(self.expr)

    def _sympystr(self, printer) -> str:
        return printer._print(self.expr)

    def _latex(self, printer) -> str:
        return printer._print(self.expr)

    def _pretty(self, printer):
        return printer._print(self.expr)

    def _numpycode(self, printer) -> str:
        # A constant (a zero gradient) still has the full shape, as the graph's array does.
        broadcast = printer._module_format("numpy.broadcast_to")
        return f"{broadcast}({printer._print(self.expr)}, ({self.args[1]}, {self.args[2]}))"


class Ones(sp.OneMatrix):
    """A column of ones (``ones``); its transpose sums columns: ``ones.T*X``."""

    def _eval_transpose(self):
        return Ones(self.cols, self.rows)

    def _row(self) -> bool:
        return self.rows == 1 and self.cols != 1

    def _sympystr(self, printer) -> str:
        return "ones.T" if self._row() else "ones"

    def _latex(self, printer) -> str:
        return r"\mathbb{1}^{T}" if self._row() else r"\mathbb{1}"

    def _pretty(self, printer):
        return prettyForm("𝟙ᵀ" if self._row() else "𝟙")


class OpCall(sp.Function):
    """An op with no closed form, kept as a named function: ``logsumexp(z)``.

    Subclasses are made per graph node (``op_call``): they print as the op's name and carry
    the numpy implementation ``lambdify`` calls under ``numpy_name``."""

    numpy_name: str = ""

    def _numpycode(self, printer) -> str:
        return f"{self.numpy_name}({', '.join(printer._print(a) for a in self.args)})"

    def _latex(self, printer, exp=None) -> str:
        name = type(self).__name__.replace("_", r"\_")
        args = ", ".join(printer._print(a) for a in self.args)
        text = rf"\operatorname{{{name}}}\left({args}\right)"
        return f"{text}^{{{exp}}}" if exp is not None else text


def op_call(name: str, numpy_name: str) -> type[OpCall]:
    """A function class printed as ``name`` and computed by ``numpy_name``."""
    return type(name, (OpCall,), {"numpy_name": numpy_name})


# ------------------------------------------------------------------------------- printing
class _TextPrinter(StrPrinter):
    """SymPy's text with numpy's product signs: ``X.T @ (sigmoid(z) - y)/5``."""

    def _print_MatMul(self, expr):
        coefficient, factors = expr.as_coeff_matrices()
        sign = ""
        if coefficient.is_number and coefficient.is_negative:
            sign, coefficient = "-", -coefficient
        scalars = [f for f in factors if not f.is_Matrix]  # d_out*ones: a scalar scales
        matrices = [f for f in factors if f.is_Matrix]
        product = "*".join(
            [self.parenthesize(f, PRECEDENCE["Mul"], strict=True) for f in scalars]
            + [" @ ".join(self.parenthesize(m, precedence(expr)) for m in matrices)]
        )
        if coefficient == 1:
            return sign + product
        if isinstance(coefficient, sp.Rational) and coefficient.q != 1:
            scaled = product if coefficient.p == 1 else f"{coefficient.p}*{product}"
            return f"{sign}{scaled}/{coefficient.q}"
        return f"{sign}{self._print(coefficient)}*{product}"


class _PrettyPrinter(PrettyPrinter):
    """Unicode math with matrix products by juxtaposition (``⋅`` stays elementwise)."""

    def _print_MatMul(self, expr):
        forms = []
        for factor in expr.args:
            form = self._print(factor)
            grouped = isinstance(factor, AsMatrix) and factor._grouped()
            if grouped or isinstance(factor, (sp.Add, sp.MatAdd)):
                form = prettyForm(*form.parens())
            forms.append(form)
        result = forms[0]
        for form in forms[1:]:
            result = prettyForm(*stringPict.next(result, " ", form), binding=prettyForm.MUL)
        return result


class _LatexPrinter(LatexPrinter):
    """SymPy's LaTeX, with a product's fraction unbracketed: ``\\frac{1}{5} X^{T} u``."""

    def _print_MatMul(self, expr):
        coefficient, factors = expr.as_coeff_matrices()
        if coefficient == 1 or not isinstance(coefficient, sp.Rational):
            return super()._print_MatMul(expr)
        sign = "- " if coefficient < 0 else ""
        rest = super()._print_MatMul(sp.MatMul(*factors))
        return f"{sign}{self._print(abs(coefficient))} {rest}"


def text(expr) -> str:
    """``expr`` as one line of text."""
    return _TextPrinter().doprint(expr)


def latex(expr) -> str:
    """``expr`` as LaTeX, elementwise products with ``\\cdot``."""
    return _LatexPrinter({"mul_symbol": "dot"}).doprint(expr)


def pretty_equation(label: str, expr) -> str:
    """``label = expr`` in unicode, the label on the expression's baseline."""
    form = _PrettyPrinter({"use_unicode": True}).doprint(expr)
    picture = form.split("\n")
    baseline = _PrettyPrinter({"use_unicode": True})._print(expr).baseline
    pad = " " * (len(label) + 3)
    return "\n".join(
        (f"{label} = " if k == baseline else pad) + line for k, line in enumerate(picture)
    )
