"""backend="numba" tape kernels (``backends/numba_tape.py``): a cluster as rows of a table that
one compiled loop interprets. The tape computes the same numbers as the cluster's own kernel
(bit for bit: the same scalar spellings, typed constants and summation order), the cost model
picks it for large clusters and says so in explain(), and its compiled code is cached by Numba
where the disk cache says (never elsewhere), surviving corrupt files there."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from extras import need

import symgrad
import symgrad.nn.functional as F

numba = need("numba")

from hypothesis import given, settings  # noqa: E402
from programs import programs  # noqa: E402
from test_properties import EXAMPLES, check_program  # noqa: E402

from symgrad.compiler.backends import numba_tape  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def tape_mode(value: str):
    """``SYMGRAD_NUMBA_TAPE`` set for the block (compiles read it when they plan)."""
    old = os.environ.get("SYMGRAD_NUMBA_TAPE")
    os.environ["SYMGRAD_NUMBA_TAPE"] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ["SYMGRAD_NUMBA_TAPE"]
        else:
            os.environ["SYMGRAD_NUMBA_TAPE"] = old


def _value_and_grad(fn, args, mode):
    with tape_mode(mode):
        compiled = symgrad.value_and_grad(fn, argnums=tuple(range(len(args))), backend="numba")
        result = compiled(*args)
        source = compiled.source(*args)
    return result, source


def assert_tape_equals_kernel(fn, *args):
    """The tape's value and gradients equal the kernel's bit for bit (NaN where it has NaN),
    and the tape was really used."""
    (tape_value, tape_grads), tape_source = _value_and_grad(fn, args, "always")
    (value, grads), source = _value_and_grad(fn, args, "never")
    assert "_tape = np.array(" in tape_source
    assert "_tape = np.array(" not in source
    np.testing.assert_array_equal(np.asarray(tape_value), np.asarray(value))
    for got, expected in zip(tape_grads, grads, strict=True):
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))


def chain(x):
    for _ in range(5):
        x = (x.sin() * 0.9 + 0.1).tanh() * 1.1
    return x.sum()


def activations(x):
    y = F.leaky_relu(x, 0.02) + F.hardtanh(x, -0.5, 0.75) + F.elu(x, alpha=0.3)
    y = y + F.softplus(x, beta=2.0, threshold=5.0) + F.gelu(x) + F.gelu(x, approximate="tanh")
    return (y * symgrad.clamp(x, -1.0, 1.0) + symgrad.sigmoid(x) * x.relu()).mean()


def logic(x, y):
    finite = symgrad.isfinite(x) & (y > 0) | symgrad.isnan(y)
    picked = symgrad.where(finite, x * y, -x) + symgrad.where(x < y, 2.0, y)
    return (picked * picked).sum() + symgrad.where(~finite, x, 0.0).mean()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chain_tape_equals_kernel(dtype):
    x = np.linspace(-2, 2, 16).astype(dtype)
    assert_tape_equals_kernel(chain, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_with_attributes_in_registers_equal_kernel(dtype):
    x = np.linspace(-6, 6, 33).astype(dtype)
    assert_tape_equals_kernel(activations, x)


def test_bool_values_comparisons_and_where_equal_kernel():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 5, 7)).astype(np.float32)
    x[0, :3] = [np.nan, np.inf, -np.inf]
    y[1, :2] = [np.nan, 0.0]
    assert_tape_equals_kernel(logic, x, y)


def test_nan_inf_and_division_by_zero_as_numpy():
    x = np.array([0.0, -0.0, 1.0, np.inf, -np.inf, np.nan, 2.0, -3.0], np.float32)

    def fn(x):
        y = 1.0 / x + x / (x - 1) + (x * x).sqrt() + (x - 3).log1p() * x
        return y.sum()

    assert_tape_equals_kernel(fn, x)


def test_many_blocks_and_a_partial_last_block():
    """More elements than a block (registers x block stay near numba_tape.BLOCK_BYTES): the
    loads, stores and accumulators cover every block and the short last one."""
    x = np.random.default_rng(2).standard_normal(100_003)
    assert_tape_equals_kernel(lambda x: ((x * 0.5 + 1) * x - x * x).sum(), x)


def test_scalar_operands_broadcast_into_the_loop():
    rng = np.random.default_rng(3)
    x, s = rng.standard_normal(12), np.float64(0.75)

    def fn(x, s):
        return ((x * s + s) * x - s).mean()

    assert_tape_equals_kernel(fn, x, np.asarray(s))


def test_large_cluster_is_a_tape_and_explain_says_why():
    def long_chain(x):
        for _ in range(40):
            x = (x * 0.9 + 0.1) * x
        return x.sum()

    x = np.linspace(-1, 1, 8, dtype=np.float32)
    compiled = symgrad.value_and_grad(long_chain, backend="numba")
    value, grad = compiled(x)
    reference = symgrad.value_and_grad(long_chain)(x)
    np.testing.assert_allclose(value, reference[0], rtol=1e-6)
    np.testing.assert_allclose(grad, reference[1], rtol=1e-5)
    text = str(compiled.explain(x))
    assert f"is more than {numba_tape.TAPE_OPS}" in text
    assert "_tape = np.array(" in compiled.source(x)
    # a small cluster stays a kernel of its own statements
    small = symgrad.value_and_grad(lambda x: ((x * 0.9 + 0.1) * x).sum(), backend="numba")
    small(x)
    assert "_tape = np.array(" not in small.source(x)
    assert "tape:" not in str(small.explain(x))


def test_tape_source_is_readable():
    """One tape row per op with the user's line, one commented branch per kind."""
    x = np.linspace(-1, 1, 16, dtype=np.float32)
    with tape_mode("always"):
        compiled = symgrad.value_and_grad(chain, backend="numba")
        compiled(x)
        source = compiled.source(x)
    assert "# sin -> float32" in source
    assert "regs[_d, _j] = np.float32(np.sin(regs[_a, _j]))" in source
    assert "# store out_d_x" in source and "# a full sum's accumulator" in source
    assert "x.sin() * 0.9 + 0.1" in source  # the user's line on its tape rows


@settings(max_examples=max(10, EXAMPLES // 4), deadline=None)
@given(programs())
def test_property_programs_through_tapes_equal_eager(program):
    """The property suite's programs with every loop cluster forced through a tape."""
    with tape_mode("always"):
        check_program(program, backend="numba")


CHILD = textwrap.dedent(
    """
    import numpy as np, symgrad
    def fn(x):
        for _ in range(3):
            x = (x.sin() * 0.9 + 0.1).tanh() * 1.1
        return x.sum()
    x = np.linspace(-1, 1, 16).astype(np.float32)
    value, grad = symgrad.value_and_grad(fn, backend="numba")(x)
    print(repr(float(value)), repr(grad.tolist()))
    """
)


def _child(env, warning=None):
    result = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
    )
    if warning is not None:
        assert warning in result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_numba_cache_files_live_in_the_cache_directory_and_survive_corruption(tmp_path):
    """The tape's compiled code is cached beside its module in SYMGRAD_CACHE_DIR (nowhere in
    symgrad's tree); truncated or garbled Numba cache files are recompiled, not trusted."""
    folder = tmp_path / "cache"
    env = dict(os.environ, SYMGRAD_CACHE="1", SYMGRAD_CACHE_DIR=str(folder))
    env["SYMGRAD_NUMBA_TAPE"] = "always"
    env["PYTHONPATH"] = str(ROOT)
    first = _child(env)
    numba_files = sorted(folder.rglob("*.nb[ic]"))
    assert numba_files, "Numba wrote no cache files into SYMGRAD_CACHE_DIR"
    assert not list((ROOT / "symgrad").rglob("*.nb[ic]"))
    assert _child(env) == first
    for path in numba_files:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] + b"garbage")
    assert _child(env, warning="ignoring Numba's cached code") == first
    assert _child(env) == first  # and written again


def test_with_the_cache_off_nothing_is_written_to_the_cache_directory(tmp_path):
    folder = tmp_path / "cache"
    env = dict(os.environ, SYMGRAD_CACHE="0", SYMGRAD_CACHE_DIR=str(folder))
    env["SYMGRAD_NUMBA_TAPE"] = "always"
    env["PYTHONPATH"] = str(ROOT)
    _child(env)
    assert not folder.exists()


def test_a_cache_directory_others_can_write_gets_no_numba_code(tmp_path):
    """Numba's cache files are pickles it executes: a directory others could write into is
    refused for them as for the generated modules (compiles stay private to the process)."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    env = dict(os.environ, SYMGRAD_CACHE="1", SYMGRAD_CACHE_DIR=str(folder))
    env["SYMGRAD_NUMBA_TAPE"] = "always"
    env["PYTHONPATH"] = str(ROOT)
    _child(env, warning="other users can write into it")
    assert not list(folder.rglob("*"))
