"""Functions whose generated code is committed (tests/compiler/golden/) and compared.

Line numbers here appear in the generated comments: edit this file only at its end.
"""

import numpy as np

import symgrad
import symgrad.nn.functional as F


def logistic_regression(w, b, X, y):
    z = X @ w + b
    return F.binary_cross_entropy_with_logits(z, y)


def mlp(W1, b1, W2, b2, x, labels):
    hidden = (x @ W1 + b1).tanh()
    logits = hidden @ W2 + b2
    return F.cross_entropy(logits, labels)


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def stable_mix(x):
    return (x.tanh() * x.sin() * (-x * x).exp() + (1 + x * x).log()).sum()


def arguments():
    """Deterministic example arguments, float32, per function name."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    return {
        "logistic_regression": (
            rng.standard_normal(100).astype(f32),
            np.zeros((), f32),
            rng.standard_normal((1000, 100)).astype(f32),
            (rng.random(1000) < 0.5).astype(f32),
        ),
        "mlp": (
            rng.standard_normal((784, 256)).astype(f32) * f32(0.05),
            np.zeros(256, f32),
            rng.standard_normal((256, 10)).astype(f32) * f32(0.05),
            np.zeros(10, f32),
            rng.standard_normal((128, 784)).astype(f32),
            rng.integers(0, 10, 128),
        ),
        "rosenbrock": (rng.standard_normal(10).astype(f32),),
        "stable_mix": (rng.standard_normal(1000).astype(f32),),
    }


FUNCTIONS = {
    "logistic_regression": (logistic_regression, (0, 1)),
    "mlp": (mlp, (0, 1, 2, 3)),
    "rosenbrock": (rosenbrock, 0),
    "stable_mix": (stable_mix, 0),
}


def generated_source(name: str) -> str:
    fn, argnums = FUNCTIONS[name]
    return symgrad.value_and_grad(fn, argnums=argnums).source(*arguments()[name])
