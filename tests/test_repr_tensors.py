"""Reprs of tensors built by symgrad ops (grad_fn and requires_grad suffixes, dtypes,
summarization) against what PyTorch 2.13 prints for the same expression.

symgrad/printing.py is checked on raw arrays by test_printing.py; these go through real ops.
"""

from __future__ import annotations

import pytest

import symgrad as torch

# (expression, PyTorch's repr); dtype suffixes say ``symgrad.`` where torch says ``torch.``.
CASES = [
    (
        "torch.ones(2, 2, requires_grad=True) + 2",
        ("tensor([[3., 3.],\n        [3., 3.]], grad_fn=<AddBackward0>)"),
    ),
    (
        "torch.tensor([1.0, 2.0, 3.0], requires_grad=True)",
        "tensor([1., 2., 3.], requires_grad=True)",
    ),
    (
        "torch.tensor([1.0, 2.0, 3.0], requires_grad=True) * torch.tensor([0.1, 2.5, -3.0])",
        "tensor([ 0.1000,  5.0000, -9.0000], grad_fn=<MulBackward0>)",
    ),
    (
        "torch.tensor([1.0, 2.0, 3.0], requires_grad=True).exp()",
        "tensor([ 2.7183,  7.3891, 20.0855], grad_fn=<ExpBackward0>)",
    ),
    (
        "torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True).sum()",
        "tensor(10., grad_fn=<SumBackward0>)",
    ),
    (
        "torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True).mean(0)",
        "tensor([2., 3.], grad_fn=<MeanBackward1>)",
    ),
    (
        "torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) @ torch.ones(2, 1)",
        ("tensor([[3.],\n        [7.]], grad_fn=<MmBackward0>)"),
    ),
    (
        "torch.arange(8.0, requires_grad=True).view(2, 2, 2) * 2",
        (
            "tensor([[[ 0.,  2.],\n"
            "         [ 4.,  6.]],\n"
            "\n"
            "        [[ 8., 10.],\n"
            "         [12., 14.]]], grad_fn=<MulBackward0>)"
        ),
    ),
    (
        "torch.tensor([1e-5, 1.0], requires_grad=True) * 1",
        "tensor([1.0000e-05, 1.0000e+00], grad_fn=<MulBackward0>)",
    ),
    (
        "torch.tensor([1.0, 2000.0], requires_grad=True) - 0",
        "tensor([1.0000e+00, 2.0000e+03], grad_fn=<SubBackward0>)",
    ),
    (
        "(torch.linspace(0, 1, 30, requires_grad=True) * 1)",
        (
            "tensor([0.0000, 0.0345, 0.0690, 0.1034, 0.1379, 0.1724, 0.2069, 0.2414, 0.2759,\n"
            "        0.3103, 0.3448, 0.3793, 0.4138, 0.4483, 0.4828, 0.5172, 0.5517, 0.5862,\n"
            "        0.6207, 0.6552, 0.6897, 0.7241, 0.7586, 0.7931, 0.8276, 0.8621, 0.8966,\n"
            "        0.9310, 0.9655, 1.0000], grad_fn=<MulBackward0>)"
        ),
    ),
    (
        "torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True) ** 2",
        "tensor([1., 4.], dtype=torch.float64, grad_fn=<PowBackward0>)",
    ),
    (
        "torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)",
        "tensor([1., 2.], dtype=torch.float64, requires_grad=True)",
    ),
    (
        "torch.tensor([1.0, 2.0], requires_grad=True).double()",
        "tensor([1., 2.], dtype=torch.float64, grad_fn=<ToCopyBackward0>)",
    ),
    (
        "torch.tensor([1.0, 2.0], requires_grad=True).long()",
        "tensor([1, 2])",
    ),
    (
        "torch.tensor([3.0, 4.0], requires_grad=True).pow(2).sum().sqrt()",
        "tensor(5., grad_fn=<SqrtBackward0>)",
    ),
    (
        "1 - torch.tensor([0.5, 0.25], requires_grad=True)",
        "tensor([0.5000, 0.7500], grad_fn=<RsubBackward1>)",
    ),
    (
        "torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True).t()",
        ("tensor([[1., 3.],\n        [2., 4.]], grad_fn=<TBackward0>)"),
    ),
    (
        "torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)[0]",
        "tensor([1., 2.], grad_fn=<SelectBackward0>)",
    ),
    (
        "torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)[:, 1:]",
        ("tensor([[2.],\n        [4.]], grad_fn=<SliceBackward0>)"),
    ),
    (
        "torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) > 2",
        ("tensor([[False, False],\n        [ True,  True]])"),
    ),
    (
        "torch.tensor([1, 2, 3]) * 2",
        "tensor([2, 4, 6])",
    ),
    (
        "torch.tensor([1, 2, 3], dtype=torch.int32) + 1",
        "tensor([2, 3, 4], dtype=torch.int32)",
    ),
    (
        "torch.tensor([True, False]) & torch.tensor([True, True])",
        "tensor([ True, False])",
    ),
    (
        "torch.zeros(0, 3, requires_grad=True) * 1",
        "tensor([], size=(0, 3), grad_fn=<MulBackward0>)",
    ),
    (
        "torch.tensor([], dtype=torch.int64)",
        "tensor([], dtype=torch.int64)",
    ),
    (
        "torch.tensor([1.0, float('nan'), float('inf')], requires_grad=True) * 1",
        "tensor([1., nan, inf], grad_fn=<MulBackward0>)",
    ),
    (
        "torch.tensor([0.1, 2.5, -3.0], requires_grad=True).sigmoid()",
        "tensor([0.5250, 0.9241, 0.0474], grad_fn=<SigmoidBackward0>)",
    ),
    (
        "torch.tensor([1.0, 2.0], requires_grad=True).detach()",
        "tensor([1., 2.])",
    ),
    (
        "torch.tensor([[0.001, 1.0], [10.0, 100.0]], requires_grad=True).log()",
        ("tensor([[-6.9078,  0.0000],\n        [ 2.3026,  4.6052]], grad_fn=<LogBackward0>)"),
    ),
    (
        "(torch.arange(1200.0) / 7).view(40, 30)",
        (
            "tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 3.8571e+00, 4.0000e+00,\n"
            "         4.1429e+00],\n"
            "        [4.2857e+00, 4.4286e+00, 4.5714e+00,  ..., 8.1429e+00, 8.2857e+00,\n"
            "         8.4286e+00],\n"
            "        [8.5714e+00, 8.7143e+00, 8.8571e+00,  ..., 1.2429e+01, 1.2571e+01,\n"
            "         1.2714e+01],\n"
            "        ...,\n"
            "        [1.5857e+02, 1.5871e+02, 1.5886e+02,  ..., 1.6243e+02, 1.6257e+02,\n"
            "         1.6271e+02],\n"
            "        [1.6286e+02, 1.6300e+02, 1.6314e+02,  ..., 1.6671e+02, 1.6686e+02,\n"
            "         1.6700e+02],\n"
            "        [1.6714e+02, 1.6729e+02, 1.6743e+02,  ..., 1.7100e+02, 1.7114e+02,\n"
            "         1.7129e+02]])"
        ),
    ),
    (
        "torch.tensor([1.0, 2.0, 3.0], requires_grad=True).clamp(1.5, 2.5)",
        "tensor([1.5000, 2.0000, 2.5000], grad_fn=<ClampBackward1>)",
    ),
]


@pytest.mark.parametrize("expression, expected", CASES, ids=[e for e, _ in CASES])
def test_repr_matches_torch(expression, expected):
    tensor = eval(expression, {"torch": torch})
    assert repr(tensor) == expected.replace("torch.", f"{torch.__name__}.")
    assert str(tensor) == repr(tensor)


DOUBLE_DEFAULT = [
    ("torch.tensor([1.0])", "tensor([1.])"),
    ("torch.tensor([1.0], dtype=torch.float32)", "tensor([1.], dtype=torch.float32)"),
    ("torch.ones(2, requires_grad=True) * 2", "tensor([2., 2.], grad_fn=<MulBackward0>)"),
    ("torch.tensor(2.5)", "tensor(2.5000)"),
    ("torch.tensor([], dtype=torch.float32)", "tensor([], dtype=torch.float32)"),
    ("torch.tensor([])", "tensor([])"),
    ("torch.zeros(0, 2)", "tensor([], size=(0, 2))"),
    ("torch.arange(3) / 2", "tensor([0.0000, 0.5000, 1.0000])"),
]


@pytest.mark.parametrize("expression, expected", DOUBLE_DEFAULT, ids=[e for e, _ in DOUBLE_DEFAULT])
def test_repr_with_float64_default_dtype(expression, expected):
    torch.set_default_dtype(torch.float64)  # restored by conftest
    tensor = eval(expression, {"torch": torch})
    assert repr(tensor) == expected.replace("torch.", f"{torch.__name__}.")
