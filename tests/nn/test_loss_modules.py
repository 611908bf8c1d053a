"""Loss modules against torch.nn's on random inputs: every reduction, class weights,
ignore_index, label_smoothing, pos_weight; values and input gradients."""

import zlib

import numpy as np
import pytest
from extras import need

import symgrad
from symgrad import nn

torch = need("torch")

REDUCTIONS = ["mean", "sum", "none"]


def _inputs(kind: str, rng: np.random.Generator):
    """(input, target) numpy arrays for a family of losses."""
    if kind == "regression":
        return rng.standard_normal((4, 3)) * 2, rng.standard_normal((4, 3)) * 2
    if kind == "classes":
        return rng.standard_normal((6, 4)), rng.integers(0, 4, size=6)
    if kind == "probabilities":
        return rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    if kind == "log_probabilities":
        logits = rng.standard_normal((4, 3))
        log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        return log_p, np.exp(rng.standard_normal((4, 3)) - 1.5)
    return rng.standard_normal((4, 3)), rng.uniform(0, 1, (4, 3))  # logits and targets


WEIGHT = np.array([0.5, 2.0, 1.0, 0.25])


def _class_weight(lib):
    return lib.tensor(WEIGHT, dtype=lib.float32)


CASES = [
    ("MSELoss", "regression", lambda lib, r: dict(reduction=r)),
    ("L1Loss", "regression", lambda lib, r: dict(reduction=r)),
    ("SmoothL1Loss", "regression", lambda lib, r: dict(reduction=r, beta=0.5)),
    ("HuberLoss", "regression", lambda lib, r: dict(reduction=r, delta=0.7)),
    ("CrossEntropyLoss", "classes", lambda lib, r: dict(reduction=r)),
    ("CrossEntropyLoss", "classes", lambda lib, r: dict(reduction=r, weight=_class_weight(lib))),
    ("CrossEntropyLoss", "classes", lambda lib, r: dict(reduction=r, ignore_index=2)),
    (
        "CrossEntropyLoss",
        "classes",
        lambda lib, r: dict(reduction=r, label_smoothing=0.1, weight=_class_weight(lib)),
    ),
    ("NLLLoss", "classes", lambda lib, r: dict(reduction=r)),
    ("NLLLoss", "classes", lambda lib, r: dict(reduction=r, weight=_class_weight(lib))),
    ("NLLLoss", "classes", lambda lib, r: dict(reduction=r, ignore_index=1)),
    ("BCELoss", "probabilities", lambda lib, r: dict(reduction=r)),
    (
        "BCELoss",
        "probabilities",
        lambda lib, r: dict(reduction=r, weight=lib.tensor([1.0, 2.0, 0.5])),
    ),
    ("BCEWithLogitsLoss", "logits", lambda lib, r: dict(reduction=r)),
    (
        "BCEWithLogitsLoss",
        "logits",
        lambda lib, r: dict(reduction=r, pos_weight=lib.tensor([3.0, 1.0, 0.5])),
    ),
    ("KLDivLoss", "log_probabilities", lambda lib, r: dict(reduction=r)),
    ("KLDivLoss", "log_probabilities", lambda lib, r: dict(reduction="batchmean")),
]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name, kind, options", CASES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_loss_module_matches_torch(name, kind, options, reduction):
    rng = np.random.default_rng(zlib.crc32(f"{name} {kind} {reduction}".encode()))
    x, target = _inputs(kind, rng)
    x = x.astype(np.float32)
    if target.dtype.kind == "f":
        target = target.astype(np.float32)
    ours = getattr(nn, name)(**options(symgrad, reduction))
    theirs = getattr(torch.nn, name)(**options(torch, reduction))
    assert repr(ours) == repr(theirs)
    ours_x = symgrad.tensor(x, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    out = ours(ours_x, symgrad.tensor(target))
    expected = theirs(theirs_x, torch.tensor(target))
    np.testing.assert_allclose(
        out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6
    )
    cotangent = rng.standard_normal(tuple(expected.shape)).astype(np.float32)
    out.backward(symgrad.tensor(cotangent))
    expected.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_weights_are_buffers_that_move_with_the_module():
    loss = nn.CrossEntropyLoss(weight=symgrad.tensor(WEIGHT, dtype=symgrad.float32))
    assert list(loss.state_dict()) == ["weight"]
    loss.double()
    assert loss.weight.dtype is symgrad.float64


def test_invalid_reduction_is_torchs_error():
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        nn.MSELoss(reduction="bogus")(symgrad.ones(2), symgrad.ones(2))
