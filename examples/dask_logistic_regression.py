"""Logistic regression on a Dask cluster: data-parallel gradients from symgrad's array_api code.

The data set is larger than one worker's memory limit and never exists anywhere whole: its row
chunks are generated on the workers when a step needs them. ``value_and_grad(...,
backend="array_api")`` returns lazy Dask results (the generated code calls only ``xp.*``, so
on Dask arrays it builds a task graph, per chunk of rows, instead of computing); one
``client.compute`` per step runs it on the cluster, and the small weight vector stays in
numpy on the client.

Run: python examples/dask_logistic_regression.py
Set SYMGRAD_DASK_SCHEDULER=tcp://host:8786 to use an existing cluster instead of a local one,
SYMGRAD_EXAMPLE_ROWS to change the data size (default 3,000,000 rows x 32 float32, 366 MiB).
"""

from __future__ import annotations

import importlib.util
import os

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import symgrad
import symgrad.nn.functional as F

ROWS = int(os.environ.get("SYMGRAD_EXAMPLE_ROWS", 3_000_000))
FEATURES = 32
CHUNK_ROWS = min(ROWS, 125_000)  # 16 MB chunks (drawn as 32 MB of float64)
WORKER_MEMORY = "300MiB"  # less than the data set: no single worker could hold it
STEPS = 5
LEARNING_RATE = 2.0


def loss(w, X, y):
    """Mean binary cross-entropy of the logits ``X @ w`` against labels ``y``."""
    return F.binary_cross_entropy_with_logits(X @ w, y)


def dataset(rows: int):
    """Lazy features and labels: chunks are drawn where (and when) a task needs them."""
    generator = da.random.default_rng(0)
    X = generator.standard_normal((rows, FEATURES), chunks=(CHUNK_ROWS, FEATURES))
    X = X.astype(np.float32)
    true_w = np.linspace(-1.0, 1.0, FEATURES, dtype=np.float32)
    noise = generator.standard_normal(rows, chunks=CHUNK_ROWS).astype(np.float32)
    y = ((X @ true_w + noise) > 0).astype(np.float32)
    return X, y


def connect() -> Client:
    """A client of ``SYMGRAD_DASK_SCHEDULER``, or of a new local cluster of two worker
    processes (closed with the client)."""
    address = os.environ.get("SYMGRAD_DASK_SCHEDULER")
    if address:
        return Client(address)
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, memory_limit=WORKER_MEMORY
    )
    return Client(cluster, set_as_default=True)


def main() -> None:
    with connect() as client:
        dashboard = client.dashboard_link
        if importlib.util.find_spec("bokeh") is None:
            dashboard += " (install bokeh to serve it)"
        print(f"dashboard: {dashboard}")
        X, y = dataset(ROWS)
        print(
            f"data: {ROWS:,} x {FEATURES} float32 = {X.nbytes / 2**20:,.0f} MiB in "
            f"{X.npartitions} chunks; worker memory limit {WORKER_MEMORY}"
        )
        step = symgrad.value_and_grad(loss, backend="array_api")
        w = np.zeros(FEATURES, dtype=np.float32)
        for k in range(STEPS):
            value, grad = step(w, X, y)  # lazy: a task graph, nothing computed yet
            value, grad = client.compute([value, grad], sync=True)
            print(f"step {k} loss {float(value):.6f}")
            w = w - LEARNING_RATE * np.asarray(grad)
        if client.cluster is not None:
            client.cluster.close()


if __name__ == "__main__":
    main()
