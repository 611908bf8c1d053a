"""symgrad/ops/activation.py beyond the op table: stability at +-1e4, torch's values and
gradients at kinks, node names, errors, dropout, one_hot, in-place variants."""

import numpy as np
import pytest

import symgrad
from symgrad.autograd import grad
from symgrad.ops import activation as F

EXTREMES = [-1e4, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4]


def _first_and_second_grads(fn, x):
    """f(x), df/dx of sum(f) and d/dx of sum(df/dx), all as numpy arrays."""
    x = x.detach().requires_grad_(True)
    y = fn(x)
    (first,) = grad(y.sum(), [x], create_graph=True)
    (second,) = grad(first.sum(), [x], allow_unused=True)
    second = np.zeros(x.shape) if second is None else second.numpy()
    return y.detach().numpy(), first.detach().numpy(), second


STABLE = {
    "softplus": F.softplus,
    "logsigmoid": F.logsigmoid,
    "log_softmax": lambda x: F.log_softmax(x, 0),
    "softmax": lambda x: F.softmax(x, 0),
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "elu": F.elu,
    "mish": F.mish,
    "softplus_beta": lambda x: F.softplus(x, beta=0.5, threshold=5.0),
}


@pytest.mark.parametrize("name", sorted(STABLE))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_gradients_are_finite_at_extremes(name, dtype):
    x = symgrad.tensor(np.array(EXTREMES, dtype=dtype))
    with np.errstate(all="raise"):
        value, first, second = _first_and_second_grads(STABLE[name], x)
    for array in (value, first, second):
        assert np.all(np.isfinite(array)), (name, array)
    assert value.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_forms_give_exact_limits(dtype):
    x = symgrad.tensor(np.array([-1e4, 1e4], dtype=dtype))
    np.testing.assert_array_equal(F.softplus(x).numpy(), [0.0, 1e4])
    np.testing.assert_array_equal(F.logsigmoid(x).numpy(), [-1e4, 0.0])
    np.testing.assert_array_equal(F.log_softmax(x, 0).numpy(), [-2e4, 0.0])
    np.testing.assert_array_equal(F.softmax(x, 0).numpy(), [0.0, 1.0])
    rows = symgrad.tensor(np.array([[1e4, 0.0, -1e4]], dtype=dtype), requires_grad=True)
    out = F.log_softmax(rows, 1)
    np.testing.assert_array_equal(out.detach().numpy(), [[0.0, -1e4, -2e4]])
    out.sum().backward()
    np.testing.assert_allclose(rows.grad.numpy(), [[-2.0, 1.0, 1.0]])


# Values and gradients from torch 2.13 (float64) at kinks and large inputs.
KINKS = [-1.0, 0.0, 1.0, 6.0, -1e4, 1e4]
TORCH_GRADIENTS = {
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), [0.1, 0.1, 1.0, 1.0, 0.1, 1.0]),
    "elu": (lambda x: F.elu(x, 0.5), [0.18393972058572117, 0.5, 1.0, 1.0, 0.0, 1.0]),
    "hardtanh": (F.hardtanh, [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]),
    "relu6": (F.relu6, [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]),
    "softplus": (
        F.softplus,
        [0.2689414213699951, 0.5, 0.7310585786300049, 0.9975273768433652, 0.0, 1.0],
    ),
    "logsigmoid": (
        F.logsigmoid,
        [0.7310585786300049, 0.5, 0.2689414213699951, 0.0024726231566347748, 1.0, 0.0],
    ),
    "gelu": (
        F.gelu,
        [-0.08331547058768635, 0.5, 1.0833154705876864, 1.0000000354687093, 0.0, 1.0],
    ),
    "silu": (
        F.silu,
        [0.07232948812851325, 0.5, 0.9276705118714869, 1.0123264325915249, 0.0, 1.0],
    ),
    "mish": (
        F.mish,
        [0.059216755877395014, 0.6, 1.0490362200997922, 1.00013414050621, 0.0, 1.0],
    ),
}


@pytest.mark.parametrize("name", sorted(TORCH_GRADIENTS))
def test_gradients_at_kinks_match_torch(name):
    fn, expected = TORCH_GRADIENTS[name]
    x = symgrad.tensor(np.array(KINKS), requires_grad=True)
    fn(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-15)


def test_gelu_second_derivative_matches_torch():
    x = symgrad.tensor(np.array([-1.0, 0.0, 1.0, 6.0]))
    _, _, second = _first_and_second_grads(F.gelu, x)
    expected = [0.24197072451914337, 0.7978845608028654, 0.24197072451914337, -2.06580016894e-07]
    np.testing.assert_allclose(second, expected, rtol=1e-9, atol=1e-15)


NODE_NAMES = {
    "softmax": (lambda x: F.softmax(x, 1), "SoftmaxBackward0"),
    "log_softmax": (lambda x: F.log_softmax(x, 1), "LogSoftmaxBackward0"),
    "gelu": (F.gelu, "GeluBackward0"),
    "silu": (F.silu, "SiluBackward0"),
    "softplus": (F.softplus, "SoftplusBackward0"),
    "elu": (F.elu, "EluBackward0"),
    "leaky_relu": (F.leaky_relu, "LeakyReluBackward0"),
    "logsigmoid": (F.logsigmoid, "LogSigmoidBackward0"),
    "hardtanh": (F.hardtanh, "HardtanhBackward0"),
    "relu6": (F.relu6, "HardtanhBackward0"),
    "mish": (F.mish, "MishBackward0"),
    "normalize": (F.normalize, "DivBackward0"),
    "layer_norm": (lambda x: F.layer_norm(x, (4,)), "NativeLayerNormBackward0"),
    "dropout": (F.dropout, "MulBackward0"),
    "linear": (lambda x: F.linear(x, symgrad.ones(2, 4, dtype=symgrad.float64)), "MmBackward0"),
}


@pytest.mark.parametrize("name", sorted(NODE_NAMES))
def test_node_names_follow_torch(name):
    fn, expected = NODE_NAMES[name]
    x = symgrad.tensor(np.ones((3, 4)), requires_grad=True)
    assert fn(x).grad_fn.name() == expected


def test_torch_level_names_and_tensor_methods():
    x = symgrad.tensor(np.arange(6.0).reshape(2, 3))
    expected = np.exp(x.numpy()) / np.exp(x.numpy()).sum(1, keepdims=True)
    for out in (x.softmax(1), symgrad.softmax(x, 1), symgrad.softmax(x, dim=1)):
        np.testing.assert_allclose(out.numpy(), expected)
    np.testing.assert_allclose(x.log_softmax(1).numpy(), np.log(expected))
    np.testing.assert_allclose(symgrad.log_softmax(x, 1).numpy(), np.log(expected))
    assert symgrad.layer_norm is F.layer_norm
    np.testing.assert_array_equal(x.relu().numpy(), x.numpy())


def test_softmax_dtype_argument_casts_the_input_first():
    x = symgrad.tensor([[1, 2, 3]])
    out = F.softmax(x, 1, dtype=symgrad.float64)
    assert out.dtype is symgrad.float64
    np.testing.assert_allclose(out.numpy(), [np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum()])
    assert F.log_softmax(symgrad.ones(2, 3), 1, dtype=symgrad.float64).dtype is symgrad.float64


def test_softmax_of_zero_dim_tensor_is_one():
    out = F.softmax(symgrad.tensor(3.0), 0)
    assert out.shape == () and out.item() == 1.0
    assert F.log_softmax(symgrad.tensor(3.0), -1).item() == 0.0


def test_softmax_without_dim_warns_and_picks_torchs_dim():
    x = symgrad.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = F.softmax(x)
    np.testing.assert_allclose(out.numpy().sum(1), [1.0, 1.0])


def test_softmax_gradient_sums_to_zero_along_dim():
    x = symgrad.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    weights = symgrad.tensor(np.random.default_rng(1).standard_normal((3, 4)))
    (F.softmax(x, 0) * weights).sum().backward()
    np.testing.assert_allclose(x.grad.numpy().sum(0), 0.0, atol=1e-12)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda x: F.softmax(x, 1),
            NotImplementedError,
            "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'",
        ),
        (
            lambda x: F.softmax(x, 0),
            NotImplementedError,
            "\"softmax_kernel_impl\" not implemented for 'Long'",
        ),
        (
            lambda x: F.log_softmax(x, 1),
            NotImplementedError,
            "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'",
        ),
        (lambda x: F.gelu(x), NotImplementedError, "\"GeluKernelImpl\" not implemented for 'Long'"),
        (lambda x: F.silu(x), NotImplementedError, "\"silu_cpu\" not implemented for 'Long'"),
        (lambda x: F.softplus(x), NotImplementedError, "softplus_cpu"),
        (lambda x: F.elu(x), NotImplementedError, "elu_cpu"),
        (lambda x: F.leaky_relu(x), NotImplementedError, "leaky_relu_cpu"),
        (lambda x: F.logsigmoid(x), NotImplementedError, "log_sigmoid_cpu"),
        (lambda x: F.mish(x), NotImplementedError, "mish_cpu"),
        (lambda x: F.layer_norm(x, (3,)), NotImplementedError, "LayerNormKernelImpl"),
        (
            lambda x: F.dropout(x),
            RuntimeError,
            "result type Float can't be cast to the desired output type Long",
        ),
    ],
)
def test_integer_inputs_are_rejected_like_torch(call, error, message):
    x = symgrad.tensor([[1, 2, 3]])
    with pytest.raises(error, match=message):
        call(x)


def test_softmax_dim_out_of_range():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of"):
        F.softmax(symgrad.ones(3), 1)


def test_argument_errors_match_torch():
    x = symgrad.ones(3)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh."):
        F.gelu(x, approximate="foo")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 2.0, 1.0)
    for p in (1.5, -0.1):
        with pytest.raises(
            ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"
        ):
            F.dropout(x, p)


def test_hardtanh_and_relu6_keep_integer_dtype():
    x = symgrad.tensor([-3, 0, 4, 9])
    assert F.hardtanh(x).dtype is symgrad.int64
    np.testing.assert_array_equal(F.relu6(x).numpy(), [0, 0, 4, 6])


# ------------------------------------------------------------------------- normalization


def test_layer_norm_values_in_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    out = F.layer_norm(symgrad.tensor(x), (3, 4), symgrad.tensor(w), symgrad.tensor(b))
    flat = x.reshape(2, 12)
    expected = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-5)
    assert out.dtype is symgrad.float32
    np.testing.assert_allclose(out.numpy(), expected.reshape(2, 3, 4) * w + b, rtol=1e-5, atol=1e-6)


def test_layer_norm_accepts_an_int_shape():
    x = symgrad.tensor(np.arange(8.0).reshape(2, 4))
    np.testing.assert_allclose(F.layer_norm(x, 4).numpy(), F.layer_norm(x, (4,)).numpy())


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: F.layer_norm(symgrad.ones(3, 4), (3,)),
            r"Given normalized_shape=\[3\], expected input with shape \[\*, 3\], but got input of "
            r"size\[3, 4\]",
        ),
        (
            lambda: F.layer_norm(symgrad.ones(3, 4), (4,), symgrad.ones(3)),
            r"Expected weight to be of same shape as normalized_shape, but got weight of shape "
            r"\[3\] and normalized_shape = \[4\]",
        ),
        (
            lambda: F.layer_norm(symgrad.ones(3, 4), (4,), None, symgrad.ones(2)),
            r"Expected bias to be of same shape as normalized_shape, but got bias of shape \[2\]",
        ),
        (
            lambda: F.layer_norm(symgrad.ones(3, 4, dtype=symgrad.float64), (4,), symgrad.ones(4)),
            r"mixed dtype \(CPU\): all inputs must share same datatype.",
        ),
    ],
)
def test_layer_norm_errors_match_torch(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


def test_normalize_of_a_zero_row_is_zero_with_torchs_gradient():
    x = symgrad.zeros(1, 3, dtype=symgrad.float64, requires_grad=True)
    out = F.normalize(x)
    np.testing.assert_array_equal(out.detach().numpy(), 0.0)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1e12)  # 1 / eps, as torch gives


def test_normalize_rows_have_unit_norm():
    x = symgrad.tensor(np.random.default_rng(0).standard_normal((3, 5)))
    np.testing.assert_allclose(np.linalg.norm(F.normalize(x).numpy(), axis=1), 1.0)


def test_linear_matches_numpy_with_and_without_bias():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    out = F.linear(symgrad.tensor(x), symgrad.tensor(w), symgrad.tensor(b))
    np.testing.assert_allclose(out.numpy(), x @ w.T + b)
    np.testing.assert_allclose(F.linear(symgrad.tensor(x), symgrad.tensor(w)).numpy(), x @ w.T)


# ------------------------------------------------------------------------------- dropout


def test_dropout_is_reproducible_with_manual_seed():
    x = symgrad.ones(1000, dtype=symgrad.float64)
    symgrad.manual_seed(3)
    first = F.dropout(x, 0.25).numpy()
    symgrad.manual_seed(3)
    second = F.dropout(x, 0.25).numpy()
    np.testing.assert_array_equal(first, second)
    assert set(np.unique(first)) == {0.0, 1 / 0.75}
    assert 0.2 < np.mean(first == 0) < 0.3
    third = F.dropout(x, 0.25).numpy()
    assert not np.array_equal(first, third)


def test_dropout_gradient_is_the_scaled_mask():
    x = symgrad.ones(50, dtype=symgrad.float64, requires_grad=True)
    out = F.dropout(x, 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())


def test_dropout_identity_cases_return_the_input():
    x = symgrad.ones(4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_with_p_one_zeroes_everything():
    x = symgrad.ones(4, requires_grad=True)
    out = F.dropout(x, 1.0)
    np.testing.assert_array_equal(out.detach().numpy(), 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)


def test_dropout_in_place_writes_into_the_input():
    x = symgrad.ones(100)
    symgrad.manual_seed(0)
    result = F.dropout(x, 0.5, inplace=True)
    assert result is x
    assert set(np.unique(x.numpy())) == {0.0, 2.0}


# ------------------------------------------------------------------------------ in-place


@pytest.mark.parametrize(
    "name, fn",
    [
        ("relu", lambda x, inplace: F.relu(x, inplace=inplace)),
        ("elu", lambda x, inplace: F.elu(x, inplace=inplace)),
        ("leaky_relu", lambda x, inplace: F.leaky_relu(x, 0.2, inplace=inplace)),
        ("hardtanh", lambda x, inplace: F.hardtanh(x, inplace=inplace)),
        ("silu", lambda x, inplace: F.silu(x, inplace=inplace)),
        ("mish", lambda x, inplace: F.mish(x, inplace=inplace)),
    ],
)
def test_in_place_variants_match_out_of_place(name, fn):
    data = np.array([-2.0, -0.5, 0.5, 2.0])
    leaf = symgrad.tensor(data, requires_grad=True)
    expected = fn(leaf * 1, False)
    expected.sum().backward()
    expected_grad = leaf.grad.numpy().copy()
    leaf.grad = None
    hidden = leaf * 1
    result = fn(hidden, True)
    assert result is hidden
    np.testing.assert_allclose(hidden.detach().numpy(), expected.detach().numpy())
    hidden.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), expected_grad)


# ------------------------------------------------------------------------------- one_hot


def test_one_hot_values_and_dtype():
    out = F.one_hot(symgrad.tensor([[0, 2], [1, 0]]), 3)
    assert out.dtype is symgrad.int64 and tuple(out.shape) == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[[[0, 2], [1, 0]]])
    assert tuple(F.one_hot(symgrad.tensor([0, 4])).shape) == (2, 5)
    assert tuple(F.one_hot(symgrad.tensor([], dtype=symgrad.int64), 3).shape) == (0, 3)
    assert tuple(F.one_hot(symgrad.tensor(2), 3).shape) == (3,)


@pytest.mark.parametrize(
    "values, num_classes, message",
    [
        ([1.0, 2.0], -1, "one_hot is only applicable to index tensor of type LongTensor."),
        ([-1, 2], -1, "Class values must be non-negative."),
        ([1, 5], 3, "Class values must be smaller than num_classes."),
        ([1, 2], 0, "Class values must be smaller than num_classes."),
    ],
)
def test_one_hot_errors_match_torch(values, num_classes, message):
    with pytest.raises(RuntimeError, match=message):
        F.one_hot(symgrad.tensor(values), num_classes)


def test_one_hot_of_empty_tensor_needs_num_classes():
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty"):
        F.one_hot(symgrad.tensor([], dtype=symgrad.int64))


def test_one_hot_with_inferred_classes_cannot_be_compiled():
    # The number of classes (the output's shape) depends on the values.
    from symgrad.ir.trace import ConcretizationError

    with pytest.raises(ConcretizationError, match=r"one_hot\(\) with num_classes=-1"):
        symgrad.compile(F.one_hot)(symgrad.tensor([0, 2]))
    compiled = symgrad.compile(lambda x: F.one_hot(x, 3))
    np.testing.assert_array_equal(compiled(symgrad.tensor([0, 2])).numpy(), [[1, 0, 0], [0, 0, 1]])
