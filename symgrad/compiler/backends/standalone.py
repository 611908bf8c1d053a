"""Standalone modules: the runtime kernels a generated module calls, copied into it.

``export()`` writes a module that needs only its array library: instead of importing the
backend's runtime module it carries the kernels it calls (and the module-level helpers and
constants those use), copied from the runtime module's file, then binds them under the name
``rt`` that the generated statements call them by. The file is read as text and parsed; no
live object's source is looked up.
"""

from __future__ import annotations

import ast
import functools
import types


@functools.cache
def _definitions(path: str) -> tuple[dict[str, tuple[int, str, frozenset[str]]], list]:
    """(top-level name -> (order, source, names it reads), import statements) of a file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tree = ast.parse(text)
    definitions = {}
    imports = []
    for order, statement in enumerate(tree.body):
        source = ast.get_source_segment(text, statement)
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            if not (isinstance(statement, ast.ImportFrom) and statement.module == "__future__"):
                imports.append((statement, source))
            continue
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            names = [statement.name]
            decorators = "".join(
                f"@{ast.get_source_segment(text, d)}\n" for d in statement.decorator_list
            )
            source = decorators + source
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
        else:
            continue
        reads = frozenset(
            n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and n.id not in names
        )
        for name in names:
            definitions[name] = (order, source, reads)
    return definitions, imports


def inline(
    module: types.ModuleType, used: list[str], present: tuple[str, ...] = ()
) -> tuple[list[str], str]:
    """(import lines, source) defining the kernels ``used`` of ``module`` and what they need,
    then ``rt``; import statements in ``present`` (the module's own imports) are left out."""
    definitions, imports = _definitions(module.__file__)
    needed: dict[str, None] = {}
    pending = list(used)
    while pending:
        name = pending.pop()
        if name in needed or name not in definitions:
            continue
        needed[name] = None
        pending.extend(definitions[name][2])
    read = set().union(*(definitions[n][2] for n in needed))
    import_lines = [
        source
        for statement, source in imports
        if source not in present
        and {(a.asname or a.name).split(".")[0] for a in statement.names} & read
    ]
    blocks = sorted({definitions[n][:2] for n in needed})
    members = "\n".join(f"    {name} = staticmethod({name})" for name in sorted(used))
    namespace = (
        "class rt:\n"
        f'    """The kernels this module calls, copied from {module.__name__}."""\n\n'
        f"{members}"
    )
    return import_lines, "\n\n\n".join([source for _, source in blocks] + [namespace])
