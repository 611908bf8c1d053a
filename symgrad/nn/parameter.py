"""``Parameter``: a leaf tensor that a model owns, as torch.nn.Parameter.

symgrad has one Tensor class (the compiler and the engine rely on it), so a parameter is a
plain Tensor leaf flagged ``_is_param``: it prints as "Parameter containing:" and
``isinstance(p, Parameter)`` is true for it.
"""

from __future__ import annotations

from ..creation import empty
from ..tensor import Tensor


class _ParameterType(type):
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance._is_param


class Parameter(metaclass=_ParameterType):
    """A leaf sharing ``data``'s storage, with ``requires_grad`` set (torch.nn.Parameter).

    >>> import symgrad
    >>> p = symgrad.nn.Parameter(symgrad.ones(2))
    >>> p
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    >>> isinstance(p, symgrad.Tensor), isinstance(p, symgrad.nn.Parameter)
    (True, True)
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Tensor:
        if data is None:
            data = empty(0)
        if requires_grad and not data.dtype.is_floating_point:
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients"
            )
        parameter = data.detach()  # shares storage and the version counter
        parameter.requires_grad_(requires_grad)
        parameter._is_param = True
        return parameter
