"""How each op reads in a formula: matrix layouts, numbers, and the per-op display table.

Arrays of one or two dimensions are shown as matrices (a vector of n values is an (n, 1)
column); elementwise math is scalar SymPy over ``ArrayTerm``s. ``RENDER`` maps an op's name to
the function giving its SymPy form from its inputs' forms; ops not in it are elementwise with a
SymPy definition (``expands``) or become named functions (``formula._Converter``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp

from ..ir.graph import Node
from .formula_terms import ArrayTerm, AsMatrix, Ones


class FormulaError(ValueError):
    """A graph that has no formula display (arrays of more than two dimensions)."""


def layout(shape: tuple[int, ...]) -> tuple[int, int] | None:
    """The matrix shape an array is shown with: None for a scalar, (n, 1) for a vector."""
    if len(shape) == 0:
        return None
    if len(shape) == 1:
        return (shape[0], 1)
    if len(shape) == 2:
        return shape
    raise FormulaError(
        f"formula: arrays of more than two dimensions (shape {tuple(shape)}) have no "
        "matrix display yet; fn.source() and fn.graph() show this function's code and graph"
    )


def as_scalar(value, node: Node, user: Node | None = None):
    """``value`` as a term of elementwise math; a vector used with a matrix is a row."""
    if isinstance(value, AsMatrix):
        value = value.expr if not _is_row_of(node, user) else ArrayTerm(value.T)
        return value
    if isinstance(value, sp.MatrixExpr):
        return ArrayTerm(value.T if _is_row_of(node, user) else value)
    return value


def _is_row_of(node: Node, user: Node | None) -> bool:
    """numpy broadcasts a vector along the last axis, so next to a matrix it is a row."""
    return user is not None and node.ndim == 1 and user.ndim == 2


def as_matrix(value, shape: tuple[int, ...]):
    """``value`` (scalar math or a matrix expression) as the matrix of an array of ``shape``."""
    if isinstance(value, sp.MatrixExpr):
        return value
    if isinstance(value, ArrayTerm):
        return value.matrix
    rows, cols = layout(shape)
    return AsMatrix(value, rows, cols)


def number(value, dtype):
    """A constant as SymPy shows it: as p/q (q <= 1000) when it is exactly its dtype's rounding
    of p/q (0.2 as 1/5, float32's 0.1 as 1/10), else an integer or its digits."""
    if isinstance(value, bool):
        return sp.true if value else sp.false
    if isinstance(value, int):
        return sp.Integer(value)
    if not math.isfinite(value):
        return sp.nan if math.isnan(value) else (sp.oo if value > 0 else -sp.oo)
    if abs(value) < 2**53:  # beyond, a float is no longer an exact small integer or fraction
        fraction = Fraction(value).limit_denominator(1000)
        if dtype.numpy.type(fraction.numerator / fraction.denominator) == dtype.numpy.type(value):
            return sp.Rational(fraction.numerator, fraction.denominator)
    digits = str(dtype.numpy.type(value))  # the shortest text of the value in its dtype
    significant = digits.split("e")[0].replace("-", "").replace(".", "").strip("0")
    return sp.Float(digits, max(len(significant), 2))


# ------------------------------------------------------------------------- per-op display
# How an op reads, when it is neither elementwise with a SymPy definition nor a named
# function: ``render(node, values)`` returns its SymPy form, or None to fall back to a named
# function. ``values`` are the SymPy forms of ``node.inputs``.


def _identity(node, values):
    return values[0]


def _cast(node, values):
    """A cast reads as its value, but truth values made numbers (a one-hot) stay a call:
    numpy's bool arrays do no arithmetic."""
    if node.inputs[0].dtype.name == "bool" and node.dtype.name != "bool":
        return None
    return values[0]


def _matmul(node, values):
    left, right = node.inputs
    if left.ndim == 0 or right.ndim == 0 or left.ndim > 2 or right.ndim > 2:
        return None
    a, b = (
        _coefficient_out(as_matrix(v, n.shape)) for v, n in zip(values, node.inputs, strict=True)
    )
    if left.ndim == 1 and right.ndim == 1:
        return ArrayTerm(_product(a, b, transpose_left=True))
    if left.ndim == 1:  # v @ B is the vector B.T v
        return _product(b, a, transpose_left=True)
    return _product(a, b)


def _coefficient_out(matrix):
    """(number, matrix): ``X.T*((sigmoid(z) - y)/5)`` reads ``X.T*(sigmoid(z) - y)/5``."""
    if isinstance(matrix, AsMatrix) and isinstance(matrix.expr, sp.Mul):
        coefficient, rest = matrix.expr.as_coeff_Mul()
        if coefficient != 1:
            return coefficient, AsMatrix(rest, *matrix.shape)
    return sp.Integer(1), matrix


def _product(a, b, transpose_left=False):
    (c1, left), (c2, right) = a, b
    if transpose_left:
        left = left.T
    return sp.MatMul(c1 * c2, left, right) if c1 * c2 != 1 else sp.MatMul(left, right)


def _transpose(node, values):
    attrs = node.attr_dict
    if node.ndim < 2 or attrs.get("dim0", 0) % 2 == attrs.get("dim1", 1) % 2:
        return values[0]
    if node.ndim == 2:
        return as_matrix(values[0], node.inputs[0].shape).T
    return None


def _permute(node, values):
    dims = tuple(d % max(node.ndim, 1) for d in node.attr_dict["dims"])
    if node.ndim == 2 and dims == (1, 0):
        return as_matrix(values[0], node.inputs[0].shape).T
    return values[0] if node.ndim < 2 or dims == (0, 1) else None


def _reshape(node, values):
    """Reshapes between the layouts of the same values: (n,) <-> (n, 1) <-> (1, n) <-> ()."""
    source = node.inputs[0]
    if source.numel != node.numel or source.ndim > 2 or node.ndim > 2:
        return None
    if node.ndim == 0:
        return as_scalar(values[0], source) if source.numel == 1 else None
    if source.ndim == 0:
        return as_matrix(values[0], node.shape)
    before, after = layout(source.shape), layout(node.shape)
    matrix = as_matrix(values[0], source.shape)
    if before == after:
        return matrix
    if before == after[::-1] and 1 in before:
        return matrix.T
    return None


def _expand(node, values):
    """Broadcasting as multiplication by ones: ``b`` to (m, n) rows is ``ones*b.T``."""
    source, value = node.inputs[0], values[0]
    if source.shape == node.shape:
        return value
    if isinstance(value, AsMatrix) and value.shape == (1, 1) and not value.expr.has(ArrayTerm):
        value = value.expr  # one number, broadcast: a scalar times ones
    if source.numel == 1 and not isinstance(value, (sp.MatrixExpr, ArrayTerm)):
        return as_matrix(value * Ones(*layout(node.shape)), node.shape)
    if node.ndim > 2:
        return None
    rows, cols = layout(node.shape)
    matrix = as_matrix(value, source.shape)
    if source.ndim == 1 and node.ndim == 2:
        matrix = matrix.T  # a vector broadcasts along the last axis: it is a row
    have_rows, have_cols = matrix.shape
    if have_rows != rows:
        matrix = Ones(rows, 1) * matrix
    if have_cols != cols:
        matrix = matrix * Ones(1, cols)
    return matrix


def _reduction(node, values, mean: bool):
    """A sum over everything reads ``sum(...)``; over one axis of a matrix, ``A*ones`` (rows)
    or ``A.T*ones`` (columns)."""
    source = node.inputs[0]
    attrs = node.attr_dict
    dims = attrs.get("dim")
    every = tuple(range(source.ndim))
    dims = every if dims is None else tuple(d % max(source.ndim, 1) for d in _as_tuple(dims))
    if source.ndim > 2:
        return None
    count = sp.Integer(int(np.prod([source.shape[d] for d in dims], dtype=np.int64)))
    scale = 1 / count if mean else sp.Integer(1)
    if source.ndim == 0:
        return values[0]  # the sum or mean of one number
    if set(dims) == set(every):
        total = _SUM(as_scalar(values[0], source)) * scale
        return as_matrix(total, node.shape) if node.ndim else total
    matrix = as_matrix(values[0], source.shape)
    rows, cols = source.shape
    if dims == (1,):
        summed = sp.MatMul(matrix, Ones(cols, 1))  # (m, 1): as a vector or kept dims
    elif attrs.get("keepdim"):
        summed = sp.MatMul(Ones(1, rows), matrix)  # (1, n)
    else:
        summed = sp.MatMul(matrix.T, Ones(rows, 1))  # the (n,) vector as a column
    return summed * scale if scale != 1 else summed


def _as_tuple(dims):
    return tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)


def _full(node, values):
    value = number(node.attr_dict["value"], node.dtype)
    if node.ndim == 0:
        return value
    if node.ndim > 2:
        return None
    rows, cols = layout(node.shape)
    return sp.ZeroMatrix(rows, cols) if value == 0 else AsMatrix(value, rows, cols)


def _pow(node, values):
    base, exponent = (as_scalar(v, n, node) for v, n in zip(values, node.inputs, strict=True))
    return base**exponent


_SUM = sp.Function("sum")

RENDER = {
    "matmul": _matmul,
    "transpose": _transpose,
    "t": _transpose,
    "permute": _permute,
    "reshape": _reshape,
    "squeeze": _reshape,
    "unsqueeze": _reshape,
    "expand": _expand,
    "sum": lambda node, values: _reduction(node, values, mean=False),
    "mean": lambda node, values: _reduction(node, values, mean=True),
    "to_dtype": _cast,
    "clone": _identity,
    "full": _full,
    "pow": _pow,
}


def expands(op) -> bool:
    """Whether an elementwise op shows its SymPy definition (arithmetic, or one of SymPy's
    functions such as ``exp``) instead of its name (``sigmoid``, ``log1p``, ``expm1``)."""
    symbols = sp.symbols(f"a0:{op.arity}")
    expr = op.sympy(*symbols)
    if not expr.atoms(sp.Function):
        return True
    return isinstance(expr, sp.Function) and expr.args == symbols
