"""``symgrad.compile`` and the functional transforms built on the same machinery.

A ``CompiledFunction`` keeps one generated module per cache key. Called with Tensors, its
results carry a ``CompiledFunctionBackward`` grad_fn that runs the generated backward, so
``.backward()`` behaves as in eager mode; called with numpy arrays, it returns numpy arrays.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
import warnings

import numpy as np

from .. import grad_mode
from ..autograd.engine import grad
from ..ir import trace
from ..nn.module import Module, module_member_name
from ..ops import random
from ..tape import BACKWARD_TWICE, BackwardNode, edge_of
from ..tensor import Tensor
from . import backends, cache, captures, display, logs, pipeline, schedule, workspace
from .formula import Formula, from_program, wrt_positions
from .pytree import flatten, unflatten

logs.configure_from_environment()


class _Entry:
    """One cache entry: a Program plus its hit counter and recompile reason."""

    __slots__ = (
        "program",
        "hits",
        "key",
        "reason",
        "captured_specs",
        "captured_sources",
        "captured_names",
        "runner",
        "paths",
    )

    def __init__(self, program, key, reason, paths, fn=None):
        self.runner = None  # a transform's specialized call for simple arguments
        self.paths = paths  # readable argument paths, for texts about the key
        self.program = program
        self.hits = 0
        self.key = key
        self.reason = reason
        self.captured_specs = [_captured_spec(v) for v in program.captured]
        sources = [captures.source(fn, v) for v in program.captured]
        self.captured_names = [name for name, _ in sources]
        self.captured_sources = [reader for _, reader in sources]

    def captured(self) -> list:
        """The captured values as the function would read them now: a global or closure
        variable rebound since tracing (``W = W - lr * W.grad``) gives its new value."""
        return [
            value if source is None else source(value)
            for value, source in zip(self.program.captured, self.captured_sources, strict=True)
        ]

    def current_captured(self) -> list | None:
        """``captured()``, or None when one of them differs in shape, dtype or
        ``requires_grad`` from what this entry was compiled for (read once per call)."""
        values = self.captured()
        for value, spec in zip(values, self.captured_specs, strict=True):
            if _captured_spec(value) != spec:
                return None
        return values

    def captured_changes(self, values) -> list[str]:
        """How the captured values differ from what this entry was compiled for."""
        changes = []
        for value, name, spec in zip(values, self.captured_names, self.captured_specs, strict=True):
            new = _captured_spec(value)
            if new != spec:
                changes.append(_captured_change_text(name, spec, new))
        return changes


def _captured_spec(value):
    if random.is_generator(value):
        return ("generator",)
    if not isinstance(value, (Tensor, np.ndarray)):
        return ("not an array", type(value).__name__)
    data = value._data if isinstance(value, Tensor) else value
    return (data.shape, data.dtype, isinstance(value, Tensor) and value._requires_grad)


def _captured_change_text(name: str, old, new) -> str:
    if len(old) == 3 and len(new) == 3:
        parts = [
            f"{what} {a} -> {b}"
            for what, a, b in zip(("shape", "dtype", "requires_grad"), old, new, strict=True)
            if a != b
        ]
        return f"{name!r} " + ", ".join(parts)
    return f"{name!r} is now a {new[-1]}"


class CompiledFunctionBackward(BackwardNode):
    """The grad_fn of a compiled call's outputs: runs the generated ``backward``.

    Under ``create_graph=True`` it replays the function eagerly instead, so that the
    gradients it returns are themselves differentiable (higher-order derivatives)."""

    def __init__(self, program, saved, inputs, outputs, replay):
        super().__init__(
            [edge_of(t) for t in inputs], [(tuple(t.shape), t.dtype.numpy) for t in inputs]
        )
        self.num_outputs = len(outputs)
        self._program = program
        self._saved = saved
        self._inputs = inputs
        self._replay = replay
        self._output_meta = [(o.shape, o.dtype) for o in outputs]

    def apply(self, grad_outputs):
        if self._saved is None:
            raise RuntimeError(BACKWARD_TWICE)
        if grad_mode.is_grad_enabled():
            return self._differentiable_backward(grad_outputs)
        cotangents = [
            np.zeros(shape, dtype=d.numpy) if g is None else g._concrete("backward")
            for g, (shape, d) in zip(grad_outputs, self._output_meta, strict=True)
        ]
        grads = self._program.backward(*self._saved, *cotangents)
        return [Tensor._wrap(np.asarray(g)) for g in grads]

    def _differentiable_backward(self, grad_outputs):
        outputs = self._replay()
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs, strict=True) if g is not None]
        grads = grad(
            [o for o, _ in pairs],
            self._inputs,
            [g for _, g in pairs],
            create_graph=True,
            allow_unused=True,
            materialize_grads=True,
        )
        return list(grads)

    def release(self) -> None:
        super().release()
        self._saved = None


class CompiledFunction:
    """A function compiled per input signature; see ``symgrad.compile``."""

    def __init__(
        self,
        fn,
        *,
        static_argnums=(),
        static_argnames=(),
        recompile_limit=8,
        mode="call",
        argnums=None,
        has_aux=False,
        name_resolver=None,
        backend="numpy",
    ):
        self.backend = backends.get(backend)
        functools.update_wrapper(self, fn)
        self._resolve_name = name_resolver or _name_resolver(fn)
        self._fn = fn
        self._signature = inspect.signature(fn)
        self._static_argnums = _as_tuple(static_argnums)
        self._static_argnames = _as_tuple(static_argnames)
        self.recompile_limit = recompile_limit
        self._mode = mode
        self._argnums = argnums
        self._has_aux = has_aux
        self._cache: dict = {}
        self._fast: dict = {}  # cache by _fast_key, for calls with only arrays/tensors
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ key and lookup
    def _arguments(self, args, kwargs):
        """The call as a pytree whose static arguments are single (hashable) leaves."""
        if self._static_argnums:
            args = tuple(_Static(a) if i in self._static_argnums else a for i, a in enumerate(args))
        if self._static_argnames:
            kwargs = {k: _Static(v) if k in self._static_argnames else v for k, v in kwargs.items()}
        return (args, kwargs)

    def _key(self, args, kwargs):
        leaves, structure, paths = flatten(self._arguments(args, kwargs))
        name = self.__name__
        backend = self.backend
        specs = tuple(
            cache.leaf_spec(leaf, i, name, p, backend)
            for i, (leaf, p) in enumerate(zip(leaves, paths, strict=True))
        )
        key = (structure, specs, grad_mode.is_grad_enabled(), backend.name)
        return key, leaves, structure, paths

    def _fast_key(self, args, kwargs):
        """``array_key`` of the call plus grad mode (None when the call is not that simple)."""
        if kwargs or self._static_argnums:
            return None
        key = array_key(args)
        return None if key is None else (key, grad_mode.is_grad_enabled())

    def _fast_entry(self, args, kwargs):
        """The entry for this call when the fast key knows it and its captures are unchanged."""
        fast_key = self._fast_key(args, kwargs)
        entry = self._fast.get(fast_key) if fast_key is not None else None
        captured = None if entry is None else entry.current_captured()
        if captured is None:
            return None, None
        entry.hits += 1
        return entry, captured

    def _lookup(self, args, kwargs):
        fast_key = self._fast_key(args, kwargs)
        key, leaves, structure, paths = self._key(args, kwargs)
        entry = self._cache.get(key)
        captured = None if entry is None else entry.current_captured()
        if captured is None:
            with self._lock:
                entry = self._cache.get(key)
                captured = None if entry is None else entry.current_captured()
                if captured is None:
                    entry = self._compile(key, leaves, structure, paths, entry)
                    captured = entry.captured()
        entry.hits += 1
        if fast_key is not None:
            self._fast[fast_key] = entry
        return entry, leaves, captured

    def _build(self, structure, leaves, readable, dynamic, wrt, differentiate_captured, disk=False):
        """The pipeline on these flattened arguments (the call path and ``formula`` share it;
        ``disk``: through the persistent cache, for the call path)."""
        return pipeline.build(
            self._fn,
            structure,
            [_unstatic(leaf) for leaf in leaves],
            readable,
            dynamic,
            wrt,
            differentiate_captured,
            self._resolve_name,
            first_output_only=self._has_aux,
            disk=disk,
            backend=self.backend,
        )

    # ----------------------------------------------------------------------- compile
    def _compile(self, key, leaves, structure, paths, stale=None) -> _Entry:
        readable = _readable_paths(paths, self._signature, leaves)
        reason = None
        if self._entries:
            if stale is not None:
                reason = "; ".join(stale.captured_changes(stale.captured()))
                self._entries.remove(stale)
                self._fast = {k: e for k, e in self._fast.items() if e is not stale}
            else:
                reason = "; ".join(
                    cache.closest_reasons(key, [e.key for e in self._entries], readable)
                )
            logs.recompiles.info("Recompiling %s: %s", self.__name__, reason)
        dynamic = self._dynamic(leaves)
        wrt = self._wrt(leaves, paths, dynamic)
        differentiate_captured = self._mode == "call" and grad_mode.is_grad_enabled()
        start = time.perf_counter()
        program = self._build(
            structure, leaves, readable, dynamic, wrt, differentiate_captured, disk=True
        )
        entry = _Entry(program, key, reason, readable, self._fn)
        self._cache[key] = entry
        self._entries.append(entry)
        logs.code.debug("Generated code for %s:\n%s", self.__name__, program.source)
        if logs.graph.isEnabledFor(logging.DEBUG) and not program.from_disk:
            logs.graph.debug("Graph of %s:\n%s", self.__name__, program.graph_text)
        logs.timing.debug(
            "compiled %s in %.1f ms", self.__name__, (time.perf_counter() - start) * 1000
        )
        if len(self._entries) > self.recompile_limit:
            warnings.warn(
                f"symgrad.compile: {self.__name__} has been compiled {len(self._entries)} times, "
                f"past recompile_limit={self.recompile_limit}; last reason: {reason}. Each new "
                "input shape, dtype, requires_grad or static value compiles a new version (all "
                "are kept and used). Keep input shapes fixed (pad batches), pass changing "
                "numbers as tensors instead of Python values, or raise recompile_limit.",
                UserWarning,
                stacklevel=4,
            )
        return entry

    def _dynamic(self, leaves) -> list[bool]:
        """Which leaves are arrays (traced inputs): Tensors and the backend's array types."""
        is_array = self.backend.is_array
        return [isinstance(leaf, Tensor) or is_array(leaf) for leaf in leaves]

    def _wrt(self, leaves, paths, dynamic) -> list[int]:
        """Leaves to differentiate: tensors that require grad (call mode), or float array
        leaves of ``argnums`` (the transforms)."""
        if self._mode == "call":
            if not grad_mode.is_grad_enabled():
                return []
            return [
                i
                for i, leaf in enumerate(leaves)
                if isinstance(leaf, Tensor) and leaf._requires_grad
            ]
        argnums = self._argnums
        wanted = {argnums} if isinstance(argnums, int) else set(argnums)
        positions = {_argnum_of(p) for p in paths}
        for argnum in wanted - positions:
            raise ValueError(
                f"argnums {argnums} refers to argument {argnum}, which the call does not have"
            )
        selected = [i for i, p in enumerate(paths) if _argnum_of(p) in wanted]
        for i in selected:
            if not (dynamic[i] and _floating(leaves[i], self.backend)):
                kind = (
                    type(leaves[i]).__name__
                    if not dynamic[i]
                    else np.dtype(_array_type(leaves[i], self.backend)[1]).name
                )
                raise TypeError(
                    "grad requires real-valued inputs (input dtype that is a sub-dtype of "
                    f"np.inexact), but got {kind}.\nsymgrad hint: leave integer inputs "
                    "out of argnums."
                )
        return selected

    # -------------------------------------------------------------------------- call
    def __call__(self, *args, **kwargs):
        if trace.current() is not None:
            return self._fn(*args, **kwargs)  # inside another trace: inline
        entry, captured = self._fast_entry(args, kwargs)
        if entry is not None:
            leaves = args
        else:
            entry, leaves, captured = self._lookup(args, kwargs)
        program = entry.program
        arrays, as_tensors = call_arrays(leaves, program, captured)
        results = program.forward(*arrays)
        n_out = len(results) - program.n_saved
        outputs = [_result(r, as_tensors, program.backend) for r in results[:n_out]]
        if as_tensors and (program.wrt or program.wrt_captured) and program.differentiable_outputs:
            inputs = [leaves[i] for i in program.wrt]
            inputs += [captured[k] for k in program.wrt_captured]
            self._attach_backward(program, inputs, results[n_out:], outputs, args, kwargs)
        return _build_outputs(program, outputs)

    def _attach_backward(self, program, inputs, saved, outputs, args, kwargs) -> None:
        differentiable = [outputs[k] for k in program.differentiable_outputs]

        def replay():
            with grad_mode.enable_grad():
                result = self._fn(*args, **kwargs)
            flat, _, _ = flatten(result)
            tensors = [leaf for leaf in flat if isinstance(leaf, Tensor)]
            return [tensors[k] for k in program.differentiable_outputs]

        node = CompiledFunctionBackward(program, saved, inputs, differentiable, replay)
        for nr, out in enumerate(differentiable):
            out._grad_fn = node
            out._output_nr = nr
            out._requires_grad = True

    # -------------------------------------------------------------------- inspection
    def _entry_for(self, args, kwargs):
        entry, _, _ = self._lookup(args, kwargs)
        entry.hits -= 1
        return entry

    def source(self, *args, **kwargs) -> display.Source:
        """The generated module for these argument shapes (compiling if needed): a ``str``,
        shown syntax-highlighted in Jupyter."""
        return display.Source(self._entry_for(args, kwargs).program.source)

    def graph(self, *args, **kwargs) -> display.GraphText:
        """The simplified forward+backward graph, one node a line: a ``str`` whose
        ``to_dot()`` draws it (Graphviz), shown as that picture in Jupyter."""
        program = self._built_program(args, kwargs)
        return display.GraphText(program.graph_text, program.graph_parts, self.__name__)

    def _built_program(self, args, kwargs):
        """The entry's program with its graph and render inputs: an entry loaded from the
        disk cache keeps only code, so it is built again (in memory) for these displays."""
        program = self._entry_for(args, kwargs).program
        if not program.from_disk:
            return program
        key, leaves, structure, paths = self._key(args, kwargs)
        readable = _readable_paths(paths, self._signature, leaves)
        dynamic = self._dynamic(leaves)
        wrt = self._wrt(leaves, paths, dynamic)
        captured = self._mode == "call" and grad_mode.is_grad_enabled()
        return self._build(structure, leaves, readable, dynamic, wrt, captured)

    def explain(self, *args, **kwargs) -> Explanation:
        """How the entry for these arguments was built: node counts per stage, rules applied,
        values saved for backward, the cache key, and time per phase."""
        entry = self._entry_for(args, kwargs)
        return Explanation(self.__name__, entry, entry.paths)

    def formula(self, *args, wrt=None, **kwargs) -> Formula:
        """The output and its gradients for these arguments as SymPy math (``str``,
        ``.pretty()``, ``.latex()``; rendered in Jupyter), read from the graph the compiler
        generates code from, after its rewrites.

        ``wrt``: an argument name or a list of them (default: the tensors that require grad,
        or every floating-point array when none does). The function is compiled for this
        display, so the call cache is left as it is.

        >>> import numpy as np, symgrad
        >>> f = symgrad.compile(lambda x: (3 * (x + 2) ** 2).mean())
        >>> print(f.formula(np.ones(4)).gradients["x"])
        3*(x + 2)/2
        """
        key, leaves, structure, paths = self._key(args, kwargs)
        readable = _readable_paths(paths, self._signature, leaves)
        dynamic = self._dynamic(leaves)
        default = self._wrt(leaves, paths, dynamic) if wrt is None else []
        wrt_leaves = wrt_positions(wrt, readable, leaves, dynamic, default)
        captured = wrt is None and self._mode == "call" and grad_mode.is_grad_enabled()
        program = self._build(structure, leaves, readable, dynamic, wrt_leaves, captured)
        return from_program(self.__name__, program)

    def export(self, path: str, *args, **kwargs) -> str:
        """Write the generated module for these argument shapes to ``path``: the backend's
        runtime kernels it calls are copied in, so it needs only its array library (numpy)."""
        source = self._built_program(args, kwargs).standalone_source()
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        return path

    def cache_info(self) -> cache.CacheInfo:
        info = cache.CacheInfo(self.__name__)
        for entry in self._entries:
            info.entries.append(
                cache.EntryInfo(
                    cache.key_text(entry.key, entry.paths),
                    entry.hits,
                    entry.program.phase_seconds,
                    entry.reason,
                )
            )
            if entry.reason:
                info.recompile_reasons.append(entry.reason)
        return info

    def cache_clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._fast.clear()
            self._entries.clear()

    def __repr__(self) -> str:
        return f"<symgrad.compile of {self.__name__} ({len(self._entries)} entries)>"

    def __get__(self, instance, owner):
        if instance is None:
            return self
        return functools.partial(self, instance)


class Explanation:
    """What ``explain()`` returns; ``str()`` gives the report."""

    def __init__(self, name, entry, paths):
        program = entry.program
        self.function = name
        self.node_counts = dict(program.node_counts)
        self.rule_hits = dict(program.rule_hits)
        self.saved = list(program.saved)
        self.key = cache.key_text(entry.key, paths)
        self.backend = program.backend.name
        self.schedule_notes = list(program.schedule_notes)
        self.phase_seconds = dict(program.phase_seconds)
        # per generated function: (buffers, bytes) of its workspace, one set per thread
        self.workspace = {
            name: (len(layout), workspace.nbytes(layout))
            for name, layout in program.workspace_layouts.items()
        }
        self.no_workspace = program.backend.no_workspace or (
            f"no temporary of {schedule.LARGE} elements or more is kept across calls"
        )

    def __str__(self) -> str:
        lines = [
            f"symgrad explain: {self.function}",
            f"cache key: {self.key}",
            f"backend: {self.backend}",
        ]
        if self.schedule_notes:
            lines.append("backend decisions:")
            lines += [f"  {note}" for note in self.schedule_notes]
        lines.append("nodes:")
        lines += [f"  {stage:<24} {count}" for stage, count in self.node_counts.items()]
        lines.append("rules applied:" if self.rule_hits else "rules applied: none")
        lines += [f"  {name:<24} {count}" for name, count in sorted(self.rule_hits.items())]
        total = sum(b for _, _, b in self.saved)
        lines.append(f"saved for backward: {len(self.saved)} values, {total} bytes")
        lines += [
            f"  {name:<8} {type_text:<20} {nbytes} bytes" for name, type_text, nbytes in self.saved
        ]
        lines += self.workspace_lines()
        lines.append("time per phase:")
        lines += [
            f"  {phase:<24} {seconds * 1000:.2f} ms"
            for phase, seconds in self.phase_seconds.items()
        ]
        return "\n".join(lines)

    def workspace_lines(self) -> list[str]:
        """The workspace: buffers and bytes per generated function, or why there is none."""
        if not self.workspace:
            return [f"workspace: none ({self.no_workspace})"]
        buffers = sum(count for count, _ in self.workspace.values())
        total = sum(nbytes for _, nbytes in self.workspace.values())
        lines = [
            f"workspace: {buffers} buffers, {workspace.size_text(total)} per thread "
            "(temporaries reused across calls; outputs are fresh arrays)"
        ]
        lines += [
            f"  {name:<18} {count} buffer{'s' if count > 1 else ''}, {workspace.size_text(nbytes)}"
            for name, (count, nbytes) in self.workspace.items()
        ]
        return lines

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The report as HTML tables (Jupyter)."""
        return display.explanation_html(self)


class _Static:
    """Wraps an argument named in static_argnums/static_argnames: one hashable leaf."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __hash__(self):
        return hash(self.value)

    def __eq__(self, other):
        return isinstance(other, _Static) and self.value == other.value

    def __repr__(self):
        return repr(self.value)


def _unstatic(leaf):
    return leaf.value if isinstance(leaf, _Static) else leaf


def _as_tuple(value) -> tuple:
    if isinstance(value, (int, str)):
        return (value,)
    return tuple(value)


def call_arrays(leaves, program, captured=None) -> tuple[list, bool]:
    """The generated function's arguments for these argument leaves (arrays of the array
    leaves, then the captured values: ``captured``, as read at this call, or those met while
    tracing), and whether the call was made with Tensors. Array leaves are those of the
    program's backend (``Backend.is_array``)."""
    is_array = program.backend.is_array
    arrays = [
        leaf._data if isinstance(leaf, Tensor) else leaf
        for leaf in leaves
        if isinstance(leaf, Tensor) or is_array(leaf)
    ]
    arrays += [random.call_value(c) for c in (program.captured if captured is None else captured)]
    return arrays, any(isinstance(leaf, Tensor) for leaf in leaves)


def array_key(args):
    """The cache key of a call made of positional arrays/tensors only (None otherwise): one
    tuple, so that a cache hit of the common call costs one build and one dict lookup."""
    key = []
    for a in args:
        cls = type(a)
        if cls is np.ndarray:
            key.append(a.shape)
            key.append(a.dtype)
        elif cls is Tensor and type(a._data) is np.ndarray:
            key.append(a._data.shape)
            key.append(a._data.dtype)
            key.append(a._requires_grad)
        else:
            return None
    return tuple(key)


def _result(value, as_tensor: bool, backend=None):
    """A generated function's result as the call returns it: a Tensor, or the backend's
    output (numpy: 0-d arrays rather than numpy scalars)."""
    if as_tensor:
        return Tensor._wrap(np.asarray(value) if isinstance(value, np.generic) else value)
    return (backend or backends.get()).to_output(value)


def _build_outputs(program, outputs):
    leaves = [outputs[kind[1]] if kind[0] == "node" else kind[1] for kind in program.output_kinds]
    return unflatten(program.output_structure, leaves)


def _array_type(leaf, backend):
    """(shape, numpy dtype) of an array leaf."""
    return backend.array_type(leaf._data if isinstance(leaf, Tensor) else leaf)


def _floating(leaf, backend) -> bool:
    return np.dtype(_array_type(leaf, backend)[1]).kind == "f"


def _argnum_of(path: str):
    """``[0][1]...`` paths of positional arguments start with their position."""
    if not path.startswith("[0]["):
        return None
    return int(path[4 : path.index("]", 4)])


def _readable_paths(paths: list[str], signature, leaves) -> list[str]:
    """``[0][1]['w']`` -> ``b['w']`` using the function's parameter names."""
    names = list(signature.parameters)
    readable = []
    for path in paths:
        if path.startswith("[0]["):
            end = path.index("]", 4)
            position = int(path[4:end])
            rest = path[end + 1 :]
            if position < len(names) and signature.parameters[names[position]].kind not in (
                inspect.Parameter.VAR_POSITIONAL,
            ):
                readable.append(names[position] + rest)
            else:
                readable.append(f"arg{position}{rest}")
        elif path.startswith("[1]["):
            end = path.index("]", 4)
            readable.append(path[5 : end - 1] + path[end + 1 :])
        else:
            readable.append(path)
    return readable


def _name_resolver(fn):
    """Name a captured value by the closure variable or global that holds it, or by its
    dotted path in a module held there (``model.0.weight``)."""

    def resolve(value):
        code = getattr(fn, "__code__", None)
        closure = getattr(fn, "__closure__", None) or ()
        holders = []
        if code is not None:
            for name, cell in zip(code.co_freevars, closure, strict=False):
                try:
                    holders.append((name, cell.cell_contents))
                except ValueError:
                    continue
        holders += list(getattr(fn, "__globals__", {}).items())
        for name, held in holders:
            if held is value:
                return name
        for name, held in holders:
            if isinstance(held, Module):
                path = module_member_name(held, value, name)
                if path is not None:
                    return path
        return None

    return resolve


def compile(  # noqa: A001
    fn=None, *, static_argnums=(), static_argnames=(), recompile_limit=8, backend="numpy"
):
    """Compile ``fn`` into generated numpy code for its forward and backward passes.

    ``backend`` names the code generation backend (``symgrad.compiler.backends.names()``):
    it is part of the cache key, and ``source()``, ``explain()`` and ``export()`` show its
    code. An unknown name is a ValueError listing the known ones.

    Usable as ``@symgrad.compile`` or ``symgrad.compile(fn, static_argnums=...)``; given an
    ``nn.Module``, returns a module whose forward runs compiled (``CompiledModule``). One
    version is generated per argument structure, shapes, dtypes, requires_grad and static values;
    ``fn.source(*args)``, ``fn.graph(*args)``, ``fn.explain(*args)`` and ``fn.cache_info()``
    show what was built and why.

    >>> import symgrad
    >>> @symgrad.compile
    ... def f(x):
    ...     return (x * x).sum()
    >>> x = symgrad.ones(3, requires_grad=True)
    >>> f(x).backward()
    >>> x.grad
    tensor([2., 2., 2.])
    """
    if fn is None:
        return functools.partial(
            compile,
            static_argnums=static_argnums,
            static_argnames=static_argnames,
            recompile_limit=recompile_limit,
            backend=backend,
        )
    backends.get(backend)  # an unknown or unavailable backend fails here, not at the call
    if isinstance(fn, Module):
        return CompiledModule(fn, recompile_limit=recompile_limit, backend=backend)
    return CompiledFunction(
        fn,
        static_argnums=static_argnums,
        static_argnames=static_argnames,
        recompile_limit=recompile_limit,
        backend=backend,
    )


class _ModuleCall:
    """``module(*args)`` as the function to trace: named after the module's class, with its
    forward's signature (argument names) and code (the generated module's origin line)."""

    def __init__(self, module: Module) -> None:
        self._module = module
        self.__self__ = module  # where its captured tensors are found (``captures``)
        self.__name__ = self.__qualname__ = type(module).__name__
        self.__signature__ = inspect.signature(module.forward)
        self.__code__ = type(module).forward.__code__

    def __call__(self, *args, **kwargs):
        return self._module(*args, **kwargs)


class CompiledModule(Module):
    """``symgrad.compile(model)``: a module whose calls run ``model(...)`` (forward and its
    hooks) through generated code.

    The model is its child ``_orig_mod`` (so ``parameters()``, ``train()``, ``state_dict()``
    work on it, with torch's ``_orig_mod.`` key prefix). Parameters and buffers are captured
    tensors: gradients reach them, and optimizers that update them in place need no
    recompilation. Code is generated per pattern of the submodules' ``training`` flags, so
    ``train()`` and ``eval()`` switch between versions instead of reusing a stale one.
    """

    def __init__(self, module: Module, **options) -> None:
        super().__init__()
        self._orig_mod = module
        self._options = options
        self._by_mode: dict[tuple[bool, ...], CompiledFunction] = {}

    def _compiled(self) -> CompiledFunction:
        module = self._orig_mod
        modes = tuple(m.training for m in module.modules())
        compiled = self._by_mode.get(modes)
        if compiled is None:
            compiled = CompiledFunction(
                _ModuleCall(module),
                name_resolver=lambda value: module_member_name(module, value, "self"),
                **self._options,
            )
            self._by_mode[modes] = compiled
        return compiled

    def forward(self, *args, **kwargs):
        return self._compiled()(*args, **kwargs)

    def __getattr__(self, name: str):
        # What the compiled module lacks, the original has (``compiled.fc1``), as in torch.
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "_orig_mod":
                raise
            return getattr(self._orig_mod, name)

    def source(self, *args, **kwargs) -> str:
        """The generated module for these arguments in the current training mode."""
        return self._compiled().source(*args, **kwargs)

    def cache_info(self) -> cache.CacheInfo:
        """The cache statistics of the current training mode's compiled forward."""
        return self._compiled().cache_info()


def formula(f, *example_args, wrt=None, **example_kwargs) -> Formula:
    """``f``'s output and gradients on arguments like these, as SymPy math.

    ``f`` is a plain function, a ``symgrad.compile``d one, or a module (its forward, in its
    current training mode); see ``CompiledFunction.formula``.

    >>> import numpy as np, symgrad
    >>> print(symgrad.formula(lambda x: (x * x + 2 * x + 1).sum(), np.ones(3)).gradients["x"])
    2*x + 2
    """
    if isinstance(f, Module):
        f = f if isinstance(f, CompiledModule) else CompiledModule(f)
        compiled = f._compiled()
    else:
        compiled = f if isinstance(f, CompiledFunction) else CompiledFunction(f)
    return compiled.formula(*example_args, wrt=wrt, **example_kwargs)
