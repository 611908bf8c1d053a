"""Peer compilers for benchmarks/run.py --peers: jax.jit and torch.compile on the same workloads.

Each peer is optional: a package that does not import gives a peer without a ``module``, which
run.py prints as "not installed" and gives no column. A peer times one gradient step on arguments
converted to its own arrays once, ahead of the timing:

- ``jax.jit``: ``jax.jit(jax.value_and_grad(loss, argnums))`` of a jax spelling of the workload
  (below), results waited for with ``jax.block_until_ready``.
- ``torch.compile``: the workload's own loss run on torch (the workloads are PyTorch programs:
  ``torch_loss`` rebinds their ``symgrad`` and ``F`` names to ``torch`` and
  ``torch.nn.functional``), compiled with ``torch.compile(dynamic=False)`` (inductor, CPU), then
  the loss, ``.backward()`` and the gradients read from ``.grad``, as a training step does.

``bind_torch(workload, args, compiled=False)`` gives the same step on eager torch: the tests check
the torch spellings with it, without paying inductor's compile time for each workload.
"""

from __future__ import annotations

import os
import types

import numpy as np
import workloads

try:
    import jax
    import jax.numpy as jnp
except ImportError:
    jax = jnp = None

try:
    import torch
except ImportError:
    torch = None


def _argnums(workload) -> tuple[int, ...]:
    return workload.argnums if isinstance(workload.argnums, tuple) else (workload.argnums,)


# -------------------------------------------------------------------- the jax spellings
def _cross_entropy(logits, labels):
    """F.cross_entropy's mean over the batch, in jax."""
    picked = jnp.take_along_axis(jax.nn.log_softmax(logits, axis=1), labels[:, None], axis=1)
    return -picked.mean()


def _jax_tutorial(x):
    y = x + 2
    return (y * y * 3).mean()


def _jax_quadratic(x):
    return (x * x + 2 * x + 1).sum()


def _jax_logistic(w, b, X, y):
    # F.binary_cross_entropy_with_logits, in the stable form the numpy version writes out
    z = X @ w + b
    return (jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z)))).mean()


def _jax_logistic_textbook(w, b, X, y):
    p = jax.nn.sigmoid(X @ w + b)
    return -(y * jnp.log(p) + (1 - y) * jnp.log(1 - p)).mean()


def _jax_softmax_cross_entropy(W, X, labels):
    onehot = jax.nn.one_hot(labels, W.shape[1], dtype=W.dtype)
    return -(onehot * jnp.log(jax.nn.softmax(X @ W, axis=1))).sum(1).mean()


def _jax_cross_entropy(W, X, labels):
    return _cross_entropy(X @ W, labels)


def _jax_mlp(W1, b1, W2, b2, x, labels):
    hidden = jnp.tanh(x @ W1 + b1)
    return _cross_entropy(hidden @ W2 + b2, labels)


def _jax_mix(x):
    return (jnp.tanh(x) * jnp.sin(x) * jnp.exp(-x * x) + jnp.log1p(x * x)).sum()


def _jax_rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _jax_chain(x):
    for _ in range(workloads.CHAIN // 4):
        x = jnp.tanh(jnp.sin(x) * 0.9 + 0.1) * 1.1
    return x.sum()


JAX_LOSSES = {
    workloads.tutorial: _jax_tutorial,
    workloads.quadratic: _jax_quadratic,
    workloads.logistic: _jax_logistic,
    workloads.logistic_textbook: _jax_logistic_textbook,
    workloads.softmax_cross_entropy: _jax_softmax_cross_entropy,
    workloads.cross_entropy: _jax_cross_entropy,
    workloads.mlp: _jax_mlp,
    workloads.mix: _jax_mix,
    workloads.rosenbrock: _jax_rosenbrock,
    workloads.chain: _jax_chain,
}


def jax_loss(workload):
    """The workload's loss written with jax.numpy, or None where there is none."""
    return JAX_LOSSES.get(workload.loss)


def bind_jax(workload, args):
    """``(call, value_and_grad)`` for jax: ``call()`` runs one step on the arguments moved to
    jax once; ``value_and_grad(*numpy_args)`` returns numpy values for the agreement check."""
    loss = jax_loss(workload)
    if loss is None:
        return None
    step = jax.jit(jax.value_and_grad(loss, argnums=_argnums(workload)))
    device_args = [jnp.asarray(a) for a in args]

    def call():
        return jax.block_until_ready(step(*device_args))

    def value_and_grad(*numpy_args):
        value, grads = step(*(jnp.asarray(a) for a in numpy_args))
        return np.asarray(value), tuple(np.asarray(g) for g in grads)

    return call, value_and_grad


# ------------------------------------------------------------------ the torch spellings
def torch_loss(workload):
    """The workload's own loss function with ``symgrad`` and ``F`` bound to torch's."""
    loss = workload.loss
    namespace = {**loss.__globals__, "symgrad": torch, "F": torch.nn.functional}
    return types.FunctionType(
        loss.__code__, namespace, loss.__name__, loss.__defaults__, loss.__closure__
    )


def bind_torch(workload, args, compiled: bool = True):
    """``(call, value_and_grad)`` for torch: ``call()`` runs the loss and ``.backward()`` on
    tensors that share the numpy arguments' memory; ``value_and_grad`` returns numpy values."""
    loss = torch_loss(workload)
    if compiled:
        # dynamic=False: Rosenbrock n=10 and n=1e5 share one loss, and a second shape would
        # otherwise recompile it with symbolic sizes
        loss = torch.compile(loss, dynamic=False)
    argnums = _argnums(workload)

    def step(numpy_args):
        tensors = [torch.from_numpy(np.asarray(a)) for a in numpy_args]
        differentiated = [tensors[i].requires_grad_(True) for i in argnums]

        def call():
            for tensor in differentiated:
                tensor.grad = None
            value = loss(*tensors)
            value.backward()
            return value, [tensor.grad for tensor in differentiated]

        return call

    def value_and_grad(*numpy_args):
        value, grads = step(numpy_args)()
        return value.detach().numpy(), tuple(g.numpy() for g in grads)

    return step(args), value_and_grad


class Peer:
    """One peer column of run.py: its title, its package (None when that does not import) and
    its ``bind(workload, args)``."""

    def __init__(self, title: str, name: str, module, bind):
        self.title = title
        self.module = module
        self.bind = bind
        self.description = (
            f"{title}: {name} {module.__version__}" if module else f"{title}: {name} not installed"
        )


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS")


def thread_settings() -> str:
    """The peers' thread settings, printed with the table: on a machine with few cores the
    thread pools of torch (OpenMP), numpy (OpenBLAS) and XLA spin and starve each other in one
    process, so the measured runs pin them to one thread each (benchmarks/run.py's docstring)."""
    settings = [f"{name}={os.environ[name]}" for name in THREAD_VARIABLES if name in os.environ]
    if torch is not None:
        settings.append(f"torch.get_num_threads()={torch.get_num_threads()}")
    return ", ".join(settings)


PEERS = [
    Peer("jax.jit", "jax", jax, bind_jax),
    Peer("torch.compile", "torch", torch, bind_torch),
]
