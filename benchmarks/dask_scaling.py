"""Time per gradient step of logistic regression: numpy in memory vs Dask with 1 and 2 workers.

Run: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/dask_scaling.py [--repeats 5]

One step is ``value_and_grad(loss)(w, X, y)`` plus fetching its result: the numpy backend on
arrays in this process, and ``backend="array_api"`` on Dask arrays persisted in the workers'
memory of a ``distributed.LocalCluster`` (worker processes, one thread each), computed with
``client.compute``. Prints the median milliseconds per step over ``--repeats`` steps, and the
Dask graph's task count, for a few data sizes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster, wait  # noqa: E402

import symgrad  # noqa: E402
import symgrad.nn.functional as F  # noqa: E402

FEATURES = 32
CHUNK_ROWS = 100_000


def loss(w, X, y):
    return F.binary_cross_entropy_with_logits(X @ w, y)


def data(rows: int):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, FEATURES), dtype=np.float32)
    y = (X @ np.linspace(-1, 1, FEATURES, dtype=np.float32) > 0).astype(np.float32)
    return X, y


def median_ms(step, repeats: int) -> float:
    step()  # compile, warm caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def numpy_step_ms(X, y, repeats: int) -> float:
    step = symgrad.value_and_grad(loss)
    w = np.zeros(FEATURES, dtype=np.float32)
    return median_ms(lambda: step(w, X, y), repeats)


def dask_step_ms(client, X, y, repeats: int) -> tuple[float, int]:
    dX = client.persist(da.from_array(X, chunks=(CHUNK_ROWS, FEATURES)))
    dy = client.persist(da.from_array(y, chunks=CHUNK_ROWS))
    wait([dX, dy])
    step = symgrad.value_and_grad(loss, backend="array_api")
    w = np.zeros(FEATURES, dtype=np.float32)

    def run():
        client.compute(list(step(w, dX, dy)), sync=True)

    value, grad = step(w, dX, dy)
    tasks = len({key for a in (value, grad) for key in a.__dask_graph__()})
    return median_ms(run, repeats), tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 4_000_000])
    args = parser.parse_args()
    datasets = {rows: data(rows) for rows in args.rows}
    results = {rows: {"numpy": numpy_step_ms(*datasets[rows], args.repeats)} for rows in args.rows}
    for workers in (1, 2):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            for rows in args.rows:
                ms, tasks = dask_step_ms(client, *datasets[rows], args.repeats)
                results[rows][f"dask x{workers}"] = ms
                results[rows]["tasks"] = tasks
    print(
        f"{'rows':>10} {'MiB':>6} {'chunks':>6} {'tasks':>6} "
        f"{'numpy ms':>9} {'dask 1w ms':>10} {'dask 2w ms':>10}"
    )
    for rows in args.rows:
        r = results[rows]
        print(
            f"{rows:>10,} {rows * FEATURES * 4 / 2**20:>6.0f} {-(-rows // CHUNK_ROWS):>6} "
            f"{r['tasks']:>6} {r['numpy']:>9.1f} {r['dask x1']:>10.1f} {r['dask x2']:>10.1f}"
        )


if __name__ == "__main__":
    main()
