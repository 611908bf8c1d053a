"""The array_api backend's code against the numpy backend's, both on numpy arrays.

Run: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/array_api_vs_numpy.py

``value_and_grad`` of an MLP with cross-entropy and of logistic regression; prints the best
microseconds per call over 7 repeats of 200 calls per backend, and the ratio.
"""

from __future__ import annotations

import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import symgrad  # noqa: E402
import symgrad.nn.functional as F  # noqa: E402


def mlp(W1, b1, W2, b2, X, y):
    return F.cross_entropy(symgrad.relu(X @ W1 + b1) @ W2 + b2, y)


def logistic(w, X, y):
    return F.binary_cross_entropy_with_logits(X @ w, y)


def workloads():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, 256)).astype(np.float32)
    params = [
        rng.standard_normal((256, 128)).astype(np.float32) * np.float32(0.1),
        np.zeros(128, np.float32),
        rng.standard_normal((128, 10)).astype(np.float32) * np.float32(0.1),
        np.zeros(10, np.float32),
    ]
    labels = (X[:, 0] > 0).astype(np.float32)
    return [
        ("MLP 512x256-128-10", mlp, (*params, X, rng.integers(0, 10, 512)), (0, 1, 2, 3)),
        ("logistic 512x256", logistic, (np.zeros(256, np.float32), X, labels), 0),
    ]


def best_us(step, args) -> float:
    step(*args)  # compile
    return min(timeit.repeat(lambda: step(*args), number=200, repeat=7)) / 200 * 1e6


def main() -> None:
    print(f"{'workload':<20} {'numpy us':>9} {'array_api us':>12} {'ratio':>6}")
    for name, fn, args, argnums in workloads():
        times = [
            best_us(symgrad.value_and_grad(fn, argnums=argnums, backend=backend), args)
            for backend in ("numpy", "array_api")
        ]
        print(f"{name:<20} {times[0]:>9.1f} {times[1]:>12.1f} {times[1] / times[0]:>6.2f}")


if __name__ == "__main__":
    main()
