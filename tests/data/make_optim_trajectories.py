"""Regenerate ``optim_trajectories.json``: PyTorch optimizer trajectories for test_optim.py.

Run with a Python that has torch installed, from the repository root:

    /work/torchenv/bin/python tests/data/make_optim_trajectories.py

Every case optimizes the same two parameters ``x`` (3,) and ``W`` (2, 3) for ``STEPS`` steps.
At each step the gradient is ``gradient(values)`` (numpy), assigned to ``.grad``, so the only
thing that differs between torch and symgrad is the optimizer. This module imports torch only
inside ``torch_trajectory``: the tests import ``CASES``, ``gradient`` and ``loss`` from it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).with_name("optim_trajectories.json")
STEPS = 20
TARGET = np.array([0.5, -0.3])


def initial_values() -> list[np.ndarray]:
    rng = np.random.default_rng(20240601)
    return [rng.uniform(-1, 1, size=(3,)), rng.uniform(-1, 1, size=(2, 3))]


def loss(torch, x, W):
    """f(x, W) = sum(log(1 + r^2)) / 2 + sum(sin 2x) / 2 + sum(cos W) / 2 with r = W x - t:
    bounded gradients, so that maximize and momentum do not overflow in 20 steps."""
    residual = W @ x - torch.tensor(TARGET, dtype=x.dtype)
    return (
        0.5 * torch.log1p(residual**2).sum()
        + 0.5 * torch.sin(2 * x).sum()
        + 0.5 * torch.cos(W).sum()
    )


def gradient(values: list[np.ndarray]) -> list[np.ndarray]:
    """The gradient of ``loss`` at ``values`` = [x, W], in numpy (same dtype as the values)."""
    x, W = values
    residual = W @ x - TARGET.astype(x.dtype)
    d_residual = residual / (1 + residual * residual)
    return [W.T @ d_residual + np.cos(2 * x), np.outer(d_residual, x) - 0.5 * np.sin(W)]


def _two_groups(first: dict, second: dict) -> list[dict]:
    return [{"params": [0], **first}, {"params": [1], **second}]


# (name, optimizer, keyword arguments, param groups or None for one group, dtype)
CASES = [
    ("sgd", "SGD", {"lr": 0.1}, None, "float64"),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}, None, "float64"),
    ("sgd_dampening", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}, None, "float64"),
    ("sgd_nesterov", "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}, None, "float64"),
    ("sgd_weight_decay", "SGD", {"lr": 0.1, "weight_decay": 0.2}, None, "float64"),
    ("sgd_maximize", "SGD", {"lr": 0.05, "maximize": True}, None, "float64"),
    (
        "sgd_all",
        "SGD",
        {"lr": 0.05, "momentum": 0.7, "weight_decay": 0.1, "nesterov": True, "maximize": True},
        None,
        "float64",
    ),
    (
        "sgd_groups",
        "SGD",
        {"lr": 0.05},
        _two_groups({"momentum": 0.9}, {"lr": 0.2, "weight_decay": 0.1}),
        "float64",
    ),
    ("sgd_float32", "SGD", {"lr": 0.05, "momentum": 0.9}, None, "float32"),
    ("adam", "Adam", {}, None, "float64"),
    ("adam_lr", "Adam", {"lr": 0.1}, None, "float64"),
    ("adam_betas_eps", "Adam", {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3}, None, "float64"),
    ("adam_weight_decay", "Adam", {"lr": 0.05, "weight_decay": 0.3}, None, "float64"),
    ("adam_amsgrad", "Adam", {"lr": 0.1, "amsgrad": True}, None, "float64"),
    ("adam_maximize", "Adam", {"lr": 0.05, "maximize": True}, None, "float64"),
    (
        "adam_all",
        "Adam",
        {"lr": 0.1, "weight_decay": 0.1, "amsgrad": True, "maximize": True},
        None,
        "float64",
    ),
    (
        "adam_decoupled",
        "Adam",
        {"lr": 0.1, "weight_decay": 0.2, "decoupled_weight_decay": True},
        None,
        "float64",
    ),
    (
        "adam_groups",
        "Adam",
        {"lr": 0.05},
        _two_groups({"amsgrad": True}, {"lr": 0.2, "betas": (0.8, 0.99)}),
        "float64",
    ),
    ("adam_float32", "Adam", {"lr": 0.1, "amsgrad": True}, None, "float32"),
    ("adamw", "AdamW", {}, None, "float64"),
    ("adamw_weight_decay", "AdamW", {"lr": 0.1, "weight_decay": 0.5}, None, "float64"),
    ("adamw_amsgrad", "AdamW", {"lr": 0.1, "amsgrad": True}, None, "float64"),
    (
        "adamw_maximize",
        "AdamW",
        {"lr": 0.05, "maximize": True, "weight_decay": 0.1},
        None,
        "float64",
    ),
    (
        "adamw_groups",
        "AdamW",
        {"lr": 0.1},
        _two_groups({"weight_decay": 0.0}, {"weight_decay": 0.3, "amsgrad": True}),
        "float64",
    ),
    ("adamw_float32", "AdamW", {"lr": 0.1, "weight_decay": 0.1}, None, "float32"),
    ("rmsprop", "RMSprop", {}, None, "float64"),
    ("rmsprop_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9}, None, "float64"),
    ("rmsprop_centered", "RMSprop", {"lr": 0.02, "alpha": 0.9, "centered": True}, None, "float64"),
    (
        "rmsprop_all",
        "RMSprop",
        {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1, "maximize": True},
        None,
        "float64",
    ),
    (
        "rmsprop_groups",
        "RMSprop",
        {"lr": 0.01},
        _two_groups({"momentum": 0.8}, {"lr": 0.05, "eps": 1e-3}),
        "float64",
    ),
    ("rmsprop_float32", "RMSprop", {"lr": 0.01, "centered": True}, None, "float32"),
    ("adagrad", "Adagrad", {}, None, "float64"),
    ("adagrad_lr_decay", "Adagrad", {"lr": 0.1, "lr_decay": 0.05}, None, "float64"),
    (
        "adagrad_all",
        "Adagrad",
        {"lr": 0.1, "weight_decay": 0.2, "initial_accumulator_value": 0.5, "maximize": True},
        None,
        "float64",
    ),
    (
        "adagrad_groups",
        "Adagrad",
        {"lr": 0.1},
        _two_groups({"eps": 1e-2}, {"lr": 0.3, "lr_decay": 0.1}),
        "float64",
    ),
    ("adagrad_float32", "Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1}, None, "float32"),
    ("adadelta", "Adadelta", {}, None, "float64"),
    ("adadelta_rho_eps", "Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-3}, None, "float64"),
    (
        "adadelta_all",
        "Adadelta",
        {"lr": 2.0, "weight_decay": 0.1, "maximize": True},
        None,
        "float64",
    ),
    (
        "adadelta_groups",
        "Adadelta",
        {"lr": 1.0},
        _two_groups({"rho": 0.8}, {"lr": 3.0}),
        "float64",
    ),
    ("adadelta_float32", "Adadelta", {"lr": 1.0, "rho": 0.7}, None, "float32"),
    ("adamax", "Adamax", {}, None, "float64"),
    ("adamax_betas_eps", "Adamax", {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-2}, None, "float64"),
    (
        "adamax_all",
        "Adamax",
        {"lr": 0.1, "weight_decay": 0.2, "maximize": True},
        None,
        "float64",
    ),
    (
        "adamax_groups",
        "Adamax",
        {"lr": 0.05},
        _two_groups({"betas": (0.8, 0.99)}, {"lr": 0.2}),
        "float64",
    ),
    ("adamax_float32", "Adamax", {"lr": 0.1}, None, "float32"),
]


def make_param_groups(params: list, groups: list[dict] | None) -> list:
    """The optimizer's first argument: the parameters, or groups naming them by index."""
    if groups is None:
        return list(params)
    return [{**g, "params": [params[i] for i in g["params"]]} for g in groups]


def torch_trajectory(case) -> list[list[np.ndarray]]:
    """The parameter values after each of ``STEPS`` torch optimizer steps."""
    import torch

    name, optimizer, kwargs, groups, dtype = case
    params = [torch.tensor(v.astype(dtype), requires_grad=True) for v in initial_values()]
    opt = getattr(torch.optim, optimizer)(make_param_groups(params, groups), **kwargs)
    trajectory = []
    for _ in range(STEPS):
        values = [p.detach().numpy().copy() for p in params]
        for p, g in zip(params, gradient(values), strict=True):
            p.grad = torch.from_numpy(g.astype(dtype))
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


def main() -> None:
    cases = {}
    for case in CASES:
        name, optimizer, kwargs, groups, dtype = case
        cases[name] = {
            "optimizer": optimizer,
            "kwargs": kwargs,
            "groups": groups,
            "dtype": dtype,
            "trajectory": [[v.tolist() for v in step] for step in torch_trajectory(case)],
        }
    import torch

    document = {
        "torch_version": torch.__version__,
        "steps": STEPS,
        "initial_values": [v.tolist() for v in initial_values()],
        "cases": cases,
    }
    OUTPUT.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUTPUT}")


if __name__ == "__main__":
    main()
