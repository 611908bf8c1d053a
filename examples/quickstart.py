"""The PyTorch autograd tutorial, unchanged except for the import.

Run: python examples/quickstart.py
"""

import symgrad as torch

# A leaf tensor that records every operation on it.
x = torch.ones(2, 2, requires_grad=True)
print(x)

# An operation: y has a grad_fn because it was computed from x.
y = x + 2
print(y)
print(y.grad_fn)

z = y * y * 3
out = z.mean()
print(z, out)

# requires_grad_ changes the flag in place.
a = torch.randn(2, 2)
a = (a * 3) / (a - 1)
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)

# Backpropagation: d(out)/dx = 3/2 (x + 2) = 4.5 everywhere.
out.backward()
print(x.grad)

# Vector-Jacobian product: y is not a scalar, so backward needs a gradient argument.
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * 2
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)

# Stop tracking with no_grad, or get a tracking-free copy with detach.
print(x.requires_grad)
print((x**2).requires_grad)
with torch.no_grad():
    print((x**2).requires_grad)
print(x.detach().requires_grad)

# Higher order: d/dx (x*x + 2x + 1) = 2x + 2, and its derivative is 2.
x = torch.tensor([3.0], requires_grad=True)
f = x * x + 2 * x + 1
(df,) = torch.autograd.grad(f, x, create_graph=True)
print(df)
(d2f,) = torch.autograd.grad(df, x)
print(d2f)
