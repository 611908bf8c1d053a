"""The PyTorch oracle: where it runs (this interpreter when it has torch, as CI installs the
local torch 2.13.0 CPU wheel; else the interpreter named by SYMGRAD_TORCH_PYTHON; else
nowhere), and what it compares for an op-table case: outputs, dtypes, grad_fn names, a VJP
and a second-order VJP, run through symgrad and through torch."""

import importlib.util
import os
import sys

import numpy as np


def torch_python() -> str | None:
    if importlib.util.find_spec("torch") is not None:
        return sys.executable
    candidate = os.environ.get("SYMGRAD_TORCH_PYTHON")
    return candidate if candidate and os.path.exists(candidate) else None


TORCH_PYTHON = torch_python()


def outputs_of(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def run_case(library, case, inputs, seed: int = 1) -> dict:
    """The case's outputs, their dtypes and grad_fn names, a VJP and a second order VJP."""
    tensors = [
        library.tensor(v, requires_grad=v.dtype.kind == "f") if isinstance(v, np.ndarray) else v
        for v in inputs
    ]
    fn = case.fn if library.__name__ == "symgrad" else (lambda *xs: case.torch_fn(library, *xs))
    outputs = outputs_of(fn(*tensors))
    report = {
        "values": [o.detach().numpy(force=True) for o in outputs],
        "dtypes": [str(o.dtype).split(".")[-1] for o in outputs],
        "grad_fns": [
            None if o.grad_fn is None else o.grad_fn.name().split("::")[-1] for o in outputs
        ],
        "grads": [],
        "grads2": [],
    }
    leaves = [x for x in tensors if getattr(x, "requires_grad", False)]
    rng = np.random.default_rng(seed)
    pairs = [(o, rng.standard_normal(tuple(o.shape))) for o in outputs if o.requires_grad]
    if not leaves or not pairs:
        return report
    grads = library.autograd.grad(
        [o for o, _ in pairs],
        leaves,
        [library.tensor(c, dtype=o.dtype) for o, c in pairs],
        create_graph=True,
        allow_unused=True,
    )
    report["grads"] = [None if g is None else g.detach().numpy(force=True) for g in grads]
    terms = [
        (g * library.tensor(rng.standard_normal(tuple(g.shape)), dtype=g.dtype)).sum()
        for g in grads
        if g is not None and g.requires_grad
    ]
    if terms:
        second = library.autograd.grad([sum(terms[1:], terms[0])], leaves, allow_unused=True)
        report["grads2"] = [None if g is None else g.detach().numpy(force=True) for g in second]
    return report


def compare(name, ours, theirs) -> list[str]:
    problems = []
    for key in ("dtypes", "grad_fns"):
        if ours[key] != theirs[key]:
            problems.append(f"{name}: {key} {ours[key]} != torch {theirs[key]}")
    for key in ("grads", "grads2"):
        # A gradient that does not depend on the inputs has no second order graph: all None.
        ours[key] = ours[key] or [None] * len(theirs[key])
        theirs[key] = theirs[key] or [None] * len(ours[key])
    for key in ("values", "grads", "grads2"):
        if len(ours[key]) != len(theirs[key]):
            problems.append(f"{name}: {len(ours[key])} {key} != torch {len(theirs[key])}")
            continue
        for a, b in zip(ours[key], theirs[key], strict=True):
            a = np.zeros(np.shape(b)) if a is None else a
            b = np.zeros(np.shape(a)) if b is None else b
            if np.shape(a) != np.shape(b) or not np.allclose(
                a.astype(np.float64), b.astype(np.float64), rtol=1e-6, atol=1e-9, equal_nan=True
            ):
                problems.append(f"{name}: {key} differ:\n{a}\ntorch:\n{b}")
    return problems
