"""Benchmarks: symgrad eager, compiled, and hand-written numpy, in one process.

Run: python benchmarks/run.py [--repeats 9] [--only NAME] [--numba] [--peers]

Per workload it prints the median time per call (microseconds) of: hand-written numpy
forward+backward; symgrad compiled value_and_grad (numpy arrays in and out); compiled forward
plus ``.backward()`` on Tensors; symgrad eager; with ``--numba``, value_and_grad with
``backend="numba"`` (after a first call that compiles its kernels); with ``--peers``, jax.jit and
torch.compile where installed (benchmarks/peers.py; their compile time is not counted). Ratios
are against hand-written numpy measured in the same run. On a machine with few cores, give
--peers one thread per library: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"``. The thread
pools of OpenMP (torch), OpenBLAS (numpy) and XLA spin and starve each other and other
processes: on a loaded 2-core machine, with their defaults, the MLP's numpy step took 57-95 ms
instead of 2.7 ms and logistic regression's torch.compile step 28 ms instead of 0.36 ms.
Then: cache-hit overhead, first-call compile time of the MLP, and compile time against graph size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Compile times here are the compiler's own: the persistent cache (benchmarks/warm_start.py
# measures it) is neither read nor written, unless SYMGRAD_CACHE is set.
os.environ.setdefault("SYMGRAD_CACHE", "0")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workloads import WORKLOADS, check_agreement, eager_value_and_grad  # noqa: E402

import symgrad  # noqa: E402


def interleaved_medians(calls, repeats: int, budget: float = 0.1) -> list[float]:
    """Median seconds per call of each callable, their batches interleaved repeat by repeat,
    so that a change in machine load shifts every variant alike and the ratios hold."""
    numbers = []
    for call in calls:
        call()
        start = time.perf_counter()
        call()
        once = max(time.perf_counter() - start, 1e-7)
        numbers.append(max(1, int(budget / once)))
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for call, number, bucket in zip(calls, numbers, samples, strict=True):
            start = time.perf_counter()
            for _ in range(number):
                call()
            bucket.append((time.perf_counter() - start) / number)
    return [statistics.median(bucket) for bucket in samples]


def _compiled_backward_call(workload, args):
    compiled = symgrad.compile(workload.loss)
    argnums = workload.argnums if isinstance(workload.argnums, tuple) else (workload.argnums,)
    tensors = [symgrad.from_numpy(a) for a in args]
    for i in argnums:
        tensors[i].requires_grad_(True)
    differentiated = [tensors[i] for i in argnums]

    def call():
        for t in differentiated:
            t.grad = None
        compiled(*tensors).backward()

    return call


def measure(workload, repeats: int, numba: bool = False, peers=()) -> list[float | None]:
    """Median seconds per call: numpy, compiled value_and_grad, compiled + .backward(), eager,
    (``numba``) value_and_grad with backend="numba", then one per installed peer (None where
    the peer has no spelling of the workload)."""
    args = workload.make_args()
    value_and_grad = symgrad.value_and_grad(workload.loss, argnums=workload.argnums)
    check_agreement(workload, args, value_and_grad)
    calls = [
        lambda: workload.numpy_value_and_grad(*args),
        lambda: value_and_grad(*args),
        _compiled_backward_call(workload, args),
        lambda: eager_value_and_grad(workload, args),
    ]
    if numba:
        looped = symgrad.value_and_grad(workload.loss, argnums=workload.argnums, backend="numba")
        check_agreement(workload, args, looped)
        calls.append(lambda: looped(*args))
    first_peer = len(calls)
    slots = []
    for peer in peers:
        bound = peer.bind(workload, args)
        if bound is not None:
            peer_call, peer_value_and_grad = bound
            check_agreement(workload, args, peer_value_and_grad)
            calls.append(peer_call)
        slots.append(None if bound is None else len(calls) - 1)
    times = interleaved_medians(calls, repeats)
    return times[:first_peer] + [None if slot is None else times[slot] for slot in slots]


def run_workloads(repeats: int, only: str = "", numba: bool = False, peers=()) -> None:
    header = (
        f"{'workload':<22}{'numpy us':>11}{'compiled':>11}{'ratio':>7}"
        f"{'fwd+.backward':>15}{'ratio':>7}{'eager':>11}{'ratio':>7}"
    )
    if numba:
        header += f"{'numba':>11}{'ratio':>7}"
    for peer in peers:
        header += f"{peer.title:>15}{'ratio':>7}"
    print(header)
    print("-" * len(header))
    for workload in WORKLOADS:
        if only not in workload.name:
            continue
        numpy_time, compiled_time, backward_time, eager_time, *rest = measure(
            workload, repeats, numba, peers
        )
        line = (
            f"{workload.name:<22}{numpy_time * 1e6:>11.1f}{compiled_time * 1e6:>11.1f}"
            f"{compiled_time / numpy_time:>7.2f}{backward_time * 1e6:>15.1f}"
            f"{backward_time / numpy_time:>7.2f}{eager_time * 1e6:>11.1f}"
            f"{eager_time / numpy_time:>7.2f}"
        )
        if numba:
            line += f"{rest[0] * 1e6:>11.1f}{rest[0] / numpy_time:>7.2f}"
        for peer_time in rest[numba:]:
            line += (
                f"{'-':>22}"
                if peer_time is None
                else (f"{peer_time * 1e6:>15.1f}{peer_time / numpy_time:>7.2f}")
            )
        print(line)


def cache_hit_overhead(repeats: int) -> None:
    workload = WORKLOADS[1]
    args = workload.make_args()
    value_and_grad = symgrad.value_and_grad(workload.loss)
    value_and_grad(*args)
    generated = value_and_grad._compiled._entries[0].program.forward_backward
    full, direct = interleaved_medians(
        [lambda: value_and_grad(*args), lambda: generated(*args)], repeats
    )
    print(
        f"\ncache-hit overhead (value_and_grad call - generated function): "
        f"{(full - direct) * 1e6:.2f} us  (call {full * 1e6:.2f} us, generated "
        f"{direct * 1e6:.2f} us)"
    )


def first_call_compile() -> None:
    """First call minus second call of the MLP's value_and_grad: in this process (warm:
    templates loaded, helpers read) and in a fresh interpreter (cold)."""
    workload = WORKLOADS[3]
    args = workload.make_args()
    times = []
    for _ in range(5):
        value_and_grad = symgrad.value_and_grad(workload.loss, argnums=workload.argnums)
        start = time.perf_counter()
        value_and_grad(*args)
        first = time.perf_counter() - start
        start = time.perf_counter()
        value_and_grad(*args)
        times.append(first - (time.perf_counter() - start))
    cold = subprocess.run(
        [sys.executable, "-c", COLD_COMPILE],
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(os.path.abspath(__file__)),
    ).stdout.strip()
    print(
        f"first-call compile of the MLP: {float(cold) * 1e3:.1f} ms in a fresh process, "
        f"median {statistics.median(times) * 1e3:.1f} ms of 5 in a warm one"
    )


COLD_COMPILE = """
import os, sys, time
os.environ["SYMGRAD_CACHE"] = "0"  # cold: not from the persistent cache
sys.path.insert(0, "..")
import symgrad
from workloads import WORKLOADS
workload = WORKLOADS[3]
args = workload.make_args()
value_and_grad = symgrad.value_and_grad(workload.loss, argnums=workload.argnums)
start = time.perf_counter(); value_and_grad(*args); first = time.perf_counter() - start
start = time.perf_counter(); value_and_grad(*args); second = time.perf_counter() - start
print(first - second)
"""


def compile_scaling() -> None:
    print("compile time against graph size (elementwise chains, value_and_grad):")
    for length in (100, 1_000, 10_000):

        def chain(x, _n=length):
            for _ in range(_n):
                x = x * 1.0001
            return x.sum()

        start = time.perf_counter()
        symgrad.value_and_grad(chain)(np.ones(4, np.float32))
        seconds = time.perf_counter() - start
        print(f"  {length:>6} ops: {seconds * 1e3:9.1f} ms  ({seconds / length * 1e6:.1f} us/op)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="repeats per median (>= 7)")
    parser.add_argument("--only", default="", help="run the workloads whose name has this")
    parser.add_argument("--numba", action="store_true", help='add backend="numba" (symgrad[numba])')
    parser.add_argument(
        "--peers", action="store_true", help="add jax.jit and torch.compile, where installed"
    )
    options = parser.parse_args()
    peers = []
    if options.peers:
        # only on request: torch and jax take seconds to import, torch.compile minutes to compile
        from peers import PEERS, thread_settings

        peers = [peer for peer in PEERS if peer.module is not None]
    print(
        f"symgrad {symgrad.__version__}, numpy {np.__version__}, medians of "
        f"{options.repeats} repeats; ratios against hand-written numpy"
    )
    if options.peers:
        print("; ".join(peer.description for peer in PEERS))
        print(f"threads: {thread_settings() or 'library defaults'}")
    print()
    run_workloads(options.repeats, options.only, options.numba, peers)
    if options.only:
        return
    cache_hit_overhead(options.repeats)
    first_call_compile()
    compile_scaling()


if __name__ == "__main__":
    main()
