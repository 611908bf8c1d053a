"""Reductions beyond the op table: zeros in prod/cumprod gradients, (values, indices) results,
ties, legacy signatures, dtypes, errors, stability, and the PyTorch oracle for every case of
cases_reduce.py (run in the torch environment as a subprocess when it is installed)."""

import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from extras import INSTALL
from oracle import TORCH_PYTHON, compare, run_case

import symgrad
from symgrad.ops.reduce import vector_norm
from symgrad.testing import check_grads


def t(values, dtype=symgrad.float64, requires_grad=False):
    return symgrad.tensor(values, dtype=dtype, requires_grad=requires_grad)


def grad_of(fn, values):
    x = t(values, requires_grad=True)
    (g,) = symgrad.autograd.grad(fn(x), [x])
    return g.numpy()


def hessian(fn, values):
    """The full Hessian of a scalar function, one row per input element."""
    x = t(values, requires_grad=True)
    (g,) = symgrad.autograd.grad(fn(x), [x], create_graph=True)
    flat = g.reshape(-1)
    rows = []
    for i in range(flat.shape[0]):
        (row,) = symgrad.autograd.grad(flat[i], [x], retain_graph=True, allow_unused=True)
        rows.append(np.zeros(x.shape) if row is None else row.numpy())
    return np.stack([r.reshape(-1) for r in rows])


# ------------------------------------------------------------------- prod/cumprod with zeros

ZEROS = {
    "one zero": [2.0, 0.0, 3.0, 0.5],
    "two zeros": [2.0, 0.0, 3.0, 0.0],
    "zero first": [0.0, -1.5, 3.0, 0.5],
    "zero last": [2.0, -1.5, 3.0, 0.0],
}


@pytest.mark.parametrize("values", ZEROS.values(), ids=ZEROS.keys())
def test_prod_gradient_is_the_product_of_the_others_with_zeros(values):
    expected = [np.prod(np.delete(values, i)) for i in range(len(values))]
    np.testing.assert_array_equal(grad_of(symgrad.prod, values), expected)
    np.testing.assert_array_equal(grad_of(lambda x: x.prod(0), values), expected)
    check_grads(symgrad.prod, [t(values)], order=3)
    check_grads(lambda x: x.reshape(2, 2).prod(1, keepdim=True), [t(values)], order=2)


def test_prod_hessian_with_one_and_two_zeros_matches_torch():
    # torch.autograd.functional.hessian(lambda t: t.prod(), ...) printed these.
    one = [
        [0.0, 1.5, 0.0, 0.0],
        [1.5, 0.0, 1.0, 6.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 6.0, 0.0, 0.0],
    ]
    two = np.zeros((4, 4))
    two[1, 3] = two[3, 1] = 6.0
    np.testing.assert_allclose(hessian(symgrad.prod, ZEROS["one zero"]), one)
    np.testing.assert_allclose(hessian(symgrad.prod, ZEROS["two zeros"]), two)


@pytest.mark.parametrize("values", ZEROS.values(), ids=ZEROS.keys())
def test_cumprod_gradient_with_zeros(values):
    n = len(values)
    expected = [sum(np.prod(np.delete(values[: k + 1], i)) for k in range(i, n)) for i in range(n)]
    np.testing.assert_allclose(grad_of(lambda x: x.cumprod(0).sum(), values), expected)
    check_grads(lambda x: x.cumprod(0), [t(values)], order=3)
    check_grads(lambda x: x.reshape(2, 2).cumprod(-1), [t(values)], order=2)
    assert np.all(np.isfinite(hessian(lambda x: x.cumprod(0).sum(), values)))


def test_cumprod_hessian_with_zeros_matches_torch():
    # torch.autograd.functional.hessian(lambda t: t.cumprod(0).sum(), ...) printed these.
    one = [[0, 5.5, 0, 0], [5.5, 0, 3, 6], [0, 3, 0, 0], [0, 6, 0, 0]]
    two = [[0, 4, 0, 0], [4, 0, 2, 6], [0, 2, 0, 0], [0, 6, 0, 0]]
    np.testing.assert_allclose(hessian(lambda x: x.cumprod(0).sum(), ZEROS["one zero"]), one)
    np.testing.assert_allclose(hessian(lambda x: x.cumprod(0).sum(), ZEROS["two zeros"]), two)


def test_prod_and_cumprod_of_integers_and_bools_give_int64():
    assert symgrad.prod(t([[1, 2], [3, 4]], symgrad.int32), 1).dtype is symgrad.int64
    assert symgrad.prod(t([True, False], symgrad.bool)).dtype is symgrad.int64
    assert symgrad.cumprod(t([1, 2, 3], symgrad.int32), 0).tolist() == [1, 2, 6]
    assert symgrad.cumsum(t([True, True, False], symgrad.bool), 0).dtype is symgrad.int64


def test_prod_takes_one_dim_only():
    with pytest.raises(TypeError, match=r"^prod\(\) received an invalid combination"):
        symgrad.prod(t([[1.0, 2.0]]), (0, 1))


def test_cumsum_gradient_is_the_reversed_running_sum():
    g = grad_of(lambda x: (x.cumsum(1) * t([[1.0, 2.0, 3.0]])).sum(), [[0.5, -1.0, 2.0]])
    np.testing.assert_array_equal(g, [[6.0, 5.0, 3.0]])
    assert symgrad.cumsum(t([1.0], requires_grad=True), 0).grad_fn.name() == "CumsumBackward0"


# ------------------------------------------------------------------------ max, min, argmax


def test_max_with_dim_returns_values_and_indices_like_torch_return_types():
    x = t([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], symgrad.float32, requires_grad=True)
    result = symgrad.max(x, 1)
    assert isinstance(result, tuple) and len(result) == 2
    values, indices = result
    assert result.values is values and result.indices is indices
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [1, 0]
    assert indices.dtype is symgrad.int64 and indices.grad_fn is None
    assert values.grad_fn.name() == "MaxBackward0"
    assert repr(result) == (
        "torch.return_types.max(\n"
        "values=tensor([3., 2.], grad_fn=<MaxBackward0>),\n"
        "indices=tensor([1, 0]))"
    )
    low = x.min(dim=0, keepdim=True)
    assert type(low).__name__ == "min" and low.indices.tolist() == [[0, 1, 1]]
    assert low.values.grad_fn.name() == "MinBackward0"


def test_max_with_dim_sends_the_gradient_to_the_first_index_among_ties():
    values = [[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]]
    np.testing.assert_array_equal(
        grad_of(lambda x: x.max(1).values.sum(), values), [[0, 1, 0], [1, 0, 0]]
    )
    np.testing.assert_array_equal(
        grad_of(lambda x: x.min(1).values.sum(), values), [[1, 0, 0], [0, 1, 0]]
    )


def test_amax_amin_and_full_max_share_the_gradient_among_ties():
    values = [[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]]
    np.testing.assert_array_equal(
        grad_of(lambda x: x.amax(1).sum(), values), [[0, 0.5, 0.5], [0.5, 0, 0.5]]
    )
    np.testing.assert_array_equal(grad_of(symgrad.max, values), [[0, 0.5, 0.5], [0, 0, 0]])
    np.testing.assert_array_equal(
        grad_of(lambda x: x.amin((0, 1)), [[1.0, 0.0], [0.0, 0.0]]), [[0, 1 / 3], [1 / 3, 1 / 3]]
    )
    x = t(values, requires_grad=True)
    assert symgrad.max(x).grad_fn.name() == "MaxBackward1"
    assert symgrad.min(x).grad_fn.name() == "MinBackward1"
    assert symgrad.amax(x).grad_fn.name() == "AmaxBackward0"
    assert symgrad.amin(x, -1).grad_fn.name() == "AminBackward0"


def test_argmax_flattens_without_dim_and_returns_int64():
    x = t([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
    assert symgrad.argmax(x).item() == 2 and symgrad.argmax(x).dtype is symgrad.int64
    assert symgrad.argmax(x).grad_fn is None
    assert tuple(symgrad.argmax(x, keepdim=True).shape) == (1, 1)
    assert x.argmin(dim=1).tolist() == [0, 1]
    assert x.argmax(-2, keepdim=True).tolist() == [[1, 0]]
    assert symgrad.argmax(t(3.0), 0).item() == 0


def test_max_of_integers_and_bools_keeps_the_dtype():
    values, indices = symgrad.max(t([[1, 3], [4, 2]], symgrad.int32), 0)
    assert values.dtype is symgrad.int32 and values.tolist() == [4, 3]
    assert symgrad.max(t([True, False], symgrad.bool)).dtype is symgrad.bool


def test_max_and_argmax_propagate_nan_like_torch():
    values, indices = symgrad.max(t([1.0, math.nan, 3.0]), 0)
    assert math.isnan(values.item()) and indices.item() == 1
    assert symgrad.argmax(t([1.0, math.nan, 3.0, math.nan])).item() == 1


def test_max_and_min_of_two_tensors_are_elementwise_maximum_and_minimum():
    a, b = t([1.0, 5.0], requires_grad=True), t([3.0, 2.0])
    assert symgrad.max(a, b).tolist() == [3.0, 5.0]
    assert a.max(b).grad_fn.name() == "MaximumBackward0"
    assert symgrad.min(a, other=b).tolist() == [1.0, 2.0]
    assert symgrad.min(a, b).grad_fn.name() == "MinimumBackward0"


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: symgrad.max(symgrad.zeros(0)), RuntimeError, "max(): Expected reduction dim to"),
        (
            lambda: symgrad.min(symgrad.zeros(2, 0), 1),
            IndexError,
            "min(): Expected reduction dim 1",
        ),
        (lambda: symgrad.amax(symgrad.zeros(2, 0)), RuntimeError, "amax(): Expected reduction dim"),
        (
            lambda: symgrad.amin(symgrad.zeros(2, 0), -1),
            IndexError,
            "amin(): Expected reduction dim 1",
        ),
        (lambda: symgrad.argmax(symgrad.zeros(0)), IndexError, "argmax(): Expected reduction dim"),
        (
            lambda: symgrad.argmax(symgrad.zeros(2, 0), 1),
            IndexError,
            "argmax(): Expected reduction",
        ),
        (lambda: symgrad.max(symgrad.zeros(2), (0,)), TypeError, "max() received an invalid"),
        (lambda: symgrad.argmax(symgrad.zeros(2), (0,)), TypeError, "argmax(): argument 'dim'"),
    ],
)
def test_reductions_without_identity_refuse_empty_dims_with_torch_messages(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value).startswith(message)


def test_amax_over_a_non_empty_dim_of_an_empty_tensor_is_empty():
    assert tuple(symgrad.amax(symgrad.zeros(2, 0), 0).shape) == (0,)


# ---------------------------------------------------------------------------------- var, std


def test_var_signatures_match_torch():
    x = t([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    data = x.numpy()
    np.testing.assert_allclose(symgrad.var(x).item(), np.var(data, ddof=1))
    np.testing.assert_allclose(symgrad.var(x, False).item(), np.var(data))
    np.testing.assert_allclose(x.var(0, True, True).numpy(), np.var(data, 0, ddof=1, keepdims=True))
    np.testing.assert_allclose(x.var(1, unbiased=False).numpy(), np.var(data, 1))
    np.testing.assert_allclose(x.var([0, 1], correction=2.5).item(), np.var(data, ddof=2.5))
    np.testing.assert_allclose(x.std(dim=1, correction=0).numpy(), np.std(data, 1))
    with pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0"):  # torch warns too
        assert math.isinf(x.var(1, correction=3)[0].item())
    with pytest.raises(TypeError, match=r"^var\(\) received an invalid combination"):
        symgrad.var(x, 1, unbiased=True, correction=1)


def test_var_and_std_refuse_integers_with_torch_message():
    for function in (symgrad.var, symgrad.std):
        with pytest.raises(RuntimeError, match="^std and var only support floating point"):
            function(t([1, 2], symgrad.int64))


def test_std_gradient_of_a_constant_slice_is_zero_not_nan():
    g = grad_of(lambda x: x.std(1).sum(), [[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(g[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(g[1], [-0.5, 0.0, 0.5])
    x = t([1.0, 2.0], requires_grad=True)
    assert x.var().grad_fn.name() == "VarBackward0"
    assert x.std().grad_fn.name() == "StdBackward0"


# ---------------------------------------------------------------------------------- norms


def test_two_norm_gradient_at_zero_is_zero_like_torch():
    for fn in (symgrad.norm, lambda x: vector_norm(x, 2, 1), lambda x: vector_norm(x, 3)):
        g = grad_of(lambda x, f=fn: f(x).sum(), [[0.0, 0.0], [0.0, 0.0]])
        np.testing.assert_array_equal(g, np.zeros((2, 2)))


def test_norm_orders_and_their_gradients_match_torch_at_zeros():
    # torch.linalg.vector_norm(z, p).backward() with z = [0, 2, -2, 1] printed these.
    values = [0.0, 2.0, -2.0, 1.0]
    expected = {
        1: [0.0, 1.0, -1.0, 1.0],
        1.5: [0.0, 0.7517821, -0.7517821, 0.5315902],
        3: [0.0, 0.6050074, -0.6050074, 0.1512519],
        0.5: [0.0, 2.7071066, -2.7071066, 3.8284271],
        math.inf: [0.0, 0.5, -0.5, 0.0],
        -math.inf: [0.0, 0.0, 0.0, 0.0],
        -1: [0.0, 0.0, 0.0, 0.0],
    }
    for order, grad in expected.items():
        np.testing.assert_allclose(
            grad_of(lambda x, o=order: vector_norm(x, o), values), grad, rtol=1e-6
        )
    x = t(values, requires_grad=True)
    count = vector_norm(x, 0)
    assert count.item() == 3.0 and count.grad_fn.name() == "LinalgVectorNormBackward0"
    assert symgrad.autograd.grad(count, [x], allow_unused=True) == (None,)


def test_norm_string_orders_and_errors_match_torch():
    x = t([[3.0, 4.0], [0.0, 0.0]])
    assert symgrad.norm(x, "fro").item() == 5.0
    assert x.norm(None, (0, 1)).item() == 5.0
    assert x.norm(p=1, dim=1, keepdim=True).tolist() == [[7.0], [0.0]]
    assert x.norm(dtype=symgrad.float32).item() == 5.0
    with pytest.raises(RuntimeError, match="^linalg.matrix_norm: Order abc not supported."):
        symgrad.norm(x, "abc")
    with pytest.raises(RuntimeError, match="^linalg.matrix_norm: dim must be a 2-tuple"):
        symgrad.norm(symgrad.ones(2, 2, 2), "fro", (0, 1, 2))
    with pytest.raises(NotImplementedError, match="matrix norm"):
        symgrad.norm(x, "nuc")
    with pytest.raises(RuntimeError, match="^linalg.vector_norm: Expected a floating point"):
        symgrad.norm(t([1, 2], symgrad.int64))
    with pytest.raises(RuntimeError, match="^linalg.vector_norm: dtype should be floating"):
        vector_norm(x, dtype=symgrad.int64)
    with pytest.raises(RuntimeError, match="^linalg.vector_norm cannot compute the inf norm"):
        vector_norm(symgrad.zeros(0), math.inf)


# -------------------------------------------------------------------------------- logsumexp


@pytest.mark.parametrize("dtype", [symgrad.float32, symgrad.float64])
def test_logsumexp_is_finite_at_plus_minus_1e4(dtype):
    values = [[1e4, -1e4, 1e4 - 1], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4]]
    x = t(values, dtype, requires_grad=True)
    out = symgrad.logsumexp(x, 1)
    expected = [1e4 + math.log1p(math.exp(-1)), -1e4 + math.log(3), 1e4 + math.log(3)]
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)
    (g,) = symgrad.autograd.grad(out.sum(), [x])
    assert np.all(np.isfinite(g.numpy()))
    # float32 holds 1e4 + 0.31 to ~1e-3, so exp(x - out) is as good as torch's (0.7309).
    rtol = 1e-3 if dtype is symgrad.float32 else 1e-9
    softmax_first = [1 / (1 + math.exp(-1)), 0.0, math.exp(-1) / (1 + math.exp(-1))]
    np.testing.assert_allclose(g.numpy()[0], softmax_first, rtol=rtol)
    np.testing.assert_allclose(g.numpy()[1:], 1 / 3, rtol=rtol)
    assert out.dtype is dtype and out.grad_fn.name() == "LogsumexpBackward0"


def test_logsumexp_of_infinities_matches_torch():
    inf = math.inf
    x = t([[-inf, -inf], [1.0, -inf], [inf, 1.0], [inf, inf]], requires_grad=True)
    out = x.logsumexp(1)
    assert out.tolist() == [-inf, 1.0, inf, inf]
    (g,) = symgrad.autograd.grad(out.sum(), [x])
    # torch gives NaN where both the input and the result are infinite (exp(inf - inf)).
    np.testing.assert_array_equal(
        g.numpy(), [[math.nan, math.nan], [1.0, 0.0], [math.nan, 0.0], [math.nan, math.nan]]
    )


def test_logsumexp_of_integers_is_float_and_keepdim_works():
    out = symgrad.logsumexp(t([[0, 0]], symgrad.int64), -1, keepdim=True)
    assert out.dtype is symgrad.float32 and tuple(out.shape) == (1, 1)
    np.testing.assert_allclose(out.item(), math.log(2), rtol=1e-6)


# ----------------------------------------------------------------- all, any, count_nonzero


def test_truth_reductions_dtypes_match_torch():
    x = t([[1.0, 0.0], [2.0, 3.0]])
    assert symgrad.all(x).item() is False and x.all(1).tolist() == [False, True]
    assert x.any(0, keepdim=True).tolist() == [[True, True]]
    assert symgrad.all(x, (0, 1)).dtype is symgrad.bool
    byte = t([[1, 0], [2, 3]], symgrad.uint8)
    assert symgrad.all(byte).dtype is symgrad.uint8 and symgrad.any(byte, 1).tolist() == [1, 1]
    counts = x.count_nonzero(dim=0)
    assert counts.dtype is symgrad.int64 and counts.tolist() == [2, 1]
    assert symgrad.count_nonzero(x).item() == 3 and symgrad.count_nonzero(x, (0, 1)).item() == 3


# ------------------------------------------------------------------------- sum, mean, dims


def test_dims_follow_torch_rules():
    x = t([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert symgrad.sum(x, ()).item() == 10.0  # an empty dim list reduces every dim
    assert symgrad.sum(x, ()).grad_fn.name() == "SumBackward1"
    assert x.mean([0, 1]).item() == 2.5
    assert symgrad.sum(t(2.0), -1).item() == 2.0
    with pytest.raises(RuntimeError, match="^dim 0 appears multiple times in the list of dims"):
        symgrad.sum(x, (0, -2))
    with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in range"):
        symgrad.amax(x, 2)


def test_sum_of_integers_gives_int64():
    assert symgrad.sum(t([1, 2], symgrad.int32)).dtype is symgrad.int64
    assert symgrad.sum(t([True, True], symgrad.bool)).item() == 2


def test_sum_mean_prod_cumsum_dtype_argument_sets_the_result_dtype():
    x = t([[1.0, 2.0]], symgrad.float32, requires_grad=True)
    for out in (
        symgrad.sum(x, dtype=symgrad.float64),
        x.mean(1, dtype=symgrad.float64),
        x.prod(dtype=symgrad.float64),
        x.cumsum(1, dtype=symgrad.float64),
        x.cumprod(-1, dtype=symgrad.float64),
        vector_norm(x, dtype=symgrad.float64),
    ):
        assert out.dtype is symgrad.float64
        (g,) = symgrad.autograd.grad(out.sum(), [x])
        assert g.dtype is symgrad.float32
    assert symgrad.sum(t([1, 2], symgrad.int64), dtype=symgrad.float32).dtype is symgrad.float32


def test_tensor_methods_exist():
    for name in (
        "sum mean prod max min amax amin argmax argmin var std norm logsumexp cumsum cumprod "
        "all any count_nonzero"
    ).split():
        assert callable(getattr(symgrad.Tensor, name)) and callable(getattr(symgrad, name))


# -------------------------------------------------------------------------- torch oracle


@pytest.mark.skipif(TORCH_PYTHON is None, reason=INSTALL["torch"])
def test_every_reduce_case_matches_torch():
    """Values, dtypes, grad_fn names, and first and second order gradients of each case of
    cases_reduce.py against PyTorch (which lives in its own environment)."""
    tests = pathlib.Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tests.parent), str(tests)]))
    result = subprocess.run(
        [TORCH_PYTHON, __file__], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def _oracle_main() -> int:
    import op_table  # noqa: F401 - loads the whole table first (cases modules import it)
    import torch

    from ops.cases_reduce import CASES

    torch.set_default_dtype(torch.float32)
    problems = []
    checked = 0
    for case in CASES:
        for variant in range(len(case.variants)):
            inputs = case.sample(variant, np.float64)
            name = f"{case.name}-{variant}"
            try:
                ours = run_case(symgrad, case, inputs)
                theirs = run_case(torch, case, inputs)
            except Exception as error:  # report every case, not only the first failure
                problems.append(f"{name}: {type(error).__name__}: {error}")
                continue
            problems.extend(compare(name, ours, theirs))
            checked += 1
    print(f"{checked} case variants compared with torch {torch.__version__}")
    print("\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(_oracle_main())
