"""Spellings PyTorch scripts use: ``keepdims=``, ``clamp_min``/``clamp_max``,
``isclose``/``allclose``/``equal``, indexing with ``range``. Expected values and texts are
PyTorch 2.13's (compared live when it is installed)."""

from __future__ import annotations

import numpy as np
import pytest
from extras import need

import symgrad
import symgrad as torch

X = [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]

KEEPDIMS = {
    "sum": lambda t, x: x.sum(1, keepdims=True),
    "torch.sum": lambda t, x: t.sum(x, dim=0, keepdims=True),
    "mean": lambda t, x: x.mean(1, keepdims=True),
    "prod": lambda t, x: x.prod(1, keepdims=True),
    "max": lambda t, x: x.max(1, keepdims=True)[0],
    "argmax": lambda t, x: x.argmax(1, keepdims=True),
    "amin": lambda t, x: t.amin(x, 0, keepdims=True),
    "std": lambda t, x: x.std(1, keepdims=True),
    "var": lambda t, x: t.var(x, 0, keepdims=True),
    "logsumexp": lambda t, x: x.logsumexp(1, keepdims=True),
    "any": lambda t, x: (x > 3).any(1, keepdims=True),
}


@pytest.mark.parametrize("name", KEEPDIMS)
def test_keepdims_is_keepdim(name):
    x = torch.tensor(X)
    with_keepdims = KEEPDIMS[name](torch, x)
    assert with_keepdims.ndim == 2
    spelled = {  # the same calls spelled with keepdim=
        "sum": x.sum(1, keepdim=True),
        "torch.sum": torch.sum(x, dim=0, keepdim=True),
        "mean": x.mean(1, keepdim=True),
        "prod": x.prod(1, keepdim=True),
        "max": x.max(1, keepdim=True)[0],
        "argmax": x.argmax(1, keepdim=True),
        "amin": torch.amin(x, 0, keepdim=True),
        "std": x.std(1, keepdim=True),
        "var": torch.var(x, 0, keepdim=True),
        "logsumexp": x.logsumexp(1, keepdim=True),
        "any": (x > 3).any(1, keepdim=True),
    }[name]
    assert with_keepdims.tolist() == spelled.tolist()


@pytest.mark.parametrize("name", KEEPDIMS)
def test_keepdims_matches_torch_live(name):
    real = need("torch")
    ours = KEEPDIMS[name](torch, torch.tensor(X))
    theirs = KEEPDIMS[name](real, real.tensor(X))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_norm_refuses_keepdims_as_torch():
    # Tensor.norm is Python in torch and has no numpy spelling.
    with pytest.raises(TypeError, match="keepdims"):
        torch.tensor(X).norm(dim=1, keepdims=True)


def test_clamp_min_and_clamp_max():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    low = torch.clamp_min(a, 2)
    assert low.tolist() == [2.0, 2.0, 3.0] and low.grad_fn.name() == "ClampMinBackward0"
    high = a.clamp_max(1.5)
    assert high.tolist() == [1.0, 1.5, 1.5] and high.grad_fn.name() == "ClampMaxBackward0"
    bound = torch.tensor([1.5, 2.5, 2.5], requires_grad=True)
    mixed = torch.clamp_min(a, bound)
    assert mixed.tolist() == [1.5, 2.5, 3.0] and mixed.grad_fn.name() == "ClampMinBackward1"
    mixed.sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 1.0] and bound.grad.tolist() == [1.0, 1.0, 0.0]
    b = a.detach().clone()
    assert b.clamp_min_(2.5) is b and b.tolist() == [2.5, 2.5, 3.0] and b._version == 1
    assert b.clamp_max_(2.75).tolist() == [2.5, 2.5, 2.75]


def test_isclose_allclose_equal():
    a = torch.tensor([1.0, 2.0, 3.0])
    b = torch.tensor([1.0, 2.0000001, 4.0])
    assert torch.isclose(a, b).tolist() == [True, True, False]
    assert a.isclose(b, rtol=0.5).tolist() == [True, True, True]
    assert torch.allclose(a, a + 1e-9) and not torch.allclose(a, b) and a.allclose(a)
    assert not torch.allclose(a, torch.ones(1))  # broadcast
    nan = torch.tensor([float("nan")])
    assert not torch.isclose(nan, nan).item() and torch.isclose(nan, nan, equal_nan=True).item()
    inf = torch.tensor([float("inf")])
    assert torch.isclose(inf, inf).item()
    assert torch.equal(a, a.clone()) and not torch.equal(a, b) and not a.equal(torch.ones(2))
    assert torch.equal(a, torch.tensor([1, 2, 3]))  # values compared across dtypes, as torch
    assert not torch.equal(nan, nan)


@pytest.mark.parametrize(
    "call, error, text",
    [
        (
            lambda a: torch.isclose(a, torch.tensor([1, 2, 3])),
            RuntimeError,
            "Float did not match Long",
        ),
        (lambda a: torch.allclose(a, a.double()), RuntimeError, "Float did not match Double"),
        (
            lambda a: torch.isclose(a, 1.0),
            TypeError,
            "isclose(): argument 'other' (position 2) must be Tensor, not float",
        ),
        (
            lambda a: torch.isclose(a, a, rtol=-1),
            RuntimeError,
            "rtol must be greater than or equal to zero, but got -1",
        ),
        (
            lambda a: torch.allclose(a, torch.ones(2)),
            RuntimeError,
            "The size of tensor a (3) must match the size of tensor b (2) at non-singleton "
            "dimension 0",
        ),
    ],
)
def test_closeness_errors_are_torchs(call, error, text):
    with pytest.raises(error) as raised:
        call(torch.tensor([1.0, 2.0, 3.0]))
    assert str(raised.value) == text


def test_indexing_with_range_is_indexing_with_its_list():
    x = torch.arange(12.0).reshape(3, 4).requires_grad_()
    y = x[range(1, 3), range(2)]
    assert y.tolist() == [4.0, 9.0] and y.grad_fn.name() == "IndexBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [[0.0] * 4, [1.0, 0, 0, 0], [0, 1.0, 0, 0]]
    assert x.detach()[:, range(1, 3)].tolist() == [[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]]
    assert x.detach()[[0, 2]].tolist() == [X[0], X[2]]
    assert torch.zeros(3)[range(0)].tolist() == []
    z = torch.zeros(5)
    z[range(1, 4)] = 1.0
    assert z.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    compiled = torch.compile(lambda t: t[range(0, 3, 2)] * 2)
    assert compiled(torch.arange(12.0).reshape(3, 4)).tolist() == [
        [0.0, 2.0, 4.0, 6.0],
        [16.0, 18.0, 20.0, 22.0],
    ]


def test_spellings_match_torch_live():
    real = need("torch")
    for library in (real, symgrad):
        a = library.tensor([1.0, 2.0, 3.0])
        assert library.clamp_min(a, 2).tolist() == [2.0, 2.0, 3.0]
        assert library.allclose(a, a + 1e-9)
        assert library.arange(6.0)[range(1, 6, 2)].tolist() == [1.0, 3.0, 5.0]


def test_histc():
    x = torch.tensor([1.0, 2.0, 1.0, 5.0, -1.0])
    assert torch.histc(x, bins=4, min=0, max=3).tolist() == [0.0, 2.0, 1.0, 0.0]
    assert x.histc(3).tolist() == [1.0, 3.0, 1.0]  # the data's range; max in the last bin
    assert torch.histc(torch.tensor([2.0, 2.0]), 3).tolist() == [0.0, 2.0, 0.0]
    assert torch.histc(torch.tensor([]), 3).tolist() == [0.0, 0.0, 0.0]
    assert torch.histc(x.double(), 2).dtype is torch.float64


def test_histogram():
    x = torch.tensor([1.0, 2.0, 1.0, 5.0, -1.0])
    result = torch.histogram(x, 3)
    assert result.hist.tolist() == [1.0, 3.0, 1.0] and result[0] is result.hist
    assert result.bin_edges.tolist() == [-1.0, 1.0, 3.0, 5.0]
    assert repr(torch.histogram(torch.tensor([2.0, 2.0]), 2)) == (
        "torch.return_types.histogram(\nhist=tensor([0., 2.]),\n"
        "bin_edges=tensor([1.5000, 2.0000, 2.5000]))"
    )
    edges = torch.histogram(x, torch.tensor([0.0, 1.5, 4.0])).hist.tolist()
    assert edges == [2.0, 1.0]
    weighted = torch.histogram(
        torch.tensor([1.0, 2.0, 3.0]), 2, weight=torch.tensor([1.0, 2.0, 3.0]), density=True
    )
    assert weighted.hist.tolist() == pytest.approx([1 / 6, 5 / 6])
    assert torch.histogram(x, 2, range=(0.0, 4.0)).hist.tolist() == [2.0, 1.0]


@pytest.mark.parametrize(
    "call, error, text",
    [
        (
            lambda: torch.histc(torch.ones(2), bins=0),
            RuntimeError,
            "torch.histogram(): bins must be > 0, but got 0 for dimension 0",
        ),
        (
            lambda: torch.histc(torch.ones(2), 3, min=2, max=1),
            RuntimeError,
            "torch.histc: max must be larger than min",
        ),
        (
            lambda: torch.histc(torch.tensor([1, 2]), 3),
            NotImplementedError,
            "\"histogram_cpu\" not implemented for 'Long'",
        ),
        (
            lambda: torch.histogram(torch.tensor([1, 2]), 3),
            NotImplementedError,
            "\"histogramdd\" not implemented for 'Long'",
        ),
        (
            lambda: torch.histogram(torch.ones(2), 2, range=(2.0, 1.0)),
            RuntimeError,
            "torch.histogramdd: min should not exceed max, but got min 2 max 1 for dimension 0",
        ),
        (
            lambda: torch.histc(torch.tensor([float("nan")]), 3),
            RuntimeError,
            "torch.histc: range of [nan, nan] is not finite",
        ),
    ],
)
def test_histogram_errors_are_torchs(call, error, text):
    with pytest.raises(error) as raised:
        call()
    assert str(raised.value) == text


def test_histograms_match_torch_live():
    real = need("torch")
    values = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    for library in (torch, real):
        x = library.from_numpy(values.copy())
        hist = library.histc(x, 20).numpy()
        counts, edges = (t.numpy() for t in library.histogram(x, 15))
        if library is torch:
            ours = (hist, counts, edges)
        else:
            theirs = (hist, counts, edges)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
