"""symgrad.nn.Module: registration, walking, state_dict, modes, dtype, hooks, repr and errors
(texts as PyTorch 2.13 prints them)."""

import copy

import pytest
from extras import need

import symgrad
from symgrad import nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.out = nn.Linear(4, 2)
        self.register_buffer("steps", symgrad.zeros(1))
        self.register_buffer("scratch", symgrad.zeros(2), persistent=False)

    def forward(self, x):
        return self.out(self.hidden(x).relu())


# ------------------------------------------------------------------------- registration


def test_attribute_assignment_registers_parameters_modules_and_buffers():
    model = TwoLayer()
    model.scale = nn.Parameter(symgrad.ones(1))
    # a module's own parameters come before its children's (torch's order)
    assert [n for n, _ in model.named_parameters()] == [
        "scale",
        "hidden.weight",
        "hidden.bias",
        "out.weight",
        "out.bias",
    ]
    assert [n for n, _ in model.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in model.named_children()] == ["hidden", "out"]
    assert [n for n, _ in model.named_modules()] == ["", "hidden", "out"]
    assert list(model.modules())[1] is model.hidden
    assert len(list(model.parameters(recurse=False))) == 1
    assert model.get_submodule("out") is model.out
    assert model.get_parameter("hidden.bias") is model.hidden.bias


def test_plain_tensors_and_numbers_are_ordinary_attributes():
    model = TwoLayer()
    model.plain = symgrad.ones(2)
    model.count = 3
    assert "plain" not in dict(model.named_parameters())
    assert "plain" not in dict(model.named_buffers())
    assert model.count == 3


def test_shared_parameters_are_listed_once():
    model = nn.Module()
    model.a = nn.Linear(2, 2)
    model.b = model.a
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_modules()] == ["", "a"]


def test_reassigning_a_name_moves_it_between_tables():
    model = TwoLayer()
    model.hidden = nn.Parameter(symgrad.ones(1))
    assert "hidden" not in model._modules and "hidden" in model._parameters
    model.hidden = None
    assert model.hidden is None and "hidden" not in dict(model.named_parameters())
    del model.hidden
    with pytest.raises(AttributeError, match="'TwoLayer' object has no attribute 'hidden'"):
        model.hidden  # noqa: B018


@pytest.mark.parametrize(
    "action, error, message",
    [
        (
            lambda m: setattr(m, "weight", symgrad.zeros(2, 3)),
            TypeError,
            "cannot assign 'torch.FloatTensor' as parameter 'weight' "
            "(torch.nn.Parameter or None expected)",
        ),
        (
            lambda m: m.register_buffer("weight", symgrad.zeros(1)),
            KeyError,
            "attribute 'weight' already exists",
        ),
        (
            lambda m: m.register_buffer("a.b", symgrad.zeros(1)),
            KeyError,
            'buffer name can\'t contain "."',
        ),
        (
            lambda m: m.register_buffer("c", 3),
            TypeError,
            "cannot assign 'int' object to buffer 'c' (torch Tensor or None required)",
        ),
        (
            lambda m: m.register_parameter("c", symgrad.zeros(1)),
            TypeError,
            "cannot assign 'torch.FloatTensor' object to parameter 'c' "
            "(torch.nn.Parameter or None required)",
        ),
        (lambda m: m.add_module("c", 3), TypeError, "int is not a Module subclass"),
        (
            lambda m: m.to(symgrad.int64),
            TypeError,
            "nn.Module.to only accepts floating point or complex dtypes, but got desired "
            "dtype=torch.int64",
        ),
        (lambda m: m.train("x"), ValueError, "training mode is expected to be boolean"),
        (lambda m: m.foo, AttributeError, "'Linear' object has no attribute 'foo'"),
    ],
)
def test_errors_are_torchs(action, error, message):
    model = nn.Linear(3, 2)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(error) as info:
        action(model)
    text = info.value.args[0]
    assert text == message
    assert all((p == b).all() for p, b in zip(model.parameters(), before, strict=True))


def test_assigning_before_init_is_torchs_error():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(symgrad.zeros(1))

    class EarlyModule(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__"):
        Early()
    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__"):
        EarlyModule()


def test_a_module_without_forward_says_so():
    with pytest.raises(
        NotImplementedError, match='Module \\[Module\\] is missing the required "forward" function'
    ):
        nn.Module()(1)


def test_a_non_leaf_tensor_cannot_be_a_parameter():
    model = nn.Module()
    x = symgrad.ones(2, requires_grad=True)
    p = nn.Parameter(symgrad.ones(2))
    p._grad_fn = (x * 2).grad_fn  # what p = p * 2 would make of it in torch
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        model.register_parameter("w", p)


# -------------------------------------------------------------------------- state_dict


def test_state_dict_round_trip_copies_values_into_the_same_parameters():
    source, target = TwoLayer(), TwoLayer()
    state = source.state_dict()
    assert list(state) == ["steps", "hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert all(not v.requires_grad and not isinstance(v, nn.Parameter) for v in state.values())
    weight = target.hidden.weight
    result = target.load_state_dict(state)
    assert repr(result) == "<All keys matched successfully>"
    assert target.hidden.weight is weight
    x = symgrad.randn(5, 3)
    assert (target(x) == source(x)).all()
    # the state is a copy's source, not a view that later training would change
    with symgrad.no_grad():
        source.hidden.weight.add_(1)
    assert not (target.hidden.weight == source.hidden.weight).any()


def test_load_state_dict_strict_errors_are_torchs_and_change_nothing():
    model = nn.Linear(3, 2)
    before = model.weight.detach().clone()
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict({"weight": symgrad.zeros(2, 3), "foo": symgrad.zeros(1)})
    assert str(info.value) == (
        "Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: "
        '"bias". \n\tUnexpected key(s) in state_dict: "foo". '
    )
    assert (model.weight == before).all()
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict({"weight": symgrad.zeros(1, 3), "bias": symgrad.zeros(2)})
    assert str(info.value) == (
        "Error(s) in loading state_dict for Linear:\n\tsize mismatch for weight: copying a "
        "param with shape torch.Size([1, 3]) from checkpoint, the shape in current model is "
        "torch.Size([2, 3])."
    )
    assert (model.bias != 0).any()


def test_load_state_dict_non_strict_reports_the_keys():
    model = nn.Linear(3, 2)
    result = model.load_state_dict({"weight": symgrad.zeros(2, 3), "x": symgrad.ones(1)}, False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["x"]
    assert repr(result) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['x'])"
    assert (model.weight == 0).all()


def test_state_dict_matches_torchs_keys_and_values():
    torch = need("torch")
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1)
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = symgrad.randn(6, 3)
    expected = theirs(torch.tensor(x.numpy())).detach().numpy()
    assert ours(x).detach().numpy() == pytest.approx(expected, abs=1e-6)


# ------------------------------------------------------------------- modes and gradients


def test_train_and_eval_reach_every_module():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout()))
    assert model.eval() is model
    assert [m.training for m in model.modules()] == [False] * 4
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_sets_to_none_or_to_zeros():
    model = nn.Linear(2, 1)
    model(symgrad.ones(2)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is not None and (model.weight.grad == 0).all()
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_requires_grad_and_apply():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Sequential"]


def test_to_double_and_float_keep_parameters_and_integer_buffers():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    model(symgrad.randn(3, 2)).sum().backward()
    assert model.double() is model
    assert model[0].weight is weight and weight.dtype is symgrad.float64
    assert weight.is_leaf and weight.grad_fn is None and weight.requires_grad
    assert weight.grad.dtype is symgrad.float64
    assert model[1].running_mean.dtype is symgrad.float64
    assert model[1].num_batches_tracked.dtype is symgrad.int64
    assert model(symgrad.randn(3, 2, dtype=symgrad.float64)).dtype is symgrad.float64
    model.float()
    assert weight.dtype is symgrad.float32
    model.to(symgrad.zeros(1, dtype=symgrad.float64))
    assert weight.dtype is symgrad.float64
    model.to("cpu")
    model.to(dtype=symgrad.float32)
    assert weight.dtype is symgrad.float32
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        model.to("cuda")
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        model.cuda()
    assert model.cpu() is model


def test_deepcopy_gives_independent_parameters():
    model = TwoLayer()
    twin = copy.deepcopy(model)
    assert twin.hidden.weight is not model.hidden.weight
    assert isinstance(twin.hidden.weight, nn.Parameter)
    assert (twin.hidden.weight == model.hidden.weight).all()


# ------------------------------------------------------------------------------- hooks


def test_forward_hooks_see_and_may_replace_inputs_and_outputs():
    model = nn.Linear(2, 2)
    calls = []
    pre = model.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = model.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = model(symgrad.ones(2))
    assert calls == [symgrad.Size([2])]
    assert out.tolist() == pytest.approx((model.bias + 1).tolist())
    pre.remove()
    post.remove()
    assert model(symgrad.zeros(2)).tolist() == pytest.approx(model.bias.tolist())


def test_hook_order_prepend_and_handle_as_context_manager():
    model = nn.Identity()
    order = []
    model.register_forward_hook(lambda m, a, o: order.append("first"))
    model.register_forward_hook(lambda m, a, o: order.append("prepended"), prepend=True)
    with model.register_forward_hook(lambda m, a, o: order.append("temporary")):
        model(1)
    model(1)
    assert order == ["prepended", "first", "temporary", "prepended", "first"]


def test_pre_hook_result_that_is_not_a_tuple_becomes_the_only_argument():
    model = nn.Identity()
    model.register_forward_pre_hook(lambda m, args: 7)
    assert model(1) == 7


# -------------------------------------------------------------------------------- repr


def test_repr_is_torchs_indented_tree():
    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=1, bias=True)\n"
        "  (1): Flatten(start_dim=0, end_dim=1)\n"
        ")"
    )
    assert repr(TwoLayer()) == (
        "TwoLayer(\n"
        "  (hidden): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (out): Linear(in_features=4, out_features=2, bias=True)\n"
        ")"
    )


def test_repr_of_nested_modules_and_extra_repr_lines():
    class Settings(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.ReLU())

        def extra_repr(self):
            return "size=3"

    assert repr(Settings()) == (
        "Settings(\n  size=3\n  (inner): Sequential(\n    (0): ReLU()\n  )\n)"
    )


# ---------------------------------------------------------------------- less common forms


def test_named_members_with_prefix_and_duplicates():
    model = nn.Module()
    model.a = nn.Linear(2, 2)
    model.b = model.a
    assert [n for n, _ in model.named_parameters(prefix="net")] == ["net.a.weight", "net.a.bias"]
    names = [n for n, _ in model.named_parameters(remove_duplicate=False)]
    assert names == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert [n for n, _ in model.named_modules(remove_duplicate=False)] == ["", "a", "b"]


def test_state_dict_prefix_keep_vars_and_assign():
    model = nn.Linear(2, 1)
    assert list(model.state_dict(prefix="head.")) == ["head.weight", "head.bias"]
    kept = model.state_dict(keep_vars=True)
    assert kept["weight"] is model.weight
    replacement = {"weight": symgrad.ones(1, 2), "bias": symgrad.zeros(1)}
    model.load_state_dict(replacement, assign=True)
    assert isinstance(model.weight, nn.Parameter) and model.weight.requires_grad
    assert model.weight.tolist() == [[1.0, 1.0]]


def test_non_persistent_buffers_stay_out_of_the_state_dict():
    model = TwoLayer()
    assert "scratch" not in model.state_dict()
    assert model.load_state_dict(model.state_dict()).missing_keys == []


def test_forward_hooks_with_kwargs():
    model = nn.Identity()
    seen = {}

    def pre(module, args, kwargs):
        return (args[0] + 1,), kwargs

    def post(module, args, kwargs, output):
        seen["args"] = args
        return output * 10

    model.register_forward_pre_hook(pre, with_kwargs=True)
    model.register_forward_hook(post, with_kwargs=True)
    assert model(1) == 20 and seen["args"] == (2,)


def test_pickle_round_trip():
    import pickle

    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    twin = pickle.loads(pickle.dumps(model))
    assert repr(twin) == repr(model)
    assert all(
        (a == b).all()
        for a, b in zip(twin.state_dict().values(), model.state_dict().values(), strict=True)
    )
    assert isinstance(twin[0].weight, nn.Parameter)
