"""The classic PyTorch autograd tutorial, step by step, with ``import symgrad as torch``.

Every expected string is what PyTorch 2.13 prints for the same statement.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import symgrad as torch
from symgrad.tape import BACKWARD_TWICE
from symgrad.tensor import NONLEAF_GRAD_WARNING

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = re.compile(r"0x[0-9a-f]+")


def test_tutorial_step_by_step():
    x = torch.ones(2, 2, requires_grad=True)
    assert repr(x) == "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)"

    y = x + 2
    assert repr(y) == "tensor([[3., 3.],\n        [3., 3.]], grad_fn=<AddBackward0>)"
    assert re.fullmatch(r"<AddBackward0 object at 0x[0-9a-f]+>", repr(y.grad_fn))

    z = y * y * 3
    out = z.mean()
    assert repr(z) == "tensor([[27., 27.],\n        [27., 27.]], grad_fn=<MulBackward0>)"
    assert repr(out) == "tensor(27., grad_fn=<MeanBackward0>)"

    a = torch.randn(2, 2)
    a = (a * 3) / (a - 1)
    assert a.requires_grad is False
    assert a.requires_grad_(True) is a
    assert a.requires_grad is True
    b = (a * a).sum()
    assert type(b.grad_fn).__name__ == "SumBackward0"
    assert b.grad_fn.name() == "SumBackward0"

    out.backward()
    # d(out)/dx = 3/2 (x + 2) = 4.5
    assert repr(x.grad) == "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])"

    with pytest.warns(UserWarning) as record:
        assert y.grad is None
    assert str(record[0].message) == NONLEAF_GRAD_WARNING

    with pytest.raises(RuntimeError) as error:
        out.backward()
    assert str(error.value) == BACKWARD_TWICE


def test_nonleaf_grad_warning_text_is_torchs():
    assert NONLEAF_GRAD_WARNING == (
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
        "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
        "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
        "instead. See github.com/pytorch/pytorch/pull/30531 for more informations."
    )


def test_vector_jacobian_product():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="^grad can be implicitly created only for scalar"):
        y.backward()
    v = torch.tensor([0.1, 1.0, 0.0001], dtype=float)
    assert v.dtype is torch.float64
    y.backward(v)
    assert x.grad.dtype is torch.float32  # the float64 gradient is cast to y's dtype
    assert repr(x.grad) == "tensor([2.0000e-01, 2.0000e+00, 2.0000e-04])"


def test_zero_grad_is_not_a_tensor_method():
    y = torch.ones(2, requires_grad=True) * 2
    with pytest.raises(AttributeError, match="^'Tensor' object has no attribute 'zero_grad'$"):
        y.zero_grad  # noqa: B018


def test_polynomial_derivative_on_one_element_tensor():
    x = torch.tensor([3.0], requires_grad=True)
    f = x * x + 2 * x + 1
    f.backward()  # one element: no gradient argument needed
    assert repr(x.grad) == "tensor([8.])"  # 2x + 2
    x.grad = None
    (df,) = torch.autograd.grad(x * x + 2 * x + 1, x, create_graph=True)
    assert repr(df) == "tensor([8.], grad_fn=<AddBackward0>)"
    (d2f,) = torch.autograd.grad(df, x)
    assert repr(d2f) == "tensor([2.])"


def test_no_grad_and_detach_stop_tracking():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert (x**2).requires_grad
    with torch.no_grad():
        assert not (x**2).requires_grad
    assert not x.detach().requires_grad


# What `python examples/quickstart.py` prints with `import torch` (PyTorch 2.13), addresses
# replaced by 0x...: the script's random tensor only reaches the output through booleans.
QUICKSTART_TORCH_OUTPUT = """\
tensor([[1., 1.],
        [1., 1.]], requires_grad=True)
tensor([[3., 3.],
        [3., 3.]], grad_fn=<AddBackward0>)
<AddBackward0 object at 0x...>
tensor([[27., 27.],
        [27., 27.]], grad_fn=<MulBackward0>) tensor(27., grad_fn=<MeanBackward0>)
False
True
<SumBackward0 object at 0x...>
tensor([[4.5000, 4.5000],
        [4.5000, 4.5000]])
tensor([2.0000e-01, 2.0000e+00, 2.0000e-04])
True
True
False
False
tensor([8.], grad_fn=<AddBackward0>)
tensor([2.])
"""


def test_quickstart_prints_what_torch_prints():
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert ADDRESS.sub("0x...", result.stdout) == QUICKSTART_TORCH_OUTPUT
