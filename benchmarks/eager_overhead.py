"""Eager per-op overhead: symgrad against torch eager (when installed) and hand-written numpy.

Run: python benchmarks/eager_overhead.py [--repeats 7]

Small inputs, so that the time is the framework's, not the arithmetic's. Each row is the
median over ``--repeats`` batches of the time per call, in microseconds, and the same per op
(forward op or backward node) where the workload has several:

- ``add`` / ``mul`` / ``sum``: one op on 2x2 float32 tensors that require grad (records a node);
- ``10-op graph backward``: ``backward()`` of a prebuilt 10-op graph (retain_graph), per node;
- ``tutorial 2x2 fwd+bwd``: ``y = x + 2; z = y * y * 3; z.mean().backward()`` (4 ops, 4 nodes);
- ``200-step chain fwd+bwd``: 200 alternating elementwise ops on 16 elements, then backward.

numpy columns are the same arithmetic written by hand (forward and the backward formulas).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import symgrad  # noqa: E402

try:
    import torch
except ImportError:  # the torch column is optional
    torch = None


def median_us(calls: dict, repeats: int, budget: float = 0.05) -> dict:
    """Median microseconds per call of each of ``calls`` over ``repeats`` batches, each batch
    sized to ``budget`` seconds.

    The clock is this process's CPU time, not wall time, and the columns' batches alternate
    (one batch of each per repeat): on a shared machine a busy spell then slows every column
    alike instead of whichever was being measured, so the ratios hold better than the times.
    """
    clock = time.process_time
    numbers = {}
    for name, call in calls.items():
        call()
        start = clock()
        for _ in range(10):
            call()
        numbers[name] = max(10, int(budget / max((clock() - start) / 10, 1e-7)))
    samples: dict = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            number = numbers[name]
            start = clock()
            for _ in range(number):
                call()
            samples[name].append((clock() - start) / number)
    return {name: statistics.median(times) * 1e6 for name, times in samples.items()}


# ------------------------------------------------------------------------------ workloads
# Each workload builds its inputs with ``lib`` (symgrad or torch) and returns a callable.
def single_op(lib, op):
    a = lib.ones(2, 2, requires_grad=True)
    b = lib.full((2, 2), 2.0, requires_grad=True)
    if op == "add":
        return lambda: a + b
    if op == "mul":
        return lambda: a * b
    return lambda: a.sum()


def graph_backward(lib):
    x = lib.full((2, 2), 0.5, requires_grad=True)
    y = x
    for i in range(10):
        y = y * x if i % 2 else y + x
    out = y.sum()
    return lambda: out.backward(retain_graph=True)


def tutorial(lib):
    x = lib.ones(2, 2, requires_grad=True)

    def run():
        y = x + 2
        z = y * y * 3
        z.mean().backward()

    return run


def chain(lib):
    x = lib.full((16,), 0.5, requires_grad=True)

    def run():
        y = x
        for i in range(100):
            y = y * 1.01
            y = y + x if i % 2 else y - 0.01
        y.sum().backward()

    return run


def numpy_single(op):
    a = np.ones((2, 2), np.float32)
    b = np.full((2, 2), 2.0, np.float32)
    if op == "add":
        return lambda: a + b
    if op == "mul":
        return lambda: a * b
    return lambda: a.sum()


def numpy_graph_backward():
    x = np.full((2, 2), 0.5, np.float32)

    def run():
        # d/dx of the 10-op graph, walking the saved forward values back
        values = [x]
        y = x
        for i in range(10):
            y = y * x if i % 2 else y + x
            values.append(y)
        g = np.ones_like(x)
        gx = np.zeros_like(x)
        for i in reversed(range(10)):
            if i % 2:
                gx = gx + g * values[i]
                g = g * x
            else:
                gx = gx + g
        return gx + g

    return run


def numpy_tutorial():
    x = np.ones((2, 2), np.float32)

    def run():
        y = x + 2
        z = y * y * 3
        z.mean()
        g = np.full_like(z, 1 / z.size)
        return g * 3 * 2 * y

    return run


def numpy_chain():
    x = np.full((16,), 0.5, np.float32)

    def run():
        y = x
        for i in range(100):
            y = y * 1.01
            y = y + x if i % 2 else y - 0.01
        y.sum()
        g = np.ones_like(x)
        gx = np.zeros_like(x)
        for i in reversed(range(100)):
            if i % 2:
                gx = gx + g
            g = g * 1.01
        return gx + g

    return run


ROWS = [
    # (label, ops per call, symgrad/torch workload, numpy workload)
    ("add 2x2", 1, lambda lib: single_op(lib, "add"), lambda: numpy_single("add")),
    ("mul 2x2", 1, lambda lib: single_op(lib, "mul"), lambda: numpy_single("mul")),
    ("sum 2x2", 1, lambda lib: single_op(lib, "sum"), lambda: numpy_single("sum")),
    ("10-op graph backward", 11, graph_backward, numpy_graph_backward),
    ("tutorial 2x2 fwd+bwd", 8, tutorial, numpy_tutorial),
    ("200-step chain fwd+bwd", 402, chain, numpy_chain),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    options = parser.parse_args()
    columns = ["symgrad", "torch", "numpy"] if torch is not None else ["symgrad", "numpy"]
    print(f"symgrad {symgrad.__version__ if hasattr(symgrad, '__version__') else ''} | numpy "
          f"{np.__version__}" + (f" | torch {torch.__version__}" if torch else ""))  # fmt: skip
    print("median CPU us per call (per op or node in parentheses)")
    print(f"{'workload':<26}" + "".join(f"{c:>22}" for c in columns) + f"{'symgrad/torch':>15}")
    for label, ops, make, make_numpy in ROWS:
        calls = {"symgrad": make(symgrad)}
        if torch is not None:
            calls["torch"] = make(torch)
        calls["numpy"] = make_numpy()
        results = median_us(calls, options.repeats)
        cells = "".join(
            f"{results[c]:>12.1f} ({results[c] / ops:>6.2f})" if ops > 1 else f"{results[c]:>22.2f}"
            for c in columns
        )
        ratio = f"{results['symgrad'] / results['torch']:>15.2f}" if torch is not None else ""
        print(f"{label:<26}{cells}{ratio}")


if __name__ == "__main__":
    main()
