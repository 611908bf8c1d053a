"""torch's legacy constructors: ``Tensor(data | sizes)``, ``FloatTensor`` & co., and
``autograd.Variable`` (which returns a Tensor). Expected values are PyTorch 2.13's."""

from __future__ import annotations

import numpy as np
import pytest
from extras import need

import symgrad as torch
from symgrad.autograd import Variable


def test_tensor_from_data_has_the_default_dtype():
    t = torch.Tensor([1, 2])
    assert repr(t) == "tensor([1., 2.])" and t.dtype is torch.float32 and not t.requires_grad
    assert torch.Tensor((1, 2)).tolist() == [1.0, 2.0]  # a tuple is data, not sizes
    assert torch.Tensor(np.array([1, 2])).dtype is torch.float32
    assert torch.Tensor([[1, 2], [3, 4]]).shape == torch.Size([2, 2])
    try:
        torch.set_default_dtype(torch.float64)
        assert torch.Tensor([1]).dtype is torch.float64
    finally:
        torch.set_default_dtype(torch.float32)


def test_tensor_from_sizes_is_uninitialized():
    assert torch.Tensor(2, 3).shape == torch.Size([2, 3])
    assert torch.Tensor(torch.Size([4])).shape == torch.Size([4])
    assert repr(torch.Tensor()) == "tensor([])"
    assert torch.Tensor(0).shape == torch.Size([0])


def test_tensor_from_a_tensor_is_an_alias():
    source = torch.ones(2)
    alias = torch.Tensor(source)
    assert alias is not source
    alias.add_(1)
    assert source.tolist() == [2.0, 2.0] and source._version == alias._version == 1
    assert torch.Tensor(torch.tensor([1, 2])).dtype is torch.int64  # kept, as torch does


def test_isinstance_still_works():
    t = torch.Tensor([1.0])
    assert type(t) is torch.Tensor and isinstance(t, torch.Tensor)
    assert isinstance(torch.zeros(2), torch.FloatTensor)
    assert not isinstance(torch.zeros(2), torch.DoubleTensor)
    assert isinstance(torch.zeros(2, dtype=torch.int64), torch.LongTensor)
    assert not isinstance([1.0], torch.FloatTensor)


@pytest.mark.parametrize(
    "constructor, dtype",
    [
        (torch.FloatTensor, torch.float32),
        (torch.DoubleTensor, torch.float64),
        (torch.LongTensor, torch.int64),
        (torch.IntTensor, torch.int32),
        (torch.ByteTensor, torch.uint8),
        (torch.BoolTensor, torch.bool),
    ],
)
def test_typed_constructors(constructor, dtype):
    from_data = constructor([1, 0])
    assert from_data.dtype is dtype and from_data.tolist() == [1, 0]
    from_sizes = constructor(2, 3)
    assert from_sizes.dtype is dtype and from_sizes.shape == torch.Size([2, 3])
    assert isinstance(from_data, constructor) and isinstance(from_data, torch.Tensor)


def test_typed_constructors_convert_as_torch():
    assert torch.LongTensor([1.7, -2.7]).tolist() == [1, -2]  # truncated
    assert torch.DoubleTensor([1, 2.5]).tolist() == [1.0, 2.5]


@pytest.mark.parametrize(
    "call, error, text",
    [
        (lambda: torch.Tensor("a"), TypeError, "new(): invalid data type 'str'"),
        (lambda: torch.Tensor(2.5), TypeError, "new(): data must be a sequence (got float)"),
        (lambda: torch.FloatTensor(2.5), TypeError, "new(): data must be a sequence (got float)"),
        (lambda: torch.Tensor(-1), RuntimeError, "Trying to create tensor with negative dim"),
        (lambda: torch.Tensor(2, device="cuda"), AssertionError, "Torch not compiled with CUDA"),
    ],
)
def test_constructor_errors(call, error, text):
    with pytest.raises(error) as raised:
        call()
    assert str(raised.value).startswith(text)


def test_variable_returns_a_tensor():
    data = torch.ones(2)
    v = Variable(data, requires_grad=True)
    assert type(v) is torch.Tensor and v.requires_grad and v.grad_fn is None
    assert repr(v) == "tensor([1., 1.], requires_grad=True)"
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0] and data.grad is None and not data.requires_grad
    v.data.add_(1)
    assert data.tolist() == [2.0, 2.0]  # shares storage
    computed = torch.ones(2, requires_grad=True) * 2
    detached = Variable(computed)
    assert detached.grad_fn is None and not detached.requires_grad
    assert isinstance(computed, Variable) and isinstance(computed, torch.autograd.Variable)
    with pytest.raises(TypeError, match="^Variable data has to be a tensor, but got list"):
        Variable([1.0])


def test_matches_torch_live():
    real = need("torch")
    for build in (
        lambda t: t.Tensor([1, 2]),
        lambda t: t.LongTensor([1.7, 2]),
        lambda t: t.Tensor(t.tensor([1, 2])),
        lambda t: t.DoubleTensor([[1], [2]]),
    ):
        ours, theirs = build(torch), build(real)
        assert ours.tolist() == theirs.tolist()
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
