"""Train a small MLP on two interleaved spirals with Adam and cross-entropy.

The data come from numpy; the model is an ``nn.Sequential`` of ``nn.Linear`` and ``nn.Tanh``
layers, the loss ``nn.CrossEntropyLoss`` and the optimizer ``optim.Adam``, written the way a
PyTorch user writes them, with ``import symgrad as torch``.

Run: python examples/train_mlp.py
"""

import math

import numpy as np

import symgrad as torch
import symgrad.nn as nn


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


torch.manual_seed(0)
points, labels = two_spirals(200, noise=0.3, rng=np.random.default_rng(0))
x = torch.from_numpy(points.astype(np.float32))
y = torch.from_numpy(labels)

hidden = 64
model = nn.Sequential(
    nn.Linear(2, hidden),
    nn.Tanh(),
    nn.Linear(hidden, hidden),
    nn.Tanh(),
    nn.Linear(hidden, 2),
)
print(model)
loss_fn = nn.CrossEntropyLoss()

optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for epoch in range(1, 301):
    optimizer.zero_grad()
    logits = model(x)
    loss = loss_fn(logits, y)
    loss.backward()
    optimizer.step()
    if epoch % 25 == 0:
        with torch.no_grad():
            accuracy = (logits.argmax(dim=1) == y).sum().item() / len(y)
        print(f"epoch {epoch:4d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}")

with torch.no_grad():
    accuracy = (model(x).argmax(dim=1) == y).sum().item() / len(y)
print(f"final train accuracy: {accuracy:.3f}")
