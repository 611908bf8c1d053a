"""Custom autograd functions: ``class MyFn(Function)`` with static forward/backward and ``ctx``.

As in torch, ``ctx`` is the backward node itself, of class ``MyFnBackward``.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import grad_mode
from .. import tensor as _tensors  # a module: tensor.py imports this one
from ..tape import BACKWARD_TWICE, BackwardNode, SavedTensor, edge_of


class FunctionCtx:
    """What ``forward`` and ``backward`` receive as ``ctx``."""

    def save_for_backward(self, *tensors) -> None:
        self._to_save = tensors

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize_grads = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        if self._released:
            raise RuntimeError(BACKWARD_TWICE)
        return tuple(s.unpack(self) if isinstance(s, SavedTensor) else s for s in self._saved)

    saved_variables = saved_tensors


class CustomBackward(FunctionCtx, BackwardNode):
    """The node of one ``Function.apply`` call (subclassed per Function as ``NameBackward``)."""

    _forward_cls = None

    def __init__(self, args):
        Tensor = _tensors.Tensor

        self.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        super().__init__(
            [edge_of(a) for a in tensor_args],
            [(tuple(a.shape), a.dtype.numpy) for a in tensor_args],
        )
        self._tensor_positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        self._num_args = len(args)
        self._to_save = ()
        self._saved = ()
        self._dirty = ()
        self._non_differentiable = ()
        self._materialize_grads = True
        self._output_meta = ()

    def apply(self, grad_outputs):
        Tensor = _tensors.Tensor

        if self._released and self._saved:
            raise RuntimeError(BACKWARD_TWICE)
        if self._materialize_grads:
            grad_outputs = [
                Tensor._wrap(np.zeros(shape, dtype.numpy)) if g is None and dtype is not None else g
                for g, (shape, dtype) in zip(grad_outputs, self._output_meta, strict=True)
            ]
        grads = self._forward_cls.backward(self, *grad_outputs)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) > self._num_args and all(g is None for g in grads[self._num_args :]):
            grads = grads[: self._num_args]
        if len(grads) != self._num_args:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients (expected "
                f"{self._num_args}, got {len(grads)})"
            )
        for i, g in enumerate(grads):
            if g is not None and i not in self._tensor_positions:
                raise RuntimeError(
                    f"function {self.name()} returned a gradient different than None at "
                    f"position {i + 1}, but the corresponding forward input was not a Variable"
                )
        return [grads[i] for i in self._tensor_positions]

    def release(self) -> None:
        super().release()
        self._saved = ()

    def __repr__(self) -> str:
        # A Python class, so torch prints its module: <torch.autograd.function.FnBackward ...>
        return f"<{__name__}.{self.name()} object at {id(self):#x}>"


BackwardCFunction = CustomBackward  # torch's name for the base class of custom nodes


class FunctionMeta(type):
    """Gives each Function subclass its node class, named ``<Name>Backward`` as in torch."""

    def __init__(cls, name, bases, attrs):
        cls._backward_cls = type(f"{name}Backward", (CustomBackward,), {"_forward_cls": cls})
        super().__init__(name, bases, attrs)


class Function(metaclass=FunctionMeta):
    """Base class of custom differentiable operations.

    >>> import symgrad
    >>> class Square(symgrad.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * grad
    >>> x = symgrad.tensor(3.0, requires_grad=True)
    >>> Square.apply(x).backward()
    >>> x.grad
    tensor(6.)
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        Tensor = _tensors.Tensor

        if any(isinstance(a, Tensor) and a._is_symbolic for a in args):
            raise RuntimeError(
                f"symgrad.compile cannot trace the custom autograd.Function {cls.__name__}: "
                "its backward is arbitrary Python.\nsymgrad hint: write the function with "
                "symgrad ops (the compiler differentiates them), or call it outside compile."
            )
        node = cls._backward_cls(args)
        with grad_mode.no_grad():
            outputs = cls.forward(node, *args, **kwargs)
        is_tuple = isinstance(outputs, tuple)
        outputs = outputs if is_tuple else (outputs,)
        recording = grad_mode.is_grad_enabled() and any(node.needs_input_grad)
        node.num_outputs = len(outputs)
        outputs = tuple(_wrap_output(node, o, args, i, recording) for i, o in enumerate(outputs))
        node._output_meta = tuple(
            (tuple(o.shape), o.dtype) if isinstance(o, Tensor) else ((), None) for o in outputs
        )
        if recording:
            node._saved = tuple(_saved(node, t, outputs) for t in node._to_save)
        else:
            node._saved = node._to_save
        node._to_save = ()
        return outputs if is_tuple else outputs[0]


def _saved(node, value, outputs):
    """Save an input or output of ``forward``; an output is saved without a reference back
    to its node (no cycle), and its errors name the node, as in torch."""
    Tensor = _tensors.Tensor

    if not isinstance(value, Tensor):
        return value
    is_output = any(value is o for o in outputs) and value._grad_fn is node
    return SavedTensor(value, is_output=is_output)


def _wrap_output(node, output, args, index, recording):
    Tensor = _tensors.Tensor

    if not isinstance(output, Tensor):
        return output
    dirty = any(output is d for d in node._dirty)
    if dirty and recording and output._grad_fn is None and output._requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad has been used in an in-place operation."
        )
    if not dirty and any(output is a for a in args):
        alias = Tensor._wrap(output._data)
        alias._version_counter = _tensors.own_counter(output)
        output = alias
    if dirty:
        output._bump_version()
    non_differentiable = any(output is n for n in node._non_differentiable)
    if recording and not non_differentiable and output.dtype.is_floating_point:
        output._grad_fn = node
        output._output_nr = index
        output._requires_grad = True
    return output


def once_differentiable(backward):
    """Mark a backward as not itself differentiable: it runs with grad mode off."""

    @functools.wraps(backward)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            return backward(ctx, *args)

    return wrapper
