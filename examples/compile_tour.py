"""A tour of symgrad.compile: the generated code, what the compiler did, and why it recompiled.

Run: python examples/compile_tour.py
"""

import numpy as np

import symgrad
import symgrad.nn.functional as F

rng = np.random.default_rng(0)


# 1. Logistic regression: compile the loss, read the code it generated.
@symgrad.compile
def logistic_loss(w, b, X, y):
    z = X @ w + b
    return F.binary_cross_entropy_with_logits(z, y)


X = symgrad.tensor(rng.standard_normal((1000, 100)), dtype=symgrad.float32)
y = symgrad.tensor(rng.random(1000) < 0.5, dtype=symgrad.float32)
w = symgrad.zeros(100, requires_grad=True)
b = symgrad.zeros((), requires_grad=True)

loss = logistic_loss(w, b, X, y)
print("loss:", loss)
loss.backward()  # runs the generated backward
print("d loss / d b:", b.grad)
print()
print(logistic_loss.source(w, b, X, y))
print(logistic_loss.explain(w, b, X, y))
print()

# 2. An MLP trained with the fused forward+backward of value_and_grad.
params = {
    "W1": rng.standard_normal((784, 256)).astype(np.float32) * np.float32(0.05),
    "b1": np.zeros(256, np.float32),
    "W2": rng.standard_normal((256, 10)).astype(np.float32) * np.float32(0.05),
    "b2": np.zeros(10, np.float32),
}


def mlp_loss(params, images, labels):
    hidden = (images @ params["W1"] + params["b1"]).tanh()
    return F.cross_entropy(hidden @ params["W2"] + params["b2"], labels)


step = symgrad.value_and_grad(mlp_loss)
images = rng.standard_normal((128, 784)).astype(np.float32)
labels = rng.integers(0, 10, 128)
for iteration in range(3):
    value, grads = step(params, images, labels)
    params = {k: v - np.float32(0.5) * grads[k] for k, v in params.items()}
    print(f"MLP step {iteration}: loss {float(value):.4f}")
print(step.explain(params, images, labels))
print()

# 3. A new batch size compiles a new version; cache_info() says why.
step(params, images[:17], labels[:17])
print(step.cache_info())
