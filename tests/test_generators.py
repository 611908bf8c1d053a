"""torch.Generator, the default generator and the random functions (rand ... multinomial,
the in-place fills). symgrad draws numpy's numbers, not torch's: these tests check torch's
interface and errors, determinism under a seed, and the distributions (moments, supports)."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as torch
from symgrad.ir.trace import TracingError

DRAWS = {
    "rand": lambda g: torch.rand(5, generator=g),
    "randn": lambda g: torch.randn(2, 3, generator=g),
    "randint": lambda g: torch.randint(0, 100, (6,), generator=g),
    "randperm": lambda g: torch.randperm(8, generator=g),
    "multinomial": lambda g: torch.multinomial(torch.tensor([0.1, 0.2, 0.7]), 2, generator=g),
    "multinomial_replacement": lambda g: torch.multinomial(
        torch.tensor([[1.0, 3.0], [2.0, 2.0]]), 6, replacement=True, generator=g
    ),
    "normal": lambda g: torch.normal(torch.zeros(4), 2.0, generator=g),
    "normal_numbers": lambda g: torch.normal(1.0, 2.0, (4,), generator=g),
    "bernoulli": lambda g: torch.bernoulli(torch.full((8,), 0.5), generator=g),
    "uniform_": lambda g: torch.empty(4).uniform_(-1, 1, generator=g),
    "normal_": lambda g: torch.empty(4).normal_(3.0, 0.5, generator=g),
    "bernoulli_": lambda g: torch.empty(8).bernoulli_(0.3, generator=g),
    "exponential_": lambda g: torch.empty(4).exponential_(2.0, generator=g),
    "random_": lambda g: torch.empty(6, dtype=torch.int64).random_(0, 1000, generator=g),
}


@pytest.mark.parametrize("draw", DRAWS)
def test_a_seeded_generator_repeats_its_numbers(draw):
    first = DRAWS[draw](torch.Generator().manual_seed(7)).tolist()
    again = DRAWS[draw](torch.Generator().manual_seed(7)).tolist()
    assert first == again
    g = torch.Generator().manual_seed(7)
    DRAWS[draw](g)
    different = [DRAWS[draw](g).tolist() for _ in range(3)]
    assert any(d != first for d in different)  # the stream moves on


@pytest.mark.parametrize("draw", DRAWS)
def test_the_default_generator_is_seeded_by_manual_seed(draw):
    torch.manual_seed(11)
    first = DRAWS[draw](None).tolist()
    torch.manual_seed(11)
    assert DRAWS[draw](None).tolist() == first


def test_a_generator_does_not_move_the_default_stream():
    torch.manual_seed(3)
    expected = torch.rand(3).tolist()
    torch.manual_seed(3)
    torch.rand(10, generator=torch.Generator().manual_seed(5))
    assert torch.rand(3).tolist() == expected


def test_seeds_and_state():
    g = torch.Generator()
    assert g.initial_seed() == 67280421310721  # torch's seed for a new Generator
    assert g.device == torch.device("cpu")
    assert g.manual_seed(-5) is g and g.initial_seed() == 2**64 - 5  # torch's wrap-around
    chosen = g.seed()
    assert isinstance(chosen, int) and g.initial_seed() == chosen
    assert torch.manual_seed(4) is torch.default_generator and torch.initial_seed() == 4
    torch.rand(7)  # mid-stream
    state = torch.get_rng_state()
    assert state.dtype is torch.uint8 and state.ndim == 1
    expected = torch.randn(5).tolist()
    torch.set_rng_state(state)
    assert torch.randn(5).tolist() == expected
    assert torch.random.initial_seed() == 4
    h = torch.Generator().set_state(g.get_state())
    assert torch.rand(4, generator=h).tolist() == torch.rand(4, generator=g).tolist()


def test_seed_and_state_errors():
    with pytest.raises(RuntimeError, match="^manual_seed expected a long, but got str"):
        torch.manual_seed("a")
    with pytest.raises(RuntimeError, match="^Overflow when unpacking long long"):
        torch.manual_seed(2**64)
    with pytest.raises(TypeError, match="^RNG state must be a torch.ByteTensor"):
        torch.Generator().set_state(torch.zeros(3))
    with pytest.raises(RuntimeError, match="^Expected a CPUGeneratorImplState of size 45 but"):
        torch.Generator().set_state(torch.zeros(3, dtype=torch.uint8))
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled"):
        torch.Generator(device="cuda")


def _moments(t) -> tuple[float, float]:
    values = t.double().numpy()
    return float(values.mean()), float(values.var())


def test_distributions_have_their_moments():
    g = torch.Generator().manual_seed(0)
    n = 200_000
    # (sample, mean, variance); tolerances are about 5 standard errors of n draws.
    cases = [
        (torch.rand(n, generator=g), 0.5, 1 / 12),
        (torch.randn(n, generator=g), 0.0, 1.0),
        (torch.normal(2.0, 3.0, (n,), generator=g), 2.0, 9.0),
        (torch.normal(torch.full((n,), -1.0), torch.full((n,), 0.5), generator=g), -1.0, 0.25),
        (torch.empty(n).uniform_(2, 5, generator=g), 3.5, 0.75),
        (torch.empty(n).normal_(1.0, 2.0, generator=g), 1.0, 4.0),
        (torch.empty(n).exponential_(4.0, generator=g), 0.25, 1 / 16),
        (torch.bernoulli(torch.full((n,), 0.3), generator=g), 0.3, 0.21),
        (torch.empty(n).bernoulli_(0.8, generator=g), 0.8, 0.16),
        (torch.randint(0, 10, (n,), generator=g), 4.5, 8.25),
        (torch.empty(n, dtype=torch.int64).random_(3, 7, generator=g), 4.5, 1.25),
    ]
    for sample, mean, variance in cases:
        got_mean, got_variance = _moments(sample)
        assert abs(got_mean - mean) < 5 * (variance / n) ** 0.5 + 1e-12
        assert abs(got_variance - variance) < 0.03 * variance


def test_supports_and_dtypes():
    g = torch.Generator().manual_seed(1)
    u = torch.empty(10_000).uniform_(2, 3, generator=g)
    assert float(u.min()) >= 2 and float(u.max()) < 3
    assert set(torch.bernoulli(torch.full((1000,), 0.5), generator=g).tolist()) == {0.0, 1.0}
    assert torch.bernoulli(torch.tensor([0.0, 1.0], dtype=torch.float64)).tolist() == [0, 1]
    assert torch.bernoulli(torch.tensor([0.0, 1.0]), generator=g).dtype is torch.float32
    ints = torch.empty(1000, dtype=torch.int64).random_(5, generator=g)
    assert set(ints.tolist()) == {0, 1, 2, 3, 4}
    floats = torch.empty(1000).random_(generator=g)
    assert float(floats.min()) >= 0 and float(floats.max()) <= 2**24
    assert torch.normal(torch.zeros(2, dtype=torch.float64), 1.0).dtype is torch.float64
    assert torch.normal(0.0, 1.0, (2,)).dtype is torch.float32
    made = torch.normal(0.0, 1.0, (2,), dtype=torch.float64, device="cpu", requires_grad=True)
    assert made.dtype is torch.float64 and made.requires_grad and made.grad_fn is None
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled"):
        torch.normal(0.0, 1.0, (2,), device="cuda")
    assert tuple(torch.normal(torch.zeros(3, 1), torch.ones(4)).shape) == (3, 4)


def test_randperm_is_a_permutation():
    p = torch.randperm(50, generator=torch.Generator().manual_seed(2))
    assert p.dtype is torch.int64 and sorted(p.tolist()) == list(range(50))
    assert torch.randperm(4, dtype=torch.float32).dtype is torch.float32
    assert torch.randperm(0).tolist() == []


def test_multinomial_with_replacement_follows_the_weights():
    g = torch.Generator().manual_seed(3)
    weights = torch.tensor([[1.0, 0.0, 3.0], [0.0, 5.0, 5.0]])
    draws = torch.multinomial(weights, 40_000, replacement=True, generator=g)
    assert draws.dtype is torch.int64 and tuple(draws.shape) == (2, 40_000)
    for row, expected in zip(draws.numpy(), ([0.25, 0.0, 0.75], [0.0, 0.5, 0.5]), strict=True):
        frequencies = np.bincount(row, minlength=3) / row.size
        assert np.allclose(frequencies, expected, atol=0.012)  # about 5 standard errors


def test_multinomial_without_replacement():
    g = torch.Generator().manual_seed(4)
    weights = torch.tensor([0.2, 0.8, 0.0])
    firsts = []
    for _ in range(4000):
        draw = torch.multinomial(weights, 3, generator=g).tolist()
        assert sorted(draw) == [0, 1, 2] and draw[2] == 2  # weight 0 comes last
        firsts.append(draw[0])
    assert abs(np.mean(np.array(firsts) == 1) - 0.8) < 0.035
    assert tuple(torch.multinomial(torch.ones(2, 5), 5).shape) == (2, 5)


@pytest.mark.parametrize(
    "call, error, text",
    [
        (
            lambda: torch.multinomial(torch.tensor([0.0, 0.0]), 1),
            RuntimeError,
            "invalid multinomial distribution (sum of probabilities <= 0)",
        ),
        (
            lambda: torch.multinomial(torch.tensor([-1.0, 2.0]), 1),
            RuntimeError,
            "probability tensor contains either `inf`, `nan` or element < 0",
        ),
        (
            lambda: torch.multinomial(torch.tensor([1.0, float("nan")]), 1),
            RuntimeError,
            "probability tensor contains either `inf`, `nan` or element < 0",
        ),
        (
            lambda: torch.multinomial(torch.tensor([1.0, 2.0]), 0),
            RuntimeError,
            "cannot sample n_sample <= 0 samples",
        ),
        (
            lambda: torch.multinomial(torch.tensor([1.0, 2.0]), 3),
            RuntimeError,
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement",
        ),
        (
            lambda: torch.multinomial(torch.ones(2, 2, 2), 1),
            RuntimeError,
            "prob_dist must be 1 or 2 dim",
        ),
        (
            lambda: torch.multinomial(torch.tensor([1, 2]), 1),
            RuntimeError,
            "multinomial only supports floating-point dtypes for input, got: Long",
        ),
        (
            lambda: torch.normal(torch.zeros(2), -1.0),
            RuntimeError,
            "normal expects std >= 0.0, but found std -1",
        ),
        (
            lambda: torch.zeros(2).normal_(0, -1),
            RuntimeError,
            "normal expects std >= 0.0, but found std -1",
        ),
        (
            lambda: torch.normal(torch.zeros(2), torch.tensor([1.0, -1.0])),
            RuntimeError,
            "normal expects all elements of std >= 0.0",
        ),
        (
            lambda: torch.bernoulli(torch.tensor([0.5, 2.0])),
            RuntimeError,
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.",
        ),
        (
            lambda: torch.bernoulli(torch.tensor([1, 0])),
            NotImplementedError,
            "\"bernoulli_tensor_cpu_p_\" not implemented for 'Long'",
        ),
        (
            lambda: torch.zeros(2).uniform_(2, 1),
            RuntimeError,
            "uniform_ expects to return a [from, to) range, but found from=2 > to=1",
        ),
        (
            lambda: torch.zeros(2).exponential_(-1),
            RuntimeError,
            "exponential_ expects lambda > 0.0, but found lambda=-1",
        ),
        (
            lambda: torch.zeros(3).random_(5, 2),
            RuntimeError,
            "random_ expects 'from' to be less than 'to', but got from=5 >= to=2",
        ),
        (
            lambda: torch.randperm(-1),
            RuntimeError,
            "Trying to create tensor with negative dimension -1: [-1]",
        ),
    ],
)
def test_errors_are_torchs(call, error, text):
    with pytest.raises(error) as raised:
        call()
    assert str(raised.value).splitlines()[0].startswith(text)


def test_normal_and_bernoulli_give_their_parameters_zero_gradients():
    mean = torch.zeros(3, requires_grad=True)
    y = torch.normal(mean, 1.0)
    assert y.grad_fn.name() == "NormalBackward1" and len(y.grad_fn.next_functions) == 1
    y.sum().backward()
    assert mean.grad.tolist() == [0.0, 0.0, 0.0]
    p = torch.full((3,), 0.5, requires_grad=True)
    z = torch.bernoulli(p)
    assert z.grad_fn.name() == "BernoulliBackward0"
    z.sum().backward()
    assert p.grad.tolist() == [0.0, 0.0, 0.0]
    assert torch.normal(1.0, torch.ones(2, requires_grad=True)).grad_fn.name() == (
        "NormalBackward2"
    )


def test_in_place_fills_follow_the_in_place_rules():
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used"):
        w.uniform_()
    with torch.no_grad():
        w.uniform_(-1, 1)
    assert w._version == 1 and w.requires_grad and all(-1 <= v < 1 for v in w.tolist())


def test_compiled_code_draws_anew_from_the_generator_it_is_given():
    g = torch.Generator().manual_seed(9)

    @torch.compile
    def noisy(x):
        return x + torch.randn(3, generator=g) + (x * 0).uniform_(generator=g)

    first = noisy(torch.zeros(3)).tolist()
    second = noisy(torch.zeros(3)).tolist()
    assert first != second
    g.manual_seed(9)
    assert noisy(torch.zeros(3)).tolist() == first


def test_data_dependent_draws_refuse_to_be_traced():
    with pytest.raises(TracingError, match="cannot trace multinomial"):
        torch.compile(lambda p: p + torch.multinomial(p, 1).float())(torch.ones(3))
    with pytest.raises(TracingError, match="cannot trace randperm"):
        torch.compile(lambda p: p + torch.randperm(3).float())(torch.ones(3))
