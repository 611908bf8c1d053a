"""``Backend``: the one object through which the compiler writes and runs code for a target.

Passes up to scheduling never name a backend; the scheduler and the renderer ask this object:

- spelling: ``spelling(op)`` is the op's entry in the backend's table, ``code_for_op`` (its
  overrides) over the default table (each ``OpDef.spelling``), tinygrad's ``code_for_op``
  pattern; ``expression`` / ``guard`` turn it into statement text.
- buffers: ``writes_into(op)`` says which ops may write into an existing buffer (``out=``);
  ``into_workspace(node)`` which nodes may be computed into a workspace buffer
  (``workspace.py``), and ``no_workspace`` why a backend has none.
- arrays: ``is_array`` / ``array_type`` say which call arguments are arrays and what the cache
  key records of them; ``to_output`` converts what generated code returns.
- modules: ``template`` (one Jinja2 file under ``templates/``), ``imports`` (the import lines
  of generated code), ``runtime`` (the module of kernels generated code calls as ``rt``;
  ``export`` inlines the kernels it uses), ``render`` and ``load``.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any

from ...ir.graph import CONST, Node
from .. import codegen
from . import standalone as standalone_module


class Backend:
    """A code generation target; subclass it and register it in ``backends``.

    Class attributes: ``name`` (what ``backend=`` takes), ``template`` (a file under
    ``templates/``), ``imports`` (lines at the top of generated modules), ``runtime`` (the
    dotted name of the kernel module generated code imports as ``rt``, or None), ``extra``
    (the ``symgrad[extra]`` an optional backend needs) and ``code_for_op`` (op name ->
    spelling, overriding ``OpDef.spelling``).
    """

    name: str = ""
    template: str = ""
    imports: tuple[str, ...] = ()
    runtime: str | None = None
    extra: str | None = None
    code_for_op: dict[str, str | Callable[..., str]] = {}
    # Why this backend's generated code keeps no temporaries across calls (None: it does,
    # where ``into_workspace`` allows): what ``explain()`` says.
    no_workspace: str | None = "this backend writes no buffer in place"

    def __repr__(self) -> str:
        return f"<symgrad backend {self.name}>"

    # ------------------------------------------------------------------------ spelling
    def spelling(self, op) -> str | Callable[..., str] | None:
        """The op's spelling for this backend: an override, or the default table's entry."""
        return self.code_for_op.get(op.name, op.spelling)

    def expression(self, node: Node, operands: list[str], helpers: dict) -> str:
        """The expression computing ``node`` from its operands' texts (CodegenError when the
        backend cannot write the op)."""
        raise NotImplementedError

    def expression_into(self, node: Node, operands: list[str], out: str) -> str:
        """``node`` computed into the existing buffer ``out`` (only for ``writes_into``)."""
        raise NotImplementedError

    def guard(self, node: Node, operands: list[str], helpers: dict) -> str | None:
        """The statement checking ``node``'s argument values before it runs (the op's
        ``check``, with eager mode's error text), or None."""
        return None

    def writes_into(self, op) -> bool:
        """Whether generated code may compute ``op`` into an existing buffer."""
        return False

    def into_workspace(self, node: Node) -> bool:
        """Whether ``node`` may be computed into a workspace buffer of its own shape and dtype
        with ``expression_into`` (a buffer kept across calls, ``workspace.py``)."""
        return False

    def bare_constants(self, node: Node) -> bool:
        """Whether a constant operand of ``node`` may be a bare Python number (the array
        operand decides the dtype), instead of a typed scalar."""
        return False

    def constant(self, node: Node, bare: bool = False) -> str:
        """A constant operand: a bare number, or a scalar of the node's dtype."""
        raise NotImplementedError

    def read_only(self, op) -> bool:
        """Whether the backend's code for ``op`` gives a read-only array (returned results
        are copied, as eager mode gives writable ones)."""
        return False

    def fresh_copy(self, text: str) -> str:
        """A new writable array equal to the array ``text`` names (results that would alias
        an argument or a read-only broadcast)."""
        raise NotImplementedError

    # -------------------------------------------------------------------------- arrays
    def is_array(self, value: Any) -> bool:
        """Whether a call argument is an array (a traced input) rather than a static value."""
        raise NotImplementedError

    def array_type(self, value: Any) -> tuple[tuple[int, ...], Any]:
        """(shape, numpy dtype) of an array argument: what the cache key and tracing read."""
        return tuple(value.shape), value.dtype

    def to_output(self, value: Any) -> Any:
        """A result of generated code as the compiled function returns it."""
        return value

    def schedule_statements(
        self, function_name, order, results, param_ids, namer, role, helpers, workspace=None
    ):
        """The backend's own statements for one generated function, as ``(lines, notes)``
        (``notes``: its scheduling decisions, shown by ``explain()``), or None to take the
        scheduler's one statement per node (loop backends fuse clusters here). ``workspace``:
        the ``workspace.Slots`` to put temporaries in (``schedule.step_slots``), or None."""
        return None

    # -------------------------------------------------------------------- disk cache
    def cache_versions(self) -> dict[str, str]:
        """Versions of what the backend's generated code depends on beyond symgrad, numpy and
        Python (its compiler's): part of the persistent cache's key."""
        return {}

    def cache_options(self) -> dict[str, object]:
        """The backend's settings that change the code it generates: part of the persistent
        cache's key."""
        return {}

    # ------------------------------------------------------------------------- modules
    def runtime_module(self) -> types.ModuleType | None:
        """The runtime kernel module, imported (None when the backend has none)."""
        if self.runtime is None:
            return None
        return importlib.import_module(self.runtime)

    def render(self, header: dict, functions: list, helpers: dict, standalone=False) -> str:
        """The module's source through the backend's template; ``standalone``: with the
        runtime kernels it calls inlined, so that it needs only the array library."""
        used = codegen.runtime_names(functions) if self.runtime else []
        imports, runtime_source = list(self.imports), ""
        if used and standalone:
            more, runtime_source = self.runtime_source(used)
            imports += more
        return codegen.render(
            self.template,
            header=header,
            functions=functions,
            helpers=list(helpers.values()),
            imports=imports,
            runtime_import=self.runtime_import() if used and not standalone else "",
            runtime_source=runtime_source,
        )

    def runtime_import(self) -> str:
        """The line that imports the runtime module as ``rt``."""
        package, _, module = self.runtime.rpartition(".")
        return f"from {package} import {module} as rt" if package else f"import {module} as rt"

    def runtime_source(self, used: list[str]) -> tuple[list[str], str]:
        """(import lines, source) of the kernels ``used`` and what they need, copied from the
        runtime module's file and bound as ``rt``: what a standalone module has instead of
        the import."""
        return standalone_module.inline(self.runtime_module(), used, self.imports)

    def load(self, source: str, name: str) -> types.ModuleType:
        """Execute generated source as a module (registered in linecache for tracebacks)."""
        return codegen.load_module(source, name)

    def prepare(self, module: types.ModuleType) -> types.ModuleType:
        """The loaded generated module made ready to call, however it was loaded (by ``load``,
        or from a file of the disk cache). Default: as it is."""
        return module


def kernel_result_needs_cast(node: Node) -> bool:
    """A runtime kernel returns what its array library computed in: for mixed float inputs,
    the wider dtype; eager mode casts that to the op's dtype (``bce_with_logits`` of float64
    logits and a float32 target is float32, as in torch), so generated code must too."""
    if not node.dtype.is_floating_point:
        return False
    floating = [i.dtype for i in node.inputs if i.kind != CONST and i.dtype.is_floating_point]
    return any(d is not node.dtype for d in floating)
