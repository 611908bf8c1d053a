"""Indexing beyond the op table: views against copies, accumulation of repeated indices,
``t[index] = value`` (gradients, leaves, broadcasting, dtypes), in-place index ops, compiled
indexing, warnings and torch's error texts; and the PyTorch oracle for every case of
cases_indexing.py and every error of ERRORS."""

import warnings

import numpy as np
import pytest
from extras import INSTALL

import symgrad
from ops.test_shape import TORCH_PYTHON, run_oracle
from symgrad.ops.indexing import Index
from symgrad.testing import check_grads


def arange(*shape, dtype=symgrad.float64):
    return symgrad.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


def grad_of(fn, x):
    x = x.detach().requires_grad_()
    fn(x).backward()
    return x.grad.numpy()


# ------------------------------------------------------------------------------ t[index]


@pytest.mark.parametrize(
    "key", [1, -1, slice(1, 3), (Ellipsis, 0), (None, 1), (0, slice(None, None, 2)), ()]
)
def test_basic_indices_give_views(key):
    x = arange(3, 4)
    view = x[key]
    assert np.shares_memory(view.numpy(), x.numpy())
    view.add_(100.0)
    assert x.numpy().sum() == np.arange(12.0).sum() + 100.0 * view.numel()


@pytest.mark.parametrize(
    "key", [[0, 2], symgrad.tensor([1]), (slice(None), [0, 0]), "mask", True, symgrad.tensor(True)]
)
def test_advanced_indices_give_copies(key):
    x = arange(3, 4)
    key = x > 5 if isinstance(key, str) else key
    out = x[key]
    assert out._base is None and not np.shares_memory(out.numpy(), x.numpy())


def test_a_zero_dim_integer_tensor_selects_like_an_int():
    x = arange(3, 4).requires_grad_()
    out = x[symgrad.tensor(2)]
    assert out.grad_fn.name() == "SelectBackward0"
    assert np.shares_memory(out.detach().numpy(), x.detach().numpy())


def test_an_integer_index_keeps_a_0d_view():
    x = arange(3)
    element = x[1]
    element.fill_(7.0)
    assert x.tolist() == [0.0, 7.0, 2.0]


def test_repeated_indices_accumulate_their_gradients():
    x = arange(4)
    np.testing.assert_array_equal(grad_of(lambda x: x[[0, 0, 2, 0]].sum(), x), [3, 0, 1, 0])
    index = symgrad.tensor([[1, 1], [3, 1]])
    np.testing.assert_array_equal(grad_of(lambda x: (x[index] * 2).sum(), x), [0, 6, 0, 2])


def test_two_index_tensors_broadcast_and_accumulate():
    x = arange(2, 3)
    rows, cols = symgrad.tensor([[0], [1], [0]]), symgrad.tensor([2, 2])
    assert x[rows, cols].shape == (3, 2)
    np.testing.assert_array_equal(grad_of(lambda x: x[rows, cols].sum(), x), [[0, 0, 4], [0, 0, 2]])


def test_mask_gradient_reaches_only_selected_elements():
    x = symgrad.tensor([[1.0, -2.0], [-3.0, 4.0]], dtype=symgrad.float64)
    np.testing.assert_array_equal(grad_of(lambda x: x[x > 0].sum() * 3, x), [[3, 0], [0, 3]])


def test_bool_scalar_index_adds_a_dim():
    x = arange(2, 3)
    assert x[True].shape == (1, 2, 3) and x[False].shape == (0, 2, 3)
    assert Index.from_user(True, (2, 3))[0] != Index.from_user(1, (2, 3))[0]


def test_uint8_index_is_a_deprecated_mask():
    x = arange(4)
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        out = x[symgrad.tensor([1, 0, 1, 0], dtype=symgrad.uint8)]
    assert out.tolist() == [0.0, 2.0]


def test_a_list_of_lists_is_read_as_a_tuple_with_torch_warning():
    x = arange(3, 3)
    with pytest.warns(UserWarning, match="Using a non-tuple sequence for multidimensional"):
        out = x[[[0, 1], [2, 2]]]
    assert out.tolist() == [2.0, 5.0]


def test_int32_index_tensors_index_like_int64():
    x = arange(5)
    out = x[symgrad.tensor([4, 0], dtype=symgrad.int32)]
    assert out.tolist() == [4.0, 0.0] and out.grad_fn is None


# ------------------------------------------------------------------------ t[index] = value


def _sum_to(array: np.ndarray, shape) -> np.ndarray:
    """numpy's broadcast reversed: sum ``array`` down to ``shape``."""
    while array.ndim > len(shape):
        array = array.sum(0)
    return array.sum(tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


@pytest.mark.parametrize(
    "key, value_shape, node",
    [
        (np.s_[1], (3,), "CopySlices"),
        (np.s_[1:3, 0], (), "CopySlices"),
        (np.s_[:, ::2], (1, 2), "CopySlices"),
        (np.s_[[0, 3]], (2, 3), "IndexPutBackward0"),
        (np.s_[[0, 3], [2, 1]], (1,), "IndexPutBackward0"),
        (np.s_[:, [2, 0]], (4, 1), "IndexPutBackward0"),
    ],
)
def test_assignment_gradients_reach_the_old_values_and_the_value(key, value_shape, node):
    x = symgrad.randn(4, 3, dtype=symgrad.float64, requires_grad=True)
    value = symgrad.randn(*value_shape, dtype=symgrad.float64, requires_grad=True)
    w = np.random.default_rng(0).standard_normal((4, 3))
    y = x * 1
    y[key] = value
    assert type(y.grad_fn).__name__ == node
    (y * symgrad.tensor(w)).sum().backward()
    expected = w.copy()
    expected[key] = 0.0
    np.testing.assert_allclose(x.grad.numpy(), expected)
    # The value was broadcast into the region: its gradient sums the region's weights.
    np.testing.assert_allclose(value.grad.numpy(), _sum_to(w[key], value_shape))


def test_assignment_through_a_mask_sums_the_value_gradient():
    x = arange(2, 3).requires_grad_()
    value = symgrad.tensor(5.0, dtype=symgrad.float64, requires_grad=True)
    y = x * 1
    y[x > 2] = value
    assert y.grad_fn.name() == "IndexPutBackward0"
    assert y.tolist() == [[0.0, 1.0, 2.0], [5.0, 5.0, 5.0]]
    (y * 2).sum().backward()
    assert value.grad.item() == 6.0
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 2, 2], [0, 0, 0]])


@pytest.mark.parametrize(
    "key, value_shape",
    [(np.s_[1:], (3,)), (np.s_[:, [0, 2]], (2,)), ("mask", ()), ("row_mask", (3,))],
)
def test_assignment_gradients_to_second_order(key, value_shape):
    def fn(x, value):
        y = x * x
        index = x > 0 if key == "mask" else (x[:, 0] > 0 if key == "row_mask" else key)
        y[index] = value * value
        return y * x

    x = symgrad.randn(4, 3, dtype=symgrad.float64)
    check_grads(fn, [x, symgrad.randn(*value_shape, dtype=symgrad.float64)], order=2)


def test_assignment_to_a_leaf_that_requires_grad_raises_torch_errors():
    x = symgrad.zeros(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="^a view of a leaf Variable that requires grad is"):
        x[0] = 1.0
    for key in ([0, 1], x > 0, ..., ()):
        with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being"):
            x[key] = 1.0
    assert x.tolist() == [[0.0, 0.0]] * 3 and x._version == 0


def test_assignment_to_a_leaf_is_allowed_without_grad_mode():
    x = symgrad.zeros(3, requires_grad=True)
    with symgrad.no_grad():
        x[1] = 2.0
        x[[0]] = 1.0
    assert x.tolist() == [1.0, 2.0, 0.0] and x.is_leaf


def test_assignment_of_a_value_that_requires_grad_to_a_plain_tensor_records_history():
    value = symgrad.tensor([1.0, 2.0], requires_grad=True)
    y = symgrad.zeros(3, 2)
    y[1] = value
    assert y.grad_fn.name() == "torch::autograd::CopySlices" and y.requires_grad
    (y * 3).sum().backward()
    assert value.grad.tolist() == [3.0, 3.0]


def test_assignment_casts_the_value_to_the_tensor_dtype():
    y = symgrad.zeros(3, dtype=symgrad.int64)
    y[0] = 2.7
    y[1:] = symgrad.tensor([1.9, -1.9])
    assert y.dtype is symgrad.int64 and y.tolist() == [2, 1, -1]
    z = symgrad.zeros(2)
    z[[0]] = symgrad.tensor([3], dtype=symgrad.int64)
    assert z.dtype is symgrad.float32 and z.tolist() == [3.0, 0.0]


def test_assignment_of_a_list_or_array():
    y = symgrad.zeros(2, 2)
    y[0] = [1, 2]
    y[1] = np.array([3.0, 4.0])
    assert y.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_assignment_through_a_view_rewrites_the_base_history():
    x = arange(3, 4).requires_grad_()
    value = symgrad.tensor(7.0, dtype=symgrad.float64, requires_grad=True)
    y = x * 1
    row = y[1]
    row[1:] = value
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    assert y[1].tolist() == [4.0, 7.0, 7.0, 7.0]
    y.sum().backward()
    assert value.grad.item() == 3.0
    assert x.grad[1].tolist() == [1.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "key, value_shape, message",
    [
        (
            np.s_[0],
            (5,),
            "The expanded size of the tensor (3) must match the existing size (5) "
            "at non-singleton dimension 0.  Target sizes: [3].  Tensor sizes: [5]",
        ),
        (
            np.s_[0:2],
            (3, 2, 3),
            "expand(torch.FloatTensor{[3, 2, 3]}, size=[2, 3]): the number "
            "of sizes provided (2) must be greater or equal to the number of dimensions in the "
            "tensor (3)",
        ),
        (
            np.s_[[0, 1]],
            (2, 2, 3),
            "shape mismatch: value tensor of shape [2, 2, 3] cannot be "
            "broadcast to indexing result of shape [2, 3]",
        ),
        (
            np.s_[[0, 1]],
            (4,),
            "shape mismatch: value tensor of shape [4] cannot be broadcast to "
            "indexing result of shape [2, 3]",
        ),
    ],
)
def test_assignment_of_a_value_of_the_wrong_shape_raises_torch_errors(key, value_shape, message):
    y = symgrad.zeros(4, 3)
    with pytest.raises(RuntimeError) as raised:
        y[key] = symgrad.ones(value_shape)
    assert str(raised.value) == message
    assert y._version == 0


def test_assignment_drops_leading_ones_of_the_value():
    y = symgrad.zeros(4, 3)
    y[0] = symgrad.ones(1, 1, 3)
    assert y[0].tolist() == [1.0, 1.0, 1.0]


# ------------------------------------------------------------------- index-tensor ops


def test_gather_and_scatter_add_accumulate_repeated_indices():
    x = arange(2, 3)
    index = symgrad.tensor([[0, 0, 0, 2]])
    np.testing.assert_array_equal(
        grad_of(lambda x: x.gather(1, index).sum(), x), [[3, 0, 1], [0, 0, 0]]
    )
    out = symgrad.zeros(3).scatter_add(0, symgrad.tensor([1, 1, 2]), symgrad.ones(3))
    assert out.tolist() == [0.0, 2.0, 1.0]


def test_scatter_with_a_source_larger_than_the_index_pads_its_gradient():
    x = symgrad.zeros(3, 2, dtype=symgrad.float64)
    src = arange(4, 5).requires_grad_()
    index = symgrad.tensor([[2, 0], [1, 1]])
    out = x.scatter(0, index, src)
    assert out.tolist() == [[0.0, 1.0], [5.0, 6.0], [0.0, 0.0]]
    out.sum().backward()
    expected = np.zeros((4, 5))
    expected[:2, :2] = 1.0
    np.testing.assert_array_equal(src.grad.numpy(), expected)
    check_grads(lambda s: x.scatter_add(0, index, s), [src.detach()], order=2)


def test_scatter_of_a_value_is_not_differentiable_in_the_overwritten_places():
    x = arange(2, 3)
    index = symgrad.tensor([[1], [0]])
    np.testing.assert_array_equal(
        grad_of(lambda x: x.scatter(1, index, -1.0).sum(), x), [[1, 0, 1], [0, 1, 1]]
    )


@pytest.mark.parametrize(
    "method, args",
    [
        ("scatter_", (0, symgrad.tensor([[2, 0, 1]]), symgrad.ones(1, 3))),
        ("scatter_", (1, symgrad.tensor([[2], [0], [1]]), 5.0)),
        ("scatter_add_", (0, symgrad.tensor([[2, 2, 1]]), symgrad.ones(1, 3))),
        ("index_add_", (1, symgrad.tensor([0, 0]), symgrad.ones(3, 2))),
        ("masked_fill_", (symgrad.tensor([True, False, True]), 9.0)),
    ],
)
def test_in_place_index_ops_match_their_out_of_place_forms(method, args):
    x = arange(3, 3, dtype=symgrad.float32)
    expected = getattr(x, method.rstrip("_"))(*args)
    y = x.clone()
    assert getattr(y, method)(*args) is y
    np.testing.assert_array_equal(y.numpy(), expected.numpy())
    leaf = x.clone().requires_grad_()
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad"):
        getattr(leaf, method)(*args)
    nonleaf = leaf * 1
    getattr(nonleaf, method)(*args)
    np.testing.assert_array_equal(nonleaf.detach().numpy(), expected.numpy())
    assert nonleaf.grad_fn.name() == getattr(leaf * 1, method.rstrip("_"))(*args).grad_fn.name()


def test_masked_fill_with_a_tensor_value_sums_its_gradient():
    x = arange(2, 3).requires_grad_()
    value = symgrad.tensor(2.0, requires_grad=True)  # float32: cast to x's dtype
    out = x.masked_fill(x > 3, value)
    assert out.dtype is symgrad.float64 and out.grad_fn.name() == "MaskedFillBackward1"
    (out * 3).sum().backward()
    assert value.grad.dtype is symgrad.float32 and value.grad.item() == 6.0


def test_masked_fill_of_an_integer_tensor_truncates_the_value():
    out = symgrad.tensor([1, 2, 3]).masked_fill(symgrad.tensor([True, False, True]), 1.7)
    assert out.dtype is symgrad.int64 and out.tolist() == [1, 2, 1]


def test_index_select_and_index_add_take_int32_indices():
    x = arange(3, 2)
    index = symgrad.tensor([2, 2], dtype=symgrad.int32)
    assert x.index_select(0, index).tolist() == [[4.0, 5.0], [4.0, 5.0]]
    assert symgrad.zeros(3).index_add(0, index, symgrad.ones(2), alpha=3).tolist() == [0, 0, 6]


def test_take_counts_negative_indices_from_the_end():
    x = arange(2, 3).requires_grad_()
    out = symgrad.take(x, symgrad.tensor([[-1, 0], [-6, 5]]))
    assert out.tolist() == [[5.0, 0.0], [0.0, 5.0]] and out.grad_fn.name() == "TakeBackward0"
    out.sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0, 0.0], [0.0, 0.0, 2.0]]


# -------------------------------------------------------------------------- compiled


def test_compiled_indexing_takes_new_index_values_without_recompiling():
    def fn(x, index, mask):
        y = x * 1
        y[mask] = 0.0
        y[:, index[:1]] = -1.0
        return (x[index] * 2).sum() + y.sum() + symgrad.gather(x, 1, index[:, None]).sum()

    compiled = symgrad.compile(fn)
    for values in ([0, 1, 1], [2, 2, 0]):
        x = symgrad.randn(3, 3, dtype=symgrad.float64, requires_grad=True)
        index, mask = symgrad.tensor(values), x > 0
        compiled(x, index, mask).backward()
        eager = x.detach().requires_grad_()
        fn(eager, index, mask).backward()
        np.testing.assert_allclose(x.grad.numpy(), eager.grad.numpy())
    assert compiled.cache_info().misses == 1


def test_compiled_assignment_through_a_mask_differentiates_a_broadcast_value():
    def fn(x, value):
        y = x * 1
        y[x[:, 0] > 0] = value * 2  # rows picked by a mask, each set to the value
        return y

    x = symgrad.randn(4, 3, dtype=symgrad.float64)
    value = symgrad.randn(3, dtype=symgrad.float64)
    weights = np.random.default_rng(0).standard_normal((4, 3))
    compiled = symgrad.value_and_grad(lambda x, v: (fn(x, v) * weights).sum(), argnums=(0, 1))
    _, (grad_x, grad_value) = compiled(x.numpy(), value.numpy())
    xs = x.clone().requires_grad_()
    vs = value.clone().requires_grad_()
    (fn(xs, vs) * symgrad.tensor(weights)).sum().backward()
    np.testing.assert_allclose(grad_x, xs.grad.numpy())
    np.testing.assert_allclose(grad_value, vs.grad.numpy())


def test_compiled_indexing_with_a_traced_mask_names_the_problem():
    compiled = symgrad.compile(lambda x: x[x > 0].sum())
    with pytest.raises(RuntimeError, match="indexing with a boolean mask"):
        compiled(symgrad.randn(3))


# ---------------------------------------------------------------------------------- errors

# (label, fn(lib), exception, torch's message): checked on symgrad here and on torch by the
# oracle.
ERRORS = [
    (
        "int_out_of_range",
        lambda lib: lib.zeros(4, 3)[5],
        IndexError,
        "index 5 is out of bounds for dimension 0 with size 4",
    ),
    (
        "negative_int_out_of_range",
        lambda lib: lib.zeros(4, 3)[-5],
        IndexError,
        "index -5 is out of bounds for dimension 0 with size 4",
    ),
    (
        "second_int_out_of_range",
        lambda lib: lib.zeros(4, 3)[0, 3],
        IndexError,
        "index 3 is out of bounds for dimension 1 with size 3",
    ),
    (
        "too_many_indices",
        lambda lib: lib.zeros(4, 3)[0, 1, 2],
        IndexError,
        "too many indices for tensor of dimension 2",
    ),
    (
        "index_0d",
        lambda lib: lib.zeros(())[0],
        IndexError,
        "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
        "C++ to convert a 0-dim tensor to a number",
    ),
    ("negative_step", lambda lib: lib.zeros(4)[::-1], ValueError, "step must be greater than zero"),
    ("zero_step", lambda lib: lib.zeros(4)[::0], ValueError, "slice step cannot be zero"),
    (
        "float_index",
        lambda lib: lib.zeros(4)[1.0],
        IndexError,
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
        "indices (got float)",
    ),
    (
        "float_tensor_index",
        lambda lib: lib.zeros(4)[lib.tensor([1.0])],
        IndexError,
        "tensors used as indices must be long, int, byte or bool tensors",
    ),
    (
        "int8_tensor_index",
        lambda lib: lib.zeros(4)[lib.tensor([1], dtype=lib.int8)],
        IndexError,
        "tensors used as indices must be long, int, byte or bool tensors",
    ),
    (
        "list_out_of_range",
        lambda lib: lib.zeros(4, 3)[[0, 5]],
        IndexError,
        "index 5 is out of bounds for dimension 0 with size 4",
    ),
    # torch numbers the dims of index tensors among the index tensors only.
    (
        "tensor_out_of_range",
        lambda lib: lib.zeros(4, 3)[:, lib.tensor([-4])],
        IndexError,
        "index -4 is out of bounds for dimension 0 with size 3",
    ),
    (
        "second_tensor_out_of_range",
        lambda lib: lib.zeros(4, 3, 2)[[0], :, [5]],
        IndexError,
        "index 5 is out of bounds for dimension 1 with size 2",
    ),
    (
        "tensor_after_int_out_of_range",
        lambda lib: lib.zeros(4, 3, 2)[0, :, [5]],
        IndexError,
        "index 5 is out of bounds for dimension 0 with size 2",
    ),
    (
        "tensor_after_mask_out_of_range",
        lambda lib: lib.zeros(4, 3, 2)[lib.ones(4, 3, dtype=lib.bool), [2]],
        IndexError,
        "index 2 is out of bounds for dimension 2 with size 2",
    ),
    (
        "mask_shape",
        lambda lib: lib.zeros(4, 3)[lib.tensor([True, False, True])],
        IndexError,
        "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor "
        "[4, 3] at index 0",
    ),
    (
        "inner_mask_shape",
        lambda lib: lib.zeros(4, 3)[:, lib.tensor([True, False])],
        IndexError,
        "The shape of the mask [2] at index 0 does not match the shape of the indexed tensor "
        "[4, 3] at index 1",
    ),
    (
        "mask_2d_shape",
        lambda lib: lib.zeros(4, 3)[lib.ones(3, 3, dtype=lib.bool)],
        IndexError,
        "The shape of the mask [3, 3] at index 0 does not match the shape of the indexed tensor "
        "[4, 3] at index 0",
    ),
    (
        "indices_broadcast",
        lambda lib: lib.zeros(4, 3)[[0, 1, 2], [1, 2]],
        IndexError,
        "shape mismatch: indexing tensors could not be broadcast together with shapes [3], [2]",
    ),
    (
        "gather_dtype",
        lambda lib: lib.zeros(2, 2).gather(1, lib.zeros(2, 2)),
        RuntimeError,
        "gather(): Expected dtype int32/int64 for index",
    ),
    (
        "gather_ndim",
        lambda lib: lib.zeros(2, 2).gather(1, lib.tensor([0])),
        RuntimeError,
        "Index tensor must have the same number of dimensions as input tensor",
    ),
    (
        "gather_size",
        lambda lib: lib.zeros(4, 3).gather(1, lib.zeros(5, 3, dtype=lib.long)),
        RuntimeError,
        "Size does not match at dimension 0 expected index [5, 3] to be no larger "
        "than self [4, 3] apart from dimension 1",
    ),
    (
        "gather_out_of_range",
        lambda lib: lib.zeros(4, 3).gather(1, lib.tensor([[3]])),
        RuntimeError,
        "index 3 is out of bounds for dimension 1 with size 3",
    ),
    (
        "gather_negative",
        lambda lib: lib.zeros(4, 3).gather(1, lib.tensor([[-1]])),
        RuntimeError,
        "index -1 is out of bounds for dimension 1 with size 3",
    ),
    (
        "scatter_dtype",
        lambda lib: lib.zeros(2, 2).scatter(0, lib.zeros(1, 1), 1.0),
        RuntimeError,
        "scatter(): Expected dtype int32/int64 for index",
    ),
    (
        "scatter_src_dtype",
        lambda lib: lib.zeros(2, 2).scatter(
            0, lib.tensor([[0]]), lib.ones(1, 1, dtype=lib.float64)
        ),
        RuntimeError,
        "scatter(): Expected self.dtype to be equal to src.dtype",
    ),
    (
        "scatter_ndim",
        lambda lib: lib.zeros(2, 2).scatter(0, lib.tensor([0]), 1.0),
        RuntimeError,
        "Index tensor must have the same number of dimensions as self tensor",
    ),
    (
        "scatter_small_src",
        lambda lib: lib.zeros(4, 3).scatter(0, lib.zeros(2, 3, dtype=lib.long), lib.ones(1, 3)),
        RuntimeError,
        "Expected index [2, 3] to be no larger than self [4, 3] apart from dimension "
        "0 and to be no larger size than src [1, 3]",
    ),
    (
        "scatter_large_index",
        lambda lib: lib.zeros(4, 3).scatter(0, lib.zeros(1, 4, dtype=lib.long), 1.0),
        RuntimeError,
        "Expected index [1, 4] to be no larger than self [4, 3] apart from dimension 0",
    ),
    (
        "scatter_out_of_range",
        lambda lib: lib.zeros(4, 3).scatter(0, lib.tensor([[4]]), 1.0),
        RuntimeError,
        "index 4 is out of bounds for dimension 0 with size 4",
    ),
    (
        "scatter_add_src_dtype",
        lambda lib: lib.zeros(2).scatter_add(0, lib.tensor([0]), lib.ones(1, dtype=lib.float64)),
        RuntimeError,
        "scatter(): Expected self.dtype to be equal to src.dtype",
    ),
    (
        "index_select_dtype",
        lambda lib: lib.zeros(3).index_select(0, lib.tensor([0.0])),
        RuntimeError,
        "index_select(): Expected dtype int32 or int64 for index",
    ),
    (
        "index_select_matrix",
        lambda lib: lib.zeros(3).index_select(0, lib.tensor([[0]])),
        IndexError,
        "index_select(): Index is supposed to be a vector",
    ),
    (
        "index_select_out_of_range",
        lambda lib: lib.zeros(3).index_select(0, lib.tensor([3])),
        IndexError,
        "index out of range in self",
    ),
    (
        "index_select_negative",
        lambda lib: lib.zeros(3).index_select(0, lib.tensor([-1])),
        IndexError,
        "index out of range in self",
    ),
    (
        "index_add_dtype",
        lambda lib: lib.zeros(3).index_add(0, lib.tensor([0.0]), lib.ones(1)),
        RuntimeError,
        "index_add_(): Expected dtype int32/int64 for index but got: Float",
    ),
    (
        "index_add_count",
        lambda lib: lib.zeros(4, 3).index_add(0, lib.tensor([0]), lib.ones(2, 3)),
        RuntimeError,
        "index_add_(): Number of indices (1) should be equal to source.size(dim): (2), for dim: 0",
    ),
    (
        "index_add_source_shape",
        lambda lib: lib.zeros(4, 3).index_add(0, lib.tensor([0]), lib.ones(1, 2)),
        RuntimeError,
        "source tensor shape must match self tensor shape, excluding the specified dimension. Got "
        "self.shape = [4, 3] source.shape = [1, 2]",
    ),
    (
        "index_add_source_dtype",
        lambda lib: lib.zeros(3).index_add(0, lib.tensor([0]), lib.ones(1, dtype=lib.float64)),
        RuntimeError,
        "index_add_(): self (Float) and source (Double) must have the same scalar type",
    ),
    (
        "index_add_out_of_range",
        lambda lib: lib.zeros(3, 2).index_add(0, lib.tensor([5]), lib.ones(1, 2)),
        RuntimeError,
        "index 5 is out of bounds for dimension 0 with size 3",
    ),
    (
        "index_add_vector_out_of_range",
        lambda lib: lib.zeros(3).index_add(0, lib.tensor([-1]), lib.ones(1)),
        IndexError,
        "index out of range in self",
    ),
    (
        "masked_fill_mask_dtype",
        lambda lib: lib.zeros(3).masked_fill(lib.ones(3), 0.0),
        RuntimeError,
        "masked_fill_ only supports boolean masks, but got mask with dtype float",
    ),
    (
        "masked_fill_long_mask",
        lambda lib: lib.zeros(3).masked_fill(lib.ones(3, dtype=lib.long), 0.0),
        RuntimeError,
        "masked_fill_ only supports boolean masks, but got mask with dtype long int",
    ),
    (
        "masked_fill_value_dims",
        lambda lib: lib.zeros(3).masked_fill(lib.zeros(3) > 0, lib.zeros(1)),
        RuntimeError,
        "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 "
        "dimension(s).",
    ),
    (
        "masked_fill_broadcast",
        lambda lib: lib.zeros(4, 3).masked_fill(lib.tensor([True, False]), 0.0),
        RuntimeError,
        "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 1",
    ),
    (
        "masked_fill_inplace_broadcast",
        lambda lib: lib.zeros(4, 3).masked_fill_(lib.ones(2, 4, 3, dtype=lib.bool), 0.0),
        RuntimeError,
        "output with shape [4, 3] doesn't match the broadcast shape [2, 4, 3]",
    ),
    (
        "take_along_dim_dtype",
        lambda lib: lib.take_along_dim(lib.zeros(2, 2), lib.tensor([[0]], dtype=lib.int32), 1),
        RuntimeError,
        "torch.take_along_dim(): dtype of indices should be Long but got Int",
    ),
    (
        "take_along_dim_ndim",
        lambda lib: lib.take_along_dim(lib.zeros(2, 2), lib.tensor([0]), 1),
        RuntimeError,
        "torch.take_along_dim(): input and indices should have the same number of "
        "dimensions, but got 2 dimensions for input, and 1 dimensions for indices",
    ),
    (
        "take_along_dim_broadcast",
        lambda lib: lib.take_along_dim(lib.zeros(2, 3), lib.zeros(1, 2, dtype=lib.long), 0),
        RuntimeError,
        "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1",
    ),
    (
        "take_dtype",
        lambda lib: lib.take(lib.zeros(3), lib.tensor([0], dtype=lib.int32)),
        RuntimeError,
        "take(): Expected a long tensor for index, but got Int",
    ),
    (
        "take_out_of_range",
        lambda lib: lib.take(lib.zeros(2, 3), lib.tensor([6])),
        IndexError,
        "out of range: tried to access index 6 on a tensor of 6 elements.",
    ),
    (
        "take_negative_out_of_range",
        lambda lib: lib.take(lib.zeros(2, 3), lib.tensor([-7])),
        IndexError,
        "out of range: tried to access index -7 on a tensor of 6 elements.",
    ),
    (
        "select_out_of_range",
        lambda lib: lib.zeros(4, 3).select(0, -5),
        IndexError,
        "select(): index -5 out of range for tensor of size [4, 3] at dimension 0",
    ),
    (
        "select_0d",
        lambda lib: lib.zeros(()).select(0, 0),
        IndexError,
        "select() cannot be applied to a 0-dim tensor.",
    ),
    (
        "masked_select_dtype",
        lambda lib: lib.masked_select(lib.zeros(2), lib.tensor([1, 0])),
        RuntimeError,
        "masked_select: expected BoolTensor for mask",
    ),
]


@pytest.mark.parametrize("label, fn, error, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_torch_errors(label, fn, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as raised:
            fn(symgrad)
    assert str(raised.value).splitlines()[0] == message


@pytest.mark.skipif(TORCH_PYTHON is None, reason=INSTALL["torch"])
def test_every_indexing_case_and_error_matches_torch():
    """Values, dtypes, grad_fn names, first and second order gradients of each case of
    cases_indexing.py, and the messages of ERRORS, against PyTorch."""
    run_oracle(["cases_indexing"], "ops.test_indexing")
