"""Linear algebra: matmul in every torch case (1-D, 2-D, batched, broadcast), mm, bmm, mv,
dot, outer, einsum, and torch.linalg's inv, solve and det (vector_norm is in reduce.py)."""

from __future__ import annotations

import numpy as np

from .. import creation, dtypes
from ..tensor import Tensor
from . import numpy_runtime as rt
from .inplace import write_out
from .registry import OpDef, apply, public
from .shape import expanded_shape


def _matmul_shape(a, b):
    if len(a) == 0 or len(b) == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {len(a)}D and {len(b)}D"
        )
    a2 = (1,) + tuple(a) if len(a) == 1 else tuple(a)
    b2 = tuple(b) + (1,) if len(b) == 1 else tuple(b)
    if a2[-1] != b2[-2]:
        raise RuntimeError(_mismatch_message(a, b))
    batch = tuple(np.broadcast_shapes(a2[:-2], b2[:-2]))
    shape = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(b) == 1:
        shape = shape[:-1]
    return shape


def _mismatch_message(a, b) -> str:
    if len(a) == 1 and len(b) == 1:
        return (
            f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to have the same "
            f"number of elements, but got {a[0]} and {b[0]} elements respectively"
        )
    if len(a) == 2 and len(b) == 1:
        return f"size mismatch, got input ({a[0]}), mat ({a[0]}x{a[1]}), vec ({b[0]})"
    a2 = a if len(a) >= 2 else (1,) + tuple(a)
    b2 = b if len(b) >= 2 else tuple(b) + (1,)
    return (
        f"mat1 and mat2 shapes cannot be multiplied ({int(np.prod(a2[:-1]))}x{a2[-1]} and "
        f"{b2[-2]}x{b2[-1]})"
    )


def _matmul_vjp(g, out, x, y):
    """Promote 1-D operands to matrices, take the matrix rule, and drop the added dims; the
    engine sums broadcast batch dims down to each input's shape."""
    x2 = x.unsqueeze(0) if x.ndim == 1 else x
    y2 = y.unsqueeze(-1) if y.ndim == 1 else y
    g2 = g.reshape(_matmul_shape(tuple(x2.shape), tuple(y2.shape)))
    gx = g2 @ y2.mT
    gy = x2.mT @ g2
    if x.ndim == 1:
        gx = gx.squeeze(-2)
    if y.ndim == 1:
        gy = gy.squeeze(-1)
    return (gx, gy)


def _matmul_name(args, attrs):
    """The node torch's matmul ends with: dot/mv/mm for small operands; a batched product
    ends with a view, or with a copy where torch computes it transposed (a matrix, or a
    batch of one, times a larger batch)."""
    x, y = args
    a, b = x.ndim, y.ndim
    small = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4"}
    if (a, b) in small:
        return small[(a, b)]
    if a == b == 2:
        return "MmBackward0"
    transposed = (a == 2 and b >= 3 and x.requires_grad) or (
        a == b == 3 and x.shape[0] == 1 and y.shape[0] > 1
    )
    return "CloneBackward0" if transposed else "UnsafeViewBackward0"


MATMUL = OpDef(
    "matmul",
    np.matmul,
    vjp=_matmul_vjp,
    spelling="{0} @ {1}",
    shape=_matmul_shape,
    backward_name=_matmul_name,
)


@public("matmul", methods=("matmul", "__matmul__"))
def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Matrix product with torch's rules for 1-D operands and broadcast batch dimensions."""
    _check_same_dtype(input, other)
    _matmul_shape(tuple(input.shape), tuple(other.shape))
    result = apply(MATMUL, input, other)
    return result if out is None else write_out(out, result, "matmul")


def _rmatmul(self, other):
    return matmul(other, self)


Tensor.__rmatmul__ = _rmatmul


def _check_same_dtype(a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{_dtype_word(a.dtype)} != {_dtype_word(b.dtype)}"
        )


def _dtype_word(d) -> str:
    return {
        "float32": "float",
        "float64": "double",
        "float16": "c10::Half",
        "int64": "long int",
        "int32": "int",
        "bool": "bool",
    }.get(d.name, d.name)


@public("mm", methods=("mm",))
def mm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Product of two matrices (2-D only)."""
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    result = matmul(input, mat2)
    return result if out is None else write_out(out, result, "mm")


BMM = OpDef(
    "bmm",
    np.matmul,
    vjp=_matmul_vjp,
    spelling="{0} @ {1}",
    shape=_matmul_shape,
)


@public("bmm", methods=("bmm",))
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors with equal batch sizes (no broadcasting)."""
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    expected = [input.shape[0], input.shape[2]]
    if [mat2.shape[0], mat2.shape[1]] != expected:
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{expected[0]}, {expected[1]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    _check_same_dtype(input, mat2)
    return apply(BMM, input, mat2)


@public("mv", methods=("mv",))
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    return matmul(input, vec)


@public("dot", methods=("dot",))
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    if input.dtype is not tensor.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{scalar_type_name(input.dtype)} and {scalar_type_name(tensor.dtype)}"
        )
    return matmul(input, tensor)


@public("outer", methods=("outer", "ger"))
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``."""
    for name, value in (("self", input), ("vec2", vec2)):
        if value.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {value.ndim}-D")
    # torch computes it as a broadcast product (its node is MulBackward0).
    return input.reshape(input.shape[0], 1) * vec2


public("ger")(outer)


def scalar_type_name(d) -> str:
    """torch's scalar type word for a dtype, as its error messages write it ("Float", "Long")."""
    return dtypes.LEGACY_NAMES[d.name].removesuffix("Tensor")


# ------------------------------------------------------------------------ addmm, linear


def _addmm_eval(input, mat1, mat2, *, beta, alpha):
    product = np.matmul(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # torch ignores input then, nan and inf included
        return np.broadcast_to(product, np.broadcast_shapes(np.shape(input), product.shape))
    return product + (input if beta == 1 else beta * input)


def _addmm_vjp(g, out, input, mat1, mat2, *, beta, alpha):
    g_product = g if alpha == 1 else g * alpha
    return (
        g if beta == 1 else g * beta,  # the engine sums it to input's (broadcast) shape
        g_product @ mat2.mT,
        mat1.mT @ g_product,
    )


def _addmm_spelling(operands, *, beta, alpha) -> str:
    input, mat1, mat2 = operands
    product = f"{mat1} @ {mat2}" if alpha == 1 else f"{alpha!r} * ({mat1} @ {mat2})"
    return f"{product} + {input}" if beta == 1 else f"{product} + {beta!r} * {input}"


ADDMM = OpDef(
    "addmm",
    _addmm_eval,
    vjp=_addmm_vjp,
    spelling=_addmm_spelling,
    shape=lambda input, mat1, mat2, **attrs: _addmm_shape(input, mat1, mat2),
    backward_name="AddmmBackward0",
)


def _addmm_shape(input, mat1, mat2) -> tuple[int, ...]:
    product = _matmul_shape(tuple(mat1), tuple(mat2))
    return expanded_shape(tuple(input), product, dtypes.float32)


@public("addmm", methods=("addmm",))
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), for matrices ``mat1`` and ``mat2`` and an
    ``input`` that broadcasts to the product (``nn.Linear``'s node, AddmmBackward0)."""
    if mat1.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {mat1.ndim}-D tensor")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
    _check_same_dtype(mat1, mat2)
    if input.dtype is not mat1.dtype:
        raise RuntimeError(
            "self and mat2 must have the same dtype, but got "
            f"{scalar_type_name(input.dtype)} and {scalar_type_name(mat2.dtype)}"
        )
    _addmm_shape(tuple(input.shape), tuple(mat1.shape), tuple(mat2.shape))
    return apply(ADDMM, input, mat1, mat2, beta=beta, alpha=alpha)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, built as torch builds it (so its nodes are torch's): addmm for
    a matrix input with a bias, flattened to a matrix and viewed back for other ranks."""
    if bias is None or weight.ndim != 2 or input.ndim == 0:
        output = matmul(input, weight.t())
        return output if bias is None else output + bias
    if input.ndim == 2:
        return addmm(bias, input, weight.t())
    rows = input.reshape(-1, input.shape[-1])
    return addmm(bias, rows, weight.t()).view(*input.shape[:-1], weight.shape[0])


# ------------------------------------------------------------------------------ einsum

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_shape(*shapes, subscripts, output):
    sizes = {}
    for term, shape in zip(subscripts, shapes, strict=True):
        sizes.update(zip(term, shape, strict=True))
    return tuple(sizes[letter] for letter in output)


def _einsum_vjp(g, out, *operands, subscripts, output):
    return tuple(
        _einsum_operand_grad(g, output, operands, subscripts, k) for k in range(len(operands))
    )


def _einsum_operand_grad(g, output, operands, subscripts, k):
    """The gradient of operand ``k`` is itself an einsum: of ``g`` with the other operands,
    written to operand k's subscripts. A repeated letter (a diagonal) gets a fresh letter and
    an identity matrix that puts the gradient on that diagonal; letters no other term has
    (summed away in the forward) are broadcast back with expand."""
    used = set("".join(subscripts)) | set(output)
    fresh = iter(letter for letter in _LETTERS if letter not in used)
    terms = [output] + [s for j, s in enumerate(subscripts) if j != k]
    values = [g] + [operands[j] for j in range(len(operands)) if j != k]
    shape = tuple(operands[k].shape)
    target = ""
    for letter, size in zip(subscripts[k], shape, strict=True):
        if letter in target:
            letter_on_diagonal = next(fresh)
            terms.append(letter + letter_on_diagonal)
            values.append(creation.eye(size, dtype=g.dtype))
            letter = letter_on_diagonal
        target += letter
    available = set("".join(terms))
    present = "".join(letter for letter in target if letter in available)
    if terms == [present]:
        grad = g
    else:
        grad = einsum(",".join(terms) + "->" + present, *values)
    if present == target:
        return grad
    kept = tuple(n if letter in available else 1 for letter, n in zip(target, shape, strict=True))
    return grad.reshape(kept).expand(shape)


def _einsum_name(args, attrs):
    summed = bool(set("".join(attrs["subscripts"])) - set(attrs["output"]))
    # torch's einsum is a composite; these are the nodes its decomposition ends with.
    if len(args) == 1:
        return "SumBackward1" if summed else "PermuteBackward0"
    return "ViewBackward0" if summed else "MulBackward0"


EINSUM = OpDef(
    "einsum",
    rt.einsum,
    vjp=_einsum_vjp,
    shape=_einsum_shape,
    backward_name=_einsum_name,
)


@public("einsum")
def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, as torch.einsum: explicit ('ij,jk->ik') or implicit ('ij,jk')
    output, repeated subscripts (diagonals, traces), '...' and size-1 broadcasting.

    >>> import symgrad
    >>> a = symgrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> symgrad.einsum("ii->", a)
    tensor(5.)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    subscripts, output = _parse_einsum(equation, operands)
    sizes = _einsum_sizes(subscripts, operands)
    result_dtype = _einsum_dtype(subscripts, output, operands)
    operands = tuple(o if o.dtype is result_dtype else o.to(result_dtype) for o in operands)
    # Size-1 dims broadcast against the letter's size elsewhere: expand them here, so the
    # op (and its gradient) only sees equal sizes; expand's gradient sums them back.
    operands = tuple(
        _expand_to(operand, tuple(sizes[letter] for letter in s))
        for operand, s in zip(operands, subscripts, strict=True)
    )
    return apply(EINSUM, *operands, subscripts=tuple(subscripts), output=output)


def _einsum_dtype(subscripts, output, operands):
    """The result dtype as torch's einsum finds it: operands are contracted left to right in
    pairs; a pair that sums a letter both hold with a size other than 1 is a matrix product,
    which needs equal dtypes, and any other pair is a broadcast product, which promotes."""
    last_operand = {letter: k for k, term in enumerate(subscripts) for letter in term}
    result = operands[0].dtype
    held = {letter for letter, n in zip(subscripts[0], operands[0].shape, strict=True) if n != 1}
    for k in range(1, len(operands)):
        operand, term = operands[k], subscripts[k]
        mine = {letter for letter, n in zip(term, operand.shape, strict=True) if n != 1}
        contracted = {
            letter for letter in held & mine if letter not in output and last_operand[letter] == k
        }
        if contracted and operand.dtype is not result:
            raise RuntimeError(
                f"expected scalar type {scalar_type_name(result)} but found "
                f"{scalar_type_name(operand.dtype)}"
            )
        result = dtypes.promote_types(result, operand.dtype)
        held = {letter for letter in held | mine if letter in output or last_operand[letter] > k}
    return result


def _expand_to(operand: Tensor, shape: tuple[int, ...]) -> Tensor:
    return operand if tuple(operand.shape) == shape else operand.expand(shape)


def _parse_einsum(equation: str, operands) -> tuple[list[str], str]:
    """Subscripts of each operand and of the output, with '...' spelled out as letters."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    offset = 0
    for k, term in enumerate(terms + [output]):
        _check_letters(term, k, offset)
        offset += len(term) + (2 if k == len(terms) - 1 else 1)
    used = set(equation)
    spare = [letter for letter in _LETTERS if letter not in used]
    ellipsis_rank = 0
    for k, (term, operand) in enumerate(zip(terms, operands, strict=True)):
        named = len(term.replace("...", ""))
        if "..." in term:
            if named > operand.ndim:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({named}) is more than "
                    f"the number of dimensions ({operand.ndim}) for operand {k}"
                )
            ellipsis_rank = max(ellipsis_rank, operand.ndim - named)
        elif named != operand.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) does not match "
                f"the number of dimensions ({operand.ndim}) for operand {k} and no ellipsis "
                "was given"
            )
    if ellipsis_rank > len(spare):
        raise RuntimeError("einsum(): too many dimensions: not enough subscript letters")
    # Ellipsis dims are aligned from the right, as in broadcasting.
    ellipsis = "".join(spare[:ellipsis_rank])
    subscripts = []
    for term, operand in zip(terms, operands, strict=True):
        rank = operand.ndim - len(term.replace("...", ""))
        subscripts.append(term.replace("...", ellipsis[ellipsis_rank - rank :]))
    if arrow:
        output = output.replace("...", ellipsis)
        for letter in output:
            if output.count(letter) > 1:
                raise RuntimeError(
                    f"einsum(): output subscript {letter} appears more than once in the output"
                )
            if not any(letter in s for s in subscripts):
                raise RuntimeError(
                    f"einsum(): output subscript {letter} does not appear in the equation for "
                    "any input operand"
                )
    else:
        counts = "".join(terms)
        once = sorted(letter for letter in set(counts) if counts.count(letter) == 1)
        output = ellipsis + "".join(once)
    return subscripts, output


def _check_letters(term: str, k: int, offset: int) -> None:
    if "." in term.replace("...", ""):
        raise RuntimeError(f"einsum(): found '.' for operand {k} that is not part of any ellipsis")
    for i, letter in enumerate(term):
        if letter != "." and letter not in _LETTERS:
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {offset + i} in the equation "
                "string, subscripts must be in [a-zA-Z]"
            )


def _einsum_sizes(subscripts, operands) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for k, (term, operand) in enumerate(zip(subscripts, operands, strict=True)):
        seen: dict[str, int] = {}
        for letter, size in zip(term, operand.shape, strict=True):
            if letter in seen and seen[letter] != size:
                raise RuntimeError(
                    f"einsum(): subscript {letter} is repeated for operand {k} but the sizes "
                    f"don't match, {seen[letter]} != {size}"
                )
            seen[letter] = size
            previous = sizes.get(letter, 1)
            if previous != 1 and size not in (1, previous):
                raise RuntimeError(
                    f"einsum(): subscript {letter} has size {size} for operand {k} which does "
                    f"not broadcast with previously seen size {previous}"
                )
            sizes[letter] = max(previous, size)
    return sizes


# ------------------------------------------------------------- inverse, solve, determinant


class LinAlgError(RuntimeError):
    """A linear algebra routine failed on its input (torch.linalg.LinAlgError)."""


def _check_square(name: str, A: Tensor) -> None:
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are {A.shape[-2]} by "
            f"{A.shape[-1]} matrices"
        )


def _check_floating(name: str, A: Tensor) -> None:
    if not A.dtype.is_floating_point:
        raise RuntimeError(
            f"{name}: Expected a floating point or complex tensor as input. "
            f"Got {scalar_type_name(A.dtype)}"
        )


def _singular_batch(A: Tensor) -> tuple[int, int]:
    """(batch element, 1-based pivot) of the first matrix whose LU factorization meets an
    exactly zero pivot, as LAPACK's getrf reports it (only called once numpy said singular)."""
    matrices = np.asarray(A._data, dtype=np.float64).reshape((-1,) + tuple(A.shape[-2:]))
    for batch, matrix in enumerate(matrices):
        pivot = _zero_pivot(matrix)
        if pivot:
            return batch, pivot
    return 0, A.shape[-1]


def _zero_pivot(matrix: np.ndarray) -> int:
    lu = matrix.copy()
    n = lu.shape[0]
    for column in range(n):
        row = column + int(np.argmax(np.abs(lu[column:, column])))
        if lu[row, column] == 0:
            return column + 1
        lu[[column, row]] = lu[[row, column]]
        below = lu[column + 1 :, column] / lu[column, column]
        lu[column + 1 :, column:] -= np.outer(below, lu[column, column:])
    return 0


def _batch_prefix(A: Tensor, batch: int) -> str:
    return f"(Batch element {batch}): " if A.ndim > 2 else ""


def _inv_vjp(g, out, A):
    inverse_t = out.mT
    return (-(inverse_t @ g @ inverse_t),)


LINALG_INV = OpDef(
    "linalg_inv",
    np.linalg.inv,
    vjp=_inv_vjp,
    spelling="np.linalg.inv({0})",
    shape=lambda shape: tuple(shape),
    saves="output",
    backward_name="LinalgInvExBackward0",
)


@public("linalg_inv")
def inv(A: Tensor, *, out=None) -> Tensor:
    """The inverse of a square matrix (or of each matrix in a batch); torch.linalg.inv."""
    _check_floating("linalg.inv", A)
    _check_square("linalg.inv", A)
    try:
        return apply(LINALG_INV, A)
    except np.linalg.LinAlgError:
        batch, pivot = _singular_batch(A)
        raise LinAlgError(
            f"linalg.inv: {_batch_prefix(A, batch)}The diagonal element {pivot} is zero, the "
            "inversion could not be completed because the input matrix is singular."
        ) from None


public("inverse", methods=("inverse",))(inv)


def _solve_shape(a, b, *, left, vector):
    b = tuple(b) + (1,) if vector else tuple(b)
    shape = tuple(np.broadcast_shapes(tuple(a[:-2]), b[:-2])) + b[-2:]
    return shape[:-1] if vector else shape


def _solve_vjp(g, out, A, B, *, left, vector):
    # X = A^-1 B: dB = A^-T g and dA = -dB X^T; X = B A^-1: dB = g A^-T and dA = -X^T dB.
    grad_B = _solve(A.mT, g, left, vector)
    column_B = grad_B.unsqueeze(-1) if vector else grad_B
    column_X = out.unsqueeze(-1) if vector else out
    grad_A = -(column_B @ column_X.mT) if left else -(column_X.mT @ column_B)
    return (grad_A, grad_B)


LINALG_SOLVE = OpDef(
    "linalg_solve",
    rt.solve,
    vjp=_solve_vjp,
    shape=_solve_shape,
    saves="both",
    backward_name="LinalgSolveExBackward0",
)


def _solve(A: Tensor, B: Tensor, left: bool, vector: bool) -> Tensor:
    try:
        return apply(LINALG_SOLVE, A, B, left=left, vector=vector)
    except np.linalg.LinAlgError:
        batch, _ = _singular_batch(A)
        raise LinAlgError(
            f"torch.linalg.solve: {_batch_prefix(A, batch)}The solver failed because the input "
            "matrix is singular."
        ) from None


@public("linalg_solve")
def solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:
    """The solution X of ``A X = B`` (``X A = B`` when ``left=False``); torch.linalg.solve.

    B is a batch of vectors when it is 1-D or has A's shape without the last dim; batch dims
    broadcast.
    """
    _check_floating("linalg.solve", A)
    _check_square("linalg.solve", A)
    if A.dtype is not B.dtype:
        raise RuntimeError(
            "linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{scalar_type_name(A.dtype)} and B of type {scalar_type_name(B.dtype)} instead"
        )
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    rows, columns = (B.shape[-1], 1) if vector else tuple(B.shape[-2:])
    n = A.shape[-1]
    if (rows if left else columns) != n:
        raise RuntimeError(
            "linalg.solve: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{columns})"
        )
    return _solve(A, B, left, vector)


def _det_vjp(g, out, A):
    # d det(A) / dA = det(A) * inv(A)^T; defined here for invertible A only.
    scale = (g * out).unsqueeze(-1).unsqueeze(-1)
    return (scale * inv(A).mT,)


LINALG_DET = OpDef(
    "linalg_det",
    np.linalg.det,
    vjp=_det_vjp,
    spelling="np.linalg.det({0})",
    shape=lambda shape: tuple(shape[:-2]),
    saves="both",
    backward_name="LinalgDetBackward0",
)


@public("linalg_det")
def det(A: Tensor, *, out=None) -> Tensor:
    """The determinant of a square matrix (or of each matrix in a batch); torch.linalg.det.
    Its gradient needs an invertible A."""
    _check_floating("linalg.det", A)
    _check_square("linalg.det", A)
    return apply(LINALG_DET, A)


public("det", methods=("det",))(det)
