"""Random sampling in compiled code: fresh numbers on every call, seeded like eager mode."""

import numpy as np

import symgrad
import symgrad.nn.functional as F


def noisy(x):
    return F.dropout(x, 0.5) + symgrad.randn(4, dtype=symgrad.float64)


def test_compiled_code_draws_anew_on_every_call():
    f = symgrad.compile(noisy)
    first, second = f(np.ones(4)), f(np.ones(4))
    assert not np.array_equal(first, second)
    assert "rng.random((4,))" in f.source(np.ones(4))


def test_manual_seed_gives_the_same_numbers_as_eager():
    f = symgrad.compile(noisy)
    f(np.ones(4))  # compile first: tracing draws nothing
    symgrad.manual_seed(3)
    compiled = f(np.ones(4))
    symgrad.manual_seed(3)
    eager = noisy(symgrad.ones(4, dtype=symgrad.float64))
    np.testing.assert_array_equal(compiled, eager.numpy())


def test_gradient_flows_through_the_mask_drawn_in_forward():
    x = symgrad.ones(6, dtype=symgrad.float64, requires_grad=True)
    f = symgrad.compile(lambda v: F.dropout(v, 0.5).sum())
    out = f(x)
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, x.grad.numpy() == 2.0)
    assert out.item() == x.grad.numpy().sum()


def test_an_explicit_generator_is_used():
    generator = np.random.default_rng(0)
    f = symgrad.compile(lambda x: x + symgrad.rand(3, generator=generator, dtype=symgrad.float64))
    expected = np.random.default_rng(0).random(3)
    np.testing.assert_array_equal(f(np.zeros(3)), expected)


def test_reading_the_generator_directly_while_tracing_is_refused():
    import pytest

    with pytest.raises(symgrad.ir.trace.TracingError, match="random generator"):
        symgrad.compile(lambda x: x + symgrad.creation.default_generator().random(3))(np.ones(3))
