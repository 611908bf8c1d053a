"""``autograd.Variable``: the pre-0.4 wrapper, now (as in torch) a way to make a Tensor."""

from __future__ import annotations

from .. import tensor as _tensors  # a module: tensor.py imports this package


class _VariableType(type):
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, _tensors.Tensor)


class Variable(metaclass=_VariableType):
    """``Variable(t, requires_grad=False)``: a leaf sharing ``t``'s storage, as torch returns;
    every Tensor is an instance of Variable."""

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        if not isinstance(data, _tensors.Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        alias = data.detach()
        if requires_grad:
            alias.requires_grad_(True)
        return alias
