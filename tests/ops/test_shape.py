"""Shape, join and split ops beyond the op table: which results are views and which copies,
torch's node names and error texts, dtypes, warnings; and the PyTorch oracle for every case of
cases_shape.py and cases_join.py and every error of ERRORS (run in the torch environment as a
subprocess when it is installed)."""

import os
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
from extras import INSTALL
from oracle import TORCH_PYTHON, compare, run_case

import symgrad
from symgrad.ops.shape import pad
from symgrad.testing import check_grads


def arange(*shape, dtype=symgrad.float64):
    return symgrad.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


# ------------------------------------------------------------------------ views and copies

# (name, function of a (2, 3, 4) tensor): each result is a view that shares the input's memory.
VIEWS = [
    ("reshape", lambda x: x.reshape(4, 6)),
    ("view", lambda x: x.view(-1)),
    ("flatten", lambda x: x.flatten(1)),
    ("unflatten", lambda x: x.unflatten(2, (2, 2))),
    ("squeeze", lambda x: x[:, :1].squeeze(1)),
    ("unsqueeze", lambda x: x.unsqueeze(1)),
    ("permute", lambda x: x.permute(2, 0, 1)),
    ("transpose", lambda x: x.transpose(0, 2)),
    ("mT", lambda x: x.mT),
    ("movedim", lambda x: x.movedim(0, -1)),
    ("diagonal", lambda x: x.diagonal(1, 1, 2)),
    ("narrow", lambda x: x.narrow(2, 1, 2)),
    ("split", lambda x: x.split(2, 2)[1]),
    ("chunk", lambda x: x.chunk(3, 1)[2]),
    ("tensor_split", lambda x: x.tensor_split(3, 1)[1]),
    ("unbind", lambda x: x.unbind(1)[1]),
    ("select", lambda x: x.select(2, -1)),
    ("getitem", lambda x: x[1, ::2, None]),
    ("getitem_int", lambda x: x[1, 2, 3]),
]


@pytest.mark.parametrize("name, fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_in_place_ops_on_views_write_through_to_the_base(name, fn):
    base = arange(2, 3, 4)
    view = fn(base)
    assert np.shares_memory(view.numpy(), base.numpy())
    before = base.numpy().sum()
    view.add_(100.0)
    assert base.numpy().sum() == before + 100.0 * view.numel()
    assert base._version == view._version == 1


def test_in_place_op_on_a_diagonal_view_is_differentiated_through_the_base():
    x = arange(3, 3).requires_grad_()
    y = x * 1
    y.diagonal().mul_(3.0)
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 1 + 2 * np.eye(3))


# Results that torch computes into new memory: writing to them leaves the input alone.
COPIES = [
    ("flip", lambda x: x.flip(0)),
    ("roll", lambda x: x.roll(1, 2)),
    ("repeat", lambda x: x.repeat(1, 1, 1)),
    ("tile", lambda x: x.tile((1,))),
    ("constant_pad_nd", lambda x: symgrad.constant_pad_nd(x, (0, 0))),
    ("tril", lambda x: x.tril(5)),
    ("triu", lambda x: x.triu(-5)),
    ("diag", lambda x: symgrad.diag(x[0])),
    ("diagonal_copy", lambda x: symgrad.diagonal_copy(x)),
    ("cat", lambda x: symgrad.cat([x])),
    ("stack", lambda x: symgrad.stack([x])),
    ("reshape_of_transposed", lambda x: x.mT.reshape(-1)),
    ("ravel_of_transposed", lambda x: x.mT.ravel()),
    ("contiguous_of_transposed", lambda x: x.mT.contiguous()),
    ("clone", lambda x: x.clone()),
]


@pytest.mark.parametrize("name, fn", COPIES, ids=[c[0] for c in COPIES])
def test_results_in_new_memory_do_not_alias_the_input(name, fn):
    base = arange(2, 3, 4)
    out = fn(base)
    assert not np.shares_memory(out.numpy(), base.numpy())
    out.add_(100.0)
    np.testing.assert_array_equal(base.numpy(), np.arange(24.0).reshape(2, 3, 4))


def test_contiguous_and_ravel_give_c_contiguous_copies_of_transposed_tensors():
    x = arange(3, 4).mT
    assert not x.is_contiguous()
    assert x.contiguous().is_contiguous()
    assert x.clone().stride() == x.stride()  # clone keeps the layout (preserve_format)
    np.testing.assert_array_equal(x.ravel().numpy(), np.arange(12.0).reshape(3, 4).T.ravel())


def test_view_of_a_non_viewable_layout_raises_torch_error():
    x = arange(3, 4).mT
    with pytest.raises(RuntimeError, match=r"^view size is not compatible with input tensor's"):
        x.view(12)
    assert x.reshape(12).grad_fn is None  # reshape copies instead


@pytest.mark.parametrize(
    "fn, name",
    [
        (lambda x: x.reshape(6, 4), "ViewBackward0"),
        (lambda x: x.mT.reshape(2, 4, 3), "ReshapeAliasBackward0"),
        (lambda x: x[:, :, :2].reshape(6, 2), "ReshapeAliasBackward0"),
        (lambda x: x.transpose(0, 1).reshape(-1), "UnsafeViewBackward0"),
        (lambda x: x.flatten(), "ViewBackward0"),
        (lambda x: x.unsqueeze(0), "UnsqueezeBackward0"),
        (lambda x: x[:, :1].squeeze(), "SqueezeBackward0"),
        (lambda x: x[:, :1].squeeze(1), "SqueezeBackward1"),
        (lambda x: x[:, :1].squeeze((0, 1)), "SqueezeBackward2"),
        (lambda x: x.squeeze(0), "SqueezeBackward1"),
        (lambda x: x.expand(2, 3, 4), "ExpandBackward0"),
        (lambda x: x.T, "PermuteBackward0"),
        (lambda x: x.mT, "TransposeBackward0"),
        (lambda x: x.swapaxes(0, 1), "TransposeBackward0"),
        (lambda x: symgrad.diag(x[0, 0]), "DiagEmbedBackward0"),
        (lambda x: symgrad.diag(x[0]), "DiagonalBackward0_copy"),
        (lambda x: x.split(2, 2)[0], "SplitBackward0"),
        (lambda x: x.split([1, 3], 2)[0], "SplitWithSizesBackward0"),
        (lambda x: x.chunk(2)[0], "SplitBackward0"),
        (lambda x: x.unbind()[0], "UnbindBackward0"),
        (lambda x: x.narrow(0, 1, 1), "SliceBackward0"),
        (lambda x: x.tensor_split(2)[0], "SliceBackward0"),
        (lambda x: symgrad.hstack([x, x]), "CatBackward0"),
    ],
)
def test_node_names_are_torch_names(fn, name):
    x = symgrad.randn(2, 3, 4, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fn(x).grad_fn.name() == name


def test_flatten_of_a_single_dim_is_the_input_itself():
    x = symgrad.randn(2, 3, requires_grad=True)
    assert x.flatten(1, 1) is x
    assert symgrad.flatten(symgrad.tensor(2.0)).shape == (1,)


@pytest.mark.parametrize(
    "shape, message",
    [
        (
            (),
            "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",
        ),
        ((3,), "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "),
        ((2, 3, 4), "The use of `x.T` on tensors of dimension other than 2 to reverse their shape"),
    ],
)
def test_T_warns_as_torch_does_outside_matrices(shape, message):
    with pytest.warns(UserWarning, match="^" + message.replace("`", ".").replace("(", ".")):
        out = symgrad.zeros(shape).T
    assert out.shape == shape[::-1]


def test_T_of_a_matrix_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert symgrad.zeros(2, 3).T.shape == (3, 2)


# --------------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    "fn, dtype",
    [
        (lambda lib: lib.cat([lib.zeros(2), lib.zeros(2, dtype=lib.int64)]), "float32"),
        (
            lambda lib: lib.cat([lib.zeros(2, dtype=lib.int32), lib.zeros(2, dtype=lib.int64)]),
            "int64",
        ),
        (lambda lib: lib.stack([lib.zeros(2), lib.zeros(2, dtype=lib.float64)]), "float64"),
        (lambda lib: lib.zeros(2, 2, dtype=lib.int64).flip(0), "int64"),
        (lambda lib: lib.zeros(2, 2, dtype=lib.bool).repeat(2, 1), "bool"),
        (lambda lib: lib.constant_pad_nd(lib.zeros(2, dtype=lib.int64), (1, 1), 2.7), "int64"),
        (lambda lib: lib.diag(lib.zeros(2, dtype=lib.int32)), "int32"),
        (lambda lib: lib.zeros(3, 3, dtype=lib.int64).tril(), "int64"),
    ],
)
def test_result_dtypes_follow_torch(fn, dtype):
    assert fn(symgrad).dtype.name == dtype


def test_constant_pad_of_an_integer_tensor_truncates_the_value():
    out = symgrad.constant_pad_nd(symgrad.tensor([1, 2]), (1, 1), 2.7)
    assert out.tolist() == [2, 1, 2, 2]


def test_pad_is_torch_nn_functional_pad_in_constant_mode():
    x = arange(2, 3)
    np.testing.assert_array_equal(pad(x, (1, 0)).numpy(), np.pad(x.numpy(), ((0, 0), (1, 0))))
    np.testing.assert_array_equal(pad(x, (0, 0, 1, 1), value=-1.0).numpy()[0], [-1.0] * 3)
    np.testing.assert_array_equal(pad(x, (-1, -1)).numpy(), x.numpy()[:, 1:2])
    with pytest.raises(NotImplementedError, match="mode='constant'"):
        pad(x, (1, 1), mode="reflect")


# ---------------------------------------------------------------------------- gradients


def test_cat_of_the_same_tensor_accumulates_its_gradient():
    x = symgrad.ones(2, requires_grad=True)
    symgrad.cat([x, x, x * 2]).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_cat_skips_one_dimensional_empty_tensors_as_torch_does():
    x = symgrad.randn(4, 3, dtype=symgrad.float64)
    out = symgrad.cat([x, symgrad.zeros(0, dtype=symgrad.float64)], 1)
    np.testing.assert_array_equal(out.numpy(), x.numpy())


def test_split_pieces_sum_back_to_the_gradient_of_the_whole():
    x = symgrad.randn(5, 2, dtype=symgrad.float64, requires_grad=True)
    a, b, c = x.split(2)
    (a.sum() * 1 + b.sum() * 2 + c.sum() * 3).backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [1, 1, 2, 2, 3])


@pytest.mark.parametrize(
    "fn, shape",
    [
        (lambda x: x.repeat(2, 3), (2, 3)),
        (lambda x: x.repeat(2, 1, 2), (3,)),
        (lambda x: x.roll((1, -1), (0, 1)), (3, 4)),
        (lambda x: x.diagonal(-2, 1, 0), (3, 5)),
        (lambda x: symgrad.constant_pad_nd(x, (2, -1, -1, 0)), (3, 4)),
        (lambda x: symgrad.diag_embed(x, -1, 2, 0), (2, 3)),
    ],
)
def test_gradients_to_third_order(fn, shape):
    check_grads(fn, [symgrad.randn(*shape, dtype=symgrad.float64)], order=3)


def test_shape_ops_are_exact_at_large_magnitudes():
    x = symgrad.tensor([[1e4, -1e4], [3e4, -2e4]], dtype=symgrad.float32, requires_grad=True)
    y = symgrad.cat([x.flip(0), x.diagonal()[None]]).roll(1).sum()
    y.backward()
    assert y.item() == (1e4 - 1e4 + 3e4 - 2e4) + (1e4 - 2e4)
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 1.0], [1.0, 2.0]])


# ---------------------------------------------------------------------------------- errors

# (label, fn(lib), exception, torch's message): checked on symgrad here and on torch by the
# oracle, so a message that drifts from torch's fails.
ERRORS = [
    (
        "view_noncontiguous",
        lambda lib: lib.zeros(3, 4).t().view(12),
        RuntimeError,
        "view size is not compatible with input tensor's size and stride (at least one dimension "
        "spans across two contiguous subspaces). Use .reshape(...) instead.",
    ),
    (
        "view_two_inferred",
        lambda lib: lib.zeros(3, 4).view(-1, -1),
        RuntimeError,
        "only one dimension can be inferred",
    ),
    (
        "reshape_size",
        lambda lib: lib.zeros(3, 4).reshape(5),
        RuntimeError,
        "shape '[5]' is invalid for input of size 12",
    ),
    (
        "flatten_order",
        lambda lib: lib.zeros(2, 3).flatten(1, 0),
        RuntimeError,
        "flatten() has invalid args: start_dim cannot come after end_dim",
    ),
    (
        "unflatten_product",
        lambda lib: lib.zeros(4, 3).unflatten(1, (2, 2)),
        RuntimeError,
        "unflatten: Provided sizes [2, 2] don't multiply up to the size of dim 1 (3) in the input "
        "tensor",
    ),
    (
        "unflatten_inferred",
        lambda lib: lib.zeros(4, 3).unflatten(1, (-1, 2)),
        RuntimeError,
        "unflatten: Provided sizes [-1, 2] don't multiply up to the size of dim 1 (3) in the input "
        "tensor",
    ),
    (
        "unflatten_empty",
        lambda lib: lib.zeros(4, 3).unflatten(1, ()),
        RuntimeError,
        "unflatten: sizes must be non-empty",
    ),
    (
        "unflatten_two_inferred",
        lambda lib: lib.zeros(4, 3).unflatten(1, (-1, -1)),
        RuntimeError,
        "unflatten got an unexpected error:",
    ),
    (
        "squeeze_dim",
        lambda lib: lib.zeros(4, 3).squeeze(2),
        IndexError,
        "Dimension out of range (expected to be in range of [-2, 1], but got 2)",
    ),
    (
        "unsqueeze_dim",
        lambda lib: lib.zeros(4, 3).unsqueeze(3),
        IndexError,
        "Dimension out of range (expected to be in range of [-3, 2], but got 3)",
    ),
    (
        "permute_length",
        lambda lib: lib.zeros(4, 3).permute(0, 1, 2),
        RuntimeError,
        "permute(sparse_coo): number of dimensions in the tensor input does not match the length "
        "of the desired ordering of dimensions i.e. input.dim() = 2 is not equal to len(dims) = 3",
    ),
    (
        "permute_duplicate",
        lambda lib: lib.zeros(4, 3).permute(0, 0),
        RuntimeError,
        "permute(): duplicate dims are not allowed.",
    ),
    (
        "t_3d",
        lambda lib: lib.zeros(2, 2, 2).t(),
        RuntimeError,
        "t() expects a tensor with <= 2 dimensions, but self is 3D",
    ),
    (
        "mT_1d",
        lambda lib: lib.zeros(3).mT,
        RuntimeError,
        "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.",
    ),
    (
        "movedim_repeated",
        lambda lib: lib.zeros(2, 3).movedim((0, 0), (1, 0)),
        RuntimeError,
        "movedim: repeated dim in `source` ([0, 0])",
    ),
    (
        "movedim_lengths",
        lambda lib: lib.zeros(2, 3).movedim((0, 1), (1,)),
        RuntimeError,
        "movedim: Invalid source or destination dims: source ([0, 1] dims) should contain the same "
        "number of dims as destination ([1] dims)",
    ),
    (
        "expand_fewer",
        lambda lib: lib.zeros(2, 3, 4).expand(3, 4),
        RuntimeError,
        "expand(torch.FloatTensor{[2, 3, 4]}, size=[3, 4]): the number of sizes provided (2) must "
        "be greater or equal to the number of dimensions in the tensor (3)",
    ),
    (
        "expand_fewer_double",
        lambda lib: lib.zeros(2, 3, dtype=lib.float64).expand(3),
        RuntimeError,
        "expand(torch.DoubleTensor{[2, 3]}, size=[3]): the number of sizes provided (1) must be "
        "greater or equal to the number of dimensions in the tensor (2)",
    ),
    (
        "expand_size",
        lambda lib: lib.zeros(2, 3, 4).expand(2, 5, 4),
        RuntimeError,
        "The expanded size of the tensor (5) must match the existing size (3) at non-singleton "
        "dimension 1.  Target sizes: [2, 5, 4].  Tensor sizes: [2, 3, 4]",
    ),
    (
        "expand_leading_minus_one",
        lambda lib: lib.zeros(2, 3).expand(-1, 2, 3),
        RuntimeError,
        "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0",
    ),
    (
        "broadcast_to_fewer",
        lambda lib: lib.broadcast_to(lib.zeros(4, 3), (3,)),
        RuntimeError,
        "expand(torch.FloatTensor{[4, 3]}, size=[3]): the number of sizes provided (1) must be "
        "greater or equal to the number of dimensions in the tensor (2)",
    ),
    (
        "repeat_fewer",
        lambda lib: lib.zeros(2, 3).repeat(2),
        RuntimeError,
        "Number of dimensions of repeat dims can not be smaller than number of dimensions of "
        "tensor",
    ),
    (
        "repeat_negative",
        lambda lib: lib.zeros(4, 3).repeat(2, -1),
        RuntimeError,
        "Trying to create tensor with negative dimension -3: [8, -3]",
    ),
    (
        "flip_repeated",
        lambda lib: lib.zeros(2, 3).flip(0, 0),
        RuntimeError,
        "dim 0 appears multiple times in the list of dims",
    ),
    ("fliplr_1d", lambda lib: lib.fliplr(lib.zeros(3)), RuntimeError, "Input must be >= 2-d."),
    ("flipud_0d", lambda lib: lib.flipud(lib.zeros(())), RuntimeError, "Input must be >= 1-d."),
    (
        "roll_align",
        lambda lib: lib.zeros(2, 3).roll((1, 2), 0),
        RuntimeError,
        "shifts and dimensions must align. shifts: 2, dims:1",
    ),
    (
        "roll_flat_align",
        lambda lib: lib.zeros(2, 3).roll((1, 2)),
        RuntimeError,
        "shifts and dimensions must align. shifts: 2, dims:0",
    ),
    (
        "diagonal_same_dims",
        lambda lib: lib.zeros(2, 3).diagonal(0, 1, 1),
        RuntimeError,
        "diagonal dimensions cannot be identical 1, 1",
    ),
    (
        "diagonal_1d",
        lambda lib: lib.zeros(3).diagonal(),
        IndexError,
        "Dimension out of range (expected to be in range of [-1, 0], but got 1)",
    ),
    (
        "diag_embed_same_dims",
        lambda lib: lib.diag_embed(lib.zeros(2, 3), 0, -1, 2),
        RuntimeError,
        "diagonal dimensions cannot be identical -1, 2",
    ),
    (
        "diag_3d",
        lambda lib: lib.diag(lib.zeros(2, 2, 2)),
        RuntimeError,
        "diag(): Supports 1D or 2D tensors. Got 3D",
    ),
    (
        "tril_1d",
        lambda lib: lib.zeros(3).tril(),
        RuntimeError,
        "tril: input tensor must have at least 2 dimensions",
    ),
    (
        "triu_1d",
        lambda lib: lib.zeros(3).triu(),
        RuntimeError,
        "triu: input tensor must have at least 2 dimensions",
    ),
    (
        "pad_odd",
        lambda lib: lib.constant_pad_nd(lib.zeros(2, 3), (1,)),
        RuntimeError,
        "Length of pad must be even but instead it equals 1",
    ),
    (
        "pad_long",
        lambda lib: lib.constant_pad_nd(lib.zeros(2, 3), (1,) * 6),
        RuntimeError,
        "Length of pad should be no more than twice the number of dimensions of the input. Pad "
        "length is 6while the input has 2dimensions.",
    ),
    (
        "pad_crop_too_much",
        lambda lib: lib.constant_pad_nd(lib.zeros(2, 3), (-2, -2)),
        RuntimeError,
        "narrow(): length must be non-negative.",
    ),
    (
        "pad_float",
        lambda lib: lib.constant_pad_nd(lib.zeros(2, 3), (1.0, 1)),
        TypeError,
        "constant_pad_nd(): argument 'pad' (position 2) must be tuple of ints, but found element "
        "of type float at pos 0",
    ),
    (
        "cat_empty",
        lambda lib: lib.cat([]),
        ValueError,
        "torch.cat(): expected a non-empty list of Tensors",
    ),
    (
        "cat_tensor",
        lambda lib: lib.cat(lib.zeros(2, 3)),
        TypeError,
        "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor",
    ),
    (
        "cat_sizes",
        lambda lib: lib.cat([lib.zeros(4, 3), lib.zeros(4, 2)]),
        RuntimeError,
        "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 2 for "
        "tensor number 1 in the list.",
    ),
    (
        "cat_ndim",
        lambda lib: lib.cat([lib.zeros(4, 3), lib.zeros(4)]),
        RuntimeError,
        "Tensors must have same number of dimensions: got 2 and 1",
    ),
    (
        "cat_0d",
        lambda lib: lib.cat([lib.zeros(()), lib.zeros(())]),
        RuntimeError,
        "zero-dimensional tensor (at position 0) cannot be concatenated",
    ),
    (
        "cat_dim",
        lambda lib: lib.cat([lib.zeros(2, 3)], 2),
        IndexError,
        "Dimension out of range (expected to be in range of [-2, 1], but got 2)",
    ),
    (
        "stack_empty",
        lambda lib: lib.stack([]),
        RuntimeError,
        "stack expects a non-empty TensorList",
    ),
    (
        "stack_sizes",
        lambda lib: lib.stack([lib.zeros(4, 3), lib.zeros(4, 2)]),
        RuntimeError,
        "stack expects each tensor to be equal size, but got [4, 3] at entry 0 and [4, 2] at entry "
        "1",
    ),
    (
        "stack_dim",
        lambda lib: lib.stack([lib.zeros(4, 3)], -4),
        IndexError,
        "Dimension out of range (expected to be in range of [-3, 2], but got -4)",
    ),
    (
        "split_zero",
        lambda lib: lib.zeros(4, 3).split(0),
        RuntimeError,
        "split_size can only be 0 if dimension size is 0, but got dimension size of 4",
    ),
    (
        "split_negative",
        lambda lib: lib.zeros(4, 3).split(-1),
        RuntimeError,
        "split expects split_size be non-negative, but got split_size=-1",
    ),
    (
        "split_sizes_sum",
        lambda lib: lib.zeros(4, 3).split([1, 2]),
        RuntimeError,
        "split_with_sizes expects split_sizes to sum exactly to 4 (input tensor's size at "
        "dimension 0), but got split_sizes=[1, 2]",
    ),
    (
        "split_sizes_negative",
        lambda lib: lib.zeros(4, 3).split([5, -1]),
        RuntimeError,
        "split_with_sizes expects split_sizes have only non-negative entries, but got "
        "split_sizes=[5, -1]",
    ),
    (
        "split_0d",
        lambda lib: lib.zeros(()).split(1),
        RuntimeError,
        "split expects at least a 1-dimensional tensor",
    ),
    (
        "chunk_zero",
        lambda lib: lib.zeros(4).chunk(0),
        RuntimeError,
        "chunk expects `chunks` to be greater than 0, got: 0",
    ),
    (
        "chunk_0d",
        lambda lib: lib.zeros(()).chunk(1),
        RuntimeError,
        "chunk expects at least a 1-dimensional tensor",
    ),
    (
        "tensor_split_zero",
        lambda lib: lib.zeros(4).tensor_split(0),
        RuntimeError,
        "number of sections must be larger than 0, got 0",
    ),
    (
        "tensor_split_0d",
        lambda lib: lib.zeros(()).tensor_split(1),
        RuntimeError,
        "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims",
    ),
    (
        "narrow_start",
        lambda lib: lib.zeros(4, 3).narrow(0, 5, 1),
        IndexError,
        "start out of range (expected to be in range of [-4, 4], but got 5)",
    ),
    (
        "narrow_length",
        lambda lib: lib.zeros(4, 3).narrow(0, 2, 3),
        RuntimeError,
        "start (2) + length (3) exceeds dimension size (4).",
    ),
    (
        "narrow_negative_length",
        lambda lib: lib.zeros(4, 3).narrow(0, 2, -1),
        RuntimeError,
        "narrow(): length must be non-negative.",
    ),
    (
        "narrow_0d",
        lambda lib: lib.zeros(()).narrow(0, 0, 1),
        RuntimeError,
        "narrow() cannot be applied to a 0-dim tensor.",
    ),
    (
        "unbind_0d",
        lambda lib: lib.zeros(()).unbind(),
        IndexError,
        "Dimension specified as 0 but tensor has no dimensions",
    ),
]


@pytest.mark.parametrize("label, fn, error, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_torch_errors(label, fn, error, message):
    with pytest.raises(error) as raised:
        fn(symgrad)
    assert str(raised.value).splitlines()[0] == message


# -------------------------------------------------------------------------- torch oracle


@pytest.mark.skipif(TORCH_PYTHON is None, reason=INSTALL["torch"])
def test_every_shape_and_join_case_and_error_matches_torch():
    """Values, dtypes, grad_fn names, first and second order gradients of each case of
    cases_shape.py and cases_join.py, and the messages of ERRORS, against PyTorch."""
    run_oracle(["cases_shape", "cases_join"], "ops.test_shape")


def run_oracle(case_modules: list[str], errors_module: str) -> None:
    tests = pathlib.Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tests.parent), str(tests)]))
    result = subprocess.run(
        [TORCH_PYTHON, __file__, errors_module, *case_modules],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]


def _error_problems(errors, torch) -> list[str]:
    problems = []
    for label, fn, error, message in errors:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fn(torch)
            except error as raised:
                got = str(raised).splitlines()[0]
                if got != message:
                    problems.append(f"error {label}: torch says {got!r}, we say {message!r}")
                continue
            except Exception as raised:  # noqa: BLE001 - report the wrong type
                problems.append(f"error {label}: torch raises {type(raised).__name__}: {raised}")
                continue
        problems.append(f"error {label}: torch raises nothing")
    return problems


def _oracle_main(errors_module: str, case_modules: list[str]) -> int:
    import importlib

    import op_table  # noqa: F401 - loads the whole table first (cases modules import it)
    import torch

    torch.set_default_dtype(torch.float32)
    problems = _error_problems(importlib.import_module(errors_module).ERRORS, torch)
    checked = 0
    for module in case_modules:
        for case in importlib.import_module(f"ops.{module}").CASES:
            for variant in range(len(case.variants)):
                inputs = case.sample(variant, np.float64)
                name = f"{case.name}-{variant}"
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
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
    sys.exit(_oracle_main(sys.argv[1], sys.argv[2:]))
