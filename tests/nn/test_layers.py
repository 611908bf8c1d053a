"""Each layer against torch.nn's: same weights (copied across with state_dict), same outputs
and the same gradients for inputs and parameters; and the train/eval behaviour of Dropout
and BatchNorm1d."""

import math

import numpy as np
import pytest
from extras import need

import symgrad
from symgrad import nn

torch = need("torch")


def _to_torch(value: symgrad.Tensor):
    return torch.tensor(value.detach().numpy())


def _copy_weights(ours, theirs) -> None:
    state = {k: _to_torch(v) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


def _compare(ours, theirs, *inputs, atol=1e-5):
    """Forward both on the same inputs, backward the same cotangent, compare everything."""
    _copy_weights(ours, theirs)
    ours_in = [x.detach().requires_grad_(x.is_floating_point()) for x in inputs]
    theirs_in = [_to_torch(x).requires_grad_(x.is_floating_point()) for x in inputs]
    out, expected = ours(*ours_in), theirs(*theirs_in)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=atol)
    cotangent = np.random.default_rng(0).standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(symgrad.tensor(cotangent))
    expected.backward(torch.tensor(cotangent))
    for a, b in zip(ours_in, theirs_in, strict=True):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(), atol=atol)
    return out


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda nn: nn.Linear(4, 3), (5, 4)),
        (lambda nn: nn.Linear(4, 3, bias=False), (2, 5, 4)),
        (lambda nn: nn.Linear(4, 3), (4,)),
        (lambda nn: nn.Identity(), (2, 3)),
        (lambda nn: nn.Flatten(), (2, 3, 4)),
        (lambda nn: nn.Flatten(0, 1), (2, 3, 4)),
        (lambda nn: nn.Unflatten(1, (2, 2)), (3, 4)),
        (lambda nn: nn.LayerNorm(4), (3, 4)),
        (lambda nn: nn.LayerNorm((3, 4), bias=False), (2, 3, 4)),
        (lambda nn: nn.LayerNorm(4, elementwise_affine=False), (3, 4)),
        (lambda nn: nn.BatchNorm1d(3), (5, 3)),
        (lambda nn: nn.BatchNorm1d(3, affine=False), (4, 3, 6)),
        (lambda nn: nn.BatchNorm2d(3), (2, 3, 4, 5)),
        (lambda nn: nn.ReLU(), (3, 4)),
        (lambda nn: nn.LeakyReLU(0.2), (3, 4)),
        (lambda nn: nn.GELU(), (3, 4)),
        (lambda nn: nn.GELU("tanh"), (3, 4)),
        (lambda nn: nn.SiLU(), (3, 4)),
        (lambda nn: nn.Tanh(), (3, 4)),
        (lambda nn: nn.Sigmoid(), (3, 4)),
        (lambda nn: nn.Softmax(dim=1), (3, 4)),
        (lambda nn: nn.LogSoftmax(dim=-1), (3, 4)),
        (lambda nn: nn.Softplus(beta=2.0), (3, 4)),
        (lambda nn: nn.ELU(alpha=0.5), (3, 4)),
        (
            lambda nn: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2), nn.LogSoftmax(1)),
            (6, 4),
        ),
        (lambda nn: nn.Conv2d(3, 4, 3), (2, 3, 6, 5)),
        (
            lambda nn: nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, bias=False),
            (2, 4, 7, 6),
        ),
        (lambda nn: nn.Conv2d(3, 2, 3, padding="same", dilation=2), (1, 3, 6, 6)),
        (lambda nn: nn.Conv2d(3, 2, 3), (3, 5, 5)),
        (lambda nn: nn.Conv1d(3, 5, 3, stride=2, padding=1), (2, 3, 9)),
        (lambda nn: nn.Conv1d(2, 2, 2, dilation=2), (2, 5)),
        (lambda nn: nn.MaxPool2d(2), (2, 3, 6, 6)),
        (lambda nn: nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 6)),
        (lambda nn: nn.AvgPool2d(2, stride=1), (2, 3, 4, 5)),
        (lambda nn: nn.AdaptiveAvgPool2d(1), (2, 3, 4, 5)),
        (lambda nn: nn.AdaptiveAvgPool2d((3, None)), (2, 3, 7, 5)),
        (lambda nn: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (1, 2, 5, 5)),
        (
            lambda nn: nn.Sequential(
                nn.Conv2d(1, 4, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(4 * 3 * 3, 10),
            ),
            (2, 1, 6, 6),
        ),
    ],
)
def test_layer_matches_torch(make, shape):
    symgrad.manual_seed(0)
    x = symgrad.randn(*shape)
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, x)


def test_bilinear_matches_torch():
    ours, theirs = nn.Bilinear(3, 2, 4), torch.nn.Bilinear(3, 2, 4)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, symgrad.randn(5, 3), symgrad.randn(5, 2))


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_matches_torch_and_padding_rows_get_no_gradient(padding_idx):
    ours = nn.Embedding(5, 3, padding_idx=padding_idx)
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx)
    assert repr(ours) == repr(theirs)
    if padding_idx is not None:
        assert (ours.weight[padding_idx] == 0).all()
    indices = symgrad.tensor([[0, 1, 4], [1, 1, 2]])
    ours_out = ours(indices)
    theirs_out = theirs.to(torch.float32)
    _copy_weights(ours, theirs_out)
    expected = theirs(torch.tensor(indices.numpy()))
    np.testing.assert_allclose(ours_out.detach().numpy(), expected.detach().numpy())
    cotangent = np.random.default_rng(1).standard_normal((2, 3, 3)).astype(np.float32)
    ours_out.backward(symgrad.tensor(cotangent))
    expected.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), atol=1e-6)
    assert ours_out.grad_fn.name() == "EmbeddingBackward0"


def test_embedding_errors_are_torchs():
    table = nn.Embedding(3, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        table(symgrad.tensor([3]))
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        table(symgrad.tensor([1.0]))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)


def test_linear_default_init_is_torchs_range():
    symgrad.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / 20
    for values in (layer.weight, layer.bias):
        assert values.abs().max().item() <= bound
        assert values.abs().max().item() > 0.95 * bound  # uniform over the whole range
    assert abs(layer.weight.mean().item()) < 0.002
    # variance of U(-b, b) is b^2 / 3
    assert layer.weight.var().item() == pytest.approx(bound**2 / 3, rel=0.02)
    symgrad.manual_seed(0)
    again = nn.Linear(400, 300)
    assert (again.weight == layer.weight).all()  # drawn from symgrad's generator


# ------------------------------------------------------------------------ train / eval


def test_dropout_masks_in_training_and_is_the_identity_in_eval():
    symgrad.manual_seed(0)
    layer = nn.Dropout(p=0.25)
    x = symgrad.ones(4000)
    out = layer(x)
    kept = out != 0
    assert out[kept].tolist() == pytest.approx([1 / 0.75] * int(kept.sum().item()))
    assert kept.float().mean().item() == pytest.approx(0.75, abs=0.03)
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout(1.5)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_running_statistics_follow_torch_over_several_steps(momentum):
    ours = nn.BatchNorm1d(3, momentum=momentum)
    theirs = torch.nn.BatchNorm1d(3, momentum=momentum)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = (rng.standard_normal((8, 3)) * [1, 2, 3] + [0, 1, -2]).astype(np.float32)
        out = ours(symgrad.tensor(x))
        expected = theirs(torch.tensor(x))
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-5)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(
            getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-5
        )
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3)).astype(np.float32)
    before = ours.running_mean.clone()
    out = ours(symgrad.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), 1e-5)
    assert (ours.running_mean == before).all()  # eval mode leaves the statistics alone
    # in eval a single sample is fine; in training it is torch's error
    ours.train()
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        ours(symgrad.ones(1, 3))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        ours(symgrad.ones(2, 3, 1, 1))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(symgrad.ones(2, 3))


def test_embedding_from_pretrained_is_frozen_by_default():
    weights = symgrad.arange(6.0).reshape(3, 2)
    table = nn.Embedding.from_pretrained(weights)
    assert not table.weight.requires_grad
    assert table(symgrad.tensor([2])).tolist() == [[4.0, 5.0]]
    assert nn.Embedding.from_pretrained(weights, freeze=False).weight.requires_grad


def test_conv_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(RuntimeError, match="expected input\\[2, 2, 5, 5\\] to have 3 channels"):
        nn.Conv2d(3, 4, 3)(symgrad.ones(2, 2, 5, 5))


def test_conv_default_init_is_torchs_range():
    symgrad.manual_seed(0)
    layer = nn.Conv2d(8, 64, 3)
    bound = 1 / math.sqrt(8 * 3 * 3)
    for values in (layer.weight, layer.bias):
        assert values.abs().max().item() <= bound
    assert layer.weight.abs().max().item() > 0.95 * bound
    assert layer.weight.var().item() == pytest.approx(bound**2 / 3, rel=0.05)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize(
    "options, shape",
    [
        (dict(), (5, 2, 3)),
        (dict(num_layers=2, batch_first=True), (2, 5, 3)),
        (dict(bidirectional=True), (4, 2, 3)),
        (dict(num_layers=2, bidirectional=True, bias=False), (4, 3)),
    ],
)
def test_recurrent_layers_match_torch(kind, options, shape):
    ours, theirs = getattr(nn, kind)(3, 4, **options), getattr(torch.nn, kind)(3, 4, **options)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_weights(ours, theirs)
    symgrad.manual_seed(0)
    x = symgrad.randn(*shape, requires_grad=True)
    x_torch = _to_torch(x).requires_grad_(True)
    out, state = ours(x)
    expected, expected_state = theirs(x_torch)
    if kind != "LSTM":
        state, expected_state = (state,), (expected_state,)
    pairs = [(out, expected), *zip(state, expected_state, strict=True)]
    for a, b in pairs:
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-6)
    rng = np.random.default_rng(0)
    cotangents = [rng.standard_normal(tuple(b.shape)).astype(np.float32) for _, b in pairs]
    sum(
        (a * symgrad.tensor(u)).sum() for (a, _), u in zip(pairs, cotangents, strict=True)
    ).backward()
    sum((b * torch.tensor(u)).sum() for (_, b), u in zip(pairs, cotangents, strict=True)).backward()
    np.testing.assert_allclose(x.grad.numpy(), x_torch.grad.numpy(), atol=1e-5)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(), atol=1e-5)


def test_rnn_relu_and_its_errors():
    ours, theirs = nn.RNN(3, 4, nonlinearity="relu"), torch.nn.RNN(3, 4, nonlinearity="relu")
    _copy_weights(ours, theirs)
    x = symgrad.randn(5, 3)
    np.testing.assert_allclose(
        ours(x)[0].detach().numpy(), theirs(_to_torch(x))[0].detach().numpy(), atol=1e-6
    )
    with pytest.raises(ValueError, match="Unknown nonlinearity 'x'. Select from 'tanh' or 'relu'."):
        nn.RNN(3, 4, nonlinearity="x")
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size"):
        ours(symgrad.randn(5, 2))


def test_lstm_initial_state_and_init_range():
    layer = nn.LSTM(2, 5)
    assert max(p.abs().max().item() for p in layer.parameters()) <= 1 / math.sqrt(5)
    h0, c0 = symgrad.randn(1, 3, 5), symgrad.randn(1, 3, 5)
    theirs = torch.nn.LSTM(2, 5)
    _copy_weights(layer, theirs)
    x = symgrad.randn(4, 3, 2)
    out, _ = layer(x, (h0, c0))
    expected, _ = theirs(_to_torch(x), (_to_torch(h0), _to_torch(c0)))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-6)


def test_batch_norm_node_is_torchs_in_both_modes():
    layer = nn.BatchNorm1d(3)
    x = symgrad.randn(4, 3, requires_grad=True)
    assert layer(x).grad_fn.name() == "NativeBatchNormBackward0"
    layer.eval()
    assert layer(x).grad_fn.name() == "NativeBatchNormBackward0"
    assert nn.LayerNorm(3)(x).grad_fn.name() == "NativeLayerNormBackward0"
