"""nn.utils: gradient clipping against torch, and parameters <-> one vector."""

import numpy as np
import pytest
from extras import need

import symgrad
from symgrad import nn
from symgrad.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)


def _model_with_grads(lib, scale):
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(s), dtype=lib.float32) for s in [(3, 2), (4,)]]
    for p in params:
        p.requires_grad_(True)
        p.grad = lib.tensor(rng.standard_normal(tuple(p.shape)) * scale, dtype=lib.float32)
    return params


@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1), (0.3, "inf")])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    torch = need("torch")
    norm_type = float(norm_type)
    ours, theirs = _model_with_grads(symgrad, 3.0), _model_with_grads(torch, 3.0)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_error_if_nonfinite_leaves_the_gradients():
    p = symgrad.ones(2, requires_grad=True)
    p.grad = symgrad.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert p.grad.tolist() == [float("inf"), 1.0]


def test_clip_grad_value_clamps_in_place():
    p = symgrad.ones(3, requires_grad=True)
    p.grad = symgrad.tensor([-2.0, 0.5, 3.0])
    grad = p.grad
    clip_grad_value_(p, 1.0)
    assert p.grad is grad and grad.tolist() == [-1.0, 0.5, 1.0]


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vector = parameters_to_vector(model.parameters())
    assert vector.shape == (6 + 2 + 2 + 1,)
    assert vector.grad_fn is not None  # differentiable, as torch's
    weight = model[0].weight
    vector_to_parameters(symgrad.arange(11.0), model.parameters())
    assert model[0].weight is weight
    assert weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert model[1].bias.tolist() == [10.0]
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        vector_to_parameters([1.0], model.parameters())
