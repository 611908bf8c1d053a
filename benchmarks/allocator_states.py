"""Benchmarks in both states of glibc's allocator, each in a fresh process.

Run: python benchmarks/allocator_states.py [--repeats 9] [--numba] [--only NAME]

The same numpy code runs at very different speeds depending on whether the memory of large
temporaries stays in the process between calls or goes back to the system (and page-faults
in again on the next call): glibc decides that by its mmap threshold, which by default rises
with the sizes the process has freed (``default``), and which ``MALLOC_MMAP_THRESHOLD_`` fixes
(``fixed``: that also leaves the heap trimmed above 128 KiB, so freed temporaries go back).
Each state runs ``run.py``'s measurement (interleaved medians, ratios against hand-written
numpy in the same process) of the workloads the workspace is for, in its own subprocess.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ("logistic 1000x100", "MLP 784-256-10 b128", "mix 1e6", "rosenbrock n=1e5")
STATES = {
    "default": ("glibc default: dynamic mmap threshold", {}),
    "fixed": (
        "MALLOC_MMAP_THRESHOLD_=67108864: fixed threshold, heap trimmed",
        {"MALLOC_MMAP_THRESHOLD_": "67108864"},
    ),
}
CHILD = """
import sys
sys.path.insert(0, {here!r})
import allocator_states
allocator_states.measure_here({names!r}, {repeats}, {numba})
"""


def page_faults(call, calls: int = 20) -> float:
    """Minor page faults per call, after two warm-up calls: memory the allocator had given
    back to the system and takes again (a count, steady under machine load)."""
    call()
    call()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        call()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def measure_here(names: list[str], repeats: int, numba: bool) -> None:
    """In the measuring process: per workload, one JSON line of ``run.measure``'s seconds
    and the page faults per call of hand-written numpy, value_and_grad (and numba)."""
    # imported here: the parent process only starts the measuring ones
    import run
    import workloads

    import symgrad

    for workload in workloads.WORKLOADS:
        if workload.name not in names:
            continue
        times = run.measure(workload, repeats, numba)
        args = workload.make_args()
        functions = [
            workload.numpy_value_and_grad,
            symgrad.value_and_grad(workload.loss, argnums=workload.argnums),
        ]
        if numba:
            functions.append(
                symgrad.value_and_grad(workload.loss, argnums=workload.argnums, backend="numba")
            )
        faults = [page_faults(functools.partial(function, *args)) for function in functions]
        print(json.dumps([workload.name, times, faults]), flush=True)


def measure_state(
    env_extra: dict, names: list[str], repeats: int, numba: bool, blas_threads: int = 0
) -> list:
    """``[(workload name, [numpy, compiled, fwd+.backward, eager, (numba)] seconds, page
    faults per call [numpy, compiled, (numba)])]``
    measured in a fresh interpreter with the allocator environment ``env_extra`` (and
    ``blas_threads`` BLAS threads when not 0)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(env_extra)
    if blas_threads:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(blas_threads)
    env.setdefault("SYMGRAD_CACHE", "0")
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(HERE)] + [p for p in [env.get("PYTHONPATH")] if p]
    )
    code = CHILD.format(here=HERE, names=names, repeats=repeats, numba=numba)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("[")]


def report(title: str, rows: list, numba: bool) -> None:
    print(f"\n{title}")
    header = f"{'workload':<22}{'numpy us':>11}{'compiled':>11}{'ratio':>7}{'fwd+.backward':>15}"
    header += f"{'ratio':>7}" + (f"{'numba':>11}{'ratio':>7}" if numba else "")
    header += "  page faults/call: numpy, compiled" + (", numba" if numba else "")
    print(header)
    print("-" * len(header))
    for name, (numpy_time, compiled, backward, _eager, *looped), faults in rows:
        line = (
            f"{name:<22}{numpy_time * 1e6:>11.1f}{compiled * 1e6:>11.1f}"
            f"{compiled / numpy_time:>7.2f}{backward * 1e6:>15.1f}{backward / numpy_time:>7.2f}"
        )
        if looped:
            line += f"{looped[0] * 1e6:>11.1f}{looped[0] / numpy_time:>7.2f}"
        print(line + "  " + ", ".join(f"{f:.0f}" for f in faults))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="repeats per median (>= 7)")
    parser.add_argument("--only", default="", help="the workloads whose name has this")
    parser.add_argument("--numba", action="store_true", help='add backend="numba"')
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=0,
        help="BLAS threads in the measuring processes (0: the library's default); on a "
        "loaded machine 1 keeps the matmul workloads' medians steady",
    )
    options = parser.parse_args()
    names = [name for name in WORKLOADS if options.only in name]
    print(
        "median us per value+gradient call; ratios against hand-written numpy in the same "
        "process (fwd+.backward: compiled forward and Tensor.backward())"
    )
    for title, env_extra in STATES.values():
        rows = measure_state(env_extra, names, options.repeats, options.numba, options.blas_threads)
        report(title, rows, options.numba)


if __name__ == "__main__":
    main()
