"""What every backend's generated code shares: printed literals, safe names, the Jinja2
templates, and loading a module for real.

Op text comes from the backend (``backends/``). Constants are printed from numbers, names are
sanitized identifiers, and the module is registered in ``linecache`` so that tracebacks,
source lookups and pdb show it.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import math
import re
import types
import warnings
from functools import cache

import jinja2
import numpy as np

from .. import dtypes
from ..ir.graph import Node
from ..ops.indexing import Index
from . import templates_dir

_module_ids = itertools.count()
MODULE_PREFIX = "symgrad_generated_"
# Generated code, like eager mode (and torch), does not warn about inf/nan arithmetic: the
# filter matches only warnings raised from generated modules, and costs nothing per call.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=MODULE_PREFIX)


class CodegenError(RuntimeError):
    """An op cannot be written as numpy source."""


# ------------------------------------------------------------------------------ literals


def literal(value) -> str:
    """Python source for a constant attribute value, built from numbers (never from text)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "np.nan"
        if math.isinf(value):
            return "np.inf" if value > 0 else "-np.inf"
        return repr(value)
    if isinstance(value, str):
        if not re.fullmatch(r"[A-Za-z0-9_\-. ]*", value):
            raise CodegenError(f"refusing to print the string {value!r} into generated code")
        return repr(value)
    if isinstance(value, dtypes.dtype):
        return f"np.{value.numpy.name}"
    if isinstance(value, slice):
        return f"slice({literal(value.start)}, {literal(value.stop)}, {literal(value.step)})"
    if value is Ellipsis:
        return "Ellipsis"
    if isinstance(value, np.ndarray):
        return f"np.array({literal(tuple(value.tolist()))}, dtype=np.{value.dtype.name})"
    if isinstance(value, Index):
        return literal(value.items)
    if isinstance(value, (tuple, list)):
        items = ", ".join(literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    raise CodegenError(f"cannot print a {type(value).__name__} attribute into generated code")


def constant_text(node: Node) -> str:
    """A scalar constant, in the shortest text that rounds to the same value in its dtype."""
    value = node.value
    if isinstance(value, float) and math.isfinite(value) and node.dtype.itemsize < 8:
        text = str(node.dtype.numpy.type(value))
    else:
        text = literal(value)
    return f"({text})" if text.startswith("-") else text


def typed_constant(node: Node) -> str:
    return f"np.{node.dtype.numpy.name}({constant_text(node)})"


# Names generated code binds (its imports, in any backend; the array_api backend's locals
# ``xp`` and ``device``; the workspace parameter): never a user's name.
RESERVED_NAMES = frozenset(
    {"np", "math", "rt", "xp", "device", "array_namespace", "array_device", "workspace"}
)


def sanitize(name: str) -> str:
    """A safe, readable identifier derived from a user-provided name."""
    name = re.sub(r"\W+", "_", name).strip("_") or "arg"
    if name[0].isdigit():
        name = "_" + name
    if keyword.iskeyword(name) or name in RESERVED_NAMES:
        name += "_"
    return name


# ------------------------------------------------------------------------------ module


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(template: str, **context) -> str:
    """A backend's template (a file under ``templates/``) rendered with ``context``."""
    return _environment().get_template(template).render(**context)


_RUNTIME_CALL = re.compile(r"(?<![\w.])rt\.(\w+)")


def runtime_names(functions: list) -> list[str]:
    """The runtime kernels (``rt.name``) the generated statements call, in first-use order.
    Only the code of a line is read, never its comment (which quotes the user's source)."""
    names: dict[str, None] = {}
    for function in functions:
        for line in function.lines:
            for name in _RUNTIME_CALL.findall(line.split("#", 1)[0]):
                names[name] = None
    return list(names)


def load_module(source: str, name: str) -> types.ModuleType:
    """Compile the source with a real filename registered in linecache (tracebacks, pdb)."""
    filename = f"<symgrad:{name}:{next(_module_ids)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(f"{MODULE_PREFIX}{sanitize(name)}")
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - our own source
    return module
