"""Measure the per-element cost of each transcendental op in a Numba loop and as numpy's ufunc.

Run: python benchmarks/loop_costs.py [--write]

For each op with ``OpDef.scalar_libm`` and each float dtype: the nanoseconds per element that
the op's scalar spelling adds to a compiled loop (scalar libm: the llvmlite wheels have no
SVML), and numpy's pass over an array (SIMD for most) as nanoseconds per element plus a fixed
cost per call. ``symgrad/compiler/loop_costs.py`` holds the table the numba backend's cost
model reads; ``--write`` regenerates it from this machine's numbers.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numba
import numpy as np

from symgrad.ops.registry import REGISTRY
from symgrad.ops.scalar import SCALAR

ATTRS = {
    "elu": {"alpha": 1.0},
    "softplus": {"beta": 1.0, "threshold": 20.0},
    "gelu": {"approximate": "none"},
}
# operands in each op's domain (acosh needs x >= 1); a second operand where the op has one
SECOND = {"pow": 1.5, "pow_tensor": None, "atan2": None, "hypot": None, "logaddexp": None}
# where the ops are defined (the rest: -2..2, both branches of the activations)
POSITIVE = ("log", "log2", "log10", "log1p", "pow", "pow_tensor", "sqrt")
DOMAIN = {name: (0.1, 2.0) for name in POSITIVE}
DOMAIN.update(asin=(-0.9, 0.9), acos=(-0.9, 0.9), atanh=(-0.9, 0.9), acosh=(1.1, 3.0))
LARGE, SMALL = 16384, 16
TABLE = Path(__file__).resolve().parents[1] / "symgrad" / "compiler" / "loop_costs.py"


def _best(call, inner: int, rounds: int = 15) -> float:
    """Seconds per call: the best of ``rounds`` means of ``inner`` calls."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(inner):
            call()
        best = min(best, (time.perf_counter() - start) / inner)
    return best


def _operands(name: str, dtype, n: int):
    rng = np.random.default_rng(0)
    low, high = DOMAIN.get(name, (-2.0, 2.0))
    x = rng.uniform(low, high, n).astype(dtype)
    if name not in SECOND:
        return [x]
    y = rng.uniform(0.1, 0.9, n).astype(dtype)
    return [x, dtype(SECOND[name])] if SECOND[name] is not None else [x, y]


def _loop(name: str, dtype, arrays: int):
    """A compiled loop computing the op's scalar spelling, and the same loop copying ``x``."""
    spelling = SCALAR[name][0]
    c = f"np.{np.dtype(dtype).name}"
    operands = ["x[i]", "y[i]" if arrays == 2 else f"{c}({SECOND.get(name)})"]
    if callable(spelling):
        text = spelling(operands, c, **ATTRS.get(name, {}))
    else:
        text = spelling.format(*operands, c=c, **ATTRS.get(name, {}))
    source = (
        "def op(x, y, out):\n"
        "    for i in range(x.shape[0]):\n"
        f"        out[i] = {text}\n"
        "def copy(x, y, out):\n"
        "    for i in range(x.shape[0]):\n"
        "        out[i] = x[i] + y[i]\n"
    )
    namespace = {"np": np, "math": __import__("math")}
    exec(source, namespace)  # noqa: S102 - the spellings of this package, measured
    jit = numba.njit(error_model="numpy")
    return jit(namespace["op"]), jit(namespace["copy"])


def measure(name: str, dtype) -> dict[str, float]:
    op = REGISTRY[name]
    large = _operands(name, dtype, LARGE)
    small = _operands(name, dtype, SMALL)
    arrays = sum(isinstance(a, np.ndarray) for a in large)
    loop, copy = _loop(name, dtype, arrays)
    out = np.empty(LARGE, dtype)
    y = large[1] if arrays == 2 else large[0]
    loop(large[0], y, out), copy(large[0], y, out)
    loop_ns = _best(lambda: loop(large[0], y, out), 20) - _best(lambda: copy(large[0], y, out), 20)
    attrs = ATTRS.get(name, {})

    def numpy_call(operands):
        return lambda: op.eval(*operands, **attrs)

    t_large = _best(numpy_call(large), 20)
    t_small = _best(numpy_call(small), 2000)
    per = (t_large - t_small) / (LARGE - SMALL)
    return {
        "loop_ns": round(max(loop_ns / LARGE * 1e9, 0.05), 2),
        "numpy_ns": round(max(per * 1e9, 0.05), 2),
        "numpy_call_ns": round(max(t_small - per * SMALL, 0.0) * 1e9),
    }


def _split_ns() -> int:
    """What taking an op out of a loop costs besides the op: one more kernel call (Numba's
    dispatch of five array arguments) and one more array (``np.empty``)."""

    @numba.njit
    def kernel(a, b, c, d, e):
        for i in range(a.shape[0]):
            d[i] = a[i] + b[i] * c[0] + e[0]

    a = np.ones(16, np.float32)
    b, c, d, e = a.copy(), a[:1].copy(), a.copy(), a[:1].copy()
    kernel(a, b, c, d, e)
    call = _best(lambda: kernel(a, b, c, d, e), 2000)
    allocate = _best(lambda: np.empty(1000, np.float32), 2000)
    return round((call + allocate) * 1e9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"regenerate {TABLE.name}")
    options = parser.parse_args()
    table = {}
    for name, (_, libm) in SCALAR.items():
        if not libm:
            continue
        for dtype in (np.float32, np.float64):
            costs = measure(name, dtype)
            table[(name, np.dtype(dtype).name)] = costs
            print(f"{name:12} {np.dtype(dtype).name:8} {costs}", flush=True)
    table["kernel call"] = {"loop_ns": 0.0, "numpy_ns": 0.0, "numpy_call_ns": _split_ns()}
    if options.write:
        text = TABLE.read_text()
        head = text.split("COSTS = ")[0]
        TABLE.write_text(head + "COSTS = {\n" + "".join(map(_entry, table.items())) + "}\n")


def _entry(item) -> str:
    """One line of the table, as ``ruff format`` writes it."""
    key, costs = item
    name = json.dumps(key) if isinstance(key, str) else "(" + ", ".join(map(json.dumps, key)) + ")"
    values = ", ".join(f"{json.dumps(k)}: {v!r}" for k, v in sorted(costs.items()))
    return f"    {name}: {{{values}}},\n"


if __name__ == "__main__":
    main()
