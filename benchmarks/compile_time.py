"""Compile time against graph size: the alternating sin/tanh chain and two model workloads.

Run: python benchmarks/compile_time.py [--repeats 3] [--sizes 100 300 1000 3000 10000]
     [--without-sympy] [--backend numba] [--all-workloads]

A chain step is ``x = sin(x) * 1.01 + 0.1 * x`` then ``x = tanh(x)`` on 16 float64 elements,
and the time is the first call of a fresh ``value_and_grad`` (trace, reverse, rewrite, SymPy
clusters, schedule, render, load) minus nothing: the second call is a cache hit of a few
microseconds. Per size it prints the median of the repeats (wall seconds and CPU seconds, the
latter steadier on a shared machine), microseconds per traced op, and the median seconds of
each pipeline phase; then the 10,000/1,000 ratio of the medians (the target is at most 12).
``--without-sympy`` replaces the SymPy cluster phase by the identity, to time the other passes.
``--backend numba`` compiles for the Numba backend: ``import numba`` and Numba's own start-up
(its first compile, of a one-line kernel) are timed and printed apart, before the first row,
and the column "run" is the first call's time outside the pipeline's phases (Numba compiles
the kernels there). ``--all-workloads`` adds every workload of benchmarks/workloads.py (their
warm first call, from the disk cache in a new process: benchmarks/warm_start.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Compile times here are the compiler's own: the persistent cache (benchmarks/warm_start.py
# measures it) is neither read nor written, unless SYMGRAD_CACHE is set.
os.environ.setdefault("SYMGRAD_CACHE", "0")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workloads import WORKLOADS  # noqa: E402

import symgrad  # noqa: E402
from symgrad.compiler import simplify  # noqa: E402

PHASES = ("trace", "reverse", "rewrite", "sympy regions", "schedule", "render and load", "run")


def sin_tanh_chain(steps: int):
    """The benchmark chain of ``steps`` sin/tanh steps, reduced to a scalar."""

    def chain(x):
        for _ in range(steps):
            x = symgrad.sin(x) * 1.01 + 0.1 * x
            x = symgrad.tanh(x)
        return x.sum()

    return chain


def compile_once(fn, args, argnums, backend="numpy") -> dict:
    """Wall and CPU seconds of one first call, the phases, and the traced op count."""
    value_and_grad = symgrad.value_and_grad(fn, argnums=argnums, backend=backend)
    wall, cpu = time.perf_counter(), time.process_time()
    value_and_grad(*args)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    explanation = value_and_grad.explain(*args)
    phases = dict(explanation.phase_seconds)
    phases["rewrite"] = phases.get("rewrite", 0.0) + phases.pop("stabilize forward", 0.0)
    phases["run"] = wall - sum(phases.values())
    return {
        "wall": wall,
        "cpu": cpu,
        "ops": explanation.node_counts["traced"],
        "phases": phases,
    }


def median_of(runs: list[dict]) -> dict:
    return {
        "wall": statistics.median(r["wall"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "ops": runs[0]["ops"],
        "phases": {
            phase: statistics.median(r["phases"].get(phase, 0.0) for r in runs) for phase in PHASES
        },
    }


def print_header() -> None:
    phase_titles = "".join(f"{phase.split()[0][:9]:>10}" for phase in PHASES)
    header = f"{'workload':<24}{'ops':>8}{'wall s':>10}{'cpu s':>10}{'us/op':>9}{phase_titles}"
    print(header)
    print("-" * len(header))


def print_row(name: str, result: dict) -> None:
    phases = "".join(f"{result['phases'][phase]:>10.3f}" for phase in PHASES)
    per_op = result["wall"] / result["ops"] * 1e6
    print(
        f"{name:<24}{result['ops']:>8}{result['wall']:>10.3f}{result['cpu']:>10.3f}"
        f"{per_op:>9.1f}{phases}",
        flush=True,
    )


def start_numba() -> None:
    """Import Numba and compile a one-line kernel (its start-up), each timed and printed."""
    start = time.perf_counter()
    import numba

    imported = time.perf_counter() - start
    start = time.perf_counter()
    numba.njit(lambda x: np.sin(x) * 2.0)(np.ones(1))
    started = time.perf_counter() - start
    print(f"import numba {imported:.3f} s, Numba's start-up (a one-line kernel) {started:.3f} s\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="compiles per median")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100, 300, 1000, 3000, 10000], help="chain steps"
    )
    parser.add_argument("--without-sympy", action="store_true", help="skip the SymPy cluster phase")
    parser.add_argument("--backend", default="numpy", help="numpy or numba")
    parser.add_argument("--all-workloads", action="store_true", help="every benchmark workload")
    options = parser.parse_args()
    if options.without_sympy:
        simplify.simplify = lambda roots, builder, hits: roots
    print(
        f"symgrad {symgrad.__version__}, numpy {np.__version__}; first-call compile of "
        f"value_and_grad, medians of {options.repeats} repeats"
        + (" (SymPy cluster phase skipped)" if options.without_sympy else "")
        + "; phase columns in seconds\n"
    )
    if options.backend == "numba":
        start_numba()
    print_header()
    x = np.linspace(-1.0, 1.0, 16)
    chain_medians = {}
    for steps in options.sizes:
        runs = [
            compile_once(sin_tanh_chain(steps), (x,), 0, options.backend)
            for _ in range(options.repeats)
        ]
        chain_medians[steps] = median_of(runs)
        print_row(f"sin/tanh chain {steps}", chain_medians[steps])
    for workload in WORKLOADS if options.all_workloads else (WORKLOADS[2], WORKLOADS[3]):
        args = workload.make_args()
        runs = [
            compile_once(workload.loss, args, workload.argnums, options.backend)
            for _ in range(options.repeats)
        ]
        print_row(workload.name, median_of(runs))
    if 1000 in chain_medians and 10000 in chain_medians:
        small, large = chain_medians[1000], chain_medians[10000]
        print(
            f"\n10,000 / 1,000 steps: {large['wall'] / small['wall']:.1f}x wall, "
            f"{large['cpu'] / small['cpu']:.1f}x cpu (target: at most 12x)"
        )


if __name__ == "__main__":
    main()
