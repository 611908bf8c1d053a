"""The backend seam (symgrad/compiler/backends/): backend= on every transform, the backend in the
cache key, a test-only backend plugged in without touching ops or passes, clear errors."""

import numpy as np
import pytest

import symgrad
from symgrad.compiler import backends
from symgrad.compiler.backends.numpy import NumpyBackend


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
