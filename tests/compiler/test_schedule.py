"""Scheduling: saved values, recomputation, del of dead temporaries, buffer reuse."""

import os
import subprocess
import sys

import numpy as np

import symgrad


def test_large_dead_temporaries_are_deleted_and_reused():
    f = symgrad.value_and_grad(lambda x: ((x * 2 + 1).exp() * 3).sum())
    x = np.linspace(-1, 1, 10_000)
    source = f.source(x)
    assert "del " in source
    assert ", out=" in source
    value, grad = f(x)
    np.testing.assert_allclose(value, (np.exp(x * 2 + 1) * 3).sum())
    np.testing.assert_allclose(grad, np.exp(x * 2 + 1) * 6)


def test_small_arrays_are_left_alone():
    source = symgrad.value_and_grad(lambda x: ((x * 2 + 1).exp() * 3).sum()).source(np.ones(8))
    assert "del " not in source and "out=" not in source


def test_inputs_are_never_written():
    x = np.linspace(-1, 1, 10_000)
    before = x.copy()
    symgrad.value_and_grad(lambda v: ((v + 1) * (v - 1)).sum())(x)
    np.testing.assert_array_equal(x, before)


def test_cheap_values_are_recomputed_not_saved():
    def loss(w, y):
        p = w.sigmoid()
        return -(y * p.log() + (1 - y) * (1 - p).log()).sum()

    w = symgrad.zeros(1000, requires_grad=True)
    y = symgrad.ones(1000)
    explanation = symgrad.compile(loss).explain(w, y)
    saved_bytes = sum(b for _, _, b in explanation.saved)
    assert saved_bytes <= 2 * 4000  # at most two float32[1000] arrays kept alive


def test_symgrad_logs_environment_variable_prints_code_and_recompiles():
    script = (
        "import numpy as np, symgrad\n"
        "f = symgrad.compile(lambda x: (x * x).sum())\n"
        "f(np.ones(2)); f(np.ones(3))\n"
    )
    env = dict(
        os.environ,
        SYMGRAD_LOGS="recompiles,code,graph",
        PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert "def forward(x)" in result.stderr
    assert "shape (2,) -> (3,)" in result.stderr
    assert ":: f64[3]" in result.stderr
