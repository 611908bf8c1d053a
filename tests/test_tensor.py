"""Tensor attributes and conversions, against PyTorch 2.13."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import symgrad as torch

PREFIX = torch.__name__


def matrix():
    return torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


# ------------------------------------------------------------------------------ attributes


def test_shape_and_size():
    t = matrix()
    assert t.shape == (2, 3) and t.size() == (2, 3)
    assert t.size(1) == 3 and t.size(-1) == 3 and t.size(0) == 2
    assert (t.dim(), t.ndim, t.ndimension()) == (2, 2, 2)
    assert (t.numel(), t.nelement(), torch.numel(t)) == (6, 6, 6)
    assert len(t) == 2
    with pytest.raises(
        IndexError,
        match=r"^Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)$",
    ):
        t.size(2)


def test_size_object():
    size = matrix().shape
    assert repr(size) == str(size) == f"{PREFIX}.Size([2, 3])"
    assert isinstance(size, tuple) and type(size).__name__ == "Size"
    assert size == (2, 3) and list(size) == [2, 3] and size[0] == 2
    assert repr(size[1:]) == f"{PREFIX}.Size([3])" and type(size[1:]).__name__ == "Size"
    assert repr(size + (4,)) == f"{PREFIX}.Size([2, 3, 4])"
    assert size.numel() == 6
    assert repr(torch.tensor(3.0).shape) == f"{PREFIX}.Size([])"
    assert torch.Size([2, 3]) == size


def test_dtype_device_and_flags():
    t = matrix()
    assert t.dtype is torch.float32
    assert repr(t.device) == "device(type='cpu')" and str(t.device) == "cpu"
    assert t.device != "cpu" and t.device == t.device
    assert not t.is_cuda
    assert t.is_floating_point() and not torch.tensor([1]).is_floating_point()
    assert t.element_size() == 4
    assert torch.is_tensor(t) and not torch.is_tensor(1.0)


def test_autograd_attributes():
    x = torch.tensor([1.5, -2.5], requires_grad=True)
    t = matrix()
    assert (t.requires_grad, t.grad, t.grad_fn, t.is_leaf, t._version) == (
        False,
        None,
        None,
        True,
        0,
    )
    y = x * 2
    assert x.is_leaf and not y.is_leaf
    assert torch.ones(2).is_leaf and (torch.ones(2) * 2).is_leaf and x.detach().is_leaf
    assert x.output_nr == 0 and y.output_nr == 0
    assert x.requires_grad_() is x


def test_grad_can_be_assigned_and_deleted():
    a = torch.ones(2, requires_grad=True)
    a.grad = torch.ones(2) * 3
    (a * 2).sum().backward()
    assert a.grad.tolist() == [5.0, 5.0]
    del a.grad
    assert a.grad is None


def test_data():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert repr(d) == "tensor([1., 2.])"
    assert not d.requires_grad and d.is_leaf
    d[0] = 5.0
    assert x.tolist() == [5.0, 2.0]  # same memory


def test_transposes():
    t = matrix()
    expected = "tensor([[1., 4.],\n        [2., 5.],\n        [3., 6.]])"
    assert repr(t.T) == repr(t.mT) == repr(t.t()) == expected
    assert torch.ones(2, 3, 4).mT.shape == (2, 4, 3)
    with pytest.raises(
        RuntimeError,
        match=r"^tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.$",
    ):
        torch.ones(3).mT  # noqa: B018


def test_zero_dim_tensors():
    t = torch.tensor(3.0)
    assert t.shape == () and t.dim() == 0 and t.numel() == 1 and t.size() == ()
    with pytest.raises(TypeError, match="^len\\(\\) of a 0-d tensor$"):
        len(t)
    with pytest.raises(TypeError, match="^iteration over a 0-d tensor$"):
        list(t)


# ----------------------------------------------------------------------------- conversions


def test_item_and_tolist():
    assert torch.tensor(2.5).item() == 2.5
    assert torch.tensor([3]).item() == 3 and isinstance(torch.tensor([3]).item(), int)
    assert torch.tensor(True).item() is True
    assert torch.tensor([[1.5]]).item() == 1.5
    with pytest.raises(
        RuntimeError, match="^a Tensor with 6 elements cannot be converted to Scalar$"
    ):
        matrix().item()
    assert matrix().tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert torch.tensor(1.5).tolist() == 1.5
    assert torch.tensor([1, 2]).tolist() == [1, 2]
    assert torch.tensor([2.5], requires_grad=True).tolist() == [2.5]


def test_numpy_shares_memory():
    t = matrix()
    array = t.numpy()
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    array[0, 0] = 9.0
    assert t[0, 0].item() == 9.0
    assert np.asarray(t).dtype == np.float32
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert torch.tensor([1.0], requires_grad=True).detach().numpy().tolist() == [1.0]


def test_python_number_conversions():
    assert float(torch.tensor([2.5])) == 2.5
    assert int(torch.tensor([[3.7]])) == 3
    assert int(torch.tensor(-3.7)) == -3
    assert bool(torch.tensor([0.0])) is False and bool(torch.tensor(1)) is True
    assert float(torch.tensor(3)) == 3.0
    assert [10, 20, 30][torch.tensor(1)] == 20


@pytest.mark.parametrize("convert", [float, int])
def test_number_conversion_errors(convert):
    with pytest.raises(
        ValueError, match="^only one element tensors can be converted to Python scalars$"
    ):
        convert(matrix())
    with pytest.raises(
        ValueError, match="^only one element tensors can be converted to Python scalars$"
    ):
        convert(torch.tensor([]))


def test_bool_and_index_errors():
    with pytest.raises(
        RuntimeError, match="^Boolean value of Tensor with more than one value is ambiguous$"
    ):
        bool(matrix())
    with pytest.raises(RuntimeError, match="^Boolean value of Tensor with no values is ambiguous$"):
        bool(torch.tensor([]))
    with pytest.raises(
        TypeError, match="^only integer tensors of a single element can be converted to an index$"
    ):
        [10, 20, 30][torch.tensor(1.0)]


def test_iteration():
    rows = list(matrix())
    assert [r.tolist() for r in rows] == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert len(torch.ones(0, 3)) == 0


def test_dtype_conversions():
    t = matrix()
    assert t.float().dtype is torch.float32 and t.double().dtype is torch.float64
    assert repr(t.long()) == "tensor([[1, 2, 3],\n        [4, 5, 6]])"
    assert t.int().dtype is torch.int32 and t.half().dtype is torch.float16
    assert repr(t.bool()) == "tensor([[True, True, True],\n        [True, True, True]])"
    assert (
        t.to(torch.float64).dtype is torch.float64
        and t.to(dtype=torch.float64).dtype is torch.float64
    )
    assert t.to(torch.int32).dtype is torch.int32
    assert t.to("cpu") is t
    assert t.to(torch.ones(1, dtype=torch.int64)).dtype is torch.int64
    assert t.type() == "torch.FloatTensor"
    assert t.type(torch.float64).dtype is torch.float64
    assert t.float() is t and t.to(torch.float32) is t  # no copy when nothing changes
    assert t.double() is not t


def test_conversions_are_differentiable():
    x = torch.tensor([1.5, -2.5], requires_grad=True)
    assert repr(x.double()) == (
        f"tensor([ 1.5000, -2.5000], dtype={PREFIX}.float64, grad_fn=<ToCopyBackward0>)"
    )
    assert repr(x.long()) == "tensor([ 1, -2])"  # integer results do not require grad
    (x.double() * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and x.grad.dtype is torch.float32


def test_clone_and_contiguous():
    x = torch.tensor([1.5, -2.5], requires_grad=True)
    assert repr(x.clone()) == "tensor([ 1.5000, -2.5000], grad_fn=<CloneBackward0>)"
    a = torch.ones(2)
    b = a.clone()
    b.add_(1)
    assert a.tolist() == [1.0, 1.0]
    t = matrix()
    assert t.is_contiguous() and not t.t().is_contiguous()
    assert t.contiguous() is t and x.contiguous() is x
    assert t.stride() == (3, 1) and t.t().stride() == (1, 3)
    c = t.t().contiguous()
    assert c.shape == (3, 2) and c.tolist() == t.t().tolist()


def test_format():
    assert f"{torch.tensor(2.5):.2f}" == "2.50"
    assert f"{torch.tensor([1.0])}" == "tensor([1.])"
    with pytest.raises(TypeError, match="^unsupported format string passed to Tensor.__format__$"):
        f"{torch.tensor([2.5]):.2f}"


def test_hash_is_identity():
    t = matrix()
    assert hash(t) == hash(t) and len({t, t}) == 1 and len({t, matrix()}) == 2


def test_deepcopy_and_pickle():
    x = torch.tensor([1.5, -2.5], requires_grad=True)
    x.grad = torch.ones(2)
    y = copy.deepcopy(x)
    assert repr(y) == "tensor([ 1.5000, -2.5000], requires_grad=True)"
    assert y.grad.tolist() == [1.0, 1.0] and y.grad is not x.grad
    y.data.add_(1)
    assert x.tolist() == [1.5, -2.5]
    z = pickle.loads(pickle.dumps(x))
    assert repr(z) == "tensor([ 1.5000, -2.5000], requires_grad=True)"
    with pytest.raises(
        RuntimeError,
        match=r"^Only Tensors created explicitly by the user \(graph leaves\) support the deepcopy",
    ):
        copy.deepcopy(x * 2)


def test_detach():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert (d._version, d.requires_grad, d.is_leaf, d.grad_fn) == (0, False, True, None)
    d[0] = 7.0
    assert x.tolist() == [7.0, 2.0]
    y = x * 2
    assert y.detach_() is y
    assert repr(y) == "tensor([14.,  4.])"
    assert (y.requires_grad, y.is_leaf, y.grad_fn) == (False, True, None)
