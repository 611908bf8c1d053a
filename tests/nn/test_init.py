"""nn.init: the moments of each distribution (large samples), torch's gains and fans, and
that filling is in place, outside autograd, reproducible with symgrad.manual_seed."""

import math

import pytest
from extras import need

import symgrad
from symgrad import nn
from symgrad.nn import init


def _moments(t: symgrad.Tensor) -> tuple[float, float]:
    values = t.detach().double()
    return values.mean().item(), values.std().item()


@pytest.fixture(autouse=True)
def _seed():
    symgrad.manual_seed(0)


def test_uniform_and_normal_moments():
    t = symgrad.empty(200, 300)
    init.uniform_(t, -2.0, 4.0)
    mean, std = _moments(t)
    assert mean == pytest.approx(1.0, abs=0.02) and std == pytest.approx(6 / math.sqrt(12), 0.01)
    assert t.min().item() >= -2.0 and t.max().item() < 4.0
    init.normal_(t, mean=3.0, std=0.5)
    mean, std = _moments(t)
    assert mean == pytest.approx(3.0, abs=0.005) and std == pytest.approx(0.5, rel=0.01)


def test_constants():
    t = symgrad.empty(2, 3)
    assert (init.zeros_(t) == 0).all() and (init.ones_(t) == 1).all()
    assert (init.constant_(t, 0.25) == 0.25).all()
    assert (init.eye_(t) == symgrad.eye(2, 3)).all()


@pytest.mark.parametrize(
    "fill, expected_std",
    [
        (lambda t: init.xavier_uniform_(t), math.sqrt(2 / (300 + 200))),
        (lambda t: init.xavier_normal_(t, gain=2.0), 2 * math.sqrt(2 / (300 + 200))),
        (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 300)),
        (lambda t: init.kaiming_normal_(t, mode="fan_out"), math.sqrt(2 / 1.0001) / math.sqrt(200)),
        (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(300) / math.sqrt(3)),
        # N(0, 1) cut at +-2: variance 1 - 4 phi(2) / (Phi(2) - Phi(-2))
        (lambda t: init.trunc_normal_(t), 0.87962),
    ],
)
def test_scaled_initializers_have_torchs_standard_deviation(fill, expected_std):
    t = symgrad.empty(200, 300)  # fan_in 300, fan_out 200
    fill(t)
    mean, std = _moments(t)
    assert abs(mean) < 0.02 * expected_std * 10
    assert std == pytest.approx(expected_std, rel=0.02)


def test_trunc_normal_stays_in_its_bounds():
    t = init.trunc_normal_(symgrad.empty(10000), mean=1.0, std=1.0, a=0.5, b=1.5)
    assert t.min().item() >= 0.5 and t.max().item() <= 1.5


def test_calculate_gain_is_torchs():
    torch = need("torch")
    for name, param in [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
    ]:
        assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)
    with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope x not a valid number"):
        init.calculate_gain("leaky_relu", "x")


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(symgrad.empty(3))
    with pytest.raises(ValueError, match=r"Mode fan not supported, please use one of"):
        init.kaiming_uniform_(symgrad.empty(3, 3), mode="fan")


def test_filling_a_parameter_is_in_place_and_outside_autograd():
    layer = nn.Linear(3, 2)
    weight = layer.weight
    init.normal_(layer.weight)
    assert layer.weight is weight and weight.is_leaf and weight.grad_fn is None
    assert weight.requires_grad


def test_same_seed_same_values():
    symgrad.manual_seed(5)
    first = init.xavier_normal_(symgrad.empty(4, 4)).clone()
    symgrad.manual_seed(5)
    assert (init.xavier_normal_(symgrad.empty(4, 4)) == first).all()
