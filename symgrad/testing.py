"""Gradient checking: reverse-mode gradients against central finite differences.

``check_grads`` follows HIPS autograd and JAX: for a random input direction ``v`` and a random
output cotangent ``u``, ``u . (f(x + eps v) - f(x - eps v)) / (2 eps)`` must equal
``sum_i <vjp(u)_i, v_i>``; higher orders repeat the check on the gradient function itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .autograd import engine
from .tensor import Tensor


class GradientCheckError(AssertionError):
    """A gradient disagreed with finite differences; the message names the input and order."""


def _as_tensors(args) -> list[Tensor]:
    from .creation import tensor

    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a.detach().to(a.dtype))
        else:
            out.append(tensor(np.asarray(a, dtype=np.float64)))
    return out


def _flat_outputs(result) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    return [r for r in result if isinstance(r, Tensor)]


def check_grads(
    fn: Callable[..., Tensor],
    args: Sequence,
    order: int = 2,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
) -> None:
    """Check the gradients of ``fn`` at ``args`` up to ``order``, in float64.

    Inputs of floating dtype are differentiated; others (indices, masks) pass through.
    Raises ``GradientCheckError`` naming the input and the order that failed.

    >>> import symgrad
    >>> symgrad.testing.check_grads(lambda x: (x * x).sum(), [symgrad.randn(3).double()])
    """
    rng = np.random.default_rng(seed)
    inputs = _as_tensors(args)
    for t in inputs:
        if t.dtype.is_floating_point and t.dtype.name != "float64":
            raise ValueError(
                "check_grads needs float64 inputs (finite differences in float32 "
                "are too coarse to check anything)"
            )
    _check_order(fn, inputs, order, eps, rtol, atol, rng, level=1)


def _differentiable(inputs) -> list[int]:
    return [i for i, t in enumerate(inputs) if t.dtype.is_floating_point]


def _check_order(fn, inputs, order, eps, rtol, atol, rng, level):
    positions = _differentiable(inputs)
    if not positions:
        return
    leaves = [
        t.detach().requires_grad_(i in positions) if i in positions else t
        for i, t in enumerate(inputs)
    ]
    outputs = _flat_outputs(fn(*leaves))
    outputs = [o for o in outputs if o.dtype.is_floating_point]
    if not outputs:
        return
    cotangents = [Tensor._wrap(rng.standard_normal(o._data.shape)) for o in outputs]
    differentiable_outputs = [
        (o, u) for o, u in zip(outputs, cotangents, strict=True) if o._requires_grad
    ]
    if differentiable_outputs:
        grads = engine.grad(
            [o for o, _ in differentiable_outputs],
            [leaves[i] for i in positions],
            [u for _, u in differentiable_outputs],
            create_graph=False,
            allow_unused=True,
        )
    else:
        grads = [None] * len(positions)
    for slot, i in enumerate(positions):
        direction = rng.standard_normal(inputs[i]._data.shape)
        numeric = _directional_difference(fn, inputs, i, direction, cotangents, eps)
        g = grads[slot]
        analytic = 0.0 if g is None else float(np.sum(g._data * direction))
        if not np.isclose(analytic, numeric, rtol=rtol, atol=atol * max(1.0, abs(numeric))):
            raise GradientCheckError(
                f"order {level} gradient of input {i} disagrees with finite differences: "
                f"reverse mode gives {analytic!r}, central differences give {numeric!r}"
            )
    if order > 1:

        def gradient_fn(*xs):
            live = list(xs)
            outs = [o for o in _flat_outputs(fn(*live)) if o.dtype.is_floating_point]
            pairs = [(o, u) for o, u in zip(outs, cotangents, strict=True) if o._requires_grad]
            if not pairs:
                return []
            wrt = [live[k] for k in _differentiable(live)]
            gs = engine.grad(
                [o for o, _ in pairs],
                wrt,
                [u for _, u in pairs],
                create_graph=True,
                allow_unused=True,
            )
            return [g for g in gs if g is not None]

        _check_order(gradient_fn, inputs, order - 1, eps, rtol, atol, rng, level + 1)


def _directional_difference(fn, inputs, index, direction, cotangents, eps) -> float:
    """u . (f(x + eps v) - f(x - eps v)) / (2 eps), with grad mode off."""
    from .autograd import grad_mode

    def evaluate(sign):
        shifted = list(inputs)
        shifted[index] = Tensor._wrap(inputs[index]._data + sign * eps * direction)
        with grad_mode.enable_grad():
            leaves = [
                t.detach().requires_grad_(True) if t.dtype.is_floating_point else t for t in shifted
            ]
            outs = [o for o in _flat_outputs(fn(*leaves)) if o.dtype.is_floating_point]
        return sum(float(np.sum(o._data * u._data)) for o, u in zip(outs, cotangents, strict=True))

    return (evaluate(+1) - evaluate(-1)) / (2 * eps)
