"""torch.optim.RMSprop, Adagrad and Adadelta: per-coordinate step sizes from squared gradients.

Each follows torch's single-tensor implementation operation by operation (the order of
operations decides the rounding).
"""

from __future__ import annotations

from typing import Any

from ..creation import full_like, zeros_like
from ..tensor import Tensor
from .optimizer import Optimizer, Params, _check_lr, _check_non_negative, _scalar, _step_tensor


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop.

    ``v = alpha * v + (1 - alpha) * g * g``; centered: ``m = lerp(m, g, 1 - alpha)`` and the
    denominator is ``sqrt(v - m * m) + eps``, else ``sqrt(v) + eps``; with momentum
    ``b = momentum * b + g / denom`` and ``p -= lr * b``, else ``p -= lr * g / denom``.
    ``foreach``, ``capturable`` and ``differentiable`` are accepted and change nothing.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_lr(lr)
        _check_non_negative(epsilon=eps, momentum=momentum, weight_decay=weight_decay)
        _check_non_negative(alpha=alpha)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("maximize", False)
        self._steps_as_tensors()

    def step(self, closure=None):
        """One RMSprop update of every parameter that has a gradient; returns the closure's
        loss."""
        return self._update_each(closure)

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor(0.0)
            state["square_avg"] = zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = zeros_like(p)
        lr, alpha = _scalar(group["lr"]), group["alpha"]
        grad = -p.grad if group["maximize"] else p.grad
        square_avg = state["square_avg"]
        state["step"].add_(1)
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(group["eps"])
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).addcdiv_(grad, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(grad, avg, value=-lr)


class Adagrad(Optimizer):
    """Adagrad, as torch.optim.Adagrad.

    At step t: ``clr = lr / (1 + (t - 1) * lr_decay)``; ``s += g * g`` (``s`` starts at
    ``initial_accumulator_value``); ``p -= clr * g / (sqrt(s) + eps)``. As in torch, the state
    of every parameter exists from construction on. ``foreach``, ``differentiable`` and
    ``fused`` are accepted and change nothing.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_lr(lr)
        _check_non_negative(lr_decay=lr_decay, weight_decay=weight_decay)
        _check_non_negative(initial_accumulator_value=initial_accumulator_value)
        _check_non_negative(epsilon=eps)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _step_tensor(0.0)
                state["sum"] = full_like(p, group["initial_accumulator_value"])

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
        self._steps_as_tensors()

    def step(self, closure=None):
        """One Adagrad update of every parameter that has a gradient; returns the closure's
        loss."""
        return self._update_each(closure)

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        state = self.state[p]
        state["step"].add_(1)
        step = state["step"].item()
        grad = -p.grad if group["maximize"] else p.grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        clr = _scalar(group["lr"]) / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"]
        state_sum.addcmul_(grad, grad, value=1)
        std = state_sum.sqrt().add_(group["eps"])
        p.addcdiv_(grad, std, value=-clr)


class Adadelta(Optimizer):
    """Adadelta, as torch.optim.Adadelta.

    ``v = rho * v + (1 - rho) * g * g``; ``delta = sqrt(u + eps) / sqrt(v + eps) * g``;
    ``u = rho * u + (1 - rho) * delta * delta``; ``p -= lr * delta``. ``foreach``,
    ``capturable`` and ``differentiable`` are accepted and change nothing.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_non_negative(epsilon=eps, weight_decay=weight_decay)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
        self._steps_as_tensors()

    def step(self, closure=None):
        """One Adadelta update of every parameter that has a gradient; returns the closure's
        loss."""
        return self._update_each(closure)

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor(0.0)
            state["square_avg"] = zeros_like(p)
            state["acc_delta"] = zeros_like(p)
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        state["step"].add_(1)
        grad = -p.grad if group["maximize"] else p.grad
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        delta.div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-_scalar(group["lr"]))
