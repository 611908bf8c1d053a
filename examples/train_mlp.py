"""Train a small MLP on two interleaved spirals with Adam and cross-entropy.

The data come from numpy; the model is three weight matrices and biases used with ``@`` and
``tanh``, and the loss is ``F.cross_entropy``, written the way a PyTorch user would write them,
with ``import symgrad as torch``.

Run: python examples/train_mlp.py
"""

import math

import numpy as np

import symgrad as torch
import symgrad.nn.functional as F


def two_spirals(points_per_class: int, noise: float, rng: np.random.Generator):
    """Two spirals of two turns around the origin, one per class, scaled into [-1, 1]^2."""
    points, labels = [], []
    for label, sign in ((0, 1.0), (1, -1.0)):
        # sqrt spreads the points evenly along the spiral rather than bunching them inside
        angle = np.sqrt(rng.random(points_per_class)) * 2 * 2 * math.pi
        xy = sign * np.stack([-np.cos(angle) * angle, np.sin(angle) * angle], axis=1)
        points.append(xy + noise * rng.standard_normal(xy.shape))
        labels.append(np.full(points_per_class, label))
    points = np.concatenate(points)
    return points / np.abs(points).max(), np.concatenate(labels)


def linear_parameters(fan_in: int, fan_out: int):
    """A weight and a bias with torch.nn.Linear's scale, 1/sqrt(fan_in)."""
    bound = 1 / math.sqrt(fan_in)
    weight = ((torch.rand(fan_in, fan_out) * 2 - 1) * bound).requires_grad_()
    bias = ((torch.rand(fan_out) * 2 - 1) * bound).requires_grad_()
    return weight, bias


torch.manual_seed(0)
points, labels = two_spirals(200, noise=0.3, rng=np.random.default_rng(0))
x = torch.from_numpy(points.astype(np.float32))
y = torch.from_numpy(labels)

hidden = 64
w1, b1 = linear_parameters(2, hidden)
w2, b2 = linear_parameters(hidden, hidden)
w3, b3 = linear_parameters(hidden, 2)
parameters = [w1, b1, w2, b2, w3, b3]


def model(inputs):
    h = torch.tanh(inputs @ w1 + b1)
    h = torch.tanh(h @ w2 + b2)
    return h @ w3 + b3


optimizer = torch.optim.Adam(parameters, lr=0.01)
for epoch in range(1, 301):
    optimizer.zero_grad()
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    optimizer.step()
    if epoch % 25 == 0:
        with torch.no_grad():
            accuracy = (logits.argmax(dim=1) == y).sum().item() / len(y)
        print(f"epoch {epoch:4d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}")

with torch.no_grad():
    accuracy = (model(x).argmax(dim=1) == y).sum().item() / len(y)
print(f"final train accuracy: {accuracy:.3f}")
