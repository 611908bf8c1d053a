"""Functional transforms on the compiler: grad, value_and_grad, vjp, jacrev, hessian.

Each compiles its function per input signature (numpy arrays in -> numpy arrays out, Tensors in
-> Tensors out). Called inside another trace they differentiate the traced graph in place, so
they compose with ``compile`` and with each other (``hessian = jacrev(grad(f))``: reverse mode
over reverse mode on the generated graph).
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..grad_mode import no_grad
from ..ir import trace
from ..ops.constant import FULL
from ..ops.registry import FUNCTIONS, capture
from ..tensor import Tensor
from . import backends, reverse
from .api import CompiledFunction, _array_type, _build_outputs, _result, array_key, call_arrays
from .pytree import flatten, unflatten


def _unwrap(fn):
    return fn._fn if isinstance(fn, CompiledFunction) else fn


def _check_scalar(program, which: str) -> None:
    for k in program.differentiable_outputs or range(len(program.output_types)):
        shape = program.output_types[k][0]
        if shape != ():
            raise TypeError(
                f"Gradient only defined for scalar-output functions. Output had shape: "
                f"{shape}.\nsymgrad hint: reduce the output to a scalar (.sum()), or use "
                f"symgrad.jacrev for a function with a non-scalar output."
            )


def _grads_per_argument(args, argnums, grads, as_tensor, backend):
    """Put the flat gradients back into the structure of each differentiated argument."""
    iterator = iter(grads)
    per_argument = []
    for argnum in (argnums,) if isinstance(argnums, int) else argnums:
        leaves, structure, _ = flatten(args[argnum])
        filled = [
            _result(next(iterator), as_tensor, backend) if _is_float_array(leaf, backend) else None
            for leaf in leaves
        ]
        per_argument.append(unflatten(structure, filled))
    return per_argument[0] if isinstance(argnums, int) else tuple(per_argument)


def _is_float_array(leaf, backend=None) -> bool:
    """Whether a leaf is a floating-point array (of ``backend``; numpy arrays when None)."""
    if isinstance(leaf, Tensor):
        return leaf._data.dtype.kind == "f"
    if backend is None or isinstance(leaf, np.ndarray):
        return isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f"
    return backend.is_array(leaf) and np.dtype(_array_type(leaf, backend)[1]).kind == "f"


def _gradients_in_trace(fn, args, kwargs, argnums, has_aux):
    """Differentiate inside the active trace: the result is more graph."""
    result = fn(*args, **kwargs)
    value, aux = result if has_aux else (result, None)
    if tuple(value.shape) != ():
        raise TypeError(
            f"Gradient only defined for scalar-output functions. Output had "
            f"shape: {tuple(value.shape)}."
        )
    graph = trace.current().graph
    positions = (argnums,) if isinstance(argnums, int) else argnums
    wrt_tensors = []
    for argnum in positions:
        leaves, _, _ = flatten(args[argnum])
        wrt_tensors += [
            leaf if isinstance(leaf, Tensor) else Tensor._wrap(capture(trace.current(), leaf))
            for leaf in leaves
        ]
    wrt_nodes = [t._data if t._is_symbolic else capture(trace.current(), t) for t in wrt_tensors]
    seed = graph.const(1.0, value.dtype)
    grads = reverse.gradients([value._data], [seed], wrt_nodes)
    grads = [
        Tensor._wrap(
            g
            if g is not None
            else graph.op(
                FULL, (), {"shape": n.shape, "value": 0.0, "dtype": n.dtype}, n.shape, n.dtype, None
            )
        )
        for g, n in zip(grads, wrt_nodes, strict=True)
    ]
    structured = _grads_per_argument_symbolic(args, argnums, grads)
    return value, structured, aux


def _grads_per_argument_symbolic(args, argnums, grads):
    iterator = iter(grads)
    per_argument = []
    for argnum in (argnums,) if isinstance(argnums, int) else argnums:
        leaves, structure, _ = flatten(args[argnum])
        per_argument.append(unflatten(structure, [next(iterator) for _ in leaves]))
    return per_argument[0] if isinstance(argnums, int) else tuple(per_argument)


class value_and_grad:  # noqa: N801 - JAX's name
    """``value_and_grad(fn, argnums=0, has_aux=False)(*args) -> (value, grads)``.

    ``fn`` must return a scalar (or ``(scalar, aux)`` with ``has_aux``). Gradients have the
    structure of the differentiated arguments.

    >>> import numpy as np, symgrad
    >>> f = symgrad.value_and_grad(lambda x: (x * x).sum())
    >>> f(np.array([1.0, 2.0]))
    (array(5.), array([2., 4.]))
    """

    def __init__(self, fn, argnums=0, has_aux=False, *, recompile_limit=8, backend="numpy"):
        self._fn = _unwrap(fn)
        self._argnums = argnums
        self._has_aux = has_aux
        self._compiled = CompiledFunction(
            self._fn,
            mode="fused",
            argnums=argnums,
            has_aux=has_aux,
            recompile_limit=recompile_limit,
            backend=backend,
        )
        self.backend = self._compiled.backend
        # Cache hits of the common call (positional arrays/tensors, nothing captured): one
        # key tuple and one dict lookup, then the generated code.
        self._runners: dict = {}
        self.__name__ = getattr(self._fn, "__name__", "function")
        self.__doc__ = getattr(self._fn, "__doc__", None)

    def __call__(self, *args, **kwargs):
        if not kwargs and trace._state.trace is None:
            entry = self._runners.get(array_key(args))
            if entry is not None:
                entry.hits += 1
                return entry.runner(args)
        if trace.current() is not None:
            value, grads, aux = _gradients_in_trace(
                self._fn, args, kwargs, self._argnums, self._has_aux
            )
            return ((value, aux), grads) if self._has_aux else (value, grads)
        args = _differentiable_arguments(args, self._argnums)
        entry, leaves, captured = self._compiled._lookup(args, kwargs)
        program = entry.program
        _check_scalar(program, "value_and_grad")
        if not kwargs and entry.runner is None:
            entry.runner = _fast_runner(program, args, self._argnums)
        key = array_key(args) if not kwargs else None
        if key is not None and entry.runner is not None:
            self._runners[key] = entry
        arrays, as_tensor = call_arrays(leaves, program, captured)
        results = program.forward_backward(*arrays)
        n_out = len(results) - len(program.wrt)
        backend = program.backend
        outputs = _build_outputs(program, [_result(r, as_tensor, backend) for r in results[:n_out]])
        grads = _grads_per_argument(args, self._argnums, results[n_out:], as_tensor, backend)
        return (outputs, grads)

    def cache_info(self):
        return self._compiled.cache_info()

    def cache_clear(self) -> None:
        """Drop every compiled version (and with it, its workspace)."""
        self._runners.clear()
        self._compiled.cache_clear()

    def source(self, *args, **kwargs) -> str:
        return self._compiled.source(*args, **kwargs)

    def explain(self, *args, **kwargs):
        return self._compiled.explain(*args, **kwargs)

    def graph(self, *args, **kwargs) -> str:
        return self._compiled.graph(*args, **kwargs)

    def export(self, path: str, *args, **kwargs) -> str:
        return self._compiled.export(path, *args, **kwargs)


def _differentiable_arguments(args, argnums):
    """Differentiated Python floats become 0-d arrays of the default dtype (as JAX accepts
    ``grad(f)(3.0)``), NumPy float scalars (``np.float32(0.1)``) 0-d arrays of their own
    dtype; checked per call, so kept to one isinstance per argnum."""
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    scalar_types = (float, np.floating)
    if not any(p < len(args) and isinstance(args[p], scalar_types) for p in positions):
        return args
    default = dtypes.get_default_dtype().numpy
    return tuple(
        # np.float64 is a float too: a NumPy scalar keeps its own dtype
        np.asarray(a, dtype=None if isinstance(a, np.floating) else default)
        if i in positions and isinstance(a, scalar_types)
        else a
        for i, a in enumerate(args)
    )


def _fast_runner(program, args, argnums):
    """``(value, grads)`` for positional array/tensor arguments, straight from the generated
    ``forward_backward``: what a cache hit runs when the call has that simple form."""
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if (
        program.output_structure is not None
        or program.captured
        or list(program.wrt) != list(positions)
        or not all(_is_float_array(args[p]) for p in positions)
    ):
        return None
    forward_backward = program.forward_backward
    as_tensor = any(isinstance(a, Tensor) for a in args)
    all_tensors = all(isinstance(a, Tensor) for a in args)
    single = isinstance(argnums, int)

    def run(call_args):
        if all_tensors:
            arrays = [a._data for a in call_args]
        elif as_tensor:
            arrays = [a._data if type(a) is Tensor else a for a in call_args]
        else:
            arrays = call_args
        results = forward_backward(*arrays)
        value = results[0]
        if as_tensor:
            value = Tensor._wrap(value)
            grads = [Tensor._wrap(g) for g in results[1:]]
        else:
            if type(value) is not np.ndarray:
                value = np.asarray(value)
            grads = results[1:]
        return value, (grads[0] if single else tuple(grads))

    return run


class grad(value_and_grad):  # noqa: N801
    """``grad(fn, argnums=0, has_aux=False)(*args) -> grads`` (``(grads, aux)`` with aux)."""

    def __call__(self, *args, **kwargs):
        result, grads = super().__call__(*args, **kwargs)
        if self._has_aux:
            return grads, result[1]
        return grads


def vjp(fn, *primals, has_aux=False, backend="numpy"):
    """``(out, vjp_fn)``: ``vjp_fn(cotangent)`` returns one gradient per primal (JAX's vjp);
    primals that are not floating point (indices, labels) get None. ``backend``: as for
    ``symgrad.compile``."""
    backend = backends.get(backend)
    argnums = tuple(
        i
        for i, p in enumerate(primals)
        if all(_is_float_array(leaf, backend) for leaf in flatten(p)[0])
    )
    compiled = CompiledFunction(
        _unwrap(fn), mode="fused", argnums=argnums, has_aux=has_aux, backend=backend
    )
    entry, leaves, captured = compiled._lookup(primals, {})
    program = entry.program
    arrays, as_tensor = call_arrays(leaves, program, captured)
    results = program.forward(*arrays)
    n_out = len(results) - program.n_saved
    outputs = [_result(r, as_tensor, backend) for r in results[:n_out]]
    saved = results[n_out:]
    out = _build_outputs(program, outputs)

    def vjp_fn(cotangent):
        flat, _, _ = flatten(cotangent)
        cotangents = [c._data if isinstance(c, Tensor) else np.asarray(c) for c in flat]
        cotangents = [cotangents[k] for k in program.differentiable_outputs]
        grads = program.backward(*saved, *cotangents)
        differentiated = iter(_grads_per_argument(primals, argnums, grads, as_tensor, backend))
        return tuple(next(differentiated) if i in argnums else None for i in range(len(primals)))

    if has_aux:
        return out[0], vjp_fn, out[1]
    return out, vjp_fn


class jacrev:  # noqa: N801
    """The Jacobian by reverse mode: one backward pass per output element, in one graph.

    ``jacrev(f)(x)`` has shape ``f(x).shape + x.shape``; ``backend``: as for
    ``symgrad.compile``.
    """

    def __init__(self, fn, argnums=0, *, backend="numpy"):
        self._fn = _unwrap(fn)
        self._argnums = argnums
        self._compiled = CompiledFunction(self._jacobian, mode="call", backend=backend)
        self.backend = self._compiled.backend
        self.__name__ = f"jacrev({getattr(self._fn, '__name__', 'function')})"

    def _jacobian(self, *args, **kwargs):
        out = self._fn(*args, **kwargs)
        graph = trace.current().graph
        positions = (self._argnums,) if isinstance(self._argnums, int) else self._argnums
        targets = [args[p] for p in positions]
        target_nodes = [
            t._data if isinstance(t, Tensor) and t._is_symbolic else capture(trace.current(), t)
            for t in targets
        ]
        flat = out.reshape(-1)
        rows = [[] for _ in targets]
        for k in range(flat.shape[0]):
            element = flat[k]
            seed = graph.const(1.0, element.dtype)
            grads = reverse.gradients([element._data], [seed], target_nodes)
            for slot, (g, node) in enumerate(zip(grads, target_nodes, strict=True)):
                if g is None:
                    g = graph.op(
                        FULL,
                        (),
                        {"shape": node.shape, "value": 0.0, "dtype": node.dtype},
                        node.shape,
                        node.dtype,
                        None,
                    )
                rows[slot].append(Tensor._wrap(g))
        jacobians = [
            FUNCTIONS["stack"](r).reshape(tuple(out.shape) + tuple(node.shape))
            for r, node in zip(rows, target_nodes, strict=True)
        ]
        return jacobians[0] if isinstance(self._argnums, int) else tuple(jacobians)

    def __call__(self, *args, **kwargs):
        if trace.current() is not None:
            return self._jacobian(*args, **kwargs)
        with no_grad():
            return self._compiled(*args, **kwargs)

    def cache_info(self):
        return self._compiled.cache_info()

    def source(self, *args, **kwargs) -> str:
        return self._compiled.source(*args, **kwargs)

    def explain(self, *args, **kwargs):
        return self._compiled.explain(*args, **kwargs)

    def export(self, path: str, *args, **kwargs) -> str:
        return self._compiled.export(path, *args, **kwargs)


jacobian = jacrev


def hessian(fn, argnums=0, *, backend="numpy"):
    """Second derivatives by reverse mode over reverse mode: ``jacrev(grad(fn))``;
    ``backend``: as for ``symgrad.compile`` (the inner ``grad`` is traced, not compiled)."""
    return jacrev(grad(fn, argnums), argnums, backend=backend)
