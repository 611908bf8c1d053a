"""The autograd tape: backward nodes (``AddBackward0`` ...), ``AccumulateGrad``, saved tensors.

Ops record into it (above Tensor, below the ops); the engine in ``symgrad.autograd`` runs it.
"""

from __future__ import annotations

import types
import weakref

from . import dtypes
from . import tensor as _tensors
from .tensor import HookDict, RemovableHandle, _sequence

_node_classes: dict[str, type] = {}
_new = object.__new__
# In a node's saved arguments: an unsaved tensor input, whose InputMeta the rule gets (or
# this placeholder itself, for an op that does not read unsaved inputs: OpDef.reads_unsaved).
_META = UNSAVED = object()

BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed when "
    "you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)

DETACHED_IN_PLACE = (
    "Trying to use a saved tensor that has been detached in-place, i.e. with .detach_().This "
    "is not supported, please use out-of-place `.detach()` instead"
)


def cannot_save_inference_tensor():
    raise RuntimeError(
        "Inference tensors cannot be saved for backward. Please do not use Tensors "
        "created in inference mode in computation tracked by autograd. To work around "
        "this, you can make a clone to get a normal tensor and use it in autograd, or use "
        "`torch.no_grad()` instead of `torch.inference_mode()`."
    )


class SavedTensor:
    """A tensor saved for backward, with the version it had when saved: an op's output, and
    what a custom Function saves (an op node keeps its saved inputs as they are, with their
    versions: ``OpBackward._saved_versions``).

    The output of the node that saves it is kept as data only (no reference back to the node,
    so no cycle); unpacking re-attaches the node, as torch does.
    """

    tensor = None
    data = None
    is_output = False
    output_nr = 0
    requires_grad = True

    def __init__(self, tensor, is_output: bool = False):
        if tensor._inference:
            cannot_save_inference_tensor()
        self.is_output = is_output
        # Which output of its node the tensor is: a multi-output node routes a gradient that
        # reaches the unpacked tensor to that output's slot.
        self.output_nr = tensor._output_nr if is_output else 0
        self._counter = _tensors.own_counter(tensor)
        self.version = tensor._version_counter.value
        # An output is saved while its node is being built: it will require grad.
        self.requires_grad = is_output or tensor._requires_grad
        self.was_leaf = tensor._grad_fn is None
        self.tensor = None if is_output else tensor
        self.data = tensor._data if is_output else None

    def unpack(self, node):
        Tensor = _tensors.Tensor

        if self._counter.value != self.version:
            tensor = self.tensor
            raise RuntimeError(_modified_message(tensor, node, self))
        if not self.is_output:
            if not self.was_leaf and self.tensor._grad_fn is None:
                raise RuntimeError(DETACHED_IN_PLACE)
            return self.tensor
        out = Tensor._wrap(self.data, self.requires_grad)
        out._version_counter = self._counter
        if self.requires_grad:
            out._grad_fn = node
            out._output_nr = self.output_nr
        return out


def _modified_message(tensor, node, saved: SavedTensor) -> str:
    if tensor is None:
        data, owner = saved.data, node
    else:
        data, owner = tensor._data, tensor._grad_fn
    legacy = dtypes.LEGACY_NAMES[dtypes.from_numpy_dtype(data.dtype).name]
    described = f"[torch.{legacy} [{', '.join(map(str, data.shape))}]]"
    if owner is not None:
        output_nr = saved.output_nr if tensor is None else tensor._output_nr
        name = type(owner).__name__
        short = name[: name.rfind("Backward")] if "Backward" in name else name
        described += f", which is output {output_nr} of {short},"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {described} is at version {saved._counter.value}; expected version "
        f"{saved.version} instead. Hint: enable anomaly detection to find the operation that "
        "failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, "
        "check_nan=False)."
    )


class InputMeta:
    """What a rule sees of an input that was not saved: its shape, dtype and ndim.

    Made for every unsaved input of every recorded op and read by few rules: it keeps the
    array's shape tuple and numpy dtype, and makes the Size and dtype when asked.
    """

    __slots__ = ("_shape", "_dtype")

    def __init__(self, tensor):
        data = tensor._data
        self._shape = data.shape
        self._dtype = data.dtype

    @property
    def shape(self):
        return _tensors.Size(self._shape)

    @property
    def dtype(self):
        return dtypes.from_numpy_dtype(self._dtype)

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def dim(self) -> int:
        return len(self._shape)


class BackwardNode:
    """A node of the backward graph; its class name is torch's (``MulBackward0``).

    ``next_functions`` holds one ``(node, output_nr)`` edge per input, ``(None, 0)`` for inputs
    that need no gradient. ``input_meta`` holds each input's (shape, dtype): the engine sums a
    broadcast gradient to that shape and casts it to that dtype, in one place.
    """

    num_outputs = 1
    # Hooks registered on output tensors (``register_hook``), by output number.
    _tensor_hooks: dict[int, HookDict] | None = None
    # Rarely used per-node containers are created on first use: every op call builds a node,
    # and most nodes never get a hook, a retained grad or metadata.
    _retained: dict[int, weakref.ref] | None = None
    _hooks: HookDict | None = None
    _prehooks: HookDict | None = None
    _metadata: dict | None = None
    _released = False
    # True for a node the engine may run directly: an op's rule, with no hook and no retained
    # gradient (registering one clears it). Custom Functions and leaves take the long way.
    _plain = False

    def __init__(self, next_functions, input_meta):
        self.next_functions = tuple(next_functions)
        self.input_meta = tuple(input_meta)
        self.sequence_nr = next(_sequence)

    @property
    def metadata(self) -> dict:
        """A dict for the user's annotations (torch's ``Node.metadata``)."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    # torch's C++-only nodes (AccumulateGrad, CopySlices, ...) name themselves with their
    # namespace; their class name, shown in reprs, has none.
    _namespace = ""

    def name(self) -> str:
        return self._namespace + type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    def __call__(self, *grad_outputs):
        return self.apply(list(grad_outputs))

    def apply(self, grad_outputs: list):
        raise NotImplementedError

    def release(self) -> None:
        """Drop saved values once backward ran without retain_graph."""
        self._released = True

    def _output_changed(self) -> None:
        """An output tensor got values of another shape or dtype (``.data =``): the engine
        checks this node's gradients again (see ``OpBackward._exact``)."""
        self._exact = False

    def register_hook(self, hook):
        """``hook(grad_inputs, grad_outputs)`` runs after this node computed its gradients."""
        if self._hooks is None:
            self._hooks = HookDict()
        self._plain = False
        return RemovableHandle(self._hooks, hook)

    def register_prehook(self, hook):
        """``hook(grad_outputs)`` runs before this node; it may return replacement gradients."""
        if self._prehooks is None:
            self._prehooks = HookDict()
        self._plain = False
        return RemovableHandle(self._prehooks, hook)

    def _register_tensor_hook(self, output_nr: int, hook):
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        self._plain = False
        hooks = self._tensor_hooks.setdefault(output_nr, HookDict())
        return RemovableHandle(hooks, hook)

    def _retain_grad(self, output_nr: int, tensor_ref) -> None:
        if self._retained is None:
            self._retained = {}
        self._plain = False
        self._retained[output_nr] = tensor_ref


class OpBackward(BackwardNode):
    """The backward of one OpDef call: runs ``op.vjp`` on the saved inputs and output."""

    _plain = True
    # True when the rule's gradients are known to fit the inputs (OpDef.exact_vjp, for a
    # call without broadcasting): the engine skips its shape and dtype check. Set only on the
    # nodes of the binary shortcut and record_binary, which have no attributes and save no
    # output (the engine relies on that too).
    _exact = False
    _positions = None
    # The version of each saved input when it was saved, by argument (see ``_rule_args``).
    _saved_versions: tuple = ()
    attrs = types.MappingProxyType({})  # read-only: a node with attributes has its own
    _saved_out = None

    @property
    def _saves_values(self) -> bool:
        # torch saves Python numbers as tensors too: after release only nodes that saved
        # nothing (add, view, sum ...) can run again.
        return self.op.saves != "none"

    def _present_as(self, name: str) -> None:
        """Take the class torch names ``name`` (a view replayed from its base is torch's
        ``AsStridedBackward0``): Tensor, below this module, calls this on its grad_fn."""
        self.__class__ = node_class(name)

    def __init__(
        self, op, attrs, args, result, next_functions: tuple, input_meta: tuple, positions=None
    ):
        # BackwardNode.__init__ inlined: this runs once per recorded op call.
        self.next_functions = next_functions
        self.input_meta = input_meta
        self.sequence_nr = next(_sequence)
        self.op = op
        # The argument each edge belongs to (None, the class default: one edge per argument):
        # the rule returns one gradient per argument, the engine wants one per edge. The
        # fields below that have class defaults are stored only when they differ from them:
        # every recorded op call builds a node.
        if positions is not None:
            self._positions = positions
        if attrs:
            self.attrs = attrs
        saves = op.saves
        Tensor = _tensors.Tensor
        # An unsaved tensor input reaches the rule as InputMeta, made from ``input_meta`` when
        # the rule runs (``_META`` holds its place) where the edges are one per argument.
        unsaved = InputMeta if positions is not None else None
        saves_inputs = saves == "inputs" or saves == "both"
        if saves_inputs and op.saves_each_for_the_other:
            x, y = args
            # x is saved when y requires grad and y when x does; the rest is InputMeta
            x_is_tensor = x.__class__ is Tensor or isinstance(x, Tensor)
            y_is_tensor = y.__class__ is Tensor or isinstance(y, Tensor)
            if x_is_tensor:
                x = _savable(x) if y_is_tensor and y._requires_grad else InputMeta(x)
            if y_is_tensor:
                y = _savable(y) if x_is_tensor and args[0]._requires_grad else InputMeta(y)
            self._saved_args = saved_args = [x, y]
            self._saved_versions = _versions(saved_args)
        elif saves_inputs:
            saved_args = []
            for a in args:
                saved_args.append(_savable(a) if isinstance(a, Tensor) else a)
            self._saved_args = saved_args
            self._saved_versions = _versions(saved_args)
        else:  # "none" or "output"
            saved_args = []
            for a in args:  # a loop, not a comprehension: this runs on every recorded call
                if isinstance(a, Tensor):
                    a = unsaved(a) if unsaved is not None else _META
                saved_args.append(a)
            self._saved_args = saved_args
        if saves == "output" or saves == "both":
            self._saved_out = SavedTensor(result, True)

    def apply(self, grad_outputs):
        if self._released and self._saves_values:
            raise RuntimeError(BACKWARD_TWICE)
        g = grad_outputs[0]
        if g is None and all(g is None for g in grad_outputs):
            return (None,) * len(self.next_functions)
        op = self.op
        args = self._saved_args if op.args_as_saved else self._rule_args()
        saved_out = self._saved_out
        out = saved_out.unpack(self) if saved_out is not None else None
        attrs = self.attrs
        grads = op.vjp(g, out, *args, **attrs) if attrs else op.vjp(g, out, *args)
        if grads.__class__ is not tuple and not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if self._positions is not None:
            grads = [grads[i] if i < len(grads) else None for i in self._positions]
        return grads

    def _rule_args(self):
        """The saved arguments as the rule takes them: saved inputs checked (not modified in
        place, not detached in place since), the ``_META`` placeholders of unsaved tensor
        inputs made InputMeta where the op's rule reads them (the rest as they are)."""
        Tensor = _tensors.Tensor
        saved_args = self._saved_args
        unpacked = None
        i = -1
        for saved in saved_args:  # a loop, not a comprehension: once per node
            i += 1
            if saved is _META:
                if self.op.reads_unsaved:  # self._input_meta(i), inlined
                    if unpacked is None:
                        unpacked = list(saved_args)
                    meta = unpacked[i] = _new(InputMeta)
                    meta._shape, meta._dtype = self.input_meta[i]
            elif saved.__class__ is Tensor or isinstance(saved, Tensor):
                if (
                    saved._version_counter.value != self._saved_versions[i]
                    or saved._detached_at > self.sequence_nr
                ):
                    self._unusable(saved, i)
        return saved_args if unpacked is None else unpacked

    def _unusable(self, tensor, i: int):
        """Raise torch's error for saved input ``i`` when it was changed in place (or
        detached in place) since it was saved."""
        version = self._saved_versions[i]
        if tensor._version_counter.value == version and tensor._detached_at <= self.sequence_nr:
            return
        if tensor._version_counter.value != version:
            saved = _new(SavedTensor)
            saved._counter = tensor._version_counter
            saved.version = version
            raise RuntimeError(_modified_message(tensor, self, saved))
        raise RuntimeError(DETACHED_IN_PLACE)

    def _input_meta(self, i: int) -> InputMeta:
        shape, dtype = self.input_meta[i]
        meta = _new(InputMeta)
        meta._shape = shape
        meta._dtype = dtype
        return meta

    def release(self) -> None:
        self._released = True  # BackwardNode.release, inlined
        if self.op.saves != "none":  # self._saves_values, inlined: runs for every node
            self._saved_args = None
            if self._saved_out is not None:
                self._saved_out = None

    def __getattr__(self, name: str):
        # torch exposes saved values as grad_fn._saved_self / _saved_other / _saved_result.
        saved_names = {"_saved_self": 0, "_saved_other": 1}
        if name in saved_names or name == "_saved_result":
            if self.__dict__.get("_released"):
                raise RuntimeError(BACKWARD_TWICE)
            if name == "_saved_result" and self._saved_out is not None:
                return self._saved_out.unpack(self)
            index = saved_names.get(name)
            if index is not None and index < len(self._saved_args):
                saved = self._saved_args[index]
                if saved is _META:
                    return self._input_meta(index)
                if isinstance(saved, _tensors.Tensor):
                    self._unusable(saved, index)  # raises if it was changed since
                return saved
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


class AccumulateGrad(BackwardNode):
    """The sink of a leaf tensor: adds the incoming gradient into ``variable.grad``.

    The leaf holds its AccumulateGrad and the node holds the leaf weakly (torch does the
    reverse): every op on a leaf then finds its node instead of making one, and no cycle keeps
    a dropped leaf's memory alive. What a user can see of it: ``variable`` is None once nothing
    else holds the leaf (torch's graph would keep it alive), and a hook registered on the node
    lives as long as the leaf (torch's node, and its hooks, go with the graph).
    """

    _namespace = "torch::autograd::"
    next_functions = ()
    # torch's AccumulateGrad has the largest sequence number (the engine runs it first).
    sequence_nr = 2**64 - 1

    def __init__(self, variable):
        self._variable = weakref.ref(variable)

    @property
    def variable(self):
        return self._variable()

    @property
    def input_meta(self):
        variable = self._variable()
        if variable is None:
            return ()
        data = variable._data
        return ((data.shape, data.dtype),)

    @property
    def _tensor_hooks(self):
        # A leaf keeps its own hooks (register_hook on the tensor) on the tensor.
        variable = self._variable()
        hooks = variable._backward_hooks if variable is not None else None
        return {0: hooks} if hooks else None

    def apply(self, grad_outputs):
        return ()


def _is_tensor(value) -> bool:
    Tensor = _tensors.Tensor

    return isinstance(value, Tensor)


def node_class(name: str, base: type = OpBackward) -> type:
    """The node class torch names ``name`` (``AddBackward0``), created once."""
    cls = _node_classes.get(name)
    if cls is None:
        namespace = "torch::autograd::" if name in _CPP_NODES else ""
        cls = type(name, (base,), {"_namespace": namespace})
        _node_classes[name] = cls
    return cls


# Nodes that torch implements only in C++: their name() carries the namespace.
_CPP_NODES = frozenset({"CopySlices", "CopyBackwards", "NotImplemented"})


def accumulator_for(tensor) -> AccumulateGrad:
    """The leaf's AccumulateGrad node, shared by every graph that uses the leaf."""
    node = tensor._accumulator
    if node is None:
        node = tensor._accumulator = AccumulateGrad(tensor)
    return node


def edge_of(value):
    """The (node, output_nr) edge a gradient for ``value`` flows into."""
    if not _is_tensor(value) or not value.requires_grad:
        return (None, 0)
    if value._grad_fn is not None:
        return (value._grad_fn, value._output_nr)
    return (accumulator_for(value), 0)


_NO_EDGE = (None, 0)


def record(op, args, attrs, result) -> None:
    """Attach ``result`` to the graph when some differentiable input requires grad.

    This runs on every op call with grad mode on, so it reads the tensor fields directly:
    only a view (``_base`` set) goes through the ``requires_grad``/``grad_fn`` properties,
    which first replay an in-place change of its base.
    """
    Tensor = _tensors.Tensor
    for a in args:
        if isinstance(a, Tensor) and (a._requires_grad or a._base is not None):
            break
    else:
        return  # no input requires grad (a view may, once synced: it takes the long way)
    if len(args) == 1 and not op.nondifferentiable_inputs:
        positions = None  # _edge_positions' answer for one tensor argument (most ops)
        with_edges = args
    else:
        positions = _edge_positions(op, args)
        with_edges = args if positions is None else [args[i] for i in positions]
    edges = []
    meta = []
    needs = False
    for a in with_edges:
        if not isinstance(a, Tensor):
            edges.append(_NO_EDGE)
            meta.append(None)
            continue
        data = a._data
        meta.append((data.shape, data.dtype))
        if a._base is not None:
            a._sync_view()
        if not a._requires_grad:
            edges.append(_NO_EDGE)
            continue
        needs = True
        fn = a._grad_fn
        if fn is not None:
            edges.append((fn, a._output_nr))
            continue
        edges.append((a._accumulator or accumulator_for(a), 0))
    if not needs or result._data.dtype.kind != "f":
        return
    name = op.backward_name
    name = name if name.__class__ is str else name(args, attrs)
    cls = _node_classes.get(name) or node_class(name)  # the lookup, without a call per op
    result._grad_fn = cls(op, attrs, args, result, tuple(edges), tuple(meta), positions)
    result._requires_grad = True


def _edge_positions(op, args) -> list[int] | None:
    """The arguments that get an edge in ``next_functions``, as in torch: tensors, and numbers
    that torch wraps as tensors; never non-differentiable inputs (indices, masks, targets).
    None when every argument gets one."""
    Tensor = _tensors.Tensor  # runs on every recorded op call: no helper calls per argument
    nondiff = op.nondifferentiable_inputs
    wraps_numbers = op.wraps_numbers
    positions = []
    after_tensor = False
    i = -1
    for a in args:
        i += 1
        if isinstance(a, Tensor):
            after_tensor = True
            if i not in nondiff:
                positions.append(i)
        elif wraps_numbers and after_tensor and i not in nondiff:
            positions.append(i)
    return None if len(positions) == len(args) else positions


def _savable(tensor):
    """``tensor``, which an op node saves as it is; torch's error for an inference tensor."""
    if tensor._inference:
        cannot_save_inference_tensor()
    return tensor


def _versions(saved_args) -> tuple:
    """The version of each saved input (0 in the other places): ``_saved_versions``."""
    Tensor = _tensors.Tensor
    return tuple(a._version_counter.value if isinstance(a, Tensor) else 0 for a in saved_args)


def record_binary(op, a, b, result) -> None:
    """``record`` for the binary shortcut's calls that its own recording does not cover (a
    number first, an op that saves its output or has a computed node name): two arguments,
    neither a view, at least one a tensor that requires grad, and a floating result. The
    edges are those ``record`` and ``_edge_positions`` give: a number before the tensor gets
    none, a number after it ``(None, 0)`` when the op wraps numbers."""
    Tensor = _tensors.Tensor
    if op.nondifferentiable_inputs:
        record(op, (a, b), {}, result)
        return
    positions = None
    if a.__class__ is Tensor:
        data = a._data
        meta_a = (data.shape, data.dtype)
        if b.__class__ is Tensor:
            data = b._data
            edges = (_edge_of_plain(a), _edge_of_plain(b))
            meta = (meta_a, (data.shape, data.dtype))
        elif op.wraps_numbers:
            edges = (_edge_of_plain(a), _NO_EDGE)
            meta = (meta_a, None)
        else:
            edges = (_edge_of_plain(a),)
            meta = (meta_a,)
            positions = [0]
    else:
        data = b._data
        edges = (_edge_of_plain(b),)
        meta = ((data.shape, data.dtype),)
        positions = [1]
    name = op.backward_name
    args = (a, b)
    name = name if name.__class__ is str else name(args, {})
    cls = _node_classes.get(name) or node_class(name)
    node = result._grad_fn = cls(op, {}, args, result, edges, meta, positions)
    result._requires_grad = True
    if op.exact_vjp and (len(meta) == 1 or meta[1] is None or meta[0] == meta[1]):
        node._exact = True  # no broadcasting (the shortcut's operands share one dtype)


def _edge_of_plain(tensor):
    """``edge_of`` for a tensor that is not a view, reading its fields directly."""
    if not tensor._requires_grad:
        return _NO_EDGE
    fn = tensor._grad_fn
    if fn is not None:
        return (fn, tensor._output_nr)
    return (tensor._accumulator or accumulator_for(tensor), 0)
