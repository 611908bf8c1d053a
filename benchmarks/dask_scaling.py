"""Time per gradient step of logistic regression: numpy in memory vs Dask with 1 and 2 workers.

Run: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/dask_scaling.py [--repeats 5]

One step is ``value_and_grad(loss)(w, X, y)`` plus fetching its result: the numpy backend on
arrays in this process, and ``backend="array_api"`` on Dask arrays persisted in the workers'
memory of a ``distributed.LocalCluster`` (worker processes, one thread each), computed with
``client.compute``. Prints the median milliseconds per step over ``--repeats`` steps and the
Dask graph's task count (as built / after ``dask.optimize`` fuses blockwise tasks), for a few
data sizes and chunk sizes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dask  # noqa: E402
import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster, wait  # noqa: E402

import symgrad  # noqa: E402
import symgrad.nn.functional as F  # noqa: E402

FEATURES = 32


def loss(w, X, y):
    return F.binary_cross_entropy_with_logits(X @ w, y)


def data(rows: int):
    """Features and labels in this process (the numpy baseline)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, FEATURES), dtype=np.float32)
    return X, labels(X)


def labels(X):
    return (X @ np.linspace(-1, 1, FEATURES, dtype=np.float32) > 0).astype(np.float32)


def dask_data(client, rows: int, chunk_rows: int):
    """Features and labels drawn on the workers and kept in their memory."""
    X = da.random.default_rng(0).standard_normal((rows, FEATURES), chunks=(chunk_rows, FEATURES))
    X = X.astype(np.float32)
    X, y = client.persist([X, labels(X)])
    wait([X, y])
    return X, y


def median_ms(step, repeats: int) -> float:
    step()  # compile, warm caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def numpy_step_ms(rows: int, repeats: int) -> float:
    X, y = data(rows)
    step = symgrad.value_and_grad(loss)
    w = np.zeros(FEATURES, dtype=np.float32)
    return median_ms(lambda: step(w, X, y), repeats)


def dask_step_ms(client, rows: int, chunk_rows: int, repeats: int) -> tuple[float, int, int]:
    X, y = dask_data(client, rows, chunk_rows)
    step = symgrad.value_and_grad(loss, backend="array_api")
    w = np.zeros(FEATURES, dtype=np.float32)

    def run():
        client.compute(list(step(w, X, y)), sync=True)

    value, grad = step(w, X, y)
    tasks = len({key for a in (value, grad) for key in a.__dask_graph__()})
    fused = len({key for a in dask.optimize(value, grad) for key in dict(a.__dask_graph__())})
    return median_ms(run, repeats), tasks, fused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 4_000_000])
    parser.add_argument("--chunk-rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    cases = [(r, c) for r in args.rows for c in args.chunk_rows if c <= r]
    numpy_ms = {rows: numpy_step_ms(rows, args.repeats) for rows in args.rows}
    results = {case: {} for case in cases}
    for workers in (1, 2):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            for rows, chunk_rows in cases:
                ms, tasks, fused = dask_step_ms(client, rows, chunk_rows, args.repeats)
                results[rows, chunk_rows][workers] = ms
                results[rows, chunk_rows]["tasks"] = f"{tasks}/{fused}"
    print(
        f"{'rows':>10} {'MiB':>6} {'chunk rows':>10} {'chunks':>6} {'tasks':>9} "
        f"{'numpy ms':>9} {'dask 1w ms':>10} {'dask 2w ms':>10}"
    )
    for rows, chunk_rows in cases:
        r = results[rows, chunk_rows]
        print(
            f"{rows:>10,} {rows * FEATURES * 4 / 2**20:>6.0f} {chunk_rows:>10,} "
            f"{-(-rows // chunk_rows):>6} {r['tasks']:>9} {numpy_ms[rows]:>9.1f} "
            f"{r[1]:>10.1f} {r[2]:>10.1f}"
        )


if __name__ == "__main__":
    main()
