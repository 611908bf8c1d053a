"""The examples run as scripts (a fresh interpreter each) and reach what they promise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from extras import need

ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str, **extra_env: str) -> str:
    env = dict(os.environ, **extra_env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # the examples multiply small matrices: BLAS threads only add overhead on a busy machine
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def progress(output: str) -> list[tuple[int, float]]:
    """The ``step loss`` lines the tutorial scripts print every 100 steps."""
    return [
        (int(step), float(loss))
        for step, loss in re.findall(r"^(\d+) ([-+\d.e]+)$", output, flags=re.MULTILINE)
    ]


def result_numbers(output: str) -> list[float]:
    line = next(line for line in output.splitlines() if line.startswith("Result: y = "))
    return [float(n) for n in re.findall(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?", line)]


def test_polynomial_fit():
    output = run_example("polynomial_fit.py")
    steps = progress(output)
    assert [s for s, _ in steps] == list(range(99, 2000, 100))
    losses = [loss for _, loss in steps]
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
    assert losses[-1] < 10.0
    a, b, c, d = result_numbers(output)
    # sin(x) ~ x - x^3/6 near 0; least squares on [-pi, pi] gives about 0.857 x - 0.093 x^3
    assert abs(a) < 0.05 and abs(c) < 0.05
    assert b == pytest.approx(0.85, abs=0.05) and d == pytest.approx(-0.092, abs=0.01)


def test_custom_function():
    output = run_example("custom_function.py")
    assert "gradcheck: True" in output
    losses = [loss for _, loss in progress(output)]
    assert len(losses) == 20
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
    assert losses[-1] < 9.5
    a, b, c, d = result_numbers(output)
    assert abs(a) < 1e-3 and abs(c) < 1e-3
    assert b == pytest.approx(-2.21, abs=0.05) and d == pytest.approx(0.255, abs=0.01)


def test_train_mlp():
    output = run_example("train_mlp.py")
    assert "  (4): Linear(in_features=64, out_features=2, bias=True)\n)" in output
    rows = re.findall(r"^epoch +(\d+) +loss ([\d.]+) +accuracy ([\d.]+)$", output, re.MULTILINE)
    assert len(rows) >= 10
    losses = [float(loss) for _, loss, _ in rows]
    assert losses[-1] < 0.1 and losses[-1] < losses[0] / 5
    final = float(re.search(r"final train accuracy: ([\d.]+)", output).group(1))
    assert final > 0.9


def test_makemore_bigram():
    output = run_example("makemore_bigram.py")
    assert output.startswith("672 names, 4516 bigrams, 27 characters\n")
    optimum = float(re.search(r"counting model loss: ([\d.]+)", output).group(1))
    losses = [float(v) for v in re.findall(r"^step +\d+  loss ([\d.]+)$", output, re.MULTILINE)]
    assert len(losses) == 8
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
    # gradient descent approaches the counted table, the maximum-likelihood optimum, from above
    assert optimum < losses[-1] < optimum + 0.02
    samples = re.search(r"^samples: (.*)$", output, re.MULTILINE).group(1).split(" ")
    assert len(samples) == 10


def test_compile_tour():
    output = run_example("compile_tour.py")
    assert "def forward_backward(w, b, X, y):" in output
    assert "symgrad explain: logistic_loss" in output
    losses = [float(v) for v in re.findall(r"MLP step \d: loss ([\d.]+)", output)]
    assert len(losses) == 3 and losses[2] < losses[0]
    assert "recompiled because arg 'images': shape (128, 784) -> (17, 784)" in output


def test_dask_logistic_regression():
    need("distributed")
    need("array_api_compat")
    # a small data set: the default (366 MiB, more than a worker's memory) takes ~30 s
    output = run_example("dask_logistic_regression.py", SYMGRAD_EXAMPLE_ROWS="40000")
    assert re.search(r"^dashboard: http://\S+", output, flags=re.MULTILINE)
    assert "data: 40,000 x 32 float32" in output
    losses = [float(v) for v in re.findall(r"^step \d+ loss ([\d.]+)$", output, flags=re.M)]
    assert len(losses) == 5
    assert losses[0] == pytest.approx(np.log(2), abs=1e-6)  # w = 0: every probability 1/2
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
