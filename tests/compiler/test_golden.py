"""Golden tests: the generated source of a few functions is committed and must not drift.

Regenerate after an intended change with ``SYMGRAD_UPDATE_GOLDEN=1 python -m pytest
tests/compiler/test_golden.py`` and review the diff like any other code change.
"""

import os
import pathlib

import numpy as np
import pytest

GOLDEN = pathlib.Path(__file__).parent / "golden"
NAMES = ["logistic_regression", "mlp", "rosenbrock", "stable_mix"]


@pytest.mark.parametrize("name", NAMES)
def test_generated_source_matches_golden(name):
    from golden_functions import generated_source

    source = generated_source(name)
    path = GOLDEN / f"{name}.py"
    if os.environ.get("SYMGRAD_UPDATE_GOLDEN"):
        path.write_text(source)
    assert source == path.read_text()


@pytest.mark.parametrize("name", NAMES)
def test_golden_module_runs_with_numpy_only(name):
    from golden_functions import FUNCTIONS, arguments

    import symgrad

    namespace = {}
    path = GOLDEN / f"{name}.py"
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    fn, argnums = FUNCTIONS[name]
    args = arguments()[name]
    expected_value, expected_grads = symgrad.value_and_grad(fn, argnums=argnums)(*args)
    results = namespace["forward_backward"](*args)
    np.testing.assert_allclose(results[0], expected_value, rtol=1e-6)
    expected_grads = expected_grads if isinstance(expected_grads, tuple) else (expected_grads,)
    for got, expected in zip(results[1:], expected_grads, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
