"""PyTorch's "Learning PyTorch with Examples", run with ``import symgrad as torch``: every loss
the programs print equals PyTorch's (``data/learning_pytorch.json``, recorded by
``data/learning_pytorch.py`` from torch 2.13.0).

The losses are float32 sums of 2000 terms, and numpy and torch sum in different orders, so
they agree to float32 rounding, which gradient descent carries along the trajectory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from data.learning_pytorch import PROGRAMS

import symgrad

DATA = Path(__file__).with_name("data")


TORCH = json.loads((DATA / "learning_pytorch.json").read_text())


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_prints_pytorchs_losses(name):
    losses = PROGRAMS[name](symgrad)
    assert len(losses) == len(TORCH[name])
    np.testing.assert_allclose(losses, TORCH[name], rtol=2e-4, atol=1e-5)


def test_every_program_has_a_recording():
    assert sorted(TORCH) == sorted(PROGRAMS)
