"""Differential property tests: random programs (``programs.py``) run four ways must agree.

compiled ``value_and_grad`` == compiled forward + ``.backward()`` == eager symgrad (values,
gradients, dtypes, shapes, ``requires_grad`` of the output, exceptions and their first lines);
eager == central finite differences in float64 (programs without kinks); and, when torch is
installed, eager == torch. Second order on small programs, and the cache under stress.

The profile is chosen in ``tests/conftest.py``: derandomized and short in CI, random and long
with ``SYMGRAD_FUZZ_EXAMPLES=N``. A failure found here becomes a named test in
``test_regressions.py``.

The first property also runs on other targets (``array_targets.py``): the array_api backend
on array-api-strict arrays must agree with eager mode in the same way (values, gradients,
dtypes, errors), or refuse at compile time an op the standard cannot write.
"""

from __future__ import annotations

import importlib.util
import os
import threading

import numpy as np
import pytest
from array_targets import NUMPY, STRICT, assert_not_in_the_standard
from array_targets import param as target_param
from extras import requires
from hypothesis import given, settings
from programs import Program, function, programs, run

import symgrad
from symgrad.testing import check_grads

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_NUMBA = importlib.util.find_spec("numba") is not None
# Relative tolerance by the lowest precision among the inputs: compiled code may round
# differently (x / c -> x * (1/c), fused or simplified expressions) and 40 ops amplify it.
RTOL = {"float32": 2e-4, "float64": 1e-9}
# Examples per property test come from the profile (tests/conftest.py); the large-shape and
# second-order variants cost as much per example and run a fixed fraction of them.
EXAMPLES = settings.default.max_examples
# SYMGRAD_FUZZ_LOG=path: one line per checked program (a long run's progress and failures).
FUZZ_LOG = os.environ.get("SYMGRAD_FUZZ_LOG")


def _rtol(program: Program) -> float:
    return max(RTOL[name] for _, name in program.inputs)


def _first_line(error: BaseException) -> tuple[str, str]:
    return type(error).__name__, (str(error).splitlines() or [""])[0]


def _close(actual, expected, rtol, what):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    finite = expected[np.isfinite(expected)]
    scale = max(1.0, float(np.abs(finite).max(initial=0.0)))
    np.testing.assert_allclose(
        actual, expected, rtol=rtol, atol=rtol * scale, equal_nan=True, err_msg=what
    )


def _eager(program: Program, arrays):
    """(output, gradients per input or None) of the eager run, or the exception it raised."""
    inputs = [symgrad.tensor(a, requires_grad=True) for a in arrays]
    try:
        out = run(symgrad, program, inputs)
        if out.requires_grad:
            out.backward()
    except Exception as error:  # noqa: BLE001 - compared with the compiled run's
        return error
    return out, [None if x.grad is None else x.grad.numpy() for x in inputs]


def _compiled(program: Program, arrays, backend="numpy"):
    inputs = [symgrad.tensor(a, requires_grad=True) for a in arrays]
    try:
        out = symgrad.compile(function(program), backend=backend)(*inputs)
        requires_grad = out.requires_grad
        if requires_grad:
            out.backward()
    except Exception as error:  # noqa: BLE001
        return error
    return out, requires_grad, [None if x.grad is None else x.grad.numpy() for x in inputs]


def _value_and_grad(program: Program, arrays, backend="numpy"):
    argnums = tuple(range(len(arrays)))
    try:
        return symgrad.value_and_grad(function(program), argnums=argnums, backend=backend)(*arrays)
    except Exception as error:  # noqa: BLE001
        return error


def check_program(program: Program, backend="numpy") -> None:
    """The four-way comparison of one program (also used by the regression tests), compiled
    by ``backend``."""
    if not FUZZ_LOG:
        return _check_program(program, backend)
    try:
        _check_program(program, backend)
    except BaseException as error:
        cause = error.__cause__
        cause = f"\ncaused by {type(cause).__name__}: {str(cause)[:2000]}" if cause else ""
        _log(f"FAIL {type(error).__name__}: {str(error)[:2000]}{cause}\n{program}")
        raise
    _log("ok")


def _log(line: str) -> None:
    with open(FUZZ_LOG, "a", encoding="utf-8") as log:
        log.write(line + "\n")


def _check_program(program: Program, backend="numpy") -> None:
    arrays = program.sample()
    rtol = _rtol(program)
    eager = _eager(program, arrays)
    compiled = _compiled(program, arrays, backend)
    fused = _value_and_grad(program, arrays, backend)
    if isinstance(eager, Exception):
        for other in (compiled, fused):
            assert isinstance(other, Exception), f"eager raised {eager!r}, compiled did not"
            assert _first_line(other) == _first_line(eager), f"{other!r}\n{program}"
        return
    for other in (compiled, fused):
        if isinstance(other, Exception):
            raise AssertionError(f"compiled raised, eager did not:\n{program}") from other
    out, grads = eager
    c_out, c_requires_grad, c_grads = compiled
    assert c_requires_grad == out.requires_grad
    assert c_out.dtype is out.dtype and tuple(c_out.shape) == tuple(out.shape)
    _close(c_out.detach().numpy(), out.detach().numpy(), rtol, "compiled value")
    f_value, f_grads = fused
    assert f_value.dtype == out.dtype.numpy, f"value_and_grad value dtype {f_value.dtype}"
    _close(f_value, out.detach().numpy(), rtol, "value_and_grad value")
    for k, (g, cg, fg, a) in enumerate(zip(grads, c_grads, f_grads, arrays, strict=True)):
        assert (g is None) == (cg is None), f"input {k}: eager grad {g}, compiled {cg}"
        expected = np.zeros_like(a) if g is None else g
        assert fg.dtype == a.dtype, f"input {k}: value_and_grad gradient dtype {fg.dtype}"
        _close(fg, expected, rtol * 10, f"value_and_grad gradient of input {k}")
        if g is not None:
            assert cg.dtype == g.dtype, f"input {k}: gradient dtype {cg.dtype} != {g.dtype}"
            _close(cg, g, rtol * 10, f"compiled gradient of input {k}")
    if not program.kinks:
        wide = [symgrad.tensor(a) for a in program.sample("float64")]
        check_grads(function(program), wide, order=1, rtol=1e-4, atol=1e-6)
    if HAS_TORCH:
        _check_torch(program, arrays, out, grads, rtol)


def _check_torch(program, arrays, out, grads, rtol) -> None:
    import torch

    inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = run(torch, program, inputs)
    assert str(t_out.dtype).split(".")[-1] == out.dtype.name
    _close(out.detach().numpy(), t_out.detach().numpy(), rtol * 10, "torch value")
    if t_out.requires_grad:
        t_out.backward()
    for k, (g, x) in enumerate(zip(grads, inputs, strict=True)):
        expected = None if x.grad is None else x.grad.numpy()
        assert (g is None) == (expected is None), f"input {k}: grad {g}, torch {expected}"
        if g is not None:
            _close(g, expected, rtol * 100, f"torch gradient of input {k}")


def check_on_target(program: Program, target) -> None:
    """Eager mode == ``value_and_grad(backend=target.backend)`` on the target's arrays."""
    arrays = program.sample()
    eager = _eager(program, arrays)
    step = symgrad.value_and_grad(
        function(program), argnums=tuple(range(len(arrays))), backend=target.backend
    )
    try:
        value, grads = step(*[target.to_array(a) for a in arrays])
    except Exception as error:  # noqa: BLE001 - compared with eager's
        if unspelled := _unspelled(error):
            return assert_not_in_the_standard(unspelled)
        assert isinstance(eager, Exception), f"{target.name} raised, eager did not:\n{program}"
        assert _first_line(error) == _first_line(eager), f"{error!r}\n{program}"
        return
    assert not isinstance(eager, Exception), f"eager raised {eager!r}, {target.name} did not"
    out, eager_grads = eager
    rtol = _rtol(program)
    assert target.is_native(value), f"{type(value)} returned on {target.name}"
    value = target.to_numpy(value)
    assert value.dtype == out.dtype.numpy, f"{target.name} value dtype {value.dtype}"
    _close(value, out.detach().numpy(), rtol, f"{target.name} value")
    for k, (g, e, a) in enumerate(zip(grads, eager_grads, arrays, strict=True)):
        g = target.to_numpy(g)
        assert g.dtype == a.dtype, f"input {k}: {target.name} gradient dtype {g.dtype}"
        expected = np.zeros_like(a) if e is None else e
        _close(g, expected, rtol * 10, f"{target.name} gradient of input {k}")


def _unspelled(error: BaseException):
    """The compile error for an op the backend cannot write, if ``error`` is (or wraps) one."""
    from symgrad.compiler import codegen

    while error is not None:
        if isinstance(error, codegen.CodegenError):
            return error
        error = error.__cause__
    return None


@pytest.mark.parametrize("target", [target_param(NUMPY), target_param(STRICT)])
@given(program=programs())
def test_compiled_equals_eager_equals_finite_differences(target, program):
    if target is NUMPY:
        check_program(program)
    else:
        check_on_target(program, target)


@requires("numba")
@settings(max_examples=max(10, EXAMPLES // 4))
@given(programs())
def test_numba_backend_equals_eager(program):
    """The same comparison with backend="numba" (a quarter of the examples: each compiles
    about three Numba kernels, a second)."""
    check_program(program, backend="numba")


@requires("numba")
@settings(max_examples=max(5, EXAMPLES // 16))
@given(programs(max_steps=12, large=True))
def test_numba_backend_on_large_shapes(program):
    """Large shapes: the cost model's other side (libm passes in numpy between loops)."""
    check_program(program, backend="numba")


@settings(max_examples=max(10, EXAMPLES // 10))
@given(programs(max_steps=12, large=True))
def test_large_programs_reuse_buffers_correctly(program):
    check_program(program)


@settings(max_examples=max(10, EXAMPLES // 50))
@given(programs(max_steps=6, large=False, max_inputs=1, smooth=True))
def test_hessian_equals_eager_second_order(program):
    (x,) = program.sample("float64")
    fn = function(program)
    hessian = symgrad.hessian(fn)(x)
    t = symgrad.tensor(x, requires_grad=True)
    (g,) = symgrad.autograd.grad(fn(t), [t], create_graph=True)
    rows = []
    for i in range(x.size):
        element = g.reshape(-1)[i]
        if element.requires_grad:
            (row,) = symgrad.autograd.grad(element, [t], retain_graph=True, allow_unused=True)
        else:
            row = None
        rows.append(np.zeros_like(x) if row is None else row.numpy())
    expected = np.stack(rows).reshape(x.shape + x.shape)
    _close(hessian, expected, 1e-7, f"hessian\n{program}")


# ----------------------------------------------------------------------- the cache under stress


def test_shapes_a_b_a_compile_twice_and_stay_correct():
    f = symgrad.value_and_grad(lambda x: (x.sin() * x).sum())
    a, b = np.linspace(-1, 1, 6), np.linspace(-1, 1, 4).reshape(2, 2)
    first = f(a)
    f(b)
    again = f(a)
    np.testing.assert_array_equal(first[1], again[1])
    np.testing.assert_allclose(again[1], np.sin(a) + a * np.cos(a))
    info = f.cache_info()
    assert [e.hits for e in info.entries] == [2, 1]
    assert len(info.recompile_reasons) == 1 and "shape" in info.recompile_reasons[0]


def test_threads_with_different_shapes_compile_each_shape_once():
    @symgrad.compile
    def f(x):
        return (x.tanh() * x).sum()

    shapes = [(n,) for n in range(2, 10)]
    barrier = threading.Barrier(len(shapes))
    results, errors = {}, []

    def call(shape):
        x = symgrad.tensor(np.linspace(-1, 1, shape[0]), requires_grad=True)
        barrier.wait()
        try:
            for _ in range(3):
                out = f(x)
                out.backward()
            results[shape] = (out.item(), x.grad.numpy() / 3)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=call, args=(s,)) for s in shapes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for shape, (value, grad) in results.items():
        x = np.linspace(-1, 1, shape[0])
        np.testing.assert_allclose(value, (np.tanh(x) * x).sum())
        np.testing.assert_allclose(grad, np.tanh(x) + x / np.cosh(x) ** 2)
    info = f.cache_info()
    assert len(info.entries) == len(shapes)
    assert sorted(e.hits for e in info.entries) == [3] * len(shapes)
    assert len(info.recompile_reasons) == len(shapes) - 1


@pytest.mark.parametrize("seed", range(3))
def test_check_program_catches_a_wrong_gradient(seed, monkeypatch):
    """The comparison itself fails when compiled code is wrong (here: a perturbed gradient)."""
    import programs as module

    program = Program((((3,), "float64"),), (module.Step("sin", (0,)),), seed)
    original = symgrad.value_and_grad.__call__

    def wrong(self, *args, **kwargs):
        value, grads = original(self, *args, **kwargs)
        return value, tuple(g + 1e-3 for g in grads)

    monkeypatch.setattr(symgrad.value_and_grad, "__call__", wrong)
    with pytest.raises(AssertionError):
        _check_program(program)  # not logged: a long run's log lists real failures only
