"""Regenerate ``nn_tutorial_trajectories.json``: loss trajectories of the nn examples of
PyTorch's "Learning PyTorch with Examples", as PyTorch computes them, for test_nn_tutorial.py.

Run with a Python that has torch installed, from the repository root:

    /work/venv/bin/python tests/data/make_nn_tutorial_trajectories.py

The programs below are written once, against a ``torch`` module passed in, so that the test
runs the very same code with ``symgrad`` in its place. Each starts from fixed initial values
(``initial_state``) loaded with ``load_state_dict``, because the two libraries' random
generators differ; everything after that is the tutorial's structure: the model, the loss,
the update, the loop. Each returns the loss every 100 steps and the final parameters.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).with_name("nn_tutorial_trajectories.json")


def initial_state(shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}


def _sine_data(torch):
    x = torch.linspace(-math.pi, math.pi, 2000)
    return x, torch.sin(x)


def _load(torch, model, state) -> None:
    model.load_state_dict({name: torch.tensor(value) for name, value in state.items()})


def _parameters(model) -> list[list[float]]:
    return [p.detach().numpy().reshape(-1).tolist() for p in model.parameters()]


def polynomial_sequential(torch, steps: int = 2000):
    """nn.Sequential(Linear(3, 1), Flatten(0, 1)), MSELoss(sum), a manual gradient step."""
    x, y = _sine_data(torch)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    _load(torch, model, initial_state({"0.weight": (1, 3), "0.bias": (1,)}, seed=1))
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
    return losses, _parameters(model)


def _polynomial3_class(torch):
    class Polynomial3(torch.nn.Module):
        """y = a + b x + c x^2 + d x^3, its coefficients as Parameters."""

        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.zeros(()))
            self.b = torch.nn.Parameter(torch.zeros(()))
            self.c = torch.nn.Parameter(torch.zeros(()))
            self.d = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return self.a + self.b * x + self.c * x**2 + self.d * x**3

        def string(self):
            return (
                f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + "
                f"{self.d.item()} x^3"
            )

    return Polynomial3


def polynomial_module(torch, steps: int = 2000):
    """A custom nn.Module, MSELoss(sum) and optim.SGD."""
    x, y = _sine_data(torch)
    model = _polynomial3_class(torch)()
    _load(torch, model, initial_state({name: () for name in "abcd"}, seed=2))
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    losses = []
    for t in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t % 100 == 99:
            losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, _parameters(model)


def _dynamic_net_class(torch):
    class DynamicNet(torch.nn.Module):
        """A polynomial of degree 3, 4 or 5, chosen at random on each forward: the fifth
        coefficient is reused for the 4th and 5th powers."""

        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.zeros(()))
            self.b = torch.nn.Parameter(torch.zeros(()))
            self.c = torch.nn.Parameter(torch.zeros(()))
            self.d = torch.nn.Parameter(torch.zeros(()))
            self.e = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            y = self.a + self.b * x + self.c * x**2 + self.d * x**3
            for exp in range(4, random.randint(4, 6)):
                y = y + self.e * x**exp
            return y

    return DynamicNet


def dynamic_net(torch, steps: int = 3000):
    """Control flow in forward: a random number of terms per step; SGD with momentum."""
    random.seed(0)
    x, y = _sine_data(torch)
    model = _dynamic_net_class(torch)()
    _load(torch, model, initial_state({name: () for name in "abcde"}, seed=3))
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    losses = []
    for t in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t % 100 == 99:
            losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, _parameters(model)


PROGRAMS = {
    "polynomial_sequential": polynomial_sequential,
    "polynomial_module": polynomial_module,
    "dynamic_net": dynamic_net,
}


def main() -> None:
    import torch

    document = {"torch": torch.__version__}
    for name, program in PROGRAMS.items():
        losses, parameters = program(torch)
        document[name] = {"losses": losses, "parameters": parameters}
    OUTPUT.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
