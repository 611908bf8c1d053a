"""Regenerate ``lr_schedules.json``: PyTorch learning-rate sequences for test_lr_scheduler.py.

Run with a Python that has torch installed, from the repository root:

    /work/venv/bin/python tests/data/make_lr_schedules.py

Each case builds an optimizer over two param groups, a scheduler, and records
``get_last_lr()`` (and the groups' momentum or beta1, which OneCycleLR cycles) after each of
``STEPS`` optimizer/scheduler steps. This module imports torch only inside ``torch_schedule``.
"""

from __future__ import annotations

import json
from pathlib import Path

OUTPUT = Path(__file__).with_name("lr_schedules.json")
STEPS = 30


def scaled(epoch):
    """A LambdaLR factor (a module-level function, the same in torch and symgrad)."""
    return 0.95**epoch + 0.01 * epoch


def warm(epoch):
    return min(1.0, (epoch + 1) / 5)


LAMBDAS = {"scaled": scaled, "warm": warm}

# (name, optimizer, optimizer kwargs, scheduler, scheduler kwargs)
CASES = [
    ("step", "SGD", {"lr": 0.1}, "StepLR", {"step_size": 7}),
    ("step_gamma", "SGD", {"lr": 0.3}, "StepLR", {"step_size": 3, "gamma": 0.7}),
    ("multistep", "SGD", {"lr": 0.1}, "MultiStepLR", {"milestones": [4, 9, 9, 20], "gamma": 0.5}),
    ("exponential", "SGD", {"lr": 0.1}, "ExponentialLR", {"gamma": 0.9}),
    ("cosine", "SGD", {"lr": 0.1}, "CosineAnnealingLR", {"T_max": 10}),
    ("cosine_eta_min", "Adam", {"lr": 0.01}, "CosineAnnealingLR", {"T_max": 7, "eta_min": 1e-3}),
    ("lambda", "SGD", {"lr": 0.1}, "LambdaLR", {"lr_lambda": "scaled"}),
    ("lambda_per_group", "SGD", {"lr": 0.1}, "LambdaLR", {"lr_lambda": ["scaled", "warm"]}),
    ("onecycle", "SGD", {"lr": 0.1, "momentum": 0.9}, "OneCycleLR",
     {"max_lr": 0.5, "total_steps": STEPS}),
    ("onecycle_adam_linear", "Adam", {"lr": 0.1}, "OneCycleLR",
     {"max_lr": [0.2, 0.4], "epochs": 5, "steps_per_epoch": 6, "anneal_strategy": "linear",
      "pct_start": 0.4}),
    ("onecycle_three_phase", "SGD", {"lr": 0.1, "momentum": 0.9}, "OneCycleLR",
     {"max_lr": 1.0, "total_steps": STEPS + 3, "three_phase": True, "div_factor": 10.0}),
    ("onecycle_no_momentum", "SGD", {"lr": 0.1}, "OneCycleLR",
     {"max_lr": 0.3, "total_steps": STEPS, "cycle_momentum": False}),
]  # fmt: skip


def scheduler_kwargs(kwargs: dict) -> dict:
    """Replace lambda names by the functions."""
    fn = kwargs.get("lr_lambda")
    if fn is None:
        return dict(kwargs)
    chosen = [LAMBDAS[f] for f in fn] if isinstance(fn, list) else LAMBDAS[fn]
    return {**kwargs, "lr_lambda": chosen}


def groups(params: list) -> list[dict]:
    """Two param groups; the second has a 3x larger learning rate when the optimizer's is set."""
    return [{"params": [params[0]]}, {"params": [params[1]]}]


def momentum_of(group: dict):
    if "betas" in group:
        return group["betas"][0]
    return group.get("momentum")


def run(module, case, steps=STEPS):
    """[(lrs, momenta)] after each step, with ``module`` torch or symgrad."""
    _, optimizer, opt_kwargs, scheduler, sched_kwargs = case
    params = [module.zeros(2, requires_grad=True), module.zeros(3, requires_grad=True)]
    opt = getattr(module.optim, optimizer)(groups(params), **opt_kwargs)
    opt.param_groups[1]["lr"] = opt.param_groups[1]["lr"] * 3
    sched = getattr(module.optim.lr_scheduler, scheduler)(opt, **scheduler_kwargs(sched_kwargs))
    rows = [(list(sched.get_last_lr()), [momentum_of(g) for g in opt.param_groups])]
    for _ in range(steps):
        for p in params:
            p.grad = module.ones_like(p)
        opt.step()
        sched.step()
        rows.append((list(sched.get_last_lr()), [momentum_of(g) for g in opt.param_groups]))
    return rows


def main() -> None:
    import torch

    cases = {case[0]: run(torch, case) for case in CASES}
    document = {"torch_version": torch.__version__, "steps": STEPS, "cases": cases}
    OUTPUT.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUTPUT}")


if __name__ == "__main__":
    main()
