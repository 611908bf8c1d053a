"""Where a compiled function's captured tensors live, so that each call reads them anew.

A tensor the traced function reads without taking it as an argument (a global ``W``, a
closure variable, ``params["w"]``, ``self.fc.weight``) becomes a parameter of the generated
code, and every call passes the value the function would read *now*: a name rebound since
tracing (``W = W - lr * W.grad``), a dict entry replaced, a submodule swapped for another
(``model.fc = nn.Linear(...)``) all reach the compiled code, as they reach eager code. (A
changed shape, dtype or ``requires_grad`` recompiles: ``_Entry.captured_changes``.)

``source(fn, value)`` finds the path once, when the entry is made: from the function's
closure variables, the globals its code reads, and the object of a bound method or compiled
module (``self``), through dict entries, list and tuple items, module members and object
attributes, breadth first and bounded (``MAX_DEPTH`` steps, ``MAX_VISITS`` objects). A
tensor found by no such path is passed as it was traced.
"""

from __future__ import annotations

import inspect
import types
from collections import deque

from ..nn.module import Module
from ..tensor import Tensor

MAX_DEPTH = 4
MAX_VISITS = 5000
_MAX_ITEMS = 1000  # items of one list, tuple or dict looked at
_OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def source(fn, value):
    """``(name, read)`` for the captured ``value``: ``name`` says where ``fn`` reads it
    (``"W"``, ``"params['w']"``, ``"self.fc.weight"``), ``read(old)`` gives the value there now
    (``old`` when the path is gone); ``read`` is None when no path was found."""
    roots = _roots(fn)
    for name, read in roots:
        if _current(read) is value:
            return name, _reader(read, ())
    for name, read in roots:
        path = _path_to(_current(read), value)
        if path is not None:
            return name + "".join(_step_text(step) for step in path), _reader(read, path)
    return "a captured tensor", None


def _roots(fn) -> list:
    """``(name, read)`` of what ``fn`` reads from outside: closure cells, the globals its
    code loads, and ``self`` of a bound method or a compiled module's call."""
    roots = []
    code = getattr(fn, "__code__", None)
    if code is not None:
        cells = getattr(fn, "__closure__", None) or ()
        for name, cell in zip(code.co_freevars, cells, strict=False):
            roots.append((name, lambda cell=cell: cell.cell_contents))
        namespace = getattr(fn, "__globals__", None)
        if namespace is not None:
            for name in dict.fromkeys(_loaded_globals(code)):
                if name in namespace:
                    roots.append((name, lambda name=name: namespace[name]))
    owner = getattr(fn, "__self__", None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        roots.append(("self", lambda: owner))
    return roots


def _loaded_globals(code):
    """Global names a code object (and the functions nested in it) reads."""
    names = list(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names += _loaded_globals(const)
    return names


_MISSING = object()


def _current(read):
    try:
        return read()
    except (LookupError, ValueError, AttributeError):  # an empty cell, a deleted global
        return _MISSING


def _reader(read, path):
    def reader(old):
        value = _current(read)
        for kind, key in path:
            if value is _MISSING:
                break
            try:
                if kind == "item":
                    value = value[key]
                elif kind == "member":  # a module's parameter, buffer or submodule
                    value = value.__dict__[key[0]][key[1]]
                else:
                    value = getattr(value, key)
            except (LookupError, AttributeError, TypeError):
                value = _MISSING
        return old if value is _MISSING else value

    return reader


def _step_text(step) -> str:
    kind, key = step
    if kind == "item":
        return f"[{key!r}]"
    return f".{key[1]}" if kind == "member" else f".{key}"


def _children(value):
    """``(step, child)`` of the containers a captured tensor may sit in."""
    if isinstance(value, dict):
        for key in list(value)[:_MAX_ITEMS]:
            if isinstance(key, (str, int)):
                yield ("item", key), value[key]
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value[:_MAX_ITEMS]):
            yield ("item", index), item
    elif isinstance(value, Module):
        for table in ("_parameters", "_buffers", "_modules"):  # read without __getattr__
            for name, member in vars(value).get(table, {}).items():
                yield ("member", (table, name)), member
        for name, member in vars(value).items():
            if not name.startswith("_"):
                yield ("attr", name), member
    elif not isinstance(value, (Tensor, _OPAQUE)) and hasattr(value, "__dict__"):
        for name, member in list(vars(value).items())[:_MAX_ITEMS]:
            yield ("attr", name), member


def _path_to(root, value):
    """The shortest path of steps from ``root`` to ``value`` (None if none is found within
    the bounds)."""
    queue = deque([(root, ())])
    seen = {id(root)}
    visits = 0
    while queue and visits < MAX_VISITS:
        held, path = queue.popleft()
        visits += 1
        if len(path) >= MAX_DEPTH:
            continue
        for step, child in _children(held):
            if child is value:
                return path + (step,)
            if id(child) not in seen and not isinstance(child, (Tensor, str, bytes, int, float)):
                seen.add(id(child))
                queue.append((child, path + (step,)))
    return None
