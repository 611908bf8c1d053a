"""symgrad.optim: trajectories against the written-out update formulas (numpy) and against
PyTorch (``data/optim_trajectories.json``, from ``data/make_optim_trajectories.py``), plus
param groups, zero_grad, state_dict, closures, in-place semantics and torch's errors."""

from __future__ import annotations

import copy
import inspect
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from data import make_optim_trajectories as generator
from extras import need

import symgrad
from symgrad import optim

DATA = Path(__file__).with_name("data")


TORCH = json.loads((DATA / "optim_trajectories.json").read_text())
STEPS = generator.STEPS
CASE_NAMES = [case[0] for case in generator.CASES]
CASES = {case[0]: case for case in generator.CASES}


# --------------------------------------------------------------------- numpy reference
# The algorithms as torch documents them (torch/optim/sgd.py, adam.py docstrings), written
# independently of symgrad's code: only the mathematics is shared, not the order of operations.
def numpy_sgd(values, grads, state, *, lr, momentum=0, dampening=0, weight_decay=0,
              nesterov=False, maximize=False):  # fmt: skip
    for i, (theta, g) in enumerate(zip(values, grads, strict=True)):
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * theta
        if momentum != 0:
            if i in state:
                state[i] = momentum * state[i] + (1 - dampening) * g
            else:
                state[i] = g
            g = g + momentum * state[i] if nesterov else state[i]
        values[i] = theta - lr * g


def numpy_adam(values, grads, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
               amsgrad=False, maximize=False, decoupled_weight_decay=False):  # fmt: skip
    beta1, beta2 = betas
    for i, (theta, g) in enumerate(zip(values, grads, strict=True)):
        s = state.setdefault(i, {"t": 0, "m": 0 * theta, "v": 0 * theta, "v_max": 0 * theta})
        s["t"] += 1
        t = s["t"]
        if maximize:
            g = -g
        if weight_decay != 0:
            if decoupled_weight_decay:
                theta = theta - lr * weight_decay * theta
            else:
                g = g + weight_decay * theta
        s["m"] = beta1 * s["m"] + (1 - beta1) * g
        s["v"] = beta2 * s["v"] + (1 - beta2) * g * g
        m_hat = s["m"] / (1 - beta1**t)
        if amsgrad:
            s["v_max"] = np.maximum(s["v_max"], s["v"])
            v_hat = s["v_max"] / (1 - beta2**t)
        else:
            v_hat = s["v"] / (1 - beta2**t)
        values[i] = theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def numpy_adamw(values, grads, state, *, weight_decay=1e-2, **options):
    numpy_adam(values, grads, state, weight_decay=weight_decay, decoupled_weight_decay=True,
               **options)  # fmt: skip


def numpy_rmsprop(values, grads, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0,
                  momentum=0, centered=False, maximize=False):  # fmt: skip
    for i, (theta, g) in enumerate(zip(values, grads, strict=True)):
        s = state.setdefault(i, {"v": 0 * theta, "m": 0 * theta, "b": 0 * theta})
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * theta
        s["v"] = alpha * s["v"] + (1 - alpha) * g * g
        if centered:
            s["m"] = alpha * s["m"] + (1 - alpha) * g
            denom = np.sqrt(s["v"] - s["m"] ** 2) + eps
        else:
            denom = np.sqrt(s["v"]) + eps
        if momentum > 0:
            s["b"] = momentum * s["b"] + g / denom
            values[i] = theta - lr * s["b"]
        else:
            values[i] = theta - lr * g / denom


def numpy_adagrad(values, grads, state, *, lr=1e-2, lr_decay=0, weight_decay=0,
                  initial_accumulator_value=0, eps=1e-10, maximize=False):  # fmt: skip
    for i, (theta, g) in enumerate(zip(values, grads, strict=True)):
        s = state.setdefault(i, {"t": 0, "sum": 0 * theta + initial_accumulator_value})
        s["t"] += 1
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * theta
        s["sum"] = s["sum"] + g * g
        step_size = lr / (1 + (s["t"] - 1) * lr_decay)
        values[i] = theta - step_size * g / (np.sqrt(s["sum"]) + eps)


def numpy_adadelta(values, grads, state, *, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0,
                   maximize=False):  # fmt: skip
    for i, (theta, g) in enumerate(zip(values, grads, strict=True)):
        s = state.setdefault(i, {"v": 0 * theta, "u": 0 * theta})
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * theta
        s["v"] = rho * s["v"] + (1 - rho) * g * g
        delta = np.sqrt(s["u"] + eps) / np.sqrt(s["v"] + eps) * g
        s["u"] = rho * s["u"] + (1 - rho) * delta * delta
        values[i] = theta - lr * delta


def numpy_adamax(values, grads, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay=0, maximize=False):  # fmt: skip
    beta1, beta2 = betas
    for i, (theta, g) in enumerate(zip(values, grads, strict=True)):
        s = state.setdefault(i, {"t": 0, "m": 0 * theta, "u": 0 * theta})
        s["t"] += 1
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * theta
        s["m"] = beta1 * s["m"] + (1 - beta1) * g
        s["u"] = np.maximum(beta2 * s["u"], np.abs(g) + eps)
        values[i] = theta - lr / (1 - beta1 ** s["t"]) * s["m"] / s["u"]


NUMPY = {
    "SGD": numpy_sgd,
    "Adam": numpy_adam,
    "AdamW": numpy_adamw,
    "RMSprop": numpy_rmsprop,
    "Adagrad": numpy_adagrad,
    "Adadelta": numpy_adadelta,
    "Adamax": numpy_adamax,
}
SGD_DEFAULTS = {"lr": 1e-3}


def numpy_trajectory(case, steps=STEPS):
    """The reference trajectory: each parameter updated with its own group's options."""
    _, optimizer, kwargs, groups, dtype = case
    values = [v.astype(dtype) for v in generator.initial_values()]
    groups = groups or [{"params": [0, 1]}]
    options = [{**SGD_DEFAULTS, **kwargs, **g} if optimizer == "SGD" else {**kwargs, **g}
               for g in groups]  # fmt: skip
    states = [{} for _ in groups]
    trajectory = []
    for _ in range(steps):
        grads = generator.gradient(values)
        for group, opts, state in zip(groups, options, states, strict=True):
            indices = group["params"]
            opts = {k: v for k, v in opts.items() if k != "params"}
            chosen = [values[i] for i in indices]
            NUMPY[optimizer](chosen, [grads[i] for i in indices], state, **opts)
            for i, v in zip(indices, chosen, strict=True):
                values[i] = v
        trajectory.append([v.copy() for v in values])
    return trajectory


# --------------------------------------------------------------------- symgrad runs
def make_params(dtype="float64", values=None):
    values = generator.initial_values() if values is None else values
    return [symgrad.tensor(np.array(v, dtype=dtype), requires_grad=True) for v in values]


def make_optimizer(case, params):
    _, optimizer, kwargs, groups, _ = case
    return getattr(optim, optimizer)(generator.make_param_groups(params, groups), **kwargs)


def set_numpy_grads(params):
    values = [p.detach().numpy().copy() for p in params]
    for p, g in zip(params, generator.gradient(values), strict=True):
        p.grad = symgrad.tensor(g)


def symgrad_trajectory(opt, params, steps=STEPS):
    trajectory = []
    for _ in range(steps):
        set_numpy_grads(params)
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


def assert_trajectories_close(actual, expected, rtol, atol=0.0):
    for step, (a_step, e_step) in enumerate(zip(actual, expected, strict=True)):
        for k, (a, e) in enumerate(zip(a_step, e_step, strict=True)):
            np.testing.assert_allclose(
                a, np.asarray(e), rtol=rtol, atol=atol, err_msg=f"step {step + 1}, param {k}"
            )


FLOAT64_CASES = [name for name in CASE_NAMES if CASES[name][4] == "float64"]


@pytest.mark.parametrize("name", FLOAT64_CASES)
def test_trajectory_equals_numpy_formulas(name):
    case = CASES[name]
    params = make_params()
    actual = symgrad_trajectory(make_optimizer(case, params), params)
    assert_trajectories_close(actual, numpy_trajectory(case), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_trajectory_equals_torch(name):
    case = CASES[name]
    recorded = TORCH["cases"][name]
    assert (recorded["optimizer"], recorded["dtype"]) == (case[1], case[4])
    params = make_params(case[4], TORCH["initial_values"])
    actual = symgrad_trajectory(make_optimizer(case, params), params)
    # float64 differs from torch only by rounding (torch's CPU kernels fuse multiply-adds)
    rtol, atol = (1e-11, 1e-13) if case[4] == "float64" else (2e-5, 1e-6)
    assert_trajectories_close(actual, recorded["trajectory"], rtol=rtol, atol=atol)


def test_numpy_reference_is_not_trivially_equal_across_options():
    # the option combinations must matter, or the tests above would check little
    finals = {name: numpy_trajectory(CASES[name])[-1][1] for name in FLOAT64_CASES}
    names = list(finals)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not np.allclose(finals[a], finals[b], rtol=1e-6, atol=0), (a, b)


@pytest.mark.parametrize(
    "name",
    ["sgd_all", "adam_all", "adamw_groups", "rmsprop_all", "adagrad_all", "adadelta_all",
     "adamax_all"],
)  # fmt: skip
def test_trajectory_with_autograd_gradients(name):
    # gradients from backward() instead of assigned ones; zero_grad between steps
    case = CASES[name]
    params = make_params()
    opt = make_optimizer(case, params)
    trajectory = []
    for _ in range(STEPS):
        opt.zero_grad()
        generator.loss(symgrad, *params).backward()
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    assert_trajectories_close(trajectory, numpy_trajectory(case), rtol=1e-10, atol=1e-12)


def test_step_without_zero_grad_accumulates():
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.1)
    (x * x).sum().backward()
    (x * x).sum().backward()
    opt.step()
    np.testing.assert_allclose(x.detach().numpy(), [1.0 - 0.1 * 4, 2.0 - 0.1 * 8])


# --------------------------------------------------------------------- in-place semantics
@pytest.mark.parametrize("optimizer", [optim.SGD, optim.Adam, optim.AdamW])
def test_step_updates_in_place_under_no_grad(optimizer):
    x = symgrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    data = x._data
    opt = optimizer([x], lr=0.1)
    (x * x).sum().backward()
    version = x._version
    with symgrad.enable_grad():
        opt.step()
    assert x._data is data, "the parameter's memory must be updated in place"
    assert x._version > version, "in-place updates must bump the version counter"
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    assert not np.allclose(x.detach().numpy(), [1.0, -2.0, 3.0])
    assert symgrad.is_grad_enabled()


def test_step_inside_no_grad_and_parameter_still_trains():
    x = symgrad.tensor([3.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.25)
    for _ in range(30):
        opt.zero_grad()
        ((x - 1) ** 2).sum().backward()
        with symgrad.no_grad():
            opt.step()
    assert abs(x.item() - 1.0) < 1e-6


def test_saved_tensor_of_parameter_detects_the_update():
    # a graph that saved the parameter before step() must refuse backward after it
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.1)
    (x * x).sum().backward()
    stale = (x * x).sum()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        stale.backward()


@pytest.mark.parametrize("optimizer", [optim.SGD, optim.Adam])
def test_parameters_without_grad_are_skipped(optimizer):
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    y = symgrad.tensor([5.0], requires_grad=True)
    opt = optimizer([x, y], lr=0.1, **({"momentum": 0.9} if optimizer is optim.SGD else {}))
    (x * x).sum().backward()
    version = y._version
    opt.step()
    assert y.item() == 5.0 and y._version == version
    assert y not in opt.state and len(opt.state[x]) > 0


def test_sgd_without_momentum_keeps_no_state():
    x = symgrad.tensor([1.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.1)
    x.grad = symgrad.tensor([1.0])
    opt.step()
    assert len(opt.state) == 0
    assert opt.state_dict()["state"] == {}


def test_adam_state_layout():
    x = symgrad.tensor([1.0, 2.0], dtype=symgrad.float64, requires_grad=True)
    opt = optim.Adam([x], amsgrad=True)
    for _ in range(3):
        x.grad = symgrad.tensor([0.5, -0.5], dtype=symgrad.float64)
        opt.step()
    state = opt.state[x]
    assert sorted(state) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert isinstance(state["step"], symgrad.Tensor) and state["step"].ndim == 0
    assert state["step"].dtype == symgrad.float32 and state["step"].item() == 3.0
    assert state["exp_avg"].dtype == symgrad.float64 and not state["exp_avg"].requires_grad


def test_adam_decoupled_weight_decay_is_adamw():
    a, b = make_params(), make_params()
    adam = optim.Adam(a, lr=0.1, weight_decay=0.3, decoupled_weight_decay=True)
    adamw = optim.AdamW(b, lr=0.1, weight_decay=0.3)
    assert_trajectories_close(symgrad_trajectory(adam, a), symgrad_trajectory(adamw, b), 0.0)
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True


# --------------------------------------------------------------------- closure
def test_step_closure_runs_with_grad_and_returns_loss():
    x = symgrad.tensor([2.0], requires_grad=True)
    opt = optim.SGD([x], lr=0.1)
    calls = []

    def closure():
        calls.append(symgrad.is_grad_enabled())
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    with symgrad.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == 4.0
    assert x.item() == pytest.approx(2.0 - 0.1 * 4.0)
    assert opt.step() is None


# --------------------------------------------------------------------- zero_grad
def test_zero_grad_sets_to_none_by_default():
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([x])
    (x * x).sum().backward()
    opt.zero_grad()
    assert x.grad is None


def test_zero_grad_set_to_none_false_zeroes_in_place():
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([x])
    (x * x).sum().backward()
    grad = x.grad
    opt.zero_grad(set_to_none=False)
    assert x.grad is grad
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(grad.numpy(), [2.0, 4.0])


def test_zero_grad_detaches_a_differentiable_grad():
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([x])
    with pytest.warns(UserWarning):
        (x * x * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    opt.zero_grad(set_to_none=False)
    assert x.grad.grad_fn is None and not x.grad.requires_grad
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


# --------------------------------------------------------------------- param groups
def test_param_groups_hold_per_group_options():
    x = symgrad.tensor([1.0], requires_grad=True)
    y = symgrad.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [x]}, {"params": y, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]
    assert opt.param_groups[1]["params"] == [y]
    x.grad = symgrad.tensor([1.0])
    y.grad = symgrad.tensor([1.0])
    opt.step()
    assert x.item() == pytest.approx(0.9) and y.item() == pytest.approx(0.5)


def test_add_param_group_and_options_can_change():
    x = symgrad.tensor([1.0], requires_grad=True)
    y = symgrad.tensor([1.0], requires_grad=True)
    opt = optim.Adam([x], lr=0.1)
    opt.add_param_group({"params": [y], "amsgrad": True})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["amsgrad"] is True
    opt.param_groups[0]["lr"] = 0.0
    x.grad = symgrad.tensor([1.0])
    y.grad = symgrad.tensor([1.0])
    opt.step()
    assert x.item() == 1.0 and y.item() == pytest.approx(0.9)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [x]})


def test_named_parameters_become_param_names():
    x = symgrad.tensor([1.0], requires_grad=True)
    opt = optim.SGD([("weight", x)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight"]


def test_repr_lists_group_options():
    x = symgrad.tensor([1.0], requires_grad=True)
    text = repr(optim.SGD([x], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n    dampening: 0\n")
    assert "    lr: 0.1\n" in text and text.endswith(")")


def test_custom_optimizer_with_required_option():
    class Plain(optim.Optimizer):
        def __init__(self, params, lr=optim.required):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            with symgrad.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        p.sub_(p.grad * group["lr"])

    x = symgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization"):
        Plain([x])
    opt = Plain([{"params": [x], "lr": 0.5}])
    x.grad = symgrad.tensor([1.0])
    opt.step()
    assert x.item() == 0.5
    with pytest.raises(NotImplementedError):
        optim.Optimizer([x], {}).step()


def test_adagrad_state_exists_from_construction():
    # as torch: step 0 and the accumulator filled with initial_accumulator_value, before any step
    params = make_params()
    opt = optim.Adagrad(params, initial_accumulator_value=0.25)
    state = opt.state_dict()["state"]
    assert sorted(state) == [0, 1]
    assert state[1]["step"].item() == 0.0 and state[1]["step"].dtype == symgrad.float32
    np.testing.assert_array_equal(state[1]["sum"].numpy(), np.full((2, 3), 0.25))


@pytest.mark.parametrize(
    ("optimizer", "options", "keys"),
    [
        ("RMSprop", {}, ["square_avg", "step"]),
        ("RMSprop", {"momentum": 0.9, "centered": True},
         ["grad_avg", "momentum_buffer", "square_avg", "step"]),
        ("Adadelta", {}, ["acc_delta", "square_avg", "step"]),
        ("Adamax", {}, ["exp_avg", "exp_inf", "step"]),
    ],
)  # fmt: skip
def test_state_layout_is_torchs(optimizer, options, keys):
    params = make_params()
    opt = getattr(optim, optimizer)(params, **options)
    assert opt.state_dict()["state"] == {}
    symgrad_trajectory(opt, params, steps=3)
    state = opt.state_dict()["state"]
    assert sorted(state[0]) == keys
    assert state[0]["step"].item() == 3.0


@pytest.mark.parametrize(
    "name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax"]
)
def test_signature_is_torchs(name):
    # same parameter names, order, kinds and defaults: positional calls mean the same thing
    torch = need("torch")

    def described(cls):
        parameters = inspect.signature(cls.__init__).parameters.values()
        return [(p.name, p.kind, p.default) for p in parameters]

    assert described(getattr(optim, name)) == described(getattr(torch.optim, name))


def test_new_optimizers_accept_torchs_implementation_switches():
    # foreach / capturable / differentiable / fused select torch kernels: accepted, same result
    params = make_params()
    plain = make_params()
    opt = optim.RMSprop(params, 0.01, 0.99, 1e-8, 0, 0, False, False, None, False, False)
    reference = optim.RMSprop(plain)
    assert opt.param_groups[0].keys() == reference.param_groups[0].keys()
    optim.Adagrad(make_params(), foreach=False, fused=None, differentiable=False)
    optim.Adadelta(make_params(), foreach=None, capturable=False)
    optim.Adamax(make_params(), foreach=None, capturable=False, differentiable=False)
    assert_trajectories_close(
        symgrad_trajectory(opt, params, 3), symgrad_trajectory(reference, plain, 3), rtol=0
    )


# --------------------------------------------------------------------- state_dict
def test_state_dict_has_torch_structure():
    params = make_params()
    opt = optim.Adam([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.2}], lr=0.1)
    symgrad_trajectory(opt, params, steps=2)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sorted(sd["state"]) == [0, 1]
    assert sorted(sd["state"][1]) == ["exp_avg", "exp_avg_sq", "step"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.2]
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sd["state"][0]["step"].item() == 2.0
    # the parameters themselves are not in the state dict
    assert all(not isinstance(v, symgrad.Tensor) for g in sd["param_groups"] for v in g["params"])


@pytest.mark.parametrize(
    "name",
    ["sgd_groups", "sgd_all", "adam_groups", "adam_all", "adamw_groups", "rmsprop_all",
     "rmsprop_groups", "adagrad_all", "adagrad_groups", "adadelta_groups", "adamax_groups"],
)  # fmt: skip
def test_state_dict_round_trip_continues_the_trajectory(name):
    case = CASES[name]
    params = make_params()
    opt = make_optimizer(case, params)
    first = symgrad_trajectory(opt, params, steps=STEPS // 2)
    saved = copy.deepcopy(opt.state_dict())
    saved = pickle.loads(pickle.dumps(saved))

    # a fresh optimizer (with other options) on fresh parameters holding the same values
    fresh = make_params(values=[p.detach().numpy() for p in params])
    kwargs = {**case[2], "lr": 123.0}
    other = getattr(optim, case[1])(generator.make_param_groups(fresh, case[3]), **kwargs)
    other.load_state_dict(saved)
    assert [g["lr"] for g in other.param_groups] == [g["lr"] for g in opt.param_groups]
    assert other.param_groups[0]["params"][0] is fresh[0]

    continued = symgrad_trajectory(opt, params, steps=STEPS - STEPS // 2)
    resumed = symgrad_trajectory(other, fresh, steps=STEPS - STEPS // 2)
    assert_trajectories_close(resumed, continued, rtol=0.0)
    assert_trajectories_close(first + resumed, numpy_trajectory(case), rtol=1e-12, atol=1e-14)


def test_load_state_dict_copies_and_casts_state():
    x = symgrad.tensor([1.0, 2.0], dtype=symgrad.float64, requires_grad=True)
    opt = optim.SGD([x], lr=0.1, momentum=0.9)
    x.grad = symgrad.tensor([1.0, 1.0], dtype=symgrad.float64)
    opt.step()
    sd = opt.state_dict()
    y = symgrad.tensor([1.0, 2.0], dtype=symgrad.float32, requires_grad=True)
    other = optim.SGD([y], lr=0.1, momentum=0.9)
    other.load_state_dict(sd)
    buffer = other.state[y]["momentum_buffer"]
    assert buffer.dtype == symgrad.float32
    assert buffer is not sd["state"][0]["momentum_buffer"]
    opt.step()
    np.testing.assert_array_equal(buffer.numpy(), [1.0, 1.0])


def test_load_state_dict_with_numeric_step_makes_it_a_tensor():
    x = symgrad.tensor([1.0], requires_grad=True)
    opt = optim.Adam([x], lr=0.1)
    x.grad = symgrad.tensor([1.0])
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"][0]["step"] = 1
    other = optim.Adam([x], lr=0.1)
    other.load_state_dict(sd)
    assert isinstance(other.state[x]["step"], symgrad.Tensor)
    assert other.state[x]["step"].item() == 1.0


def test_load_state_dict_errors():
    x = symgrad.tensor([1.0], requires_grad=True)
    y = symgrad.tensor([1.0], requires_grad=True)
    one_group = optim.SGD([x, y]).state_dict()
    two_groups = optim.SGD([{"params": [x]}, {"params": [y]}]).state_dict()
    with pytest.raises(ValueError, match="^loaded state dict has a different number of parameter"):
        optim.SGD([x, y]).load_state_dict(two_groups)
    with pytest.raises(ValueError, match="^loaded state dict contains a parameter group that do"):
        optim.SGD([x]).load_state_dict(one_group)


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda p: optim.SGD(p, lr=-1), "Invalid learning rate: -1"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda p: optim.SGD(p, weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
        (
            lambda p: optim.SGD(p, lr=0.1, nesterov=True),
            "Nesterov momentum requires a momentum and zero dampening",
        ),
        (
            lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
            "Nesterov momentum requires a momentum and zero dampening",
        ),
        (lambda p: optim.Adam(p, lr=-0.01), "Invalid learning rate: -0.01"),
        (lambda p: optim.Adam(p, eps=-1.0), "Invalid epsilon value: -1.0"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (lambda p: optim.Adam(p, weight_decay=-2), "Invalid weight_decay value: -2"),
        (lambda p: optim.AdamW(p, lr=-3.0), "Invalid learning rate: -3.0"),
        (lambda p: optim.AdamW(p, betas=(0.5, 1.5)), "Invalid beta parameter at index 1: 1.5"),
        (lambda p: optim.Adam(p, betas=(0, 0.9)), "betas must be either both floats or both"),
        (lambda p: optim.SGD([]), "optimizer got an empty parameter list"),
        (lambda p: optim.RMSprop(p, lr=-1.0), "Invalid learning rate: -1.0"),
        (lambda p: optim.RMSprop(p, eps=-1e-3), "Invalid epsilon value: -0.001"),
        (lambda p: optim.RMSprop(p, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda p: optim.RMSprop(p, weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda p: optim.RMSprop(p, alpha=-0.1), "Invalid alpha value: -0.1"),
        (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value: -1"),
        (
            lambda p: optim.Adagrad(p, initial_accumulator_value=-1.0),
            "Invalid initial_accumulator_value value: -1.0",
        ),
        (lambda p: optim.Adagrad(p, eps=-1.0), "Invalid epsilon value: -1.0"),
        (lambda p: optim.Adadelta(p, rho=1.5), "Invalid rho value: 1.5"),
        (lambda p: optim.Adadelta(p, weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda p: optim.Adamax(p, betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
        (lambda p: optim.Adamax(p, eps=-1.0), "Invalid epsilon value: -1.0"),
    ],
)
def test_invalid_arguments_raise_torch_errors(build, message):
    params = [symgrad.tensor([1.0], requires_grad=True)]
    with pytest.raises(ValueError) as info:
        build(params)
    assert str(info.value).startswith(message)


def test_invalid_params_raise_torch_errors():
    x = symgrad.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="^params argument given to the optimizer should be an "
                       "iterable of Tensors or dicts, but got torch.FloatTensor$"):  # fmt: skip
        optim.SGD(x)
    with pytest.raises(TypeError, match="^optimizer can only optimize Tensors, but one of the "
                       "params is float$"):  # fmt: skip
        optim.SGD([1.0])
    with pytest.raises(ValueError, match="^can't optimize a non-leaf Tensor$"):
        optim.SGD([x * 2])
    with pytest.raises(TypeError, match="^optimizer parameters need to be organized in ordered"):
        optim.SGD([{"params": {x}}])
    with pytest.raises(TypeError, match="^param_group must be a dict, but got <class 'list'>$"):
        optim.SGD([x]).add_param_group([x])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([x, x])


# --------------------------------------------------------------------- live oracle
@pytest.mark.parametrize(
    "name",
    ["sgd_all", "adam_all", "adamw_groups", "adam_float32", "rmsprop_all", "rmsprop_groups",
     "adagrad_all", "adagrad_float32", "adadelta_all", "adamax_all", "adamax_groups"],
)  # fmt: skip
def test_live_torch_oracle(name):
    torch = need("torch")
    case = CASES[name]
    expected = generator.torch_trajectory(case)
    params = make_params(case[4])
    actual = symgrad_trajectory(make_optimizer(case, params), params)
    rtol, atol = (1e-11, 1e-13) if case[4] == "float64" else (2e-5, 1e-6)
    assert_trajectories_close(actual, expected, rtol=rtol, atol=atol)

    # the same state_dict layout: our group options are a subset of torch's, equal values
    torch_params = [torch.tensor(v, requires_grad=True) for v in generator.initial_values()]
    torch_opt = getattr(torch.optim, case[1])(
        generator.make_param_groups(torch_params, case[3]), **case[2]
    )
    for p in torch_params:
        p.grad = torch.ones_like(p)
    torch_opt.step()
    ours = make_params()
    our_opt = make_optimizer(case, ours)
    for p in ours:
        p.grad = symgrad.ones_like(p)
    our_opt.step()
    theirs, mine = torch_opt.state_dict(), our_opt.state_dict()
    for their_group, my_group in zip(theirs["param_groups"], mine["param_groups"], strict=True):
        assert set(my_group) <= set(their_group)
        assert {k: their_group[k] for k in my_group} == my_group
    assert theirs["state"].keys() == mine["state"].keys()
    for index, their_state in theirs["state"].items():
        assert set(their_state) == set(mine["state"][index])
        for key, value in their_state.items():
            np.testing.assert_allclose(mine["state"][index][key].numpy(), value.numpy(), rtol=1e-6)
