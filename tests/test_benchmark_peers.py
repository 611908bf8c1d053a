"""benchmarks/peers.py: the jax and torch spellings of the benchmark workloads give the
hand-written numpy values and gradients, and ``run.py --peers`` prints a column per installed
peer ("not installed" for the others). No timings are asserted."""

import importlib.util
import os
import subprocess
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
sys.path.insert(0, BENCHMARKS)

import peers  # noqa: E402
from extras import need  # noqa: E402
from workloads import WORKLOADS, Workload, check_agreement  # noqa: E402


def _ids(workloads):
    return [workload.name for workload in workloads]


@pytest.mark.parametrize("workload", WORKLOADS, ids=_ids(WORKLOADS))
def test_torch_spelling_agrees_with_numpy(workload):
    """The workload's own loss on torch, eager (torch.compile's compile time is the
    subprocess test's), forward and .backward()."""
    need("torch")
    args = workload.make_args()
    call, value_and_grad = peers.bind_torch(workload, args, compiled=False)
    check_agreement(workload, args, value_and_grad)
    check_agreement(workload, args, lambda *_: _as_numpy(call()))


JAX_SPELLED = [workload for workload in WORKLOADS if peers.jax_loss(workload) is not None]


@pytest.mark.parametrize("workload", JAX_SPELLED, ids=_ids(JAX_SPELLED))
def test_jax_jit_spelling_agrees_with_numpy(workload):
    """jax.jit(jax.value_and_grad(...)) of the jax spelling, as run.py times it."""
    need("jax")
    args = workload.make_args()
    call, value_and_grad = peers.bind_jax(workload, args)
    check_agreement(workload, args, value_and_grad)
    value, grads = call()
    check_agreement(workload, args, lambda *_: (value, tuple(grads)))


def test_a_workload_without_a_jax_spelling_has_no_jax_step():
    """run.py prints "-" in a peer's column where bind gives None."""
    workload = Workload("no spelling", lambda x: x.sum(), None, lambda: ())
    assert peers.jax_loss(workload) is None
    assert peers.bind_jax(workload, ()) is None


def test_run_with_peers_prints_a_column_per_installed_peer():
    """The whole --peers path of run.py on the one-element workload: torch.compile (inductor)
    compiles it, its agreement check passes, and its column is printed."""
    need("torch")
    result = subprocess.run(
        [sys.executable, "run.py", "--peers", "--only", "x*x+2x+1", "--repeats", "1"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("workload"))
    row = next(line for line in result.stdout.splitlines() if line.startswith("x*x+2x+1"))
    assert "torch.compile: torch " in result.stdout
    assert header.split()[-2:] == ["torch.compile", "ratio"]
    # the name's 3 words, numpy, three (time, ratio) pairs, then torch.compile's pair
    columns = 3 + 7 + 2
    if importlib.util.find_spec("jax") is None:
        assert "jax.jit: jax not installed" in result.stdout
        assert "jax.jit" not in header
    else:
        assert "jax.jit" in header
        columns += 2
    assert len(row.split()) == columns
    assert all(float(number) > 0 for number in row.split()[3:])


def _as_numpy(result):
    value, grads = result
    return value.detach().numpy(), tuple(grad.numpy() for grad in grads)
