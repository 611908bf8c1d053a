"""symgrad.optim.lr_scheduler: learning-rate sequences equal torch's bit for bit
(``data/lr_schedules.json``, from ``data/make_lr_schedules.py``), state_dict, warnings, errors."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pytest
from data import make_lr_schedules as generator
from extras import need

import symgrad
from symgrad import optim
from symgrad.optim import lr_scheduler

DATA = Path(__file__).with_name("data")


TORCH = json.loads((DATA / "lr_schedules.json").read_text())
CASES = {case[0]: case for case in generator.CASES}


def as_lists(rows):
    return [[list(lrs), list(momenta)] for lrs, momenta in rows]


@pytest.mark.parametrize("name", list(CASES))
def test_sequence_equals_torch_exactly(name):
    # the chainable forms compute each rate from the previous one, as torch: equal floats
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the optimizer steps first: no order warning
        rows = generator.run(symgrad, CASES[name])
    assert as_lists(rows) == TORCH["cases"][name]


def test_recorded_sequences_change():
    # guards the fixture itself: every schedule moves the rate
    for name, rows in TORCH["cases"].items():
        assert len({tuple(lrs) for lrs, _ in rows}) > 2, name


def make_optimizer(lr=0.1, **options):
    w = symgrad.zeros(2, requires_grad=True)
    return optim.SGD([w], lr=lr, **options), w


def stepped(opt, sched, n):
    lrs = []
    for _ in range(n):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    return lrs


def test_step_lr_values():
    opt, _ = make_optimizer(1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    assert sched.get_last_lr() == [1.0]
    assert stepped(opt, sched, 5) == [1.0, 0.5, 0.5, 0.25, 0.25]
    assert opt.param_groups[0]["lr"] == 0.25
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_cosine_reaches_eta_min_and_comes_back():
    opt, _ = make_optimizer(1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.2)
    lrs = stepped(opt, sched, 8)
    expected = [0.2 + 0.8 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(1, 9)]
    assert lrs == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_state_dict_round_trip_resumes_the_sequence():
    opt, _ = make_optimizer()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    stepped(opt, sched, 4)
    saved = sched.state_dict()
    assert "optimizer" not in saved
    assert saved["last_epoch"] == 4 and saved["base_lrs"] == [0.1]
    expected = stepped(opt, sched, 5)

    opt2, _ = make_optimizer()
    opt2.load_state_dict(opt.state_dict())  # brings lr and initial_lr of the groups
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(saved)
    opt2.param_groups[0]["lr"] = saved["_last_lr"][0]
    assert stepped(opt2, sched2, 5) == expected


def test_lambda_lr_state_dict_keeps_callable_objects_state():
    class Factor:
        def __init__(self):
            self.scale = 2.0

        def __call__(self, epoch):
            return self.scale * epoch

    opt, _ = make_optimizer()
    sched = lr_scheduler.LambdaLR(opt, [Factor()])
    sched.lr_lambdas[0].scale = 5.0
    saved = sched.state_dict()
    assert saved["lr_lambdas"] == [{"scale": 5.0}]
    plain = lr_scheduler.LambdaLR(make_optimizer()[0], lambda epoch: 1.0)
    assert plain.state_dict()["lr_lambdas"] == [None]

    other = lr_scheduler.LambdaLR(make_optimizer()[0], [Factor()])
    other.load_state_dict(saved)
    assert other.lr_lambdas[0].scale == 5.0
    assert saved["lr_lambdas"] == [{"scale": 5.0}]  # the caller's dict is not consumed


def test_scheduler_step_before_optimizer_step_warns():
    opt, _ = make_optimizer()
    sched = lr_scheduler.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match=r"^Detected call of `lr_scheduler.step\(\)` before"):
        sched.step()


def test_step_with_epoch_uses_the_closed_form_and_warns():
    opt, _ = make_optimizer(1.0)
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    opt.step()
    with pytest.warns(UserWarning, match="^The epoch parameter in `scheduler.step\\(\\)`"):
        sched.step(7)
    assert sched.get_last_lr() == [0.25]


def test_get_lr_outside_step_warns():
    opt, _ = make_optimizer()
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_reduce_lr_on_plateau():
    opt, _ = make_optimizer(1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    lrs = []
    for metric in [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0]:
        sched.step(metric)
        lrs.append(sched.get_last_lr()[0])
    # two bad epochs reduce; one cooldown epoch ignores badness; never below min_lr
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    sched.step(3.0)
    sched.step(3.0)
    assert sched.get_last_lr() == [0.2]
    assert sched.state_dict()["best"] == 3.0


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda o: lr_scheduler.StepLR("sgd", 1), TypeError, "str is not an Optimizer"),
        (lambda o: lr_scheduler.StepLR(o, 1, last_epoch=3), KeyError,
         "\"param 'initial_lr' is not specified in param_groups[0] when resuming"),
        (lambda o: lr_scheduler.LambdaLR(o, [abs, abs]), ValueError,
         "Expected 1 lr_lambdas, but got 2"),
        (lambda o: lr_scheduler.OneCycleLR(o, 1.0), ValueError,
         "You must define either total_steps OR (epochs AND steps_per_epoch)"),
        (lambda o: lr_scheduler.OneCycleLR(o, 1.0, total_steps=0), ValueError,
         "Expected positive integer total_steps, but got 0"),
        (lambda o: lr_scheduler.OneCycleLR(o, 1.0, 10, pct_start=1), ValueError,
         "Expected float between 0 and 1 pct_start, but got 1"),
        (lambda o: lr_scheduler.OneCycleLR(o, 1.0, 10, anneal_strategy="exp"), ValueError,
         "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
        (lambda o: lr_scheduler.OneCycleLR(o, [1.0, 2.0], 10), ValueError,
         "max_lr must have the same length as optimizer.param_groups. max_lr has 2 values, "
         "param_groups has 1."),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError,
         "Factor should be < 1.0."),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError,
         "mode up is unknown!"),
    ],
)  # fmt: skip
def test_errors_are_torchs(build, error, message):
    opt, _ = make_optimizer(momentum=0.9)
    with pytest.raises(error) as info:
        build(opt)
    assert str(info.value).startswith(message)


def test_one_cycle_needs_momentum_to_cycle():
    w = symgrad.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="^optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(optim.Adagrad([w]), 1.0, total_steps=5)


def test_one_cycle_stepping_past_the_end_is_an_error():
    opt, _ = make_optimizer(momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, 1.0, total_steps=3)
    stepped(opt, sched, 3)
    with pytest.raises(ValueError, match="^Tried to step 4 times. The specified number of total"):
        sched.step()


def test_state_dict_keys_equal_torchs():
    torch = need("torch")
    for name, case in CASES.items():
        ours = _scheduler(symgrad, case)
        theirs = _scheduler(torch, case)
        assert set(ours.state_dict()) == set(theirs.state_dict()), name


def _scheduler(module, case):
    _, optimizer, opt_kwargs, scheduler, sched_kwargs = case
    params = [module.zeros(2, requires_grad=True), module.zeros(3, requires_grad=True)]
    opt = getattr(module.optim, optimizer)(generator.groups(params), **opt_kwargs)
    kwargs = generator.scheduler_kwargs(sched_kwargs)
    sched = getattr(module.optim.lr_scheduler, scheduler)(opt, **kwargs)
    opt.step()
    sched.step()
    return sched
