"""The array_api backend: ``xp.*`` code that runs unchanged on NumPy, array-api-strict, torch,
Dask and CuPy arrays, returns the caller's array type, refuses at compile time what the
standard cannot write, runs guards on eager arrays only, and exports a module that needs no
symgrad.

(The op table and the property suite run on it too: test_compiled_vs_eager.py,
test_properties.py; the Dask cluster in test_dask.py.)
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from extras import need

need("array_api_compat")

from array_targets import ARRAY_API_TARGETS, CUPY, STRICT  # noqa: E402
from array_targets import param as target_param  # noqa: E402

import symgrad  # noqa: E402
import symgrad.nn.functional as F  # noqa: E402
from symgrad.compiler import codegen  # noqa: E402
from symgrad.compiler.backends import array_api_spellings  # noqa: E402
from symgrad.ops.registry import REGISTRY  # noqa: E402


def logistic(w, X, y):
    return F.binary_cross_entropy_with_logits(X @ w, y)


def mlp(W1, b1, W2, b2, X, y):
    return F.cross_entropy(symgrad.relu(X @ W1 + b1) @ W2 + b2, y)


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _programs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 5)).astype(np.float32)
    return [
        (
            logistic,
            (rng.standard_normal(5).astype(np.float32), X, (X[:, 0] > 0).astype(np.float32)),
            0,
        ),
        (
            mlp,
            (
                rng.standard_normal((5, 8)).astype(np.float32),
                np.zeros(8, np.float32),
                rng.standard_normal((8, 3)).astype(np.float32),
                np.zeros(3, np.float32),
                X,
                rng.integers(0, 3, 32),
            ),
            (0, 1, 2, 3),
        ),
        (rosenbrock, (np.linspace(-1.0, 1.5, 7),), 0),
    ]


PROGRAMS = [pytest.param(*p, id=p[0].__name__) for p in _programs()]
TARGETS = [target_param(t) for t in [*ARRAY_API_TARGETS, CUPY]]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("fn, args, argnums", PROGRAMS)
def test_the_same_code_runs_on_each_library_and_returns_its_arrays(fn, args, argnums, target):
    expected_value, expected_grads = symgrad.value_and_grad(fn, argnums=argnums)(*args)
    step = symgrad.value_and_grad(fn, argnums=argnums, backend="array_api")
    value, grads = step(*[target.to_array(a) for a in args])
    grads = grads if isinstance(grads, tuple) else (grads,)
    expected_grads = expected_grads if isinstance(expected_grads, tuple) else (expected_grads,)
    for got, expected in zip((value, *grads), (expected_value, *expected_grads), strict=True):
        assert target.is_native(got), f"{type(got)} returned for {target.name} arrays"
        got = target.to_numpy(got)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("fn, args, argnums", PROGRAMS)
def test_generated_code_calls_only_xp(fn, args, argnums):
    source = symgrad.value_and_grad(fn, argnums=argnums, backend="array_api").source(*args)
    body = "\n".join(line.split("#", 1)[0] for line in source.splitlines())
    assert "np." not in body and "out=" not in body and "initial=" not in body
    methods = re.findall(r"(?<![\w.])(?!xp\.|rt\.)\w+\.(\w+)\(", body)
    assert methods == [], methods  # xp functions (and runtime kernels), never array methods
    assert "xp = array_namespace(" in body


def test_an_op_the_standard_lacks_is_a_compile_time_error_naming_it():
    calls = []

    def f(x):
        calls.append(1)
        return symgrad.erf(x).sum()

    compiled = symgrad.compile(f, backend="array_api")
    with pytest.raises(codegen.CodegenError) as raised:
        compiled(np.linspace(-1, 1, 4))
    message = str(raised.value)
    assert message.startswith("symgrad.compile cannot generate code for erf at ")
    assert message.endswith(
        "op 'erf' has no spelling in backend 'array_api': the standard has no erf"
    )
    assert message.count("symgrad.compile") == 1
    assert calls == [1]  # traced once, never run
    np.testing.assert_allclose(symgrad.compile(f)(np.zeros(3)), 0.0)  # numpy still has it


def test_every_op_is_spelled_or_says_why_not():
    for name, op in REGISTRY.items():
        spelled = array_api_spellings.spelling_of(op) is not None
        guarded = op.check is None or name in array_api_spellings.GUARDS
        if not (spelled and guarded):
            assert name in array_api_spellings.NOT_SPELLED, f"{name}: no spelling, no reason"
    assert set(array_api_spellings.NOT_SPELLED) <= set(REGISTRY)


@pytest.mark.parametrize(
    "target", [target_param(t) for t in (STRICT, ARRAY_API_TARGETS[1], ARRAY_API_TARGETS[2])]
)
def test_guards_raise_eager_modes_errors_on_eager_arrays(target):
    numerator = np.arange(6)
    divisor = np.array([1, 2, 0, 1, 1, 1])
    floor_div = symgrad.compile(lambda a, b: a // b, backend="array_api")
    with pytest.raises(RuntimeError, match="^ZeroDivisionError$"):
        floor_div(target.to_array(numerator), target.to_array(divisor))
    logits = np.zeros((4, 3))
    targets = np.array([0, 2, 5, 1])
    loss = symgrad.compile(lambda x, t: F.cross_entropy(x, t), backend="array_api")
    with pytest.raises(IndexError, match="^Target 5 is out of bounds.$"):
        loss(target.to_array(logits), target.to_array(targets))


def test_on_dask_the_guards_are_skipped_so_nothing_computes():
    da = need("dask.array")
    dask = need("dask")
    numerator = da.from_array(np.arange(6), chunks=3)
    divisor = da.from_array(np.array([1, 2, 0, 1, 1, 1]), chunks=3)

    def forbidden(*args, **kwargs):
        raise AssertionError("computed")

    floor_div = symgrad.compile(lambda a, b: a // b, backend="array_api")
    with dask.config.set(scheduler=forbidden):
        lazy = floor_div(numerator, divisor)  # no error: checking would compute
    with np.errstate(divide="ignore"):
        computed = lazy.compute(scheduler="sync")
    np.testing.assert_array_equal(computed, [0, 0, 0, 3, 4, 5])  # numpy's value for x // 0


def test_tensors_keep_working_and_get_gradients():
    rng = np.random.default_rng(2)
    w = symgrad.tensor(rng.standard_normal(5), requires_grad=True)
    X = rng.standard_normal((9, 5))
    y = (X[:, 1] > 0).astype(np.float64)
    out = symgrad.compile(logistic, backend="array_api")(w, X, y)
    assert isinstance(out, symgrad.Tensor)
    out.backward()
    w2 = symgrad.tensor(w.detach().numpy(), requires_grad=True)
    logistic(w2, symgrad.tensor(X), symgrad.tensor(y)).backward()
    np.testing.assert_allclose(
        out.item(), logistic(w2, symgrad.tensor(X), symgrad.tensor(y)).item()
    )
    np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), rtol=1e-12)


def test_numpy_arguments_join_another_librarys_arrays():
    torch = need("torch")
    (fn, args, argnums), *_ = _programs()
    w, X, y = args
    value, grad = symgrad.value_and_grad(fn, backend="array_api")(
        w, torch.asarray(X), torch.asarray(y)
    )
    assert isinstance(value, torch.Tensor) and isinstance(grad, torch.Tensor)
    expected_value, expected_grad = symgrad.value_and_grad(fn)(w, X, y)
    np.testing.assert_allclose(grad.numpy(), expected_grad, rtol=2e-6)
    np.testing.assert_allclose(value.numpy(), expected_value, rtol=2e-6)


def test_the_library_is_not_part_of_the_cache_key():
    torch = need("torch")
    step = symgrad.value_and_grad(rosenbrock, backend="array_api")
    x = np.linspace(0, 1, 5)
    step(x)
    step(torch.asarray(x))
    info = step.cache_info()
    assert len(info.entries) == 1 and info.entries[0].hits == 2
    assert "[backend array_api]" in str(info)


def test_exported_module_needs_no_symgrad(tmp_path):
    fn, args, argnums = _programs()[1]
    step = symgrad.value_and_grad(fn, argnums=argnums, backend="array_api")
    path = step.export(str(tmp_path / "mlp_grad.py"), *args)
    source = open(path, encoding="utf-8").read()
    assert not re.search(r"^\s*(from|import) symgrad", source, flags=re.MULTILINE)
    assert "class rt:" in source  # the runtime kernels it calls, inlined
    np.savez(tmp_path / "args.npz", *args)
    script = (
        "import sys\n"
        "sys.modules['symgrad'] = None  # importing symgrad now fails\n"
        "import numpy as np, mlp_grad\n"
        "args = np.load('args.npz')\n"
        "out = mlp_grad.forward_backward(*[args[f'arr_{i}'] for i in range(6)])\n"
        "print(repr(float(out[0])))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    expected = symgrad.value_and_grad(fn, argnums=argnums)(*args)[0]
    assert float(result.stdout) == pytest.approx(float(expected), rel=1e-6)


GOLDEN = pathlib.Path(__file__).parent / "golden" / "array_api"
GOLDEN_NAMES = ["logistic_regression", "mlp", "rosenbrock", "stable_mix"]


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_generated_source_matches_golden(name):
    """The array_api code of the golden functions is committed (golden/array_api/) and must not
    drift; regenerate with SYMGRAD_UPDATE_GOLDEN=1 and review the diff."""
    from golden_functions import FUNCTIONS, arguments

    fn, argnums = FUNCTIONS[name]
    step = symgrad.value_and_grad(fn, argnums=argnums, backend="array_api")
    source = step.source(*arguments()[name])
    path = GOLDEN / f"{name}.py"
    if os.environ.get("SYMGRAD_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(source)
    assert source == path.read_text()
    namespace = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    args = arguments()[name]
    expected_value, expected_grads = symgrad.value_and_grad(fn, argnums=argnums)(*args)
    results = namespace["forward_backward"](*args)
    expected_grads = expected_grads if isinstance(expected_grads, tuple) else (expected_grads,)
    for got, expected in zip(results, (expected_value, *expected_grads), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "op_name, kernel, inputs, attrs",
    [
        ("shift", "shift", [(4, 5)], {"dim": 1, "offset": 2, "fill": 0.0}),
        ("shift", "shift", [(4, 5)], {"dim": 0, "offset": -1, "fill": -1.5}),
        ("shift", "shift", [(4, 5)], {"dim": 0, "offset": 7, "fill": 2.0}),
        ("linear_scan", "linear_scan", [(6, 3), (6, 3)], {"dim": 0, "reverse": False}),
        ("linear_scan", "linear_scan", [(3, 6), (3, 6)], {"dim": 1, "reverse": True}),
        ("diagonal", "diagonal", [(2, 3, 4)], {"offset": 1, "dim1": 1, "dim2": 2}),
        ("diagonal", "diagonal", [(3, 4, 2)], {"offset": -1, "dim1": 0, "dim2": 1}),
        ("constant_pad_nd", "constant_pad", [(3, 4)], {"pad": (1, -1, 0, 2), "value": 0.5}),
    ],
)
def test_runtime_kernels_equal_the_ops_numpy_code(op_name, kernel, inputs, attrs):
    """Kernels of ops the op table reaches only through rewrites, against the op's own eval."""
    import array_api_strict

    from symgrad.compiler.backends import array_api_runtime

    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(shape) for shape in inputs]
    expected = REGISTRY[op_name].eval(*arrays, **attrs)
    got = getattr(array_api_runtime, kernel)(
        array_api_strict, *[array_api_strict.asarray(a) for a in arrays], **attrs
    )
    np.testing.assert_allclose(np.from_dlpack(got), expected, rtol=1e-12)


def test_a_constant_gradient_returned_on_its_own_gets_its_device():
    """Found by the 4,000-program run: the gradient of ``x + x`` is the constant 2, returned
    as ``xp.asarray(2.0, ..., device=device)`` with no statement before it, and the template
    looked for ``device=`` in the statements only (NameError: name 'device' is not defined)."""
    strict = need("array_api_strict")
    step = symgrad.value_and_grad(lambda x: x + x, backend="array_api")
    value, grad = step(strict.asarray(np.float32(-1.105)))
    assert float(value) == pytest.approx(-2.21)
    assert float(grad) == 2.0


def test_a_kernel_of_mixed_float_inputs_returns_the_ops_dtype():
    """Found by the 3,000-program run on array-api-strict: binary_cross_entropy_with_logits of
    float64 logits and a float32 target is float32 (the target's dtype, as in torch), but the
    array_api kernel returned what it computed in (float64)."""
    strict = need("array_api_strict")

    def loss(x, y):
        return F.binary_cross_entropy_with_logits(x, y)

    x = np.linspace(-2.0, 2.0, 6)
    y = np.linspace(0.0, 1.0, 6).astype(np.float32)
    eager = loss(symgrad.tensor(x), symgrad.tensor(y))
    value = symgrad.compile(loss, backend="array_api")(strict.asarray(x), strict.asarray(y))
    assert eager.dtype is symgrad.float32
    assert value.dtype == strict.float32
    np.testing.assert_allclose(np.from_dlpack(value), eager.item(), rtol=1e-6)


def test_a_folded_where_condition_stays_a_bool_in_the_gradient():
    """Found by the 3,000-program run on array-api-strict: in ``where(a > 0.1, a, x)`` with
    ``a = abs(x - x)`` the condition folds to False before the reverse pass, which handed it
    to where's gradient as a number; it became the constant 0.0 of the data's dtype (numpy
    reads 0.0 as false; array-api-strict refuses a non-bool condition)."""
    strict = need("array_api_strict")

    def f(x):
        a = abs(x - x)
        return abs(symgrad.where(a > 0.1, a, x))

    source = symgrad.value_and_grad(f).source(np.array(np.float32(0.7)))
    assert "np.where(np.float32(0.0)" not in source
    value, grad = symgrad.value_and_grad(f, backend="array_api")(strict.asarray(np.float32(0.7)))
    assert float(value) == pytest.approx(0.7) and float(grad) == 1.0
