"""symgrad/ops/linalg.py beyond the op table: shapes, errors, node names, gradient formulas."""

import numpy as np
import pytest
from extras import need

import symgrad
from symgrad.ops import linalg
from symgrad.testing import check_grads


def _tensor(*shape, seed=0, requires_grad=False, dtype=np.float64):
    array = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return symgrad.tensor(array, requires_grad=requires_grad)


def _conditioned(*shape, seed=0, requires_grad=False):
    n = shape[-1]
    array = np.random.default_rng(seed).uniform(-1, 1, shape) + n * np.eye(n)
    return symgrad.tensor(array, requires_grad=requires_grad)


# ------------------------------------------------------------------------------ matmul family


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((3,), (3,), ()),
        ((2, 3), (3,), (2,)),
        ((3,), (3, 4), (4,)),
        ((2, 3), (3, 4), (2, 4)),
        ((5, 2, 3), (5, 3, 4), (5, 2, 4)),
        ((2, 1, 2, 3), (3, 3, 4), (2, 3, 2, 4)),
        ((5, 2, 3), (3,), (5, 2)),
        ((3,), (5, 3, 4), (5, 4)),
    ],
)
def test_matmul_shapes(a, b, expected):
    assert tuple(symgrad.matmul(_tensor(*a), _tensor(*b, seed=1)).shape) == expected


@pytest.mark.parametrize(
    "a, b, name",
    [
        ((3,), (3,), "DotBackward0"),
        ((2, 3), (3,), "MvBackward0"),
        ((3,), (3, 4), "SqueezeBackward4"),
        ((2, 3), (3, 4), "MmBackward0"),
        ((2, 2, 3), (2, 3, 4), "UnsafeViewBackward0"),
        ((2, 3, 4), (4, 5), "UnsafeViewBackward0"),
        ((2, 3), (2, 3, 4), "CloneBackward0"),
        ((1, 2, 3), (4, 3, 2), "CloneBackward0"),
    ],
)
def test_matmul_node_names_follow_torch(a, b, name):
    out = symgrad.matmul(_tensor(*a, requires_grad=True), _tensor(*b, requires_grad=True))
    assert out.grad_fn.name() == name


def test_product_functions_node_names():
    a, b = _tensor(2, 2, 3, requires_grad=True), _tensor(2, 3, 4, requires_grad=True)
    assert symgrad.bmm(a, b).grad_fn.name() == "BmmBackward0"
    v = _tensor(3, requires_grad=True)
    assert symgrad.outer(v, v).grad_fn.name() == "MulBackward0"
    assert symgrad.dot(v, v).grad_fn.name() == "DotBackward0"
    assert symgrad.mv(a[0], v).grad_fn.name() == "MvBackward0"


def test_product_tensor_methods():
    a, v = _tensor(2, 3), _tensor(3)
    np.testing.assert_allclose(a.mv(v).numpy(), a.numpy() @ v.numpy())
    np.testing.assert_allclose(v.dot(v).numpy(), v.numpy() @ v.numpy())
    np.testing.assert_allclose(v.outer(v).numpy(), np.outer(v.numpy(), v.numpy()))
    np.testing.assert_allclose(v.ger(v).numpy(), np.outer(v.numpy(), v.numpy()))
    b = _tensor(2, 3, 4)
    np.testing.assert_allclose(b.bmm(b.mT).numpy(), b.numpy() @ b.numpy().swapaxes(1, 2))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: symgrad.dot(_tensor(3, 3), _tensor(3)), "1D tensors expected, but got 2D and 1D"),
        (
            lambda: symgrad.dot(_tensor(3), _tensor(4)),
            r"inconsistent tensor size, expected tensor \[3\] and src \[4\]",
        ),
        (
            lambda: symgrad.dot(_tensor(3, dtype=np.float32), _tensor(3)),
            "dot : expected both vectors to have same dtype, but found Float and Double",
        ),
        (lambda: symgrad.outer(_tensor(3, 3), _tensor(3)), "outer: Expected 1-D argument self"),
        (
            lambda: symgrad.outer(_tensor(3), symgrad.tensor(3.0)),
            "outer: Expected 1-D argument vec2, but got 0-D",
        ),
        (
            lambda: symgrad.mv(_tensor(3), _tensor(3)),
            "vector \\+ matrix @ vector expected, got 1, 1, 1",
        ),
        (
            lambda: symgrad.mv(_tensor(3, 4), _tensor(3)),
            r"size mismatch, got input \(3\), mat \(3x4\), vec \(3\)",
        ),
        (lambda: symgrad.bmm(_tensor(3, 3), _tensor(3, 3, 3)), "batch1 must be a 3D tensor"),
        (lambda: symgrad.bmm(_tensor(2, 3, 3), _tensor(3, 3)), "batch2 must be a 3D tensor"),
        (
            lambda: symgrad.bmm(_tensor(2, 3, 4), _tensor(2, 3, 3)),
            r"Expected size for first two dimensions of batch2 tensor to be: \[2, 4\] but got: "
            r"\[2, 3\]\.",
        ),
        (
            lambda: symgrad.mm(_tensor(3, 4), _tensor(3, 3)),
            r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 3x3\)",
        ),
    ],
)
def test_product_errors_match_torch(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


def test_outer_promotes_dtypes_like_torch():
    out = symgrad.outer(_tensor(3, dtype=np.float32), _tensor(2))
    assert out.dtype is symgrad.float64


# ------------------------------------------------------------------------------------ einsum


@pytest.mark.parametrize(
    "equation, shapes, reference",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)], lambda a, b: a @ b),
        ("ii->", [(3, 3)], np.trace),
        ("ii->i", [(3, 3)], np.diag),
        ("ij->ji", [(2, 3)], lambda a: a.T),
        ("i,j->ij", [(2,), (3,)], np.outer),
        ("ij->", [(2, 3)], np.sum),
        ("ij,jk", [(2, 3), (3, 4)], lambda a, b: a @ b),
        ("ba", [(2, 3)], lambda a: a.T),  # implicit output: letters in alphabetical order
        ("Bij,bjk", [(2, 3, 4), (2, 4, 5)], lambda a, b: np.einsum("Bij,bjk->Bbik", a, b)),
        ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)], lambda a, b: a @ b),
        (" i j , j k -> i k ", [(2, 3), (3, 4)], lambda a, b: a @ b),
    ],
)
def test_einsum_values(equation, shapes, reference):
    operands = [_tensor(*s, seed=i) for i, s in enumerate(shapes)]
    got = symgrad.einsum(equation, *operands)
    expected = reference(*[o.numpy() for o in operands])
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    assert tuple(got.shape) == np.shape(expected)


def test_einsum_accepts_a_list_of_operands():
    a, b = _tensor(2, 3), _tensor(3, 4)
    np.testing.assert_allclose(symgrad.einsum("ij,jk", [a, b]).numpy(), a.numpy() @ b.numpy())


def test_einsum_broadcasts_size_one_dims_and_sums_their_gradient():
    a = _tensor(2, 1, requires_grad=True)
    b = _tensor(3, 4, seed=1)
    out = symgrad.einsum("ij,jk->ik", a, b)
    expected = a.detach().numpy() * b.numpy().sum(0)  # j broadcast: sum over b's rows
    np.testing.assert_allclose(out.detach().numpy(), expected)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.full((2, 1), b.numpy().sum()))


@pytest.mark.parametrize("equation", ["ii->", "ii->i", "ij->", "bii->b", "iij->j", "ij,jk,kl->il"])
def test_einsum_gradients_for_diagonals_and_sums(equation):
    shapes = {
        "ii->": [(3, 3)],
        "ii->i": [(3, 3)],
        "ij->": [(2, 3)],
        "bii->b": [(2, 3, 3)],
        "iij->j": [(2, 2, 3)],
        "ij,jk,kl->il": [(2, 3), (3, 4), (4, 2)],
    }[equation]
    operands = [_tensor(*s, seed=i) for i, s in enumerate(shapes)]
    check_grads(lambda *xs: symgrad.einsum(equation, *xs), operands, order=2)


def test_einsum_trace_gradient_is_identity():
    a = _tensor(3, 3, requires_grad=True)
    symgrad.einsum("ii->", a).backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.eye(3))


@pytest.mark.parametrize(
    "equation, shapes, name",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)], "ViewBackward0"),
        ("ii->", [(3, 3)], "SumBackward1"),
        ("ii->i", [(3, 3)], "PermuteBackward0"),
        ("ij->ji", [(2, 3)], "PermuteBackward0"),
        ("i,j->ij", [(2,), (3,)], "MulBackward0"),
    ],
)
def test_einsum_node_names_follow_torch(equation, shapes, name):
    operands = [_tensor(*s, requires_grad=True) for s in shapes]
    assert symgrad.einsum(equation, *operands).grad_fn.name() == name


@pytest.mark.parametrize(
    "equation, shapes, message",
    [
        (
            "ij,jk->ik",
            [(3, 4), (5, 3)],
            "einsum\\(\\): subscript j has size 5 for operand 1 which does not broadcast with "
            "previously seen size 4",
        ),
        ("ij,jk->ik", [(3, 4)], "fewer operands were provided than specified in the equation"),
        ("ij", [(3, 4), (3, 4)], "more operands were provided than specified in the equation"),
        (
            "ijk,jk->ik",
            [(3, 4), (4, 3)],
            r"the number of subscripts in the equation \(3\) does not match the number of "
            r"dimensions \(2\) for operand 0 and no ellipsis was given",
        ),
        (
            "...ijk",
            [(3, 4)],
            r"the number of subscripts in the equation \(3\) is more than the number of "
            r"dimensions \(2\) for operand 0",
        ),
        ("ij->ijj", [(3, 4)], "output subscript j appears more than once in the output"),
        ("ij->k", [(3, 4)], "output subscript k does not appear in the equation for any input"),
        ("i1", [(3, 4)], "invalid subscript given at index 1 in the equation string"),
        ("ii", [(3, 4)], "subscript i is repeated for operand 0 but the sizes don't match, 3 != 4"),
        ("i..j", [(2, 3, 4)], "found '.' for operand 0 that is not part of any ellipsis"),
    ],
)
def test_einsum_errors_match_torch(equation, shapes, message):
    operands = [_tensor(*s) for s in shapes]
    with pytest.raises(RuntimeError, match=message):
        symgrad.einsum(equation, *operands)


def test_einsum_rejects_mixed_dtypes_like_torch():
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        symgrad.einsum("ij,jk->ik", _tensor(3, 4, dtype=np.float32), _tensor(4, 5))


# torch 2.13's einsum multiplies pairs without a shared summed letter (broadcast product,
# which promotes) and contracts the others with bmm (equal dtypes required). Recorded from it:
EINSUM_MIXED_FLOATS = [
    ("ij,j->ij", [(2, 3), (3,)], "float64"),
    ("ij,kl->ijkl", [(2, 3), (3, 4)], "float64"),
    ("i,i,i->", [(3,), (3,), (3,)], "float64"),  # float64 float32 float64: mul, then bmm
    ("i,j->", [(2,), (3,)], "float64"),  # each letter summed within its own operand first
    ("ij,jk->ik", [(2, 3), (3, 4)], "expected scalar type Double but found Float"),
    ("ij,ij->", [(2, 3), (2, 3)], "expected scalar type Double but found Float"),
]


@pytest.mark.parametrize("equation, shapes, expected", EINSUM_MIXED_FLOATS)
def test_einsum_mixed_float_dtypes_follow_torch(equation, shapes, expected):
    """Regression (issue 7, reproducer 10): float64 with float32 promotes where torch does."""
    kinds = [np.float64, np.float32, np.float64]
    operands = [_tensor(*s, seed=k, dtype=kinds[k]) for k, s in enumerate(shapes)]
    if expected.startswith("expected"):
        with pytest.raises(RuntimeError, match=expected):
            symgrad.einsum(equation, *operands)
        return
    out = symgrad.einsum(equation, *operands)
    assert out.dtype is getattr(symgrad, expected)
    wide = [o.double().numpy() for o in operands]
    np.testing.assert_allclose(out.numpy(), np.einsum(equation, *wide), rtol=1e-6)


def test_einsum_mixed_float_dtypes_compiled_equals_eager():
    """Regression (issue 7, reproducer 10): compiled value, dtype and gradients == eager."""
    a = _tensor(2, 3, requires_grad=True)
    b = _tensor(3, seed=1, dtype=np.float32, requires_grad=True)

    def loss(a, b):
        return symgrad.einsum("ij,j->ij", a, b).sin().sum()

    eager = loss(a, b)
    eager.backward()
    expected = (eager.detach().numpy(), a.grad.numpy(), b.grad.numpy())
    value, (grad_a, grad_b) = symgrad.value_and_grad(loss, argnums=(0, 1))(
        a.detach().numpy(), b.detach().numpy()
    )
    assert value.dtype == np.float64 and grad_b.dtype == np.float32
    for got, want in zip((value, grad_a, grad_b), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert got.dtype == want.dtype


def test_einsum_mixed_dtypes_match_torch_oracle():
    torch = need("torch")
    for equation, shapes, _ in EINSUM_MIXED_FLOATS:
        kinds = [np.float64, np.float32, np.float64]
        arrays = [np.ones(s, dtype=kinds[k]) for k, s in enumerate(shapes)]
        try:
            expected = str(torch.einsum(equation, *map(torch.from_numpy, arrays)).dtype)
        except RuntimeError as error:
            expected = str(error)
        try:
            got = str(symgrad.einsum(equation, *map(symgrad.from_numpy, arrays)).dtype)
        except RuntimeError as error:
            got = str(error)
        assert got.replace("symgrad.", "") == expected.replace("torch.", "")


def test_einsum_keeps_integer_dtype():
    a = symgrad.tensor([[1, 2], [3, 4]])
    out = symgrad.einsum("ii", a)
    assert out.dtype is symgrad.int64 and out.item() == 5


# ------------------------------------------------------------------- inverse, solve, det


def test_inv_gradient_formula():
    a = _conditioned(3, 3, requires_grad=True)
    g = np.random.default_rng(3).standard_normal((3, 3))
    linalg.inv(a).backward(symgrad.tensor(g))
    inverse = np.linalg.inv(a.detach().numpy())
    np.testing.assert_allclose(a.grad.numpy(), -inverse.T @ g @ inverse.T, rtol=1e-10)


def test_det_gradient_is_det_times_inverse_transpose():
    a = _conditioned(2, 3, 3, requires_grad=True)
    linalg.det(a).sum().backward()
    values = a.detach().numpy()
    expected = np.linalg.det(values)[:, None, None] * np.linalg.inv(values).swapaxes(-1, -2)
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-10)


def test_linalg_node_names_follow_torch():
    a = _conditioned(3, 3, requires_grad=True)
    assert linalg.inv(a).grad_fn.name() == "LinalgInvExBackward0"
    assert linalg.det(a).grad_fn.name() == "LinalgDetBackward0"
    assert linalg.solve(a, _tensor(3)).grad_fn.name() == "LinalgSolveExBackward0"
    assert linalg.solve(a, _tensor(2, 3), left=False).grad_fn.name() == "LinalgSolveExBackward0"


def test_torch_top_level_names_and_methods():
    a = _conditioned(3, 3)
    np.testing.assert_allclose(symgrad.inverse(a).numpy(), np.linalg.inv(a.numpy()))
    np.testing.assert_allclose(a.inverse().numpy(), np.linalg.inv(a.numpy()))
    np.testing.assert_allclose(symgrad.det(a).numpy(), np.linalg.det(a.numpy()))
    np.testing.assert_allclose(a.det().numpy(), np.linalg.det(a.numpy()))


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((3, 3), (3,), (3,)),
        ((3, 3), (3, 2), (3, 2)),
        ((5, 3, 3), (5, 3), (5, 3)),  # a batch of vectors
        ((5, 3, 3), (3,), (5, 3)),  # one vector for every matrix
        ((5, 3, 3), (3, 3), (5, 3, 3)),  # a matrix broadcast over the batch
        ((5, 3, 3), (2, 5, 3, 4), (2, 5, 3, 4)),
    ],
)
def test_solve_shapes_follow_torch(a, b, expected):
    assert tuple(linalg.solve(_conditioned(*a), _tensor(*b)).shape) == expected


def test_solve_left_false_solves_x_a_equals_b():
    a, b = _conditioned(3, 3), _tensor(2, 3)
    x = linalg.solve(a, b, left=False)
    np.testing.assert_allclose(x.numpy() @ a.numpy(), b.numpy(), atol=1e-12)


@pytest.mark.parametrize("left", [True, False])
def test_solve_gradients_with_broadcast_batches(left):
    a = _conditioned(2, 3, 3)
    b = _tensor(3, 4) if left else _tensor(4, 3)
    check_grads(lambda a, b: linalg.solve(a, b, left=left), [a, b], order=2)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: linalg.inv(_tensor(2, 3)),
            "linalg.inv: A must be batches of square matrices, but they are 2 by 3 matrices",
        ),
        (
            lambda: linalg.inv(_tensor(3)),
            "linalg.inv: The input tensor A must have at least 2 dimensions.",
        ),
        (
            lambda: linalg.inv(symgrad.ones(3, 3, dtype=symgrad.int64)),
            "linalg.inv: Expected a floating point or complex tensor as input. Got Long",
        ),
        (
            lambda: linalg.det(_tensor(2, 3)),
            "linalg.det: A must be batches of square matrices, but they are 2 by 3 matrices",
        ),
        (
            lambda: linalg.det(symgrad.ones(3, 3, dtype=symgrad.int64)),
            "linalg.det: Expected a floating point or complex tensor as input. Got Long",
        ),
        (
            lambda: linalg.solve(_conditioned(3, 3), _tensor(4)),
            r"linalg.solve: Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x1\)",
        ),
        (
            lambda: linalg.solve(_conditioned(3, 3), _tensor(3), left=False),
            r"linalg.solve: Incompatible shapes of A and B for the equation XA = B \(3x3 and 3x1\)",
        ),
        (
            lambda: linalg.solve(_conditioned(3, 3), _tensor(3, dtype=np.float32)),
            "linalg.solve: Expected A and B to have the same dtype, but found A of type Double "
            "and B of type Float instead",
        ),
    ],
)
def test_linalg_errors_match_torch(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


def test_singular_matrices_raise_torch_linalg_error():
    singular = symgrad.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(linalg.LinAlgError, match="linalg.inv: The diagonal element 2 is zero"):
        linalg.inv(singular)
    batch = symgrad.tensor(np.stack([np.eye(3), np.zeros((3, 3))]))
    with pytest.raises(RuntimeError, match=r"linalg.inv: \(Batch element 1\): The diagonal"):
        linalg.inv(batch)
    with pytest.raises(
        linalg.LinAlgError,
        match=r"torch.linalg.solve: \(Batch element 1\): The solver failed because the input "
        "matrix is singular.",
    ):
        linalg.solve(batch, symgrad.ones(3, dtype=symgrad.float64))
    assert issubclass(linalg.LinAlgError, RuntimeError)


def test_det_of_singular_matrix_is_zero():
    assert linalg.det(symgrad.tensor([[1.0, 2.0], [2.0, 4.0]])).item() == 0.0
