"""First call of each workload in a new process: cold (empty disk cache) and warm (the entry
written by the cold run), each in its own interpreter.

Run: python benchmarks/warm_start.py [--only NAME] [--backend numpy]

Per workload it prints, in milliseconds: ``import symgrad`` and (``--backend numba``) ``import
numba`` and Numba's own start-up ("numba init": the first call of a one-line cached
``@numba.njit`` kernel, which sets up Numba's compiler and typing tables; it is compiled in the
cold process and loaded from Numba's cache in the warm one, as any Numba program's first
call), all done before the first call and not counted in it; then the first
``value_and_grad`` call minus the fastest of the next three (trace + compile, or trace + disk
load), cold and warm. The cache is a fresh private directory per workload
(``SYMGRAD_CACHE_DIR``), removed at the end, so the user's cache is never read or written.
The targets (issue 10): cold under 1 s, warm under 50 ms beyond Numba's import and init.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = """
import json, sys, time
start = time.perf_counter()
import symgrad
imported = time.perf_counter() - start
sys.path.insert(0, {here!r})
from workloads import WORKLOADS
workload = [w for w in WORKLOADS if w.name == {name!r}][0]
args = workload.make_args()
options = {{}} if {backend!r} == "numpy" else {{"backend": {backend!r}}}
backend_import = backend_init = 0.0
if {backend!r} == "numba":  # timed apart: the target is 50 ms plus Numba's import
    start = time.perf_counter()
    import numba
    backend_import = time.perf_counter() - start
    sys.path.insert(0, {folder!r})
    start = time.perf_counter()
    import numba_start
    numba_start.one(numba_start.np.ones(1))
    backend_init = time.perf_counter() - start
value_and_grad = symgrad.value_and_grad(workload.loss, argnums=workload.argnums, **options)
start = time.perf_counter(); value_and_grad(*args); first = time.perf_counter() - start
later = []
for _ in range(3):
    start = time.perf_counter(); value_and_grad(*args); later.append(time.perf_counter() - start)
second = min(later)
program = value_and_grad._compiled._entries[-1].program
result = {{"import": imported, "backend_import": backend_import, "first": first - second}}
result["backend_init"] = backend_init
print(json.dumps({{**result, "from_disk": program.from_disk}}))
"""


# Numba's start-up, timed apart: a one-line cached kernel in the benchmark's cache folder.
NUMBA_START = """import numba
import numpy as np


@numba.njit(cache=True)
def one(x):
    x[0] = np.sin(x[0]) * np.float64(2)
"""


def first_call(name: str, folder: str, backend: str) -> dict:
    env = dict(os.environ, SYMGRAD_CACHE="1", SYMGRAD_CACHE_DIR=folder)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [os.path.dirname(HERE), env.get("PYTHONPATH")])
    )
    start_folder = os.path.join(folder, "numba-start")
    os.makedirs(start_folder, exist_ok=True)
    with open(os.path.join(start_folder, "numba_start.py"), "w", encoding="utf-8") as f:
        f.write(NUMBA_START)
    code = CHILD.format(here=HERE, name=name, backend=backend, folder=start_folder)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the workloads whose name has this")
    parser.add_argument("--backend", default="numpy")
    options = parser.parse_args()
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.dirname(HERE))
    from workloads import WORKLOADS

    header = (
        f"{'workload':<22}{'import ms':>11}{'backend import':>16}{'init cold/warm':>16}"
        f"{'cold ms':>10}{'warm ms':>10}  warm from disk"
    )
    print(f"first call in a new process, backend={options.backend}\n{header}\n{'-' * len(header)}")
    for workload in WORKLOADS:
        if options.only not in workload.name:
            continue
        folder = tempfile.mkdtemp(prefix="symgrad-bench-cache-")
        try:
            cold = first_call(workload.name, folder, options.backend)
            warm = first_call(workload.name, folder, options.backend)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print(
            f"{workload.name:<22}{warm['import'] * 1e3:>11.0f}"
            f"{warm['backend_import'] * 1e3:>16.0f}"
            f"{cold['backend_init'] * 1e3:>10.0f} /{warm['backend_init'] * 1e3:>4.0f}"
            f"{cold['first'] * 1e3:>10.1f}"
            f"{warm['first'] * 1e3:>10.1f}  {warm['from_disk']}"
        )


if __name__ == "__main__":
    main()
