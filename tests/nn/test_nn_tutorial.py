"""The nn examples of PyTorch's "Learning PyTorch with Examples", run with symgrad in place of
torch: the same program text (``tests/data/make_nn_tutorial_trajectories.py``) must give
PyTorch's loss trajectory and final parameters, recorded in ``nn_tutorial_trajectories.json``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import symgrad

DATA = Path(__file__).resolve().parents[1] / "data"


def _programs():
    path = DATA / "make_nn_tutorial_trajectories.py"
    spec = importlib.util.spec_from_file_location("make_nn_tutorial_trajectories", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PROGRAMS = _programs().PROGRAMS
EXPECTED = json.loads((DATA / "nn_tutorial_trajectories.json").read_text())


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_follows_torchs_trajectory(name):
    losses, parameters = PROGRAMS[name](symgrad)
    expected = EXPECTED[name]
    # float32 sums in a different order: agreement to a few ulps per step, over 2000 steps
    np.testing.assert_allclose(losses, expected["losses"], rtol=5e-5)
    for ours, theirs in zip(parameters, expected["parameters"], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=5e-5, atol=1e-6)
    assert losses[-1] < losses[0] / 10


def test_polynomial_module_prints_its_formula():
    model = _programs()._polynomial3_class(symgrad)()
    assert model.string() == "y = 0.0 + 0.0 x + 0.0 x^2 + 0.0 x^3"
    assert [name for name, _ in model.named_parameters()] == ["a", "b", "c", "d"]
