"""One training step of a small nn.Sequential MLP: symgrad eager, ``symgrad.compile(model)``,
and torch eager when it is installed.

Run: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/nn_training_step.py [--steps 50]

A step is zero_grad, forward, cross-entropy, backward and an SGD update of a 784-128-10 MLP on a
batch of 128. Prints the median milliseconds per step over ``--repeats`` runs of ``--steps``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import symgrad  # noqa: E402


def step_time(library, compiled: bool, steps: int, repeats: int) -> float:
    """Median milliseconds per training step."""
    library.manual_seed(0)
    nn = library.nn
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    run = library.compile(model) if compiled else model
    optimizer = library.optim.SGD(model.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    x = library.tensor(rng.standard_normal((128, 784)).astype(np.float32))
    y = library.tensor(rng.integers(0, 10, 128))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss_fn(run(x), y).backward()
        optimizer.step()

    for _ in range(3):  # compile, warm caches
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - start) / steps * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"symgrad eager            {step_time(symgrad, False, args.steps, args.repeats):7.2f} ms")
    print(f"symgrad.compile(model)   {step_time(symgrad, True, args.steps, args.repeats):7.2f} ms")
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(1)
        print(
            f"torch eager (1 thread)   {step_time(torch, False, args.steps, args.repeats):7.2f} ms"
        )


if __name__ == "__main__":
    main()
