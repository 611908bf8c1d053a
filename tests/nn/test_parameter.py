"""symgrad.nn.Parameter against torch.nn.Parameter (texts printed by PyTorch 2.13)."""

import copy

import pytest

import symgrad
from symgrad.nn import Parameter


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    data = symgrad.tensor([1.0, 2.0])
    p = Parameter(data)
    assert isinstance(p, symgrad.Tensor) and isinstance(p, Parameter)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    assert not isinstance(data, Parameter)


def test_parameter_shares_storage_with_its_data():
    data = symgrad.ones(2)
    p = Parameter(data)
    data.add_(1)
    assert p.tolist() == [2.0, 2.0]


def test_parameter_of_a_computed_tensor_is_a_new_leaf():
    x = symgrad.ones(2, requires_grad=True)
    p = Parameter(x * 3)
    assert p.is_leaf and p.grad_fn is None
    (p * p).sum().backward()
    assert p.grad.tolist() == [6.0, 6.0] and x.grad is None


def test_results_and_views_of_a_parameter_are_plain_tensors():
    p = Parameter(symgrad.ones(2))
    for value in (p * 2, p.detach(), p.data, p[0]):
        assert not isinstance(value, Parameter)
    assert isinstance(copy.deepcopy(p), Parameter)


@pytest.mark.parametrize(
    "make, text",
    [
        (lambda: Parameter(), "Parameter containing:\ntensor([], requires_grad=True)"),
        (
            lambda: Parameter(symgrad.tensor([[1.5, 2], [3, 4]], dtype=symgrad.float64)),
            "Parameter containing:\ntensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]], "
            "dtype=symgrad.float64, requires_grad=True)",
        ),
        (
            lambda: Parameter(symgrad.tensor([1, 2]), requires_grad=False),
            "Parameter containing:\ntensor([1, 2])",
        ),
    ],
)
def test_parameter_prints_like_torch(make, text):
    p = make()
    assert repr(p) == text and str(p) == text


def test_integer_parameter_cannot_require_grad():
    message = "Only Tensors of floating point and complex dtype can require gradients"
    with pytest.raises(RuntimeError, match=message):
        Parameter(symgrad.tensor([1, 2]))
