"""The programs of PyTorch's "Learning PyTorch with Examples", written again for the tests.

Each program has the structure of the tutorial's script (polynomial fit with tensors, with
autograd, with a custom Function, with ``nn.Sequential`` + ``MSELoss(reduction='sum')``, with
``optim.RMSprop``, with a custom ``nn.Module``, the dynamic net, and the two-layer net with
``nn`` + ``optim``) and takes the library as its ``torch`` argument, so the same code runs
with ``import torch`` and with ``import symgrad as torch``. Initial values come from numpy,
not from the library's random generator, so both libraries start from the same numbers and
the trajectories can be compared. Each returns the losses it would print.

Run with a Python that has torch installed, from the repository root, to record torch's
trajectories into ``learning_pytorch.json``:

    python tests/data/learning_pytorch.py
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).with_name("learning_pytorch.json")


def _initial(count: int, seed: int) -> list[float]:
    return [float(v) for v in np.random.default_rng(seed).normal(size=count)]


def _data(torch):
    x = torch.linspace(-math.pi, math.pi, 2000)
    return x, torch.sin(x)


def polynomial_tensor(torch, steps=2000):
    """Gradients written by hand with tensor operations."""
    x, y = _data(torch)
    a, b, c, d = (torch.tensor(v) for v in _initial(4, 1))
    learning_rate = 1e-6
    losses = []
    for t in range(steps):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum().item()
        if t % 100 == 99:
            losses.append(loss)
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x**2).sum()
        grad_d = (grad_y_pred * x**3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    return losses


def polynomial_autograd(torch, steps=2000):
    """``requires_grad`` leaves, ``loss.backward()``, updates under ``no_grad``."""
    x, y = _data(torch)
    a, b, c, d = (torch.tensor(v, requires_grad=True) for v in _initial(4, 2))
    learning_rate = 1e-6
    losses = []
    for t in range(steps):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
    return losses


def polynomial_custom_function(torch, steps=2000):
    """A custom ``autograd.Function``: the Legendre polynomial P3 and its derivative."""

    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    x, y = _data(torch)
    dtype = torch.float
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    losses = []
    for t in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
    return losses


def _polynomial_features(torch):
    x, y = _data(torch)
    p = torch.tensor([1, 2, 3])
    return x.unsqueeze(-1).pow(p), y


def _set_linear(torch, layer, seed):
    weight, bias = np.split(np.array(_initial(4, seed), dtype=np.float32) * 0.5, [3])
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight.reshape(1, 3)))
        layer.bias.copy_(torch.tensor(bias))


def polynomial_nn(torch, steps=2000):
    """``nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))`` and ``nn.MSELoss(reduction='sum')``,
    updated by hand through ``model.parameters()``."""
    xx, y = _polynomial_features(torch)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    _set_linear(torch, model[0], 3)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    learning_rate = 1e-6
    losses = []
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    linear = model[0]
    losses.append(linear.bias.item())
    losses.extend(linear.weight[:, i].item() for i in range(3))
    return losses


def polynomial_optim(torch, steps=2000):
    """The same model trained by ``optim.RMSprop``."""
    xx, y = _polynomial_features(torch)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    _set_linear(torch, model[0], 4)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    losses = []
    for t in range(steps):
        loss = loss_fn(model(xx), y)
        if t % 100 == 99:
            losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses


def polynomial_module(torch, steps=2000):
    """A custom ``nn.Module`` holding four ``nn.Parameter`` scalars, trained by SGD."""

    class Polynomial3(torch.nn.Module):
        def __init__(self, values):
            super().__init__()
            self.a, self.b, self.c, self.d = (
                torch.nn.Parameter(torch.tensor(v, dtype=torch.float32)) for v in values
            )

        def forward(self, x):
            return self.a + self.b * x + self.c * x**2 + self.d * x**3

    x, y = _data(torch)
    model = Polynomial3(_initial(4, 5))
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    losses = []
    for t in range(steps):
        loss = criterion(model(x), y)
        if t % 100 == 99:
            losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses


def dynamic_net(torch, steps=3000):
    """Control flow and weight sharing: 4 or 5 orders chosen at random each forward pass,
    the fifth parameter reused; SGD with momentum."""

    class DynamicNet(torch.nn.Module):
        def __init__(self, values):
            super().__init__()
            self.a, self.b, self.c, self.d, self.e = (
                torch.nn.Parameter(torch.tensor(v, dtype=torch.float32)) for v in values
            )

        def forward(self, x):
            y = self.a + self.b * x + self.c * x**2 + self.d * x**3
            for exp in range(4, choices.randint(4, 6)):
                y = y + self.e * x**exp
            return y

    choices = random.Random(6)
    x, y = _data(torch)
    model = DynamicNet(_initial(5, 6))
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    losses = []
    for t in range(steps):
        loss = criterion(model(x), y)
        if t % 200 == 199:
            losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses


def two_layer_net(torch, steps=200):
    """A custom two-layer ``nn.Module`` (Linear, ReLU, Linear) on random data, with
    ``MSELoss(reduction='sum')`` and ``optim.Adam``."""

    class TwoLayerNet(torch.nn.Module):
        def __init__(self, d_in, hidden, d_out):
            super().__init__()
            self.linear1 = torch.nn.Linear(d_in, hidden)
            self.linear2 = torch.nn.Linear(hidden, d_out)

        def forward(self, x):
            return self.linear2(self.linear1(x).clamp(min=0))

    rng = np.random.default_rng(7)
    n, d_in, hidden, d_out = 64, 100, 50, 10
    x = torch.tensor(rng.normal(size=(n, d_in)).astype(np.float32))
    y = torch.tensor(rng.normal(size=(n, d_out)).astype(np.float32))
    model = TwoLayerNet(d_in, hidden, d_out)
    with torch.no_grad():
        for name, param in model.named_parameters():
            bound = 1 / math.sqrt(param.shape[-1] if name.endswith("weight") else hidden)
            param.copy_(torch.tensor(rng.uniform(-bound, bound, size=tuple(param.shape))))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for t in range(steps):
        loss = loss_fn(model(x), y)
        if t % 10 == 9:
            losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses


PROGRAMS = {
    program.__name__: program
    for program in (
        polynomial_tensor,
        polynomial_autograd,
        polynomial_custom_function,
        polynomial_nn,
        polynomial_optim,
        polynomial_module,
        dynamic_net,
        two_layer_net,
    )
}


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    OUTPUT.write_text(
        json.dumps({name: program(torch) for name, program in PROGRAMS.items()}, indent=1) + "\n"
    )
    print(f"wrote {OUTPUT}")
