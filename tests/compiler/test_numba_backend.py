"""backend="numba": fused loop kernels, their readable source, the cost model's decisions in
explain(), numbers equal to the numpy backend's (float64 to 1e-12, float32 to a few ulp, NaN and
inf alike), kernels kept in the persistent cache, and one clear error without Numba."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from extras import need

import symgrad
from symgrad.compiler import backends
from symgrad.testing import check_grads

ROOT = Path(__file__).resolve().parents[2]


def test_without_numba_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    monkeypatch.delitem(sys.modules, "symgrad.compiler.backends.numba", raising=False)
    monkeypatch.delitem(backends._INSTANCES, "numba", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'symgrad\[numba\]'") as error:
        symgrad.compile(lambda x: x * 2, backend="numba")
    assert "backend 'numba' needs numba" in str(error.value)
    backends._INSTANCES.pop("numba", None)  # built again, with Numba, by later tests


numba = need("numba")


def chain(x):
    for _ in range(5):
        x = (x.sin() * 0.9 + 0.1).tanh() * 1.1
    return x.sum()


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def mixed(x, y):
    z = symgrad.where(x > 0, x * y.sum(), -x) / (1 + x * x)
    return symgrad.relu(z).mean() + symgrad.sigmoid(z * 0.5).sum()


def _both(fn, *args):
    expected = symgrad.value_and_grad(fn, argnums=tuple(range(len(args))))(*args)
    got = symgrad.value_and_grad(fn, argnums=tuple(range(len(args))), backend="numba")(*args)
    return got, expected


def _arrays(dtype, n=16, count=1, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(dtype) for _ in range(count)]


@pytest.mark.parametrize("fn, count", [(chain, 1), (rosenbrock, 1), (mixed, 2)])
def test_float64_equals_numpy_backend_to_1e12(fn, count):
    (value, grads), (expected_value, expected_grads) = _both(fn, *_arrays(np.float64, 16, count))
    assert value.dtype == np.float64
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=0)
    for g, e in zip(grads, expected_grads, strict=True):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("fn, count", [(chain, 1), (rosenbrock, 1), (mixed, 2)])
def test_float32_stays_float32_within_a_few_ulp(fn, count):
    (value, grads), (expected_value, expected_grads) = _both(fn, *_arrays(np.float32, 16, count))
    assert value.dtype == np.float32  # a bare 0.1 in a kernel would make this float64
    np.testing.assert_array_max_ulp(value, expected_value, maxulp=8)
    for g, e in zip(grads, expected_grads, strict=True):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=4 * np.finfo(np.float32).eps * 8, atol=1e-6)


def special(x):
    return (x / (x - 1.0), symgrad.log(x) * 2.0, symgrad.sqrt(x) + 1.0, symgrad.exp(x) * x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_inf_as_numpy(dtype):
    x = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 800.0, -800.0], dtype)
    expected = symgrad.compile(special)(x)
    got = symgrad.compile(special, backend="numba")(x)
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(np.isnan(g), np.isnan(e))
        infinite = np.isinf(e)
        np.testing.assert_array_equal(g[infinite], e[infinite])  # inf with its sign
        finite = np.isfinite(e)
        assert np.isfinite(g[finite]).all()
        np.testing.assert_array_equal(np.signbit(g[e == 0]), np.signbit(e[e == 0]))
        np.testing.assert_array_max_ulp(g[finite], e[finite], maxulp=2)


def test_source_shows_readable_kernels_and_explain_the_decisions(monkeypatch):
    monkeypatch.setenv("SYMGRAD_NUMBA_TAPE", "never")  # the kernel form (tapes: test_numba_tape)
    f = symgrad.value_and_grad(chain, backend="numba")
    x = _arrays(np.float32)[0]
    f(x)
    source = str(f.source(x))
    assert '@numba.njit(cache=True, error_model="numpy")' in source
    assert "def _loop_forward_backward_0(in_x, out_out, out_d_x):" in source
    code = "\n".join(line.split("#")[0] for line in source.splitlines())
    assert "t0 * np.float32(0.9)" in code and "* 0.9" not in code
    kernel_line = next(line for line in source.splitlines() if "= np.sin(x)" in line)
    assert kernel_line.strip().startswith("t0 = np.sin(x)  # test_numba_backend.py:")
    assert kernel_line.endswith("x = (x.sin() * 0.9 + 0.1).tanh() * 1.1")
    report = str(f.explain(x))
    assert "backend: numba" in report
    assert "forward_backward: loop over 16: " in report
    assert "(small arrays: one call instead of one per op)" in report


def test_transcendentals_over_large_arrays_stay_numpy_ufuncs():
    def mix(x):
        return (x.tanh() * x.sin() * (-x * x).exp() + (x * x).log1p()).sum()

    x = _arrays(np.float32, 5000)[0]
    f = symgrad.value_and_grad(mix, backend="numba")
    value, grad = f(x)
    report = str(f.explain(x))
    assert "forward_backward: numpy ufunc: 1 x tanh over 5000 float32 elements (loop " in report
    kernels = str(f.source(x)).split("def forward(")[0]
    assert "np.tanh(" not in kernels and "np.sin(" not in kernels
    expected_value, expected_grad = symgrad.value_and_grad(mix)(x)
    np.testing.assert_allclose(value, expected_value, rtol=1e-5)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-4, atol=1e-6)


def test_compile_with_tensors_and_backward():
    x = symgrad.tensor(_arrays(np.float64)[0], requires_grad=True)
    y = symgrad.tensor(_arrays(np.float64)[0], requires_grad=True)
    symgrad.compile(rosenbrock, backend="numba")(x).backward()
    rosenbrock(y).backward()
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-12)


SCRIPT = """
import numpy as np
import symgrad
from symgrad.testing import check_grads

def loss(x):
    return ((x.sin() * 0.5 + 0.25) * x).sum()

compiled = symgrad.value_and_grad(loss, backend="numba")
value, grad = compiled(np.linspace(-1.0, 1.0, 9))
program = compiled._compiled._entries[-1].program
print(program.from_disk, repr(float(value)), repr(grad.tolist()))
"""


def test_kernels_are_kept_in_the_persistent_cache(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = dict(os.environ, SYMGRAD_CACHE="1", SYMGRAD_CACHE_DIR=str(folder))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))

    def run():
        result = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.split(" ", 1)

    cold_from_disk, cold = run()
    warm_from_disk, warm = run()
    assert (cold_from_disk, warm_from_disk) == ("False", "True")
    assert warm == cold
    (module,) = (folder / "modules").glob("*.py")
    assert "@numba.njit(cache=True" in module.read_text()
    assert list((folder / "modules" / "__pycache__").glob("*.nbi"))  # Numba's own index


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_slice_backwards_are_offset_writes_of_the_loop(dtype):
    x = _arrays(dtype, 3000)[0]
    f = symgrad.value_and_grad(rosenbrock, backend="numba")
    value, grad = f(x)
    source = str(f.source(x))
    kernels, body = source.split("\ndef forward_backward(")
    assert "index_backward" not in body and "d_x[" not in body  # no slice writes outside
    assert "d_x = np.zeros((3000,), np." in body
    assert "out_d_x[_i] += t" in kernels and "out_d_x[_i + 1] += t" in kernels
    assert "2 slice backward(s) as offset writes into one zeroed 3000 array" in str(f.explain(x))
    expected_value, expected_grad = symgrad.value_and_grad(rosenbrock)(x)
    assert grad.dtype == expected_grad.dtype
    if dtype == np.float64:
        np.testing.assert_allclose(value, expected_value, rtol=1e-12)
        np.testing.assert_array_equal(grad, expected_grad)  # a + b in either order: exact
    else:
        np.testing.assert_array_max_ulp(value, expected_value, maxulp=8)
        np.testing.assert_array_equal(grad, expected_grad)


def stencil(x):
    rows = x[1:, :] - x[:-1, :]
    columns = x[:, 2:] * x[:, :-2]
    return (rows * rows).sum() + columns.tanh().sum() + (x[1:3, 1:] ** 2).sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 6), (2, 3), (4, 2)])
def test_two_d_slice_backwards_at_offsets_on_both_axes(shape, dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(dtype)
    compiled = _compare(stencil, [x], 1e-12 if dtype == np.float64 else 1e-5)
    kernels = str(compiled.source(x)).split("\ndef forward(")[0]
    assert "[_i0 + 1, _i1] = t" in kernels  # x[1:, :]'s gradient, one row down
    if shape[1] > 2:
        assert "[_i0, _i1 + 2] = t" in kernels  # x[:, 2:]'s, two columns right
    check_grads(symgrad.compile(stencil, backend="numba"), [x.astype(np.float64)], order=1)


def strided(x, w, v):
    return (x[1:] * w).sum() + (x[:-1] * v).sum() + (x[::2] ** 2).sum()


def test_slice_backwards_of_values_from_outside_a_loop_are_one_zero_array_and_slice_writes():
    rng = np.random.default_rng(6)
    x, w, v = rng.standard_normal(9), rng.standard_normal(8), rng.standard_normal(8)
    x = rng.standard_normal(18)[::2]  # a strided view
    compiled = _compare(strided, [x, w, v], 1e-12)
    body = str(compiled.source(x, w, v)).split("def forward_backward(")[1]
    assert "[(slice(None, None, 2),)] = " in body  # a step of 2: a slice write in numpy
    check_grads(symgrad.compile(strided, backend="numba"), [x.copy(), w, v], order=1)


def two_d(a, b, s):
    y = symgrad.where(a > b, a * s, b - s) * (a + 1.0)
    return (y * y).sum(), (y > 0).float().mean()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_2d_inputs_zero_d_scalars_and_bool_values(dtype):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 5)).astype(dtype).T  # a transposed (non-contiguous) view
    b = np.asfortranarray(rng.standard_normal((5, 6)).astype(dtype))
    s = np.asarray(0.5, dtype)  # a 0-d array, broadcast into the loop
    expected = symgrad.value_and_grad(two_d, argnums=(0, 1, 2), has_aux=True)(a, b, s)
    got = symgrad.value_and_grad(two_d, argnums=(0, 1, 2), has_aux=True, backend="numba")(a, b, s)
    (value, aux), grads = got
    (expected_value, expected_aux), expected_grads = expected
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(value, expected_value, rtol=rtol)
    assert aux == expected_aux and aux.dtype == expected_aux.dtype
    for g, e in zip(grads, expected_grads, strict=True):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol)


def _compare(fn, args, rtol):
    """Compiled numba == eager (the numpy backend) for the value and every gradient."""
    argnums = tuple(range(len(args)))
    expected_value, expected_grads = symgrad.value_and_grad(fn, argnums=argnums)(*args)
    compiled = symgrad.value_and_grad(fn, argnums=argnums, backend="numba")
    value, grads = compiled(*args)
    assert value.dtype == expected_value.dtype
    np.testing.assert_allclose(value, expected_value, rtol=rtol)
    for g, e in zip(grads, expected_grads, strict=True):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol)
    return compiled


def biased(x, b, c):
    y = symgrad.sigmoid((x + b) * c) - b * 0.5
    return (y * y).sum()


BROADCAST_SHAPES = [
    ((6, 5), (5,), (6, 1)),  # a bias row, a column
    ((1, 5), (5,), (1, 1)),  # a size-1 leading axis
    ((3, 4, 5), (4, 1), (5,)),  # three axes, the middle one broadcast
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES)
def test_lower_rank_operands_broadcast_inside_the_loop(shapes, dtype):
    rng = np.random.default_rng(1)
    args = [rng.standard_normal(s).astype(dtype) for s in shapes]
    compiled = _compare(biased, args, 1e-12 if dtype == np.float64 else 1e-5)
    kernels = str(compiled.source(*args)).split("\ndef forward(")[0]
    assert "for _i0 in range(" in kernels  # a nest of loops, one per axis
    if shapes[1] == (5,):
        assert "b = in_b[_i1]" in kernels  # the bias indexed by its own axis
    if shapes[2] == (6, 1):
        assert "c = in_c[_i0, 0]" in kernels  # a column: 0 on its size-1 axis
    if shapes[2] == (1, 1):
        assert "c = in_c[0]" in kernels  # one element: loaded once, before the loop


def reduced(x, b):
    y = (x * b).tanh()
    rows = y.sum(1)
    return (rows * rows).sum() + (x * y).mean(0, keepdim=True).sum() + (y - b).sum((0, 1)).sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7, 3), (1, 4), (5, 1), (2, 3, 4)])
def test_per_axis_sums_are_accumulators_of_the_loop(shape, dtype):
    rng = np.random.default_rng(2)
    args = [rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape[-1:]).astype(dtype)]
    compiled = _compare(reduced, args, 1e-12 if dtype == np.float64 else 2e-5)
    kernels = str(compiled.source(*args)).split("\ndef forward(")[0]
    assert "np.zeros(" in kernels and "np.float64)" in kernels  # a float64 accumulator array
    assert "] += " in kernels


def test_per_axis_sums_on_non_contiguous_inputs_and_their_gradients_by_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6)).T  # (6, 4), a transposed view
    b = rng.standard_normal(8)[::2]  # (4,), strided
    assert not x.flags.c_contiguous and not b.flags.c_contiguous
    _compare(reduced, [x, b], 1e-12)
    compiled = symgrad.compile(reduced, backend="numba")
    check_grads(compiled, [x.copy(), b.copy()], order=1)


def summed(x, b):
    y = (x * b).tanh()
    return (y.sum(1) * 2.0).sum() + (x * y).sum(0, keepdim=True).sum()


@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
def test_empty_arrays_with_broadcasts_and_per_axis_sums(shape):
    rng = np.random.default_rng(4)
    args = [rng.standard_normal(shape), rng.standard_normal(shape[-1:])]
    _compare(summed, args, 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_inf_through_a_per_axis_sum(dtype):
    def rows(x, b):
        return ((x + b) * 2.0).sum(1)

    x = np.array([[1.0, np.nan, 2.0], [np.inf, 1.0, 0.0], [np.inf, -np.inf, 1.0]], dtype)
    b = np.array([0.5, 0.25, -0.0], dtype)
    expected = symgrad.compile(rows)(x, b)
    got = symgrad.compile(rows, backend="numba")(x, b)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_slice_backwards_of_tiny_and_empty_slices(n):
    x = np.linspace(-1.0, 1.5, n)  # n = 1: x[1:] and x[:-1] are empty
    _compare(rosenbrock, [x], 1e-12)


def test_slice_backwards_as_offset_writes_on_a_strided_input():
    x = np.random.default_rng(7).standard_normal(200)[::2]  # a non-contiguous view
    compiled = _compare(rosenbrock, [x], 1e-12)
    assert "out_d_x[_i + 1] += " in str(compiled.source(x))
    check_grads(symgrad.compile(rosenbrock, backend="numba"), [x.copy()], order=1)


def test_float32_row_sums_in_a_loop_are_within_a_few_ulp_of_numpy():
    def rows(x, b):
        return (x * b + 1.0).sum(1)

    rng = np.random.default_rng(8)
    x = rng.random((50, 1000)).astype(np.float32)
    b = rng.random(1000).astype(np.float32)
    got = symgrad.compile(rows, backend="numba")(x, b)
    assert "acc_" in str(symgrad.compile(rows, backend="numba").source(x, b))
    expected = (x * b + np.float32(1.0)).sum(1)
    assert got.dtype == np.float32
    np.testing.assert_array_max_ulp(got, expected, maxulp=4)
