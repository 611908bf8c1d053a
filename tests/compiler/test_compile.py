"""symgrad.compile: results, .backward() integration, closures, pytrees, static arguments."""

import dataclasses
from collections import namedtuple

import numpy as np
import pytest

import symgrad
from symgrad.testing import check_grads


def test_numpy_in_numpy_out():
    f = symgrad.compile(lambda x: (x * x).sum())
    result = f(np.array([1.0, 2.0, 3.0]))
    assert isinstance(result, np.ndarray)
    assert result == 14.0


def test_tensor_results_backward_like_eager():
    @symgrad.compile
    def f(x, w):
        return (x @ w).tanh().sum()

    x = symgrad.randn(4, 3, dtype=symgrad.float64)
    w1 = symgrad.randn(3, 2, dtype=symgrad.float64, requires_grad=True)
    w2 = w1.detach().clone().requires_grad_()
    out = f(x, w1)
    assert out.grad_fn.name() == "CompiledFunctionBackward"
    out.backward()
    (x @ w2).tanh().sum().backward()
    np.testing.assert_allclose(w1.grad.numpy(), w2.grad.numpy(), rtol=1e-12)


def test_gradients_accumulate_and_mix_with_eager_ops():
    f = symgrad.compile(lambda x: x.exp())
    x = symgrad.tensor([0.5, 1.0], dtype=symgrad.float64, requires_grad=True)
    for _ in range(2):
        (f(x * 2) * 3).sum().backward()
    expected = 2 * 3 * 2 * np.exp(2 * np.array([0.5, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_second_backward_without_retain_graph_raises():
    f = symgrad.compile(lambda x: (x * x).sum())
    x = symgrad.ones(3, requires_grad=True)
    out = f(x)
    out.backward(retain_graph=True)
    out.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        out.backward()


def test_hooks_on_inputs_run():
    f = symgrad.compile(lambda x: (x * 3).sum())
    x = symgrad.ones(2, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    f(x).backward()
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])


def test_closure_tensors_are_implicit_inputs_with_gradients():
    w = symgrad.tensor([1.0, 2.0], requires_grad=True)

    @symgrad.compile
    def f(x):
        return (x * w).sum()

    x = symgrad.tensor([3.0, 4.0])
    f(x).backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 4.0])
    with symgrad.no_grad():
        w.mul_(2)  # an optimizer step: the compiled code sees the new values
    assert f(x).item() == 22.0
    assert "captured" not in f.source(x)
    assert "def forward(x, w)" in f.source(x)


def test_captured_numpy_arrays_are_passed_in_not_printed():
    table = np.arange(1000.0)
    f = symgrad.compile(lambda x: (x * table).sum())
    assert f(np.ones(1000)) == table.sum()
    assert "999" not in f.source(np.ones(1000))


Pair = namedtuple("Pair", "a b")


@dataclasses.dataclass
class Params:
    w: object
    b: object


def test_pytree_arguments_and_results():
    @symgrad.compile
    def f(params, batch):
        y = batch["x"] @ params.w + params.b
        return {"loss": (y * y).mean(), "pair": Pair(y, params.b * 2), "n": 3}

    params = Params(np.ones((3, 2)), np.zeros(2))
    out = f(params, {"x": np.ones((4, 3))})
    assert out["n"] == 3
    assert isinstance(out["pair"], Pair)
    np.testing.assert_allclose(out["loss"], 9.0)
    assert "params_w" in f.source(params, {"x": np.ones((4, 3))})


def test_outputs_that_need_no_grad():
    f = symgrad.compile(lambda x: (x.sum(), x.argmax() if hasattr(x, "argmax") else x > 0))
    x = symgrad.randn(5, requires_grad=True)
    total, other = f(x)
    assert total.requires_grad
    assert not other.requires_grad


def test_static_arguments_are_part_of_the_key():
    f = symgrad.compile(lambda x, n: x * n)
    assert f(np.ones(2), 2)[0] == 2
    assert f(np.ones(2), 3)[0] == 3
    info = f.cache_info()
    assert len(info.entries) == 2
    assert "value 2 -> 3" in info.recompile_reasons[0]


def test_static_argnums_and_unhashable_error():
    f = symgrad.compile(lambda x, opts: x * opts[0], static_argnums=(1,))
    assert f(np.ones(2), (5,))[0] == 5
    g = symgrad.compile(lambda x, s: x)
    with pytest.raises(ValueError, match="Non-hashable static arguments are not supported"):
        g(np.ones(2), {1, 2})


def test_check_grads_on_compiled_functions_second_order():
    f = symgrad.compile(lambda x, y: (x.sin() * y.exp() + x * x * y).sum())
    check_grads(f, [np.random.rand(3), np.random.rand(3)], order=2)


def test_generated_module_runs_without_symgrad(tmp_path):
    f = symgrad.value_and_grad(lambda x: (x.tanh() * x).sum())
    path = f.export(str(tmp_path / "exported.py"), np.ones(3))
    namespace = {}
    exec(compile(open(path).read(), path, "exec"), namespace)
    value, grad = namespace["forward_backward"](np.array([0.5, 1.0, 2.0]))
    x = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(value, (np.tanh(x) * x).sum())
    np.testing.assert_allclose(grad, np.tanh(x) + x * (1 - np.tanh(x) ** 2))
    assert "import symgrad" not in open(path).read()


def test_tracebacks_show_generated_lines():
    import inspect

    f = symgrad.compile(lambda x: x.log().sum())
    source = f.source(np.ones(2))
    module_fn = f._entries[0].program.forward
    assert inspect.getsource(module_fn) in source
