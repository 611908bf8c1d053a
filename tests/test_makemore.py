"""Karpathy's makemore lectures 1-4 and micrograd's tests, run with ``import symgrad as torch``
(``data/makemore.py``): they print PyTorch's numbers (``data/makemore.json``, recorded from
torch 2.13.0), to float32 rounding carried along the training steps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from data.makemore import PROGRAMS

import symgrad

DATA = Path(__file__).with_name("data")


TORCH = json.loads((DATA / "makemore.json").read_text())


@pytest.mark.parametrize("name", sorted(set(PROGRAMS) - {"backprop_ninja"}))
def test_prints_pytorchs_numbers(name):
    np.testing.assert_allclose(PROGRAMS[name](symgrad), TORCH[name], rtol=1e-4, atol=1e-6)


def test_backprop_ninja_every_manual_gradient_matches_autograd():
    loss, *checks = PROGRAMS["backprop_ninja"](symgrad)
    assert loss == pytest.approx(TORCH["backprop_ninja"][0], rel=1e-5)
    matches, differences = checks[::2], checks[1::2]
    assert len(matches) == 26
    assert all(match is True for match in matches)
    assert max(differences) < 1e-6


def test_every_program_has_a_recording():
    assert sorted(TORCH) == sorted(PROGRAMS)
