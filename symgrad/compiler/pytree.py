"""Pytrees: nested tuples, lists, dicts, namedtuples and dataclasses of leaves.

``flatten`` gives the leaves, a hashable structure (part of the cache key), and a readable
path per leaf (``params['w']``) from which generated code takes its argument names.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def _is_namedtuple(value) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def flatten(tree, path: str = "") -> tuple[list, Any, list[str]]:
    leaves: list = []
    paths: list[str] = []
    structure = _flatten(tree, path, leaves, paths)
    return leaves, structure, paths


def _flatten(tree, path, leaves, paths):
    if _is_namedtuple(tree):
        children = [_flatten(getattr(tree, f), f"{path}.{f}", leaves, paths) for f in tree._fields]
        return ("namedtuple", type(tree), tuple(children))
    if isinstance(tree, (tuple, list)):
        children = [_flatten(v, f"{path}[{i}]", leaves, paths) for i, v in enumerate(tree)]
        return (type(tree).__name__, type(tree), tuple(children))
    if isinstance(tree, dict):
        keys = tuple(tree)
        children = [_flatten(tree[k], f"{path}[{k!r}]", leaves, paths) for k in keys]
        return ("dict", type(tree), keys, tuple(children))
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        names = tuple(f.name for f in dataclasses.fields(tree))
        children = [_flatten(getattr(tree, n), f"{path}.{n}", leaves, paths) for n in names]
        return ("dataclass", type(tree), names, tuple(children))
    leaves.append(tree)
    paths.append(path)
    return None


def unflatten(structure, leaves) -> Any:
    iterator = iter(leaves)
    return _build(structure, iterator)


def _build(structure, leaves):
    if structure is None:
        return next(leaves)
    kind = structure[0]
    if kind == "namedtuple":
        return structure[1](*(_build(s, leaves) for s in structure[2]))
    if kind in ("tuple", "list"):
        return structure[1](_build(s, leaves) for s in structure[2])
    if kind == "dict":
        return structure[1](
            (k, _build(s, leaves)) for k, s in zip(structure[2], structure[3], strict=True)
        )
    values = {n: _build(s, leaves) for n, s in zip(structure[2], structure[3], strict=True)}
    return structure[1](**values)


def describe(structure) -> str:
    """A short text of a structure, for recompile reasons."""
    if structure is None:
        return "*"
    kind = structure[0]
    if kind == "dict":
        inner = ", ".join(
            f"{k!r}: {describe(s)}" for k, s in zip(structure[2], structure[3], strict=True)
        )
        return "{" + inner + "}"
    inner = ", ".join(describe(s) for s in structure[-1])
    if kind == "list":
        return f"[{inner}]"
    if kind == "tuple":
        return f"({inner})"
    return f"{structure[1].__name__}({inner})"
