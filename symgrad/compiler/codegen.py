"""Render scheduled functions as a numpy-only Python module, and load it for real.

Op text comes from each OpDef's ``spelling``; an op without one is called through its numpy
``eval`` function, whose source (and that of the same-module helpers it uses) is copied into
the module. Constants are printed from numbers, names are sanitized identifiers, and the
module is registered in ``linecache`` so tracebacks, ``inspect.getsource`` and pdb show it.
"""

from __future__ import annotations

import dis
import inspect
import itertools
import keyword
import linecache
import math
import re
import textwrap
import types
import warnings
from functools import cache

import jinja2
import numpy as np

from .. import dtypes
from ..ops.indexing import Index
from . import templates_dir
from .graph import CONST, Node

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


def sanitize(name: str) -> str:
    """A safe, readable identifier derived from a user-provided name."""
    name = re.sub(r"\W+", "_", name).strip("_") or "arg"
    if name[0].isdigit():
        name = "_" + name
    if keyword.iskeyword(name) or name in ("np", "math"):
        name += "_"
    return name


# ----------------------------------------------------------------------- op expressions


# A spelling that calls a private helper is served by copying the op's own numpy code instead.
_PRIVATE_CALL = re.compile(r"(?<![\w.])_\w+\(")


def calls_private(spelling: str) -> bool:
    return _PRIVATE_CALL.search(spelling) is not None


def helper_call(fn, node: Node, operands: list[str], helpers: dict) -> str:
    """``fn(operands..., attr=value...)`` with ``fn`` copied into the module."""
    name = _include(fn, helpers)
    operands = [
        typed_constant(i) if i.kind == CONST else text
        for i, text in zip(node.inputs, operands, strict=True)
    ]
    arguments = operands + [f"{k}={literal(v)}" for k, v in node.attrs]
    call = f"{name}({', '.join(arguments)})"
    floating = [i.dtype for i in node.inputs if i.kind != CONST and i.dtype.is_floating_point]
    if not node.dtype.is_floating_point or all(d is node.dtype for d in floating):
        return call
    # The function returns what numpy computed in (mixed float inputs: the wider); eager
    # mode casts that to the op's dtype.
    return f"np.asarray({call}, dtype=np.{node.dtype.numpy.name})"


def _include(fn, helpers: dict) -> str:
    """Copy a numpy implementation (and the module-level helpers it calls) into the module."""
    if fn.__name__ == "<lambda>":
        raise CodegenError(f"an op implemented by a lambda has no spelling ({fn.__qualname__})")
    if fn.__name__ in helpers:
        return fn.__name__
    source, dependencies = _helper_source(fn)
    for dependency in dependencies:
        if callable(dependency):
            _include(dependency, helpers)
        else:
            name, value = dependency
            helpers.setdefault(name, f"{name} = {literal(value)}")
    helpers[fn.__name__] = source
    return fn.__name__


def _global_names(code) -> list[str]:
    """Names a code object (and the code nested in it) loads as globals."""
    names = [i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"]
    for const in code.co_consts:
        if inspect.iscode(const):
            names += _global_names(const)
    return names


@cache
def _helper_source(fn):
    source = textwrap.dedent(inspect.getsource(fn)).rstrip()
    dependencies = []
    for name in dict.fromkeys(_global_names(fn.__code__)):
        value = fn.__globals__.get(name)
        if inspect.isfunction(value) and value.__module__ == fn.__module__:
            dependencies.append(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            dependencies.append((name, value))
    return source, tuple(dependencies)


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
    helpers = context.get("helpers", ())
    return (
        _environment()
        .get_template(template)
        .render(uses_math="math." in "".join(helpers), **context)
    )


_RUNTIME_CALL = re.compile(r"(?<![\w.])rt\.(\w+)")


def runtime_names(functions: list, helpers: dict) -> list[str]:
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
