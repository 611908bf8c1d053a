"""Self-check mode (SYMGRAD_CHECK=1): generated code and eager run side by side, and the first
differing value names its node, op and the user's line."""

import numpy as np
import pytest

import symgrad
from symgrad.compiler.check import CheckError
from symgrad.ops.registry import REGISTRY

X = np.linspace(-1.0, 1.0, 16)
W = np.linspace(0.0, 2.0, 16)


def loss(x, w):
    y = (x * w).sin()
    z = y.exp() - x  # the line a wrong exp is reported at
    return (z * z).mean()


@pytest.fixture
def check_mode(monkeypatch):
    monkeypatch.setenv("SYMGRAD_CHECK", "1")


def test_correct_code_passes_and_matches_normal_mode(check_mode, monkeypatch):
    checked = symgrad.value_and_grad(loss, argnums=(0, 1))(X, W)
    monkeypatch.delenv("SYMGRAD_CHECK")
    normal = symgrad.value_and_grad(loss, argnums=(0, 1))(X, W)
    np.testing.assert_array_equal(checked[0], normal[0])
    for a, b in zip(checked[1], normal[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_wrong_spelling_is_reported_at_its_node_and_line(check_mode, monkeypatch):
    monkeypatch.setattr(REGISTRY["exp"], "spelling", "np.exp2({0})")
    with pytest.raises(CheckError) as caught:
        symgrad.value_and_grad(loss, argnums=(0, 1))(X, W)
    message = str(caught.value)
    assert "(exp)" in message
    assert f"{__file__}:{loss.__code__.co_firstlineno + 2}" in message
    assert "z = y.exp() - x  # the line a wrong exp is reported at" in message
    assert "compiled 0.9231912423490153 vs eager 0.891100060340593 at index (1,)" in message


def test_a_wrong_gradient_is_reported_as_a_gradient_line(check_mode, monkeypatch):
    monkeypatch.setattr(REGISTRY["cos"], "spelling", "np.sin({0})")
    with pytest.raises(CheckError, match=r"\(cos\) in forward_backward.*\(its gradient\)"):
        symgrad.value_and_grad(loss, argnums=(0, 1))(X, W)


def test_forward_and_backward_of_a_compiled_call_are_checked(check_mode, monkeypatch):
    monkeypatch.setattr(REGISTRY["cos"], "spelling", "np.sin({0})")
    compiled = symgrad.compile(loss)
    x = symgrad.tensor(X, requires_grad=True)
    out = compiled(x, symgrad.tensor(W))  # the forward has no cos: it passes
    with pytest.raises(CheckError, match=r"\(cos\) in backward"):
        out.backward()


def test_a_wrong_dtype_is_reported(check_mode, monkeypatch):
    monkeypatch.setattr(REGISTRY["sin"], "spelling", "np.sin({0}).astype(np.float32)")
    with pytest.raises(CheckError, match=r"\(sin\).*compiled float32\[16\] vs eager float64\[16\]"):
        symgrad.compile(loss)(X, W)


def test_mode_off_runs_unobserved_code(monkeypatch):
    monkeypatch.delenv("SYMGRAD_CHECK", raising=False)
    source = symgrad.compile(loss).source(X, W)
    assert "_observe" not in source
    monkeypatch.setattr(REGISTRY["exp"], "spelling", "np.exp2({0})")
    symgrad.compile(loss)(X, W)  # nothing checks: the wrong number goes through


def test_checked_source_observes_every_statement(check_mode):
    source = symgrad.compile(loss).source(X, W)
    statements = [line for line in source.splitlines() if " = " in line and "#" in line]
    observed = [line for line in source.splitlines() if "_observe(" in line]
    assert statements and len(observed) >= len(statements)
