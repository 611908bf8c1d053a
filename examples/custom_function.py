"""A custom autograd Function: the Legendre polynomial P3, with its own backward.

From the "Learning PyTorch with Examples" tutorial (defining new autograd functions),
unchanged except for the import. We fit y = sin(x) with y = a + b P3(c + d x),
where P3(x) = (5 x^3 - 3 x) / 2 and its derivative 3/2 (5 x^2 - 1) are written by hand.

Run: python examples/custom_function.py
"""

import math

import symgrad as torch


class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = (5 x^3 - 3 x) / 2, differentiated by hand instead of by autograd."""

    @staticmethod
    def forward(ctx, input):
        # ctx stores what backward needs; here, the input itself.
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        # Chain rule: the incoming gradient times dP3/dx.
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


dtype = torch.float

x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)

# The weights must start close enough to the answer for this model to converge.
a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)

# The hand-written backward agrees with finite differences (checked in float64).
point = torch.tensor([-0.9, 0.2, 1.3], dtype=torch.double, requires_grad=True)
print("gradcheck:", torch.autograd.gradcheck(LegendrePolynomial3.apply, (point,)))

learning_rate = 5e-6
for t in range(2000):
    # Apply the Function with .apply; we alias it as P3.
    P3 = LegendrePolynomial3.apply

    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())

    loss.backward()

    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad

        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

print(f"Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)")
