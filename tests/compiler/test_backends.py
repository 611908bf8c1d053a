"""The backend seam (symgrad/compiler/backends/): backend= on every transform, the backend in the
cache key, a test-only backend plugged in without touching ops or passes, clear errors."""

import ast
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from extras import need

import symgrad
from symgrad.compiler import backends
from symgrad.compiler.backends.numpy import NumpyBackend
from symgrad.ops import numpy_runtime
from symgrad.ops.registry import REGISTRY


class _Spelled(NumpyBackend):
    """A backend that spells ``mul`` as a function call and never writes into buffers: enough
    to see a second backend's code, registered by the test alone."""

    name = "test_spelled"
    code_for_op = {**NumpyBackend.code_for_op, "mul": "np.multiply({0}, {1})"}

    def writes_into(self, op) -> bool:
        return False


@pytest.fixture
def spelled():
    backend = _Spelled()
    backends.add(backend)
    yield backend
    backends.remove(backend.name)


def _loss(w, x):
    return ((x @ w).tanh() * x.sum(1)).mean()


def _arguments():
    rng = np.random.default_rng(0)
    return rng.standard_normal(40), rng.standard_normal((64, 40))


def test_compile_takes_a_backend_and_shows_its_code(spelled):
    w, x = _arguments()
    numpy_fn = symgrad.compile(_loss)
    spelled_fn = symgrad.compile(_loss, backend="test_spelled")
    wt = symgrad.tensor(w, requires_grad=True)
    wt2 = symgrad.tensor(w, requires_grad=True)
    numpy_fn(wt, x).backward()
    spelled_fn(wt2, x).backward()
    np.testing.assert_allclose(wt2.grad.numpy(), wt.grad.numpy(), rtol=1e-12)
    source = spelled_fn.source(wt2, x)
    assert "np.multiply(" in source and "out=" not in source
    assert " * " in numpy_fn.source(wt, x)
    assert "backend: test_spelled" in str(spelled_fn.explain(wt2, x))
    assert "[backend test_spelled]" in str(spelled_fn.cache_info())


@pytest.mark.parametrize(
    "transform",
    [
        lambda f, b: symgrad.grad(f, backend=b),
        lambda f, b: symgrad.value_and_grad(f, backend=b),
        lambda f, b: symgrad.jacrev(lambda w, x: (x @ w).tanh(), backend=b),
        lambda f, b: symgrad.hessian(lambda w, x: (x @ w).tanh().sum(), backend=b),
    ],
    ids=["grad", "value_and_grad", "jacrev", "hessian"],
)
def test_every_transform_takes_a_backend(spelled, transform):
    w, x = _arguments()
    w, x = w[:4], x[:3, :4]
    expected = transform(_loss, "numpy")(w, x)
    fn = transform(_loss, "test_spelled")
    _assert_tree_close(fn(w, x), expected)
    assert "np.multiply(" in fn.source(w, x)
    assert fn.backend is spelled


def test_a_compiled_module_takes_a_backend(spelled):
    class Scale(symgrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = symgrad.nn.Parameter(symgrad.ones(3))

        def forward(self, x):
            return (x * self.w).sum()

    model = Scale()
    compiled = symgrad.compile(model, backend="test_spelled")
    x = symgrad.tensor([1.0, 2.0, 3.0])
    compiled(x).backward()
    assert model.w.grad.tolist() == [1.0, 2.0, 3.0]
    assert "np.multiply(" in compiled.source(x)


def test_vjp_takes_a_backend(spelled):
    w, x = _arguments()
    out, pullback = symgrad.vjp(lambda w, x: (x @ w).tanh(), w, x, backend="test_spelled")
    expected_out, expected_pullback = symgrad.vjp(lambda w, x: (x @ w).tanh(), w, x)
    cotangent = np.linspace(-1, 1, out.shape[0])
    np.testing.assert_allclose(out, expected_out)
    _assert_tree_close(pullback(cotangent), expected_pullback(cotangent))


def _assert_tree_close(got, expected):
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            _assert_tree_close(a, b)
    elif expected is None:
        assert got is None
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_the_backend_is_part_of_the_cache_key(spelled):
    w, x = _arguments()
    numpy_fn = symgrad.compile(_loss)
    spelled_fn = symgrad.compile(_loss, backend="test_spelled")
    numpy_key = numpy_fn._key((w, x), {})[0]
    spelled_key = spelled_fn._key((w, x), {})[0]
    assert numpy_key != spelled_key and numpy_key[:3] == spelled_key[:3]
    assert symgrad.compiler.cache.diff_keys(spelled_key, numpy_key, ["w", "x"]) == [
        "backend 'numpy' -> 'test_spelled'"
    ]
    numpy_fn(w, x)
    spelled_fn(w, x)
    spelled_fn(w, x)
    assert len(numpy_fn._entries) == len(spelled_fn._entries) == 1
    assert spelled_fn._entries[0].program.backend is spelled
    assert spelled_fn._entries[0].hits == 2


def test_unknown_backend_is_a_value_error_listing_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown symgrad.compile backend 'jax'; known .*'numpy'"):
        symgrad.compile(lambda x: x, backend="jax")
    with pytest.raises(ValueError, match="unknown symgrad.compile backend"):
        symgrad.grad(lambda x: x.sum(), backend="jax")


def test_a_missing_optional_package_names_the_extra_to_install():
    backends.register("test_missing", "symgrad_no_such_package.backend", "Backend", "missing")
    try:
        with pytest.raises(ImportError, match=r"pip install 'symgrad\[missing\]'"):
            symgrad.compile(lambda x: x, backend="test_missing")
    finally:
        backends.remove("test_missing")


# ------------------------------------------------------------------ the numpy runtime


def test_no_implementation_is_copied_by_introspection():
    compiler = pathlib.Path(symgrad.__file__).parent / "compiler"
    offenders = [
        str(path.relative_to(compiler))
        for path in compiler.rglob("*.py")
        if "getsource" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_every_op_has_a_numpy_spelling_or_a_runtime_kernel():
    backend = backends.get("numpy")
    missing = [
        name
        for name, op in REGISTRY.items()
        if not op.eager_only
        and backend.spelling(op) is None
        and not isinstance(op.eval, np.ufunc)
        and getattr(op.eval, "__module__", None) != numpy_runtime.__name__
    ]
    assert missing == []
    checks = [
        name
        for name, op in REGISTRY.items()
        if op.check is not None and op.check.__module__ != numpy_runtime.__name__
    ]
    assert checks == []


def test_the_runtime_kernel_is_the_eager_implementation():
    """One implementation: the op's eval is the very function generated code calls."""
    softmax = REGISTRY["softmax"]
    assert softmax.eval is numpy_runtime.softmax
    f = symgrad.compile(lambda x: symgrad.softmax(x, 1))
    assert "rt.softmax(x, dim=1)" in f.source(np.ones((2, 3)))


def test_the_runtime_imports_only_numpy_and_math():
    tree = ast.parse(pathlib.Path(numpy_runtime.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imported <= {"annotations", "math", "numpy"}


def test_a_guard_raises_eagers_error_in_generated_code():
    f = symgrad.compile(lambda x, y: symgrad.nn.functional.cross_entropy(x, y))
    x = np.zeros((2, 3), np.float32)
    source = f.source(x, np.array([0, 1]))
    assert "rt.check_targets(" in source
    with pytest.raises(IndexError, match="^Target 7 is out of bounds.$"):
        f(x, np.array([0, 7]))
    with pytest.raises(IndexError, match="^Target 7 is out of bounds.$"):
        symgrad.nn.functional.cross_entropy(symgrad.tensor(x), symgrad.tensor([0, 7]))


def _classifier(W, b, x, labels):
    logits = (x @ W + b).tanh()
    loss = symgrad.nn.functional.cross_entropy(logits, labels)
    return loss + symgrad.logsumexp(logits, 1).mean() + logits.sigmoid().mean() + logits.erf().sum()


def test_an_exported_module_runs_where_symgrad_is_not_importable(tmp_path):
    rng = np.random.default_rng(1)
    args = (
        rng.standard_normal((4, 3)),
        rng.standard_normal(3),
        rng.standard_normal((5, 4)),
        np.array([0, 2, 1, 1, 0]),
    )
    fn = symgrad.value_and_grad(_classifier, argnums=(0, 1))
    value, (d_W, d_b) = fn(*args)
    path = tmp_path / "exported.py"
    fn.export(str(path), *args)
    exported = path.read_text()
    assert "symgrad" not in "".join(
        line for line in exported.splitlines() if line.startswith(("import", "from"))
    )
    assert "class rt:" in exported and "def nll_loss(" in exported
    assert "import math" in exported  # what the erf kernel needs comes along
    np.savez(tmp_path / "args.npz", *args)
    script = (
        "import sys, numpy as np\n"
        # symgrad may be installed in this interpreter: refuse it, as a machine without it would
        "class NoSymgrad:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'symgrad':\n"
        "            raise ImportError('symgrad is not importable here')\n"
        "sys.meta_path.insert(0, NoSymgrad())\n"
        "sys.modules.pop('symgrad', None)\n"
        "try:\n"
        "    import symgrad\n"
        "    raise SystemExit('symgrad is importable')\n"
        "except ImportError:\n"
        "    pass\n"
        "sys.path.insert(0, '.')\n"
        "import exported\n"
        "data = np.load('args.npz')\n"
        "value, d_W, d_b = exported.forward_backward(*(data[f'arr_{k}'] for k in range(4)))\n"
        "np.savez('results.npz', value=value, d_W=d_W, d_b=d_b)\n"
    )
    subprocess.run(
        [sys.executable, "-I", "-c", script],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    results = np.load(tmp_path / "results.npz")
    np.testing.assert_allclose(results["value"], value, rtol=1e-12)
    np.testing.assert_allclose(results["d_W"], d_W, rtol=1e-12)
    np.testing.assert_allclose(results["d_b"], d_b, rtol=1e-12)


_KERNELS = """
import numpy as np

_TWO = 2.0


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def tanh_kernel(x):
    return (_TWO * _sigmoid(_TWO * x) - 1).astype(x.dtype)
"""


class _WithRuntime(NumpyBackend):
    """A backend with its own runtime module, spelling tanh as one of its kernels."""

    name = "test_runtime"
    runtime = "seam_test_kernels"
    code_for_op = {**NumpyBackend.code_for_op, "tanh": "rt.tanh_kernel({0})"}


def test_a_backend_brings_its_own_runtime_module(tmp_path, monkeypatch):
    kernels = tmp_path / "kernels"
    kernels.mkdir()
    (kernels / "seam_test_kernels.py").write_text(_KERNELS)
    monkeypatch.syspath_prepend(str(kernels))
    backend = _WithRuntime()
    backends.add(backend)
    try:
        fn = symgrad.value_and_grad(lambda x: (x.tanh() * x).sum(), backend="test_runtime")
        x = np.linspace(-2, 2, 7)
        value, grad = fn(x)
    finally:
        backends.remove(backend.name)
    np.testing.assert_allclose(value, (np.tanh(x) * x).sum())
    np.testing.assert_allclose(grad, np.tanh(x) + x * (1 - np.tanh(x) ** 2))
    source = fn.source(x)
    assert "import seam_test_kernels as rt" in source and "rt.tanh_kernel(x)" in source
    exported = pathlib.Path(fn.export(str(tmp_path / "exported.py"), x)).read_text()
    assert "seam_test_kernels" not in exported.replace("copied from seam_test_kernels", "")
    for copied in ("_TWO = 2.0", "def _sigmoid(", "def tanh_kernel(", "class rt:"):
        assert copied in exported
    script = (
        "import numpy as np, exported\n"
        "value, grad = exported.forward_backward(np.linspace(-2, 2, 7))\n"
        "print(repr(float(value)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, '.'); exec({script!r})"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert float(result.stdout) == pytest.approx(float(value), rel=1e-12)


@pytest.mark.parametrize("library", ["torch", "dask.array"])
def test_an_array_of_another_library_names_the_array_api_backend(library):
    """Regression: a torch tensor or a Dask array passed to the numpy backend was taken for a
    static value (a tracing error deep inside, or "Non-hashable static arguments")."""
    module = need(library)
    foreign = module.ones(3) if library == "torch" else module.ones(3, chunks=3)
    step = symgrad.value_and_grad(lambda w, x: (x * w).sum())
    with pytest.raises(TypeError) as raised:
        step(np.ones(3), foreign)
    first, hint = str(raised.value).splitlines()
    assert first.startswith("symgrad.compile: backend 'numpy' does not take ")
    assert hint == (
        'symgrad hint: compile with backend="array_api" to run on torch, Dask, CuPy and other '
        "array-API arrays"
    )
