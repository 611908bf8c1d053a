"""symgrad.nn.functional: torch's names, and whole models against PyTorch 2.13's numbers."""

import numpy as np
import pytest

import symgrad
import symgrad.nn.functional as F

TORCH_NAMES = [
    # activations and normalization (symgrad/ops/activation.py, elementwise.py)
    "softmax",
    "log_softmax",
    "gelu",
    "silu",
    "softplus",
    "elu",
    "leaky_relu",
    "logsigmoid",
    "hardtanh",
    "relu6",
    "mish",
    "relu",
    "sigmoid",
    "tanh",
    "normalize",
    "layer_norm",
    "linear",
    "dropout",
    "one_hot",
    "pad",
    # layers' functional forms (ops/embedding.py, normalization.py, convolution.py)
    "embedding",
    "batch_norm",
    "bilinear",
    "unfold",
    "fold",
    "conv1d",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    # losses (symgrad/ops/loss.py)
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
]


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_torch_name_exists(name):
    assert callable(getattr(F, name))
    assert name in F.__all__


def test_namespace_is_reachable_as_torch_spells_it():
    assert symgrad.nn.functional is F
    assert F.cross_entropy is symgrad.ops.loss.cross_entropy
    assert F.sigmoid is symgrad.sigmoid


def test_pad_supports_constant_mode_only():
    x = symgrad.ones(2, 2)
    assert F.pad(x, (1, 0), value=3.0).tolist() == [[3.0, 1.0, 1.0], [3.0, 1.0, 1.0]]
    with pytest.raises(NotImplementedError, match="reflect"):
        F.pad(x, (1, 1), mode="reflect")


# torch's results for test_logistic_regression_step_matches_torch
LOGISTIC_LOSS = 0.6538033268104524
LOGISTIC_WEIGHT = [0.45915270146395026, 0.15162102861139756]
LOGISTIC_BIAS = [0.08357526905918777]


def _model_inputs():
    x = np.sin(np.arange(12.0)).reshape(4, 3)
    w1 = np.cos(np.arange(15.0) * 0.7).reshape(5, 3) * 0.5
    b1 = np.linspace(-0.2, 0.2, 5)
    w2 = np.sin(np.arange(20.0) * 1.3).reshape(4, 5)
    return [symgrad.tensor(a, requires_grad=True) for a in (x, w1, b1, w2)]


def test_small_model_matches_torch():
    """gelu/layer_norm/pad/dropout(eval)/linear feeding three losses; the numbers come from
    the same code run with ``torch`` in place of ``symgrad``."""
    x, w1, b1, w2 = _model_inputs()
    target = symgrad.tensor([0, 3, 1, 2])
    hidden = F.layer_norm(F.gelu(F.linear(x, w1, b1)), (5,))
    hidden = F.pad(hidden, (0, 0, 0, 0))
    logits = F.linear(F.dropout(hidden, 0.5, training=False), w2)
    pos_weight = symgrad.tensor([1.0, 2.0, 3.0, 4.0], dtype=symgrad.float64)
    loss = (
        F.cross_entropy(logits, target, label_smoothing=0.1)
        + 0.5 * F.mse_loss(F.tanh(logits), F.softmax(logits, 1))
        + F.binary_cross_entropy_with_logits(
            logits, F.one_hot(target, 4) * 1.0, pos_weight=pos_weight
        )
    )
    loss.backward()
    # the float32 one-hot target makes torch's bce-with-logits term float32
    assert loss.item() == pytest.approx(2.2135218021552316, rel=1e-7)
    expected_w1 = [
        [-0.004057867157087142, 0.10768039808569543, 0.12041780192208806],
        [-0.22132986736451968, 0.4154965418137099, 0.6703173466088905],
        [0.05735220318982692, -0.40546041038774383, -0.49549459253130745],
        [0.03597218886232731, 0.1566171994168601, 0.13326907910475227],
        [0.10677814194231, -0.16037295489043385, -0.28007789659468707],
    ]
    expected_x = [
        [0.22520654256894262, 0.06765577764031626, -0.1217145566632376],
        [0.038455191896477676, 0.05166328081849189, 0.04057332151053856],
        [0.14012878965800118, 0.031100617434630266, -0.09255466112879962],
        [0.15473130154584433, 0.1757471753067618, 0.114106406395544],
    ]
    np.testing.assert_allclose(w1.grad.numpy(), expected_w1, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(x.grad.numpy(), expected_x, rtol=1e-6, atol=1e-9)


def test_logistic_regression_step_matches_torch():
    """One SGD step of binary logistic regression with a weighted, smoothed objective."""
    features = symgrad.tensor(np.cos(np.arange(10.0)).reshape(5, 2))
    labels = symgrad.tensor([1.0, 0.0, 1.0, 1.0, 0.0], dtype=symgrad.float64)
    weight = symgrad.nn.Parameter(symgrad.tensor([0.3, -0.2], dtype=symgrad.float64))
    bias = symgrad.nn.Parameter(symgrad.zeros(1, dtype=symgrad.float64))
    for _ in range(2):
        logits = F.linear(features, weight.unsqueeze(0), bias).squeeze(1)
        loss = F.binary_cross_entropy_with_logits(logits, labels) + 0.1 * F.smooth_l1_loss(
            F.sigmoid(logits), labels, beta=0.5
        )
        loss.backward()
        with symgrad.no_grad():
            weight -= 0.5 * weight.grad
            bias -= 0.5 * bias.grad
        weight.grad = None
        bias.grad = None
    assert loss.item() == pytest.approx(LOGISTIC_LOSS, rel=1e-12)
    np.testing.assert_allclose(weight.detach().numpy(), LOGISTIC_WEIGHT, rtol=1e-12)
    np.testing.assert_allclose(bias.detach().numpy(), LOGISTIC_BIAS, rtol=1e-12)
