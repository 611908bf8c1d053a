"""Tensor factories: sizes as varargs or a tuple, dtype=, requires_grad=, inferred dtypes,
the random generator, and PyTorch 2.13's reprs and errors for the same calls."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as torch

SIZED = ["zeros", "ones", "empty", "rand", "randn"]


@pytest.mark.parametrize("name", SIZED)
def test_sizes_as_varargs_tuple_list_or_size(name):
    factory = getattr(torch, name)
    for t in (factory(2, 3), factory((2, 3)), factory([2, 3]), factory(torch.Size([2, 3]))):
        assert t.shape == (2, 3) and t.dtype is torch.float32
    assert factory(()).shape == () and factory(0).shape == (0,)
    assert factory(2, dtype=torch.float64).dtype is torch.float64


@pytest.mark.parametrize("name", SIZED)
def test_requires_grad_argument(name):
    t = getattr(torch, name)(2, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    assert not getattr(torch, name)(2).requires_grad


def test_reprs_of_factories():
    assert repr(torch.zeros(2, dtype=torch.int64)) == "tensor([0, 0])"
    assert repr(torch.ones(2, requires_grad=True)) == "tensor([1., 1.], requires_grad=True)"
    assert (
        repr(torch.ones((1, 2), dtype=torch.int32))
        == f"tensor([[1, 1]], dtype={torch.__name__}.int32)"
    )
    assert repr(torch.full((2,), 3)) == "tensor([3, 3])"
    assert repr(torch.full((2,), 3.0)) == "tensor([3., 3.])"
    assert repr(torch.full((2,), True)) == "tensor([True, True])"
    assert repr(torch.full((2, 2), 1.5, requires_grad=True)) == (
        "tensor([[1.5000, 1.5000],\n        [1.5000, 1.5000]], requires_grad=True)"
    )
    assert repr(torch.full([2], 2, dtype=torch.float32)) == "tensor([2., 2.])"
    assert repr(torch.eye(2)) == "tensor([[1., 0.],\n        [0., 1.]])"
    assert repr(torch.eye(2, 3)) == "tensor([[1., 0., 0.],\n        [0., 1., 0.]])"
    assert repr(torch.eye(2, dtype=torch.int64)) == "tensor([[1, 0],\n        [0, 1]])"
    assert torch.eye(2, requires_grad=True).requires_grad


def test_like_factories():
    double = torch.ones(2, dtype=torch.float64)
    assert repr(torch.zeros_like(double)) == f"tensor([0., 0.], dtype={torch.__name__}.float64)"
    assert repr(torch.ones_like(torch.tensor([1, 2]))) == "tensor([1, 1])"
    assert repr(torch.full_like(torch.ones(2), 7)) == "tensor([7., 7.])"
    assert repr(torch.zeros_like(torch.ones(2), dtype=torch.int64)) == "tensor([0, 0])"
    assert repr(torch.ones_like(torch.ones(2), requires_grad=True)) == (
        "tensor([1., 1.], requires_grad=True)"
    )
    assert torch.empty_like(torch.ones(2, 3)).shape == (2, 3)
    assert torch.rand_like(double).dtype is torch.float64
    assert torch.randn_like(torch.ones(3)).shape == (3,)


def test_arange_and_linspace():
    assert repr(torch.arange(5)) == "tensor([0, 1, 2, 3, 4])"
    assert repr(torch.arange(1, 4)) == "tensor([1, 2, 3])"
    assert repr(torch.arange(0, 1, 0.25)) == "tensor([0.0000, 0.2500, 0.5000, 0.7500])"
    assert repr(torch.arange(5.0)) == "tensor([0., 1., 2., 3., 4.])"
    assert repr(torch.arange(0, 5, 2, dtype=torch.float64)) == (
        f"tensor([0., 2., 4.], dtype={torch.__name__}.float64)"
    )
    assert repr(torch.arange(3, dtype=torch.float32, requires_grad=True)) == (
        "tensor([0., 1., 2.], requires_grad=True)"
    )
    assert repr(torch.arange(10, 0, -3)) == "tensor([10,  7,  4,  1])"
    assert repr(torch.arange(0.5, 2)) == "tensor([0.5000, 1.5000])"
    assert repr(torch.linspace(0, 1, 5)) == "tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])"
    assert repr(torch.linspace(0, 1, 3, dtype=torch.float64)) == (
        f"tensor([0.0000, 0.5000, 1.0000], dtype={torch.__name__}.float64)"
    )
    assert repr(torch.linspace(-1, 1, steps=4, requires_grad=True)) == (
        "tensor([-1.0000, -0.3333,  0.3333,  1.0000], requires_grad=True)"
    )


def test_inferred_dtypes_of_tensor():
    assert torch.tensor(1).dtype is torch.int64
    assert torch.tensor(1.5).dtype is torch.float32
    assert torch.tensor(True).dtype is torch.bool
    assert torch.tensor([1, 2.0]).dtype is torch.float32
    assert torch.tensor([True, 1]).dtype is torch.int64
    assert torch.tensor([]).dtype is torch.float32
    assert torch.tensor(np.array([1.0])).dtype is torch.float64  # numpy keeps its dtype
    assert torch.tensor(np.float64(1.0)).dtype is torch.float64
    assert torch.tensor(np.array([1], dtype=np.int32)).dtype is torch.int32
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    assert repr(t) == f"tensor([1., 2.], dtype={torch.__name__}.float64, requires_grad=True)"
    assert torch.tensor([[1, 2], [3, 4]]).shape == (2, 2)


def test_tensor_copies_and_from_numpy_shares():
    array = np.array([1.0, 2.0])
    copied = torch.tensor(array)
    shared = torch.from_numpy(array)
    array[0] = 5.0
    assert copied.tolist() == [1.0, 2.0]
    assert shared.tolist() == [5.0, 2.0]
    assert torch.as_tensor(np.array([1.0, 2.0])).dtype is torch.float64
    assert repr(torch.as_tensor([1, 2])) == "tensor([1, 2])"


def test_tensor_from_a_tensor_warns_and_copies():
    source = torch.ones(2)
    with pytest.warns(UserWarning) as record:
        t = torch.tensor(source)
    assert str(record[0].message) == (
        "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
        "or sourceTensor.detach().clone().requires_grad_(True), rather than "
        "torch.tensor(sourceTensor)."
    )
    source.add_(1)
    assert t.tolist() == [1.0, 1.0]


def test_new_factories_follow_the_source_dtype():
    double = torch.ones(2, dtype=torch.float64)
    assert repr(torch.ones(2).new_tensor([1, 2])) == "tensor([1., 2.])"
    assert double.new_tensor([1, 2]).dtype is torch.float64
    assert double.new_zeros(2, 3).shape == (2, 3) and double.new_zeros(2).dtype is torch.float64
    assert double.new_ones((2,)).tolist() == [1.0, 1.0]
    assert repr(torch.ones(2, dtype=torch.int32).new_full((2,), 5)) == (
        f"tensor([5, 5], dtype={torch.__name__}.int32)"
    )
    assert double.new_empty(2).shape == (2,)
    assert repr(torch.ones(2).new_zeros(2, requires_grad=True)) == (
        "tensor([0., 0.], requires_grad=True)"
    )


def test_manual_seed_reproducibility():
    torch.manual_seed(0)
    first = (torch.randn(3).tolist(), torch.rand(2).tolist(), torch.randint(0, 100, (3,)).tolist())
    torch.manual_seed(0)
    second = (torch.randn(3).tolist(), torch.rand(2).tolist(), torch.randint(0, 100, (3,)).tolist())
    torch.manual_seed(1)
    other = torch.randn(3).tolist()
    assert first == second
    assert other != first[0]


def test_random_ranges_and_dtypes():
    torch.manual_seed(0)
    u = torch.rand(1000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    n = torch.randn(10_000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    r = torch.randint(3, 5, (100,))
    assert r.dtype is torch.int64 and set(r.tolist()) == {3, 4}
    assert torch.randint(10, (2, 2)).shape == (2, 2)
    assert torch.randint(3, 5, (4,), dtype=torch.int32).dtype is torch.int32


def test_size_errors():
    with pytest.raises(RuntimeError, match=r"^zeros: Dimension size must be non-negative.$"):
        torch.zeros(2, -1)
    for name in ("ones", "empty", "rand", "randn"):
        with pytest.raises(
            RuntimeError, match=r"^Trying to create tensor with negative dimension -1: \[2, -1\]$"
        ):
            getattr(torch, name)(2, -1)
    with pytest.raises(
        RuntimeError, match=r"^Trying to create tensor with negative dimension -1: \[-1, 2\]$"
    ):
        torch.full((-1, 2), 1.0)
    with pytest.raises(
        TypeError,
        match=r"^zeros\(\): argument 'size' \(position 1\) must be tuple of ints, not float$",
    ):
        torch.zeros(2.5)
    with pytest.raises(
        TypeError,
        match=r"^ones\(\): argument 'size' \(position 1\) must be tuple of ints, but found element "
        r"of type float at pos 0$",
    ):
        torch.ones((2.5,))
    with pytest.raises(
        TypeError,
        match=r"^rand\(\): argument 'size' failed to unpack the object at pos 2 with error "
        r'"type must be tuple of ints,but got float"$',
    ):
        torch.rand(2, 2.5)
    with pytest.raises(
        TypeError, match=r"^zeros\(\) takes 1 positional argument but 2 were given$"
    ):
        torch.zeros(2.5, 3)
