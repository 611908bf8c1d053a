"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict (torch 2.13's behaviour)."""

from collections import OrderedDict

import pytest

import symgrad
from symgrad import nn


def test_sequential_indexing_slicing_len_append_and_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and model[0] is layers[0] and model[-1] is layers[2]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    assert list(model[1:]._modules) == ["1", "2"]  # slices keep the names
    model.append(nn.Sigmoid())
    assert len(model) == 4 and list(model._modules) == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="index 9 is out of range"):
        model[9]
    del model[1]
    assert list(model._modules) == ["0", "1", "2"] and isinstance(model[1], nn.Linear)
    x = symgrad.randn(4, 2)
    assert (model(x) == model[2](model[1](model[0](x)))).all()


def test_sequential_from_an_ordered_dict_uses_its_names():
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert model.fc is model[0]
    assert list(model.state_dict()) == ["fc.weight", "fc.bias"]
    assert repr(model) == (
        "Sequential(\n  (fc): Linear(in_features=2, out_features=2, bias=True)\n  (act): Tanh()\n)"
    )


def test_sequential_set_insert_pop_and_add():
    model = nn.Sequential(nn.ReLU(), nn.Tanh())
    model[0] = nn.Sigmoid()
    assert isinstance(model[0], nn.Sigmoid)
    model.insert(1, nn.Identity())
    assert [type(m).__name__ for m in model] == ["Sigmoid", "Identity", "Tanh"]
    assert isinstance(model.pop(1), nn.Identity) and len(model) == 2
    assert len(model + nn.Sequential(nn.ReLU())) == 3


def test_module_list_registers_its_items_and_groups_repeats_in_repr():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.ReLU())
    layers += [nn.ReLU()]
    assert len(layers) == 4 and layers[-1] is list(layers)[3]
    assert len(list(layers.parameters())) == 4
    assert repr(layers) == (
        "ModuleList(\n  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n"
        "  (2-3): 2 x ReLU()\n)"
    )
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    with pytest.raises(IndexError, match="index 4 is out of range"):
        layers[4]


def test_module_dict():
    layers = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(layers) == ["a", "b"] and "a" in layers and len(layers) == 2
    layers["c"] = nn.Tanh()
    assert list(layers.keys()) == ["a", "b", "c"]
    assert isinstance(layers.pop("b"), nn.ReLU) and list(layers) == ["a", "c"]
    assert list(layers.state_dict()) == ["a.weight", "a.bias"]
    assert repr(nn.ModuleDict({"a": nn.ReLU()})) == "ModuleDict(\n  (a): ReLU()\n)"


def test_parameter_list_wraps_tensors_and_registers_them():
    params = nn.ParameterList([nn.Parameter(symgrad.zeros(2, 3)), symgrad.ones(2)])
    assert len(params) == 2 and isinstance(params[1], nn.Parameter)
    assert params[1].requires_grad
    assert [n for n, _ in params.named_parameters()] == ["0", "1"]
    params.append(symgrad.ones(1))
    assert len(list(params.parameters())) == 3
    assert repr(nn.ParameterList([nn.Parameter(symgrad.zeros(2, 3))])) == (
        "ParameterList(  (0): Parameter containing: [symgrad.float32 of size 2x3])"
    )


def test_parameter_dict():
    params = nn.ParameterDict({"w": symgrad.ones(2)})
    params["b"] = nn.Parameter(symgrad.zeros(1))
    assert list(params) == ["w", "b"] and isinstance(params["w"], nn.Parameter)
    assert [n for n, _ in params.named_parameters()] == ["w", "b"]
    del params["w"]
    assert list(params.keys()) == ["b"]
