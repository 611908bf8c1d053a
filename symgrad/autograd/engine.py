"""The backward engine: iterative discovery, dependency counting, a deterministic ready queue.

A node runs once every gradient flowing into it has been summed. Gradients that reach an input
with the output's broadcast shape are summed to the input's shape here, and only here.
"""

from __future__ import annotations

import heapq
import itertools
import warnings

import numpy as np

from .. import dtypes, float_errors, grad_mode
from .. import profiling as _profiler
from .. import tensor as _tensors
from ..float_errors import call_ignoring
from ..ops.reduce import sum_to_shape
from ..tape import AccumulateGrad, OpBackward, edge_of

CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this function, "
    "make sure to reset the .grad fields of your parameters to None after use to break the "
    "cycle and avoid the leak."
)
_warned_create_graph = False


def _size_text(shape) -> str:
    return f"torch.Size([{', '.join(map(str, shape))}])"


def make_grads(outputs, grad_outputs, is_grads_batched: bool = False):
    """Validate user gradients; create the implicit ones for one-element outputs."""
    Tensor = _tensors.Tensor

    grads = []
    # zip stops at the shorter sequence, as torch's _make_grads; ``run`` checks the lengths.
    for i, (out, grad) in enumerate(zip(outputs, grad_outputs, strict=False)):
        if isinstance(grad, Tensor):
            if tuple(grad.shape) != tuple(out.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of "
                    f"{_size_text(grad.shape)} and output[{i}] has a shape of "
                    f"{_size_text(out.shape)}."
                )
            grads.append(grad)
        elif grad is None:
            if out._requires_grad:
                data = out._data
                if out.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if not out.dtype.is_floating_point:
                    raise RuntimeError(
                        "grad can be implicitly created only for real scalar outputs but got "
                        f"{out.dtype}".replace("symgrad.", "torch.")
                    )
                one = np.empty(data.shape, data.dtype)  # np.ones, without its Python layer
                one.fill(1)
                grads.append(Tensor._wrap(one))
            else:
                grads.append(None)
        else:
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(grad).__name__}"
            )
    return grads


def _as_tuple(value):
    Tensor = _tensors.Tensor

    if value is None:
        return None
    if isinstance(value, Tensor):
        return (value,)
    if type(value) is dict:
        return tuple(value.values())
    return tuple(value)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """symgrad.autograd.backward: accumulate gradients of ``tensors`` into leaves' ``.grad``."""
    global _warned_create_graph
    tensors = _as_tuple(tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if len(inputs) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    grad_tensors = _as_tuple(grad_tensors) or (None,) * len(tensors)
    grads = make_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph and not _warned_create_graph:
        _warned_create_graph = True
        warnings.warn(CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    run(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=None,
    is_grads_batched=False,
    materialize_grads=False,
):
    """symgrad.autograd.grad: gradients of ``outputs`` w.r.t. ``inputs``; ``.grad`` untouched."""
    Tensor = _tensors.Tensor

    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    names = tuple(inputs) if type(inputs) is dict else None
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if len(inputs) == 0:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grad_outputs = _as_tuple(grad_outputs) or (None,) * len(outputs)
    grads = make_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    results = run(outputs, grads, retain_graph, create_graph, inputs=inputs, accumulate=False)
    final = []
    for index, (t, g) in enumerate(zip(inputs, results, strict=True)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {index} appears to not have been used "
                    "in the graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                g = Tensor._wrap(np.zeros(t._data.shape, t._data.dtype))
        final.append(g)
    if names is not None:
        return dict(zip(names, final, strict=True))
    return tuple(final)


def _new_entry(node) -> list:
    """A node's entry while the engine runs: ``[count, slots, owned]``: ``count`` edges into
    it have not delivered their gradient yet, ``slots`` holds the sum so far of each of its
    outputs' gradients, ``owned`` the one sum the engine made there (it may add into that in
    place: no one else holds it)."""
    return [0, [None] * node.num_outputs, None]


def _discover(roots, with_order: bool = False):
    """Every node reachable from the roots (iterative), each with its ``_new_entry``; the
    entry counts the edges that point at the node from reachable nodes. When asked, also
    every such node in the order found."""
    pending: dict = {}
    stack = list(roots)
    roots = set(roots) if len(roots) > 1 else ()  # one root: nothing points back at it
    order = [] if with_order else None
    get = pending.get
    while stack:
        node = stack.pop()
        if with_order:
            order.append(node)
        for child, _ in node.next_functions:
            entry = get(child)
            if entry is not None:
                entry[0] += 1
            elif child is not None:  # the first edge into ``child``: new unless it is a root
                pending[child] = [1, [None] * child.num_outputs, None]  # _new_entry, counted
                if child not in roots:
                    stack.append(child)
    return order, pending


def _needed(order, targets):
    """Nodes from which some target node is reachable (only those run for autograd.grad)."""
    needed = set(targets)
    for node in reversed(_topological(order)):
        if node in needed:
            continue
        if any(child in needed for child, _ in node.next_functions if child is not None):
            needed.add(node)
    return needed


def _topological(order):
    """Nodes in topological order (parents before children), computed without recursion."""
    indegree = {node: 0 for node in order}
    for node in order:
        for child, _ in node.next_functions:
            if child is not None and child in indegree:
                indegree[child] += 1
    ready = [node for node in order if indegree[node] == 0]
    result = []
    while ready:
        node = ready.pop()
        result.append(node)
        for child, _ in node.next_functions:
            if child is not None and child in indegree:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
    return result


_FIRST = float("-inf")
# The metadata of a node whose gradients need no fitting: None for every edge.
_UNCHECKED = itertools.repeat(None)


def _entry(node, pushed) -> tuple:
    """``node``'s entry in the ready queue, a heap: AccumulateGrad first, in the order they
    became ready (``pushed`` counts), then the most recently created node, as torch orders its
    queue. Sequence numbers are unique, so two other nodes never tie."""
    if node.__class__ is AccumulateGrad:
        return (_FIRST, next(pushed), node)
    return (-node.sequence_nr, node)


def run(outputs, grads, retain_graph, create_graph, inputs=None, accumulate=True):
    """Execute the backward graph. Returns the captured gradients of ``inputs`` (if any)."""
    if len(outputs) != len(grads):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grads)} gradients")
    roots = []
    for i, (out, g) in enumerate(zip(outputs, grads, strict=True)):
        edge = edge_of(out)
        if edge[0] is None:  # it does not require grad
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        if g is not None and g._data.dtype != out._data.dtype:
            g = _cast(g, out.dtype)
        roots.append((edge, g))

    capture = None
    if inputs is not None:
        capture = {}
        for index, t in enumerate(inputs):
            if accumulate:
                # As in torch, backward(inputs=...) makes non-leaf inputs retain their grad.
                t.retain_grad()
            elif not t.requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            capture.setdefault(edge_of(t), []).append(index)

    if len(roots) == 1:
        root_nodes = [roots[0][0][0]]
    else:
        root_nodes = list(dict.fromkeys(edge[0] for edge, _ in roots))
    order, pending = _discover(root_nodes, with_order=capture is not None)
    needed = None
    if capture is not None:
        # only the nodes from which some input is reached run, and only their edges count
        needed = _needed(order, {node for node, _ in capture})
        pending = {node: _new_entry(node) for node in order if node in needed}
        for node in pending:
            for child, _ in node.next_functions:
                entry = pending.get(child)
                if entry is not None:
                    entry[0] += 1
    for node in root_nodes:  # every root holds its gradient in an entry
        if node not in pending:  # (one that another root reaches has it already)
            pending[node] = _new_entry(node)
    for (node, nr), g in roots:
        slots = pending[node][1]
        slots[nr] = g if slots[nr] is None else _summed(slots[nr], g)

    captured: list = [None] * len(inputs) if inputs is not None else []
    ready = []
    pushed = itertools.count()  # ties run in the order they became ready: deterministic
    for node in root_nodes:
        if pending[node][0] == 0:
            heapq.heappush(ready, _entry(node, pushed))

    executed = []
    plain = capture is None  # autograd.grad(inputs=...) looks at every node
    pop = heapq.heappop
    push = heapq.heappush
    get = pending.get
    Tensor = _tensors.Tensor
    ndarray = np.ndarray
    # grad_mode.set_grad_enabled(create_graph) for the loop, without its context manager
    previous_mode = grad_mode._swap_enabled(bool(create_graph))
    # numpy's ignoring error state for the whole loop: the ops the rules call then find it
    # already set and call numpy directly. User code (hooks, a custom Function's backward)
    # runs under the caller's state, as it would outside.
    caller = float_errors.STATE.get() if float_errors.STATE is not None else None
    token = (
        float_errors.STATE.set(float_errors.ignoring_state(caller)) if caller is not None else None
    )
    try:
        while ready:
            node = pop(ready)[-1]
            grad_outputs = pending.pop(node)[1]
            if node._plain and plain and not _profiler.recording:
                # the common node: an op's rule without hooks; the loop below fits its
                # gradients (_call_node's work)
                g = grad_outputs[0]
                exact = node._exact
                saved_args = node._saved_args  # None once released: apply raises
                if g is None or saved_args is None:
                    grad_inputs = node.apply(grad_outputs)
                else:  # OpBackward.apply, inlined
                    op = node.op
                    args = saved_args if op.args_as_saved else node._rule_args()
                    if exact:  # no attributes, no saved output; a tuple of gradients
                        grad_inputs = op.vjp(g, None, *args)
                    else:
                        saved_out = node._saved_out
                        out = saved_out.unpack(node) if saved_out is not None else None
                        attrs = node.attrs
                        if attrs:
                            grad_inputs = op.vjp(g, out, *args, **attrs)
                        else:
                            grad_inputs = op.vjp(g, out, *args)
                        if grad_inputs.__class__ is not tuple and not isinstance(
                            grad_inputs, (tuple, list)
                        ):
                            grad_inputs = (grad_inputs,)
                    positions = node._positions
                    if positions is not None:
                        grad_inputs = [
                            grad_inputs[i] if i < len(grad_inputs) else None for i in positions
                        ]
                metas = _UNCHECKED if exact else node.input_meta
            elif node.__class__ is AccumulateGrad:
                # a leaf's node: the leaf's tensor hooks (the leaf keeps them), the captured
                # gradient; then, unless autograd.grad leaves the node out, as torch: its
                # pre-hooks (which may replace the gradient), the sum into .grad (nothing once
                # the leaf is gone or no longer requires grad), its post-hooks (no
                # grad_inputs)
                if node._tensor_hooks or node._retained:
                    grad_outputs = _as_caller(caller, _run_tensor_prehooks, node, grad_outputs)
                if capture is not None:
                    _capture(capture, captured, node, grad_outputs)
                if accumulate and (needed is None or node in needed):
                    if node._prehooks:
                        grad_outputs = _as_caller(caller, _run_prehooks, node, grad_outputs)
                    variable = node.variable
                    if variable is not None and variable._requires_grad:
                        _accumulate_into(variable, grad_outputs[0], create_graph, caller)
                    if node._hooks:
                        _as_caller(caller, _run_posthooks, node, (), grad_outputs)
                continue
            else:
                if node._tensor_hooks or node._retained:
                    grad_outputs = _as_caller(caller, _run_tensor_prehooks, node, grad_outputs)
                if capture is not None:
                    _capture(capture, captured, node, grad_outputs)
                if needed is not None and node not in needed:
                    continue
                if node._prehooks:
                    grad_outputs = _as_caller(caller, _run_prehooks, node, grad_outputs)
                if isinstance(node, OpBackward):
                    grad_inputs = _call_node(node, grad_outputs)
                else:  # a custom Function's (or compiled function's) backward: user code
                    grad_inputs = _as_caller(caller, _call_node, node, grad_outputs)
                if node._hooks:
                    grad_inputs = _as_caller(
                        caller, _run_posthooks, node, grad_inputs, grad_outputs
                    )
                metas = _UNCHECKED  # _call_node fitted them
            if not retain_graph:
                executed.append(node)
            edges = node.next_functions
            if len(grad_inputs) < len(edges):  # a rule may leave trailing inputs out
                grad_inputs = [*grad_inputs, *[None] * (len(edges) - len(grad_inputs))]
            for (child, nr), g, meta in zip(edges, grad_inputs, metas, strict=False):
                entry = get(child)
                if entry is None:  # no edge (None), or a node autograd.grad does not need
                    continue
                if g is not None:
                    if meta is not None and not (
                        g.__class__ is Tensor
                        and (data := g._data).shape == meta[0]
                        and data.dtype is meta[1]
                    ):
                        index = next(i for i, each in enumerate(grad_inputs) if each is g)
                        g = _fit_gradient(node, index, g, tuple(meta[0]), meta[1])
                    # the gradient joins the child's slot: the first one as it is; the sum of
                    # two plain arrays of one shape and dtype without create_graph in numpy,
                    # into the sum made here in place when there is one
                    slots = entry[1]
                    if (current := slots[nr]) is None:
                        slots[nr] = g
                    elif (
                        entry[2] is current
                        and g.__class__ is Tensor
                        and (y := g._data).__class__ is ndarray
                        and (x := current._data).shape == y.shape
                        and x.dtype is y.dtype
                    ):
                        x += y
                    elif (
                        not create_graph
                        and current.__class__ is Tensor
                        and g.__class__ is Tensor
                        and (x := current._data).__class__ is ndarray
                        and (y := g._data).__class__ is ndarray
                        and x.shape == y.shape
                        and x.dtype is y.dtype
                        and caller is not None
                    ):
                        slots[nr] = entry[2] = Tensor._wrap(x + y)
                    else:
                        slots[nr] = _summed(current, g)
                count = entry[0] - 1
                entry[0] = count
                if count == 0:
                    # _entry, inlined
                    if child.__class__ is AccumulateGrad:
                        push(ready, (_FIRST, next(pushed), child))
                    else:
                        push(ready, (-child.sequence_nr, child))
    finally:
        grad_mode._swap_enabled(previous_mode)
        if token is not None:
            float_errors.STATE.reset(token)
    if not retain_graph:
        for node in executed:
            node.release()
    return captured


def _capture(capture, captured, node, grad_outputs) -> None:
    """Keep the gradients of ``node``'s outputs that autograd.grad asked for."""
    for nr, g in enumerate(grad_outputs):
        for index in capture.get((node, nr), ()):
            captured[index] = g


def _as_caller(caller, fn, *args):
    """``fn(*args)`` under the caller's numpy error state (``run`` ignores errors)."""
    if caller is None:
        return fn(*args)
    token = float_errors.STATE.set(caller)
    try:
        return fn(*args)
    finally:
        float_errors.STATE.reset(token)


def _run_prehooks(node, grad_outputs):
    for hook in tuple(node._prehooks.values()):
        replaced = hook(tuple(grad_outputs))
        if replaced is not None:
            grad_outputs = list(replaced)
    return grad_outputs


def _run_posthooks(node, grad_inputs, grad_outputs):
    for hook in tuple(node._hooks.values()):
        replaced = hook(tuple(grad_inputs), tuple(grad_outputs))
        if replaced is not None:
            grad_inputs = list(replaced)
    return grad_inputs


def _call_node(node, grad_outputs):
    """Run one node and normalize its gradients: sum to each input's shape, cast its dtype.
    Inputs that need no gradient get None, as in torch (node hooks see None there)."""
    if _profiler.recording:
        grad_inputs = _profiler.timed(node.name(), grad_outputs, node.apply, grad_outputs)
    else:
        grad_inputs = node.apply(grad_outputs)
    grad_inputs = list(grad_inputs)
    metas = node.input_meta
    meta_count = len(metas)
    Tensor = _tensors.Tensor
    i = -1
    for child, _ in node.next_functions:
        i += 1
        if child is None:
            if i < len(grad_inputs):
                grad_inputs[i] = None
            continue
        if i >= meta_count or i >= len(grad_inputs):
            continue
        g = grad_inputs[i]
        meta = metas[i]
        if g is None or meta is None:
            continue
        shape, dtype = meta
        if g.__class__ is Tensor:
            data = g._data
            # the common case: already the input's shape and dtype
            if data.shape == shape and data.dtype is dtype:
                continue
        grad_inputs[i] = _fit_gradient(node, i, g, tuple(shape), dtype)
    return grad_inputs


def _fit_gradient(node, index, g, shape, dtype):
    """``g`` summed to the input's ``shape`` and cast to its (numpy) ``dtype``."""
    Tensor = _tensors.Tensor

    if not isinstance(g, Tensor):
        g = Tensor._wrap(np.asarray(g, dtype=dtype))
    if tuple(g.shape) != shape:
        if not _broadcastable_to(tuple(g.shape), shape):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {index} - got "
                f"[{', '.join(map(str, g.shape))}] but expected shape compatible with "
                f"[{', '.join(map(str, shape))}]"
            )
        g = sum_to_shape(g, shape)
    if g._data.dtype != dtype:
        g = _cast(g, dtypes.from_numpy_dtype(dtype))
    return g


def _cast(g, dtype):
    """``g.to(dtype)``; without recording when no graph is being built."""
    Tensor = _tensors.Tensor

    if g._requires_grad:
        return g.to(dtype)
    return Tensor._wrap(g._data.astype(dtype.numpy))


def _broadcastable_to(source: tuple, target: tuple) -> bool:
    """Could ``target`` have been broadcast to ``source``?"""
    if len(target) > len(source):
        return False
    offset = len(source) - len(target)
    return all(t == 1 or t == s for s, t in zip(source[offset:], target, strict=True))


def _summed(current, g):
    """The sum of two gradients of one output (they arrive in the order the nodes ran)."""
    if not grad_mode.is_recording() and _same_plain_arrays(current, g):
        # When it would record nothing (no create_graph): add the arrays, skip the dispatch.
        return _tensors.Tensor._wrap(call_ignoring(np.add, (current._data, g._data), {}))
    return current + g


def _same_plain_arrays(a, b) -> bool:
    Tensor = _tensors.Tensor
    if a.__class__ is not Tensor or b.__class__ is not Tensor:
        return False
    x, y = a._data, b._data
    return (
        x.__class__ is np.ndarray
        and y.__class__ is np.ndarray
        and x.shape == y.shape
        and x.dtype == y.dtype
    )


def _run_tensor_prehooks(node, grad_outputs):
    """Tensor hooks (``register_hook``) may replace a gradient; retain_grad stores it after."""
    if node._tensor_hooks:
        for nr, hooks in node._tensor_hooks.items():
            for hook in tuple(hooks.values()):
                if grad_outputs[nr] is None:
                    break
                replaced = hook(grad_outputs[nr])
                if replaced is not None:
                    grad_outputs[nr] = replaced
    if node._retained:
        for nr, ref in node._retained.items():
            tensor = ref()
            g = grad_outputs[nr]
            if tensor is None or g is None:
                continue
            if tensor._grad is None:
                tensor._grad = g.clone() if grad_mode.is_grad_enabled() else _fresh_copy(g, False)
            else:
                tensor._grad = tensor._grad + g
    return grad_outputs


def _fresh_copy(g, create_graph: bool):
    """A copy of ``g`` that shares no memory with it; under create_graph a differentiable
    copy (``CopyBackwards``, as torch's AccumulateGrad makes it)."""
    Tensor = _tensors.Tensor

    out = Tensor._wrap(np.array(g._data, copy=True))
    if create_graph and g._requires_grad:
        out.copy_(g)
    return out


def _accumulate_into(variable, g, create_graph: bool, caller=None) -> None:
    """AccumulateGrad: copy the first gradient, then add in place (out of place when
    create_graph, so ``.grad`` stays differentiable); then post-accumulate hooks."""
    if g is None:
        return
    grad = variable._grad
    if grad is None:
        variable._grad = _fresh_copy(g, create_graph)
    elif create_graph or grad._requires_grad:
        variable._grad = grad + g
    else:
        np.add(grad._data, g._data, out=grad._data, casting="unsafe")
        if not grad._inference:  # grad._bump_version(), inlined
            _tensors.own_counter(grad).value += 1
    if variable._post_accumulate_hooks:
        _as_caller(caller, _run_post_accumulate_hooks, variable)


def _run_post_accumulate_hooks(variable) -> None:
    for hook in tuple(variable._post_accumulate_hooks.values()):
        hook(variable)


# Tensor.backward calls this engine, which tensor.py cannot import (it is below the ops).
_tensors._engine_backward = backward
