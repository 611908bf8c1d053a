"""Affine layers: ``Identity``, ``Linear``, ``Bilinear`` (torch.nn.modules.linear)."""

from __future__ import annotations

import math

from .. import creation
from ..tensor import Tensor
from . import init
from .functional import bilinear, linear
from .module import Module
from .parameter import Parameter

__all__ = ["Bilinear", "Identity", "Linear", "register_weight_and_bias", "reset_affine"]


def reset_affine(weight: Tensor, bias: Tensor | None) -> None:
    """torch's default initialization of Linear and Conv layers: ``kaiming_uniform_`` with
    a=sqrt(5), that is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias from the same range."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = math.prod(weight.shape[1:])
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input; any constructor arguments are ignored (as torch does)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


def register_weight_and_bias(module: Module, weight_shape, bias: bool, dtype) -> None:
    """``module.weight`` of ``weight_shape`` and ``module.bias`` of its first dim (or a None
    bias), as Parameters to be filled by the layer's ``reset_parameters``."""
    module.weight = Parameter(creation.empty(*weight_shape, dtype=dtype))
    if bias:
        module.bias = Parameter(creation.empty(weight_shape[0], dtype=dtype))
    else:
        module.register_parameter("bias", None)


class Linear(Module):
    """y = x @ weight.T + bias, with ``weight`` (out_features, in_features).

    Initialized as torch initializes it: weight by ``kaiming_uniform_(a=sqrt(5))``, that is
    U(-1/sqrt(in_features), 1/sqrt(in_features)), and bias from the same range, drawn from
    symgrad's generator.

    >>> import symgrad
    >>> from symgrad import nn
    >>> nn.Linear(3, 2)
    Linear(in_features=3, out_features=2, bias=True)
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        register_weight_and_bias(self, (out_features, in_features), bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Bilinear(Module):
    """y = x1^T A x2 + b, with ``weight`` (out_features, in1_features, in2_features)."""

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        register_weight_and_bias(self, (out_features, in1_features, in2_features), bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
