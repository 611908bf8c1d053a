"""The type stubs (symgrad/__init__.pyi, symgrad/tensor.pyi) are what tools/make_stubs.py makes
from the runtime, so IDEs and type checkers see every ``symgrad.*`` name and Tensor method."""

from __future__ import annotations

import ast
import importlib.util
import pathlib
import types

import pytest

import symgrad

ROOT = pathlib.Path(__file__).resolve().parent.parent
STUB_FILES = ("symgrad/__init__.pyi", "symgrad/tensor.pyi")


def _load_tool():
    spec = importlib.util.spec_from_file_location("make_stubs", ROOT / "tools" / "make_stubs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_stubs = _load_tool()


def _tree(path: str) -> ast.Module:
    return ast.parse((ROOT / path).read_text(), path)


def _top_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname for alias in node.names if alias.asname)
    return names


def _class_names(tree: ast.Module, name: str) -> set[str]:
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name]
    names = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
    return names


def test_checked_in_stubs_are_what_the_tool_makes():
    stubs = make_stubs.render()
    assert sorted(stubs) == sorted(STUB_FILES)
    stale = make_stubs.stale(stubs)
    assert not stale, f"{', '.join(stale)} out of date: run `python tools/make_stubs.py`"


@pytest.mark.parametrize("path", STUB_FILES)
def test_stubs_are_python(path):
    _tree(path)  # raises SyntaxError if not


def test_package_stub_has_every_public_name():
    listed = _top_level_names(_tree("symgrad/__init__.pyi"))
    public = {
        name
        for name in dir(symgrad)
        if not name.startswith("_") and not isinstance(getattr(symgrad, name), types.ModuleType)
    }
    assert public - listed == set()
    for name in ("exp", "tensor", "compile", "grad", "no_grad", "float32", "Tensor", "nn"):
        assert name in listed
    # and nothing the package does not have
    assert {n for n in listed if not hasattr(symgrad, n)} == set()


def test_tensor_stub_has_every_tensor_attribute():
    listed = _class_names(_tree("symgrad/tensor.pyi"), "Tensor")
    own = set(vars(symgrad.Tensor)) - make_stubs.SKIPPED_CLASS_NAMES
    assert own - listed == set()
    public = {n for n in dir(symgrad.Tensor) if not n.startswith("_")}
    assert public - listed == set()
    for name in ("exp", "sum", "backward", "shape", "__add__", "__getitem__", "exp_"):
        assert name in listed


def test_stub_signatures_and_docs():
    """A method stub keeps the runtime's parameters (self first), return type and doc line."""
    tree = _tree("symgrad/tensor.pyi")
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor"]
    methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
    exp = methods["exp"]
    assert [a.arg for a in exp.args.args] == ["self"]
    assert ast.unparse(exp.returns) == "Tensor"
    assert ast.get_docstring(exp).startswith("Elementwise ``exp``")
    # in-place methods return the tensor (torch's rule), even where the runtime is unannotated
    assert ast.unparse(methods["exp_"].returns) == "Tensor"
    summed = methods["sum"]
    assert "dim" in [a.arg for a in summed.args.args + summed.args.kwonlyargs]
    functions = {
        n.name: n for n in _tree("symgrad/__init__.pyi").body if isinstance(n, ast.FunctionDef)
    }
    assert [a.arg for a in functions["exp"].args.args] == ["input"]


def test_annotation_outside_the_stub_is_left_out():
    """An annotation naming a type the stub does not import would be an error to a type
    checker: it is dropped (Any), the parameter kept."""

    def f(x: UnknownType, y: int = 3) -> Tensor:  # noqa: F821
        """Doc."""

    assert make_stubs._def("f", f, set(), set()) == (
        'def f(x, y: builtins.int = 3) -> Tensor:\n    """Doc."""\n'
    )
