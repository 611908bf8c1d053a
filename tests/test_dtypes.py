"""dtypes, their aliases, the default dtype, and PyTorch 2.13's type promotion."""

from __future__ import annotations

import pytest

import symgrad as torch

PREFIX = torch.__name__  # dtypes print as symgrad.float32 (torch.float32 in PyTorch)

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def test_aliases():
    assert torch.float is torch.float32
    assert torch.double is torch.float64
    assert torch.half is torch.float16
    assert torch.long is torch.int64
    assert torch.int is torch.int32
    assert torch.short is torch.int16


@pytest.mark.parametrize("name", NAMES)
def test_dtype_repr(name):
    d = getattr(torch, name)
    assert repr(d) == str(d) == f"{PREFIX}.{name}"
    assert isinstance(d, torch.dtype)


def test_dtype_attributes():
    assert [getattr(torch, n).is_floating_point for n in NAMES] == [False] * 6 + [True] * 3
    assert [getattr(torch, n).itemsize for n in NAMES] == [1, 1, 1, 2, 4, 8, 2, 4, 8]
    assert torch.int8.is_signed and not torch.uint8.is_signed and not torch.bool.is_signed
    assert not torch.float32.is_complex


def test_default_dtype():
    assert torch.get_default_dtype() is torch.float32
    torch.set_default_dtype(torch.float64)  # restored by conftest
    assert torch.get_default_dtype() is torch.float64
    assert torch.tensor([1.0]).dtype is torch.float64
    assert torch.tensor(2.5).dtype is torch.float64
    assert torch.ones(2).dtype is torch.float64
    assert torch.randn(2).dtype is torch.float64
    assert torch.arange(0.0, 2.0).dtype is torch.float64
    assert torch.full((2,), 1.5).dtype is torch.float64
    assert (torch.tensor([1]) + 1.5).dtype is torch.float64
    assert (torch.tensor([1]) / 2).dtype is torch.float64
    assert torch.zeros(2, dtype=torch.float32).dtype is torch.float32
    assert torch.tensor([1, 2]).dtype is torch.int64


def test_only_float_default_dtypes():
    with pytest.raises(
        TypeError, match="^only floating-point types are supported as the default type$"
    ):
        torch.set_default_dtype(torch.int64)
    assert torch.get_default_dtype() is torch.float32


INTS = [1, 2, 3]
FLOATS = [1.0, 2.0, 3.0]

PROMOTION = [
    # int tensor with a Python float: the default float dtype
    ("i64 + 1.5", "float32"),
    ("i64 * 2", "int64"),
    ("i64 / 2", "float32"),
    ("i64 / i64", "float32"),
    # a float32 tensor with a Python scalar stays float32
    ("f32 + 1", "float32"),
    ("f32 + 1.5", "float32"),
    ("f32 * True", "float32"),
    ("f16 + 1.0", "float16"),
    # two tensors with dimensions: promote_types
    ("f32 + f64", "float64"),
    ("f32 + i64", "float32"),
    ("i32 + i64", "int64"),
    ("u8 + i8", "int16"),
    ("b + b", "bool"),
    ("b + 1", "int64"),
    ("b + 1.0", "float32"),
    ("b * True", "bool"),
    ("i32 + 1", "int32"),
    # 0-dim tensors count only when their category is higher
    ("f32 + scalar_f64", "float32"),
    ("i64 + scalar_f32", "float32"),
    ("i64 + scalar_f64", "float64"),
    ("i32 + scalar_i64", "int32"),
    ("scalar_f32 + scalar_f64", "float64"),
    ("scalar_i64 + 1.5", "float32"),
    ("scalar_f64 + f32", "float32"),
]


@pytest.mark.parametrize("expression, expected", PROMOTION, ids=[e for e, _ in PROMOTION])
def test_promotion(expression, expected):
    values = {
        "i64": torch.tensor(INTS),
        "i32": torch.tensor(INTS, dtype=torch.int32),
        "u8": torch.tensor(INTS, dtype=torch.uint8),
        "i8": torch.tensor(INTS, dtype=torch.int8),
        "f16": torch.tensor(FLOATS, dtype=torch.float16),
        "f32": torch.tensor(FLOATS),
        "f64": torch.tensor(FLOATS, dtype=torch.float64),
        "b": torch.tensor([True, False, True]),
        "scalar_f32": torch.tensor(1.0),
        "scalar_f64": torch.tensor(1.0, dtype=torch.float64),
        "scalar_i64": torch.tensor(1),
    }
    result = eval(expression, {}, values)
    assert result.dtype is getattr(torch, expected)


def test_result_type():
    i64, f32 = torch.tensor(INTS), torch.tensor(FLOATS)
    assert torch.result_type(i64, 1.0) is torch.float32
    assert torch.result_type(f32, torch.tensor(FLOATS, dtype=torch.float64)) is torch.float64
    assert torch.result_type(torch.tensor(INTS, dtype=torch.int32), 5) is torch.int32
    assert torch.result_type(f32, torch.tensor(1.0, dtype=torch.float64)) is torch.float32


def test_promote_types_table():
    # Unlike numpy, any float type absorbs any integer type.
    dtypes = [getattr(torch, n) for n in NAMES]
    expected = [
        ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"],
        ["uint8", "uint8", "int16", "int16", "int32", "int64", "float16", "float32", "float64"],
        ["int8", "int16", "int8", "int16", "int32", "int64", "float16", "float32", "float64"],
        ["int16", "int16", "int16", "int16", "int32", "int64", "float16", "float32", "float64"],
        ["int32", "int32", "int32", "int32", "int32", "int64", "float16", "float32", "float64"],
        ["int64", "int64", "int64", "int64", "int64", "int64", "float16", "float32", "float64"],
        ["float16"] * 7 + ["float32", "float64"],
        ["float32"] * 8 + ["float64"],
        ["float64"] * 9,
    ]
    table = [[str(torch.promote_types(a, b)).split(".")[1] for b in dtypes] for a in dtypes]
    assert table == expected


def test_gradient_of_promoted_op_has_input_dtype():
    x = torch.tensor(FLOATS, requires_grad=True)
    y = torch.tensor(FLOATS, dtype=torch.float64, requires_grad=True)
    out = x * y
    assert out.dtype is torch.float64
    out.sum().backward()
    assert x.grad.dtype is torch.float32 and y.grad.dtype is torch.float64
    assert x.grad.tolist() == FLOATS and y.grad.tolist() == FLOATS
