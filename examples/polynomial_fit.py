"""Fit y = sin(x) with a cubic a + b x + c x^2 + d x^3, by gradient descent written out by hand.

This is the "Learning PyTorch with Examples" tutorial (tensors and autograd), unchanged except
for the import and the seed: autograd computes the gradients, and the update runs under
``no_grad`` so that it is not itself recorded.

Run: python examples/polynomial_fit.py
"""

import math

import symgrad as torch

torch.manual_seed(0)
dtype = torch.float

# Inputs and targets: 2000 points of sin on [-pi, pi].
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)

# Random weights; requires_grad=True asks autograd to compute their gradients.
a = torch.randn((), dtype=dtype, requires_grad=True)
b = torch.randn((), dtype=dtype, requires_grad=True)
c = torch.randn((), dtype=dtype, requires_grad=True)
d = torch.randn((), dtype=dtype, requires_grad=True)

learning_rate = 1e-6
for t in range(2000):
    # Forward pass: the prediction and the squared-error loss (a scalar tensor).
    y_pred = a + b * x + c * x**2 + d * x**3
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())

    # Backward pass: a.grad, b.grad, c.grad and d.grad now hold d(loss)/d(weight).
    loss.backward()

    # Update the weights in place; no_grad keeps the update out of the graph.
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad

        # Gradients accumulate: reset them before the next backward pass.
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

print(f"Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3")
