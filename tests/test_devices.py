"""torch.device, device= on factories, .to(device)/.cpu()/.cuda(), torch.cuda and
torch.backends on a CPU-only library. Expected texts and values are PyTorch 2.13's on a
machine without CUDA (checked live below when torch is installed)."""

from __future__ import annotations

import pickle

import pytest
from extras import need

import symgrad
import symgrad as torch

NO_CUDA = "^Torch not compiled with CUDA enabled$"


def test_device_repr_str_and_fields():
    cpu = torch.device("cpu")
    assert repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu"
    assert (cpu.type, cpu.index) == ("cpu", None)
    indexed = torch.device("cpu", 0)
    assert repr(indexed) == "device(type='cpu', index=0)" and str(indexed) == "cpu:0"
    assert torch.device("cpu:0") == indexed and torch.device("cuda:1").index == 1
    assert repr(torch.device("cuda")) == "device(type='cuda')"  # a name only, as in torch
    assert torch.device(cpu) == cpu


def test_device_equality_is_torchs():
    cpu = torch.device("cpu")
    assert cpu == torch.device("cpu") and hash(cpu) == hash(torch.device("cpu"))
    assert cpu != torch.device("cpu", 0)  # an index makes a different device
    # torch compares devices with devices only: a string is never equal.
    assert not (cpu == "cpu") and not ("cpu" == cpu)
    assert str(cpu) == "cpu"
    assert pickle.loads(pickle.dumps(torch.device("cpu", 0))) == torch.device("cpu", 0)


def test_bad_device_strings():
    with pytest.raises(RuntimeError, match="^Expected one of cpu, cuda, .* string: foo$"):
        torch.device("foo")
    with pytest.raises(RuntimeError, match="^Cannot access accelerator device when none is"):
        torch.device(0)


def test_tensors_live_on_the_cpu():
    x = torch.zeros(2)
    assert x.device == torch.device("cpu") and x.is_cpu and not x.is_cuda
    assert x.get_device() == -1


FACTORIES = {
    "tensor": lambda device: torch.tensor([1.0], device=device),
    "as_tensor": lambda device: torch.as_tensor([1.0], device=device),
    "zeros": lambda device: torch.zeros(2, device=device),
    "ones": lambda device: torch.ones(2, device=device),
    "empty": lambda device: torch.empty(2, device=device),
    "full": lambda device: torch.full((2,), 3.0, device=device),
    "zeros_like": lambda device: torch.zeros_like(torch.ones(2), device=device),
    "full_like": lambda device: torch.full_like(torch.ones(2), 2.0, device=device),
    "arange": lambda device: torch.arange(3, device=device),
    "linspace": lambda device: torch.linspace(0, 1, 3, device=device),
    "eye": lambda device: torch.eye(2, device=device),
    "rand": lambda device: torch.rand(2, device=device),
    "randn": lambda device: torch.randn(2, device=device),
    "randint": lambda device: torch.randint(0, 3, (2,), device=device),
    "rand_like": lambda device: torch.rand_like(torch.ones(2), device=device),
    "new_zeros": lambda device: torch.ones(2).new_zeros(2, device=device),
    "new_tensor": lambda device: torch.ones(2).new_tensor([1.0], device=device),
}


@pytest.mark.parametrize("factory", FACTORIES)
@pytest.mark.parametrize("device", ["cpu", torch.device("cpu"), "cpu:0", None])
def test_factories_accept_the_cpu(factory, device):
    assert FACTORIES[factory](device).device == torch.device("cpu")


@pytest.mark.parametrize("factory", FACTORIES)
def test_factories_refuse_cuda_as_torch_does(factory):
    with pytest.raises(AssertionError, match=NO_CUDA):
        FACTORIES[factory]("cuda")
    with pytest.raises(RuntimeError, match="^PyTorch is not linked with support for mps"):
        FACTORIES[factory](torch.device("mps"))


def test_other_device_types_are_refused_with_a_hint():
    with pytest.raises(RuntimeError, match="^symgrad computes on the CPU only; device 'meta'"):
        torch.zeros(2, device="meta")


def test_to_and_cpu_return_the_tensor_itself():
    x = torch.ones(2, requires_grad=True)
    assert x.to("cpu") is x and x.to(torch.device("cpu")) is x and x.cpu() is x
    assert x.to(device="cpu") is x
    y = x.to("cpu", torch.float64)
    assert y.dtype is torch.float64 and y.grad_fn.name() == "ToCopyBackward0"
    assert x.to(torch.device("cpu"), dtype=torch.float64).dtype is torch.float64


def test_to_cuda_raises_and_changes_nothing():
    x = torch.ones(2)
    for move in (lambda: x.to("cuda"), lambda: x.cuda(), lambda: x.to(device="cuda:0")):
        with pytest.raises(AssertionError, match=NO_CUDA):
            move()
    assert x.device == torch.device("cpu") and x.tolist() == [1.0, 1.0]


def test_the_usual_device_choice_picks_the_cpu():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model_input = torch.randn(3, 2, device=device)
    assert device == torch.device("cpu") and model_input.to(device).device == device


def test_cuda_and_backends_report_nothing_available():
    assert torch.cuda.is_available() is False and torch.cuda.device_count() == 0
    assert torch.cuda.is_initialized() is False
    assert torch.cuda.manual_seed(0) is None and torch.cuda.manual_seed_all(0) is None
    with pytest.raises(AssertionError, match=NO_CUDA):
        torch.cuda.current_device()
    assert torch.backends.mps.is_available() is False and torch.backends.mps.is_built() is False
    assert torch.backends.cudnn.is_available() is False
    torch.backends.cudnn.deterministic = True  # scripts set it; it changes nothing here
    torch.backends.cudnn.deterministic = False


def test_default_device():
    assert torch.get_default_device() == torch.device("cpu")
    torch.set_default_device("cpu")
    assert torch.zeros(1).device == torch.device("cpu")
    try:
        torch.set_default_device("cuda")
        with pytest.raises(AssertionError, match=NO_CUDA):
            torch.zeros(1)
        assert torch.zeros(1, device="cpu").device == torch.device("cpu")
    finally:
        torch.set_default_device(None)
    assert torch.zeros(1).device == torch.device("cpu")


def test_matches_torch_live():
    real = need("torch")
    for library in (real, symgrad):
        assert repr(library.device("cpu", 0)) == "device(type='cpu', index=0)"
    assert (real.device("cpu") == "cpu") == (symgrad.device("cpu") == "cpu")
    assert real.cuda.is_available() == symgrad.cuda.is_available()
    for library in (real, symgrad):
        with pytest.raises(AssertionError, match=NO_CUDA):
            library.zeros(2, device="cuda")
        with pytest.raises(RuntimeError) as error:
            library.device("foo")
        assert "device type at start of device string: foo" in str(error.value)
