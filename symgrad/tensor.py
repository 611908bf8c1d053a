"""Tensor: a payload (an ndarray, or a graph Node while tracing) plus autograd metadata.

Ops are not defined here: each op module attaches its Tensor methods next to its OpDef
(``symgrad/ops/``), so one op lives in one place; ``tensor.pyi`` (written by
``tools/make_stubs.py``) lists them for IDEs and type checkers.
"""

from __future__ import annotations

import itertools
import math
import warnings
import weakref

import numpy as np

from . import dtypes, grad_mode
from .devices import CPU, device
from .ir.trace import concretization_error, symbolic_repr
from .printing import parameter_repr, tensor_repr

NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more informations."
)


class Size(tuple):
    """A tensor shape: a tuple that prints as ``symgrad.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"symgrad.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, item):
        result = super().__getitem__(item)
        return Size(result) if isinstance(item, slice) else result

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


_scalar_warning = {"given": False}


def _warn_scalar_conversion() -> None:
    """torch's TORCH_WARN_ONCE for float()/complex() of a tensor that requires grad: once per
    process (int(), item() and bool() do not warn)."""
    if _scalar_warning["given"]:
        return
    _scalar_warning["given"] = True
    warnings.warn(
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
        "behavior.\nConsider using tensor.detach() first.",
        UserWarning,
        stacklevel=3,
    )


class RemovableHandle:
    """Returned by hook registration; ``remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks: HookDict, hook):
        self.id = next(RemovableHandle._ids)
        self._hooks_ref = weakref.ref(hooks)
        hooks[self.id] = hook

    def remove(self) -> None:
        hooks = self._hooks_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class HookDict(dict):
    """Hooks by handle id, in registration order; a handle references it weakly."""


# Tensor.backward runs the autograd engine, which sits above the ops (it sums gradients with
# them), so above this module: symgrad/autograd/engine.py installs its ``backward`` here when it
# is imported, which ``import symgrad`` does before any tensor exists. The one upward call.
_engine_backward = None


# The order in which backward nodes are made (their ``sequence_nr``), read by the tape.
_sequence = itertools.count()


class VersionCounter:
    """Shared by a tensor, its views and its detached aliases; bumped by every in-place op."""

    # A class-level start, no __init__: a counter that is never bumped costs its allocation.
    value = 0


class _Unshared:
    """The counter of a tensor that shares none and was never bumped (most tensors): reads as
    version 0, and cannot be bumped (its ``value`` is read-only). ``own_counter`` gives the
    tensor a counter of its own before one is shared or bumped."""

    __slots__ = ()
    value = 0


UNSHARED = _Unshared()

# Tensor._wrap's globals: it runs for every tensor an op or a gradient rule makes
_new = object.__new__
_grad_state = grad_mode._state
_ndarray = np.ndarray


def own_counter(tensor) -> VersionCounter:
    """``tensor``'s own version counter, made now if it still has ``UNSHARED``."""
    counter = tensor._version_counter
    if counter is UNSHARED:
        counter = tensor._version_counter = _new(VersionCounter)
    return counter


class Tensor:
    """A multi-dimensional array with PyTorch's autograd semantics.

    >>> import symgrad
    >>> x = symgrad.ones(2, 2, requires_grad=True)
    >>> y = (x + 2).mean()
    >>> y.backward()
    >>> x.grad
    tensor([[0.2500, 0.2500],
            [0.2500, 0.2500]])
    """

    # Fields every tensor sets live in slots; the rest are class-level defaults that a tensor
    # overrides in its __dict__ only when it needs to (a leaf's grad, a view's base, hooks):
    # _wrap runs once per op call and sets only what every tensor needs.
    __slots__ = (
        "_data",
        "_requires_grad",
        "_grad_fn",
        "_version_counter",
        "__weakref__",
        "__dict__",
    )
    _grad = None
    _output_nr = 0
    _base = None
    _view_fn = None
    _retains_grad = False
    _accumulator = None
    _post_accumulate_hooks = None
    _backward_hooks = None
    _is_param = False
    _inference = False
    # Position in the order nodes are created, set for views (see _sync_view): tells whether
    # a view predates its base's current history.
    _created = 0
    # When a non-leaf was detached in place (``detach_``), in that order: a node that saved
    # it before then raises torch's error when its backward runs.
    _detached_at = -1

    __array_priority__ = 1000

    # ``Tensor(...)`` is torch's legacy constructor: creation.py defines ``__new__``.

    @staticmethod  # not a classmethod: binding ``cls`` would cost a method object per call
    def _wrap(data, requires_grad: bool = False) -> Tensor:
        """A new leaf around ``data`` (an ndarray, or a graph Node while tracing)."""
        t = _new(Tensor)
        if data.__class__ is not _ndarray and isinstance(data, np.generic):
            data = np.asarray(data)
        t._data = data
        t._requires_grad = requires_grad
        t._grad_fn = None
        t._version_counter = UNSHARED
        if _grad_state.inference:
            t._inference = True
        return t

    # ----------------------------------------------------------------- payload
    @property
    def _is_symbolic(self) -> bool:
        return not isinstance(self._data, np.ndarray)

    def _concrete(self, what: str) -> np.ndarray:
        """The ndarray, or the tracing error that names the user's line and arguments."""
        if self._is_symbolic:
            raise concretization_error(self, what)
        return self._data

    # -------------------------------------------------------------- attributes
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return self.shape
        return self._data.shape[_wrap_dim(dim, self.ndim)]

    def dim(self) -> int:
        return len(self._data.shape)

    ndimension = dim

    @property
    def ndim(self) -> int:
        return len(self._data.shape)

    def numel(self) -> int:
        return math.prod(self._data.shape)

    nelement = numel

    @property
    def dtype(self) -> dtypes.dtype:
        found = dtypes.BY_NUMPY.get(self._data.dtype)  # one dict lookup on the hot path
        return found if found is not None else dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def element_size(self) -> int:
        return self._data.dtype.itemsize

    def stride(self, dim: int | None = None):
        strides = tuple(s // self._data.dtype.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self.ndim)]

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    @property
    def _version(self) -> int:
        if self._inference:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._version_counter.value

    def is_inference(self) -> bool:
        """True for tensors made under ``inference_mode``."""
        return self._inference

    def _bump_version(self) -> None:
        if not self._inference:
            own_counter(self).value += 1

    # ---------------------------------------------------------------- autograd
    @property
    def requires_grad(self) -> bool:
        self._sync_view()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._sync_view()
        if self._grad_fn is not None:
            if value:
                raise RuntimeError("you can only change requires_grad flags of leaf variables.")
            raise RuntimeError(_LEAF_ONLY_FALSE)
        if value and not self.dtype.is_floating_point:
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self._sync_view()
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(_LEAF_ONLY_FALSE)
            return self
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad_fn(self):
        self._sync_view()
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        self._sync_view()
        return self._grad_fn is None

    @property
    def output_nr(self) -> int:
        self._sync_view()
        return self._output_nr

    def _sync_view(self) -> None:
        """Once an in-place op rewrote the history of this view's base (through the base or
        through another view), take the grad_fn from the base again, named as torch names it."""
        base = self._base
        if base is None or base._grad_fn is None or self._view_fn is None or self._is_symbolic:
            return
        current = self._grad_fn
        made = current.sequence_nr if current is not None else self._created
        if made > base._grad_fn.sequence_nr:
            return  # the base's history is older than this view's: nothing to redo
        with grad_mode.enable_grad():
            replay = self._view_fn(base)
        replay._grad_fn._present_as("AsStridedBackward0")
        self._grad_fn = replay._grad_fn
        self._output_nr = replay._output_nr
        self._requires_grad = True

    @property
    def grad(self) -> Tensor | None:
        if self._grad is None and self._grad_fn is not None and not self._retains_grad:
            warnings.warn(NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value.dtype != self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype._cpp_name}' to a "
                    f"tensor with grad_dtype '{self.dtype._scalar_name}'. The gradient must match "
                    "the tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
                    "tensor's grad_dtype attribute with a specific dtype, or None to allow any "
                    "dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its "
                    "gradient may break downstream systems that assume they match."
                )
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size"
                )
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Populate ``.grad`` of this non-leaf tensor during backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        self._grad_fn._retain_grad(self._output_nr, weakref.ref(self))

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (torch.Tensor.backward)."""
        _engine_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose ``remove()`` unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return self._grad_fn._register_tensor_hook(self._output_nr, hook)
        if self._backward_hooks is None:
            self._backward_hooks = HookDict()
        return RemovableHandle(self._backward_hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after ``.grad`` of this leaf was updated."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = HookDict()
        return RemovableHandle(self._post_accumulate_hooks, hook)

    def detach(self) -> Tensor:
        """A new leaf sharing data and the version counter, outside the graph."""
        out = Tensor._wrap(self._data)
        out._version_counter = own_counter(self)
        return out

    def detach_(self) -> Tensor:
        """Make this tensor a leaf that does not require grad, in place."""
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
            )
        if self._grad_fn is not None:
            self._detached_at = next(_sequence)
        self._grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    @property
    def data(self) -> Tensor:
        out = Tensor._wrap(self._data)
        out._is_param = False
        return out

    @data.setter
    def data(self, value: Tensor) -> None:
        self._replace_data(value._data)

    def _replace_data(self, data) -> None:
        """Give this tensor other values in place (``.data =``, ``out=`` reallocation). When
        their shape or dtype differs, the node that made it is told: the gradients it gets
        no longer have the shape it recorded."""
        old = self._data
        self._data = data
        if self._grad_fn is not None and (old.shape != data.shape or old.dtype != data.dtype):
            self._grad_fn._output_changed()

    # -------------------------------------------------------------- conversion
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as an ndarray sharing memory (torch.Tensor.numpy)."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._concrete("numpy()")

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        return array

    def item(self):
        """The value of a one-element tensor as a Python number."""
        data = self._concrete("item()")
        if data.size != 1:
            raise RuntimeError(f"a Tensor with {data.size} elements cannot be converted to Scalar")
        return data.reshape(()).item()

    def tolist(self):
        return self._concrete("tolist()").tolist()

    def __float__(self) -> float:
        if self._requires_grad:
            _warn_scalar_conversion()
        return float(self._scalar_for("float()"))

    def __complex__(self) -> complex:
        if self._requires_grad:
            _warn_scalar_conversion()
        return complex(self._scalar_for("complex()"))

    def __int__(self) -> int:
        return int(self._scalar_for("int()"))

    def __index__(self) -> int:
        data = self._concrete("__index__()")
        if self.dtype.is_floating_point or data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(data.reshape(()))

    def __bool__(self) -> bool:
        data = self._concrete("bool()")
        if data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                if data.size > 1
                else "Boolean value of Tensor with no values is ambiguous"
            )
        return bool(data.reshape(()))

    def _scalar_for(self, what: str):
        data = self._concrete(what)
        if data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.reshape(()).item()

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        if self._is_symbolic:
            return symbolic_repr(self)
        return parameter_repr(self) if self._is_param else tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self.ndim == 0 and not self._is_symbolic:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._concrete("pickle"), self._requires_grad))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment.  If you were attempting to deepcopy a module, "
                "this may be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        out = _rebuild(self._data.copy(), self._requires_grad)
        out._is_param = self._is_param
        if self._grad is not None:
            out._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = out
        return out


dtypes._tensor_class = (Tensor,)

_LEAF_ONLY_FALSE = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
)


def _rebuild(data: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor._wrap(np.array(data), requires_grad)


def _wrap_dim(dim: int, ndim: int) -> int:
    """Normalize a possibly negative dim, with torch's IndexError."""
    low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not low <= dim <= high:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})"
        )
    return dim % max(ndim, 1)
