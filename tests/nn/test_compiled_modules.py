"""Modules and the compiler: compiled == eager for values and for the gradients of the
module's parameters, whether a compiled function calls a module it captures or
``symgrad.compile(model)`` compiles the module itself."""

import numpy as np
import pytest

import symgrad
import symgrad.nn.functional as F
from symgrad import nn


def _grads(model):
    return [p.grad.numpy().copy() for p in model.parameters()]


def _assert_same(a, b):
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


MODELS = [
    lambda: nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)),
    lambda: nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.GELU(), nn.Linear(4, 2)),
    lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4).eval(), nn.SiLU(), nn.Linear(4, 2)),
    lambda: nn.Sequential(nn.Linear(3, 4, bias=False), nn.LeakyReLU(0.1), nn.Linear(4, 2)),
    lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False), nn.ELU()),
    lambda: nn.Sequential(nn.Linear(3, 4), nn.Softplus(), nn.Linear(4, 3), nn.LogSoftmax(1)),
]


@pytest.mark.parametrize("make", MODELS)
def test_a_compiled_function_calling_a_module_differentiates_its_parameters(make):
    symgrad.manual_seed(0)
    model = make()
    x, target = symgrad.randn(6, 3), symgrad.tensor([0, 1, 1, 0, 1, 0])

    def loss_fn(x, target):
        return F.cross_entropy(model(x), target)

    eager = loss_fn(x, target)
    eager.backward()
    expected = _grads(model)
    model.zero_grad()
    compiled = symgrad.compile(loss_fn)(x, target)
    compiled.backward()
    assert compiled.item() == pytest.approx(eager.item(), rel=1e-6)
    _assert_same(_grads(model), expected)


def test_embedding_model_compiles():
    symgrad.manual_seed(0)
    table = nn.Embedding(5, 3, padding_idx=0)
    head = nn.Linear(3, 5)

    @symgrad.compile
    def loss_fn(tokens, targets):
        return F.cross_entropy(head(table(tokens)), targets)

    tokens, targets = symgrad.tensor([0, 1, 2, 4, 2]), symgrad.tensor([1, 2, 3, 0, 0])
    loss_fn(tokens, targets).backward()
    compiled = [table.weight.grad.numpy().copy(), head.weight.grad.numpy().copy()]
    table.zero_grad()
    head.zero_grad()
    F.cross_entropy(head(table(tokens)), targets).backward()
    _assert_same(compiled, [table.weight.grad.numpy(), head.weight.grad.numpy()])
    assert (table.weight.grad[0] == 0).all()
    assert "table.weight" in loss_fn.source(tokens, targets).splitlines()[0]


def test_compile_of_a_module_trains_exactly_as_eager():
    def train(compiled: bool) -> list[float]:
        symgrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
        run = symgrad.compile(model) if compiled else model
        optimizer = symgrad.optim.SGD(run.parameters(), lr=0.1)
        x = symgrad.randn(32, 2)
        y = (x[:, :1] * x[:, 1:]).detach()
        losses = []
        for _ in range(5):
            optimizer.zero_grad()
            loss = F.mse_loss(run(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        if compiled:
            assert run.cache_info().misses == 1  # in-place parameter updates need no recompile
        return losses

    eager, compiled = train(False), train(True)
    assert compiled == pytest.approx(eager, rel=1e-6)
    assert compiled[-1] < compiled[0]


def test_compiled_module_is_a_module_around_the_original():
    model = nn.Sequential(nn.Linear(3, 2))
    compiled = symgrad.compile(model)
    assert isinstance(compiled, nn.Module) and compiled._orig_mod is model
    assert list(compiled.state_dict()) == ["_orig_mod.0.weight", "_orig_mod.0.bias"]
    assert [p for p in compiled.parameters()] == [p for p in model.parameters()]
    x = symgrad.randn(4, 3)
    assert compiled(x).grad_fn.name() == "CompiledFunctionBackward"
    header = compiled.source(x).splitlines()[0]
    assert header == (
        "# symgrad: Sequential(input: f32[4,3], self.0.weight: f32[2,3], self.0.bias: f32[2])"
    )


def test_train_and_eval_switch_the_compiled_code():
    symgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    compiled = symgrad.compile(model)
    x = symgrad.randn(3, 4)
    model.eval()
    np.testing.assert_allclose(compiled(x).detach().numpy(), model(x).detach().numpy(), 1e-6)
    model.train()
    symgrad.manual_seed(1)
    eager = model(x)
    symgrad.manual_seed(1)
    trained = compiled(x)
    # the same generator state draws the same mask in eager and compiled code
    np.testing.assert_allclose(trained.detach().numpy(), eager.detach().numpy(), 1e-6)
    assert (trained == 0).any()
    assert len(compiled._by_mode) == 2


def test_casting_the_module_recompiles_for_the_new_dtype():
    model = nn.Linear(3, 1)
    compiled = symgrad.compile(model)
    compiled(symgrad.randn(2, 3))
    model.double()
    out = compiled(symgrad.randn(2, 3, dtype=symgrad.float64))
    assert out.dtype is symgrad.float64


def test_batch_norm_in_training_mode_refuses_to_compile_clearly():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    compiled = symgrad.compile(model)
    with pytest.raises(RuntimeError, match="BatchNorm1d cannot update its running statistics"):
        compiled(symgrad.randn(5, 3))
    assert (model[1].running_mean == 0).all() and model[1].num_batches_tracked.item() == 0
    model.eval()
    x = symgrad.randn(5, 3)
    np.testing.assert_allclose(compiled(x).detach().numpy(), model(x).detach().numpy(), 1e-6)


def test_a_small_convolutional_network_compiles_to_eager_values_and_gradients():
    symgrad.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.AvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4 * 3 * 3, 3),
    )
    x, target = symgrad.randn(5, 1, 6, 6), symgrad.tensor([0, 2, 1, 1, 0])
    F.cross_entropy(model(x), target).backward()
    expected = _grads(model)
    model.zero_grad()
    compiled = symgrad.compile(model)
    F.cross_entropy(compiled(x), target).backward()
    _assert_same(_grads(model), expected)


def test_attributes_of_the_original_module_are_reachable_through_the_compiled_one():
    model = nn.Sequential(nn.Linear(3, 2))
    compiled = symgrad.compile(model)
    assert compiled._modules["_orig_mod"] is model
    model.scale = 2.0
    assert compiled.scale == 2.0
    with pytest.raises(AttributeError, match="'Sequential' object has no attribute 'nothing'"):
        compiled.nothing  # noqa: B018


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(symgrad.tensor([2.0, 3.0]))

    def forward(self, features):
        return (features * self.scale).sum()


def test_generated_code_of_a_custom_module_points_at_its_forward():
    compiled = symgrad.compile(Scaled())
    x = symgrad.ones(2)
    lines = compiled.source(x).splitlines()
    assert lines[0] == "# symgrad: Scaled(features: f32[2], self.scale: f32[2])"
    assert lines[1].startswith("# Generated by symgrad") and "test_compiled_modules.py:" in lines[1]
    assert any("return (features * self.scale).sum()" in line for line in lines)
    assert compiled(x).item() == 5.0


def test_an_lstm_unrolled_in_python_compiles_to_eager_values_and_gradients():
    symgrad.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = symgrad.randn(5, 2, 3)

    def last_hidden_sum(x):
        out, (h, c) = lstm(x)
        return out.sum() + h.square().sum()

    last_hidden_sum(x).backward()
    expected = _grads(lstm)
    lstm.zero_grad()
    compiled = symgrad.compile(last_hidden_sum)
    value = compiled(x)
    value.backward()
    assert value.item() == pytest.approx(last_hidden_sum(x).item(), rel=1e-6)
    _assert_same(_grads(lstm), expected)
