"""Every op of the op table, compiled, equals eager mode: values and gradients, float32 and
float64, through ``compile`` (+ ``.backward()``) and through ``value_and_grad``."""

import numpy as np
import pytest
from op_table import ALL_CASES, flat_arrays, params, to_symgrad

import symgrad
from symgrad.compiler.trace import TracingError

TOLERANCE = {np.float64: 1e-6, np.float32: 1e-5}


def _float_outputs(result):
    if isinstance(result, (tuple, list)):
        return [o for r in result for o in _float_outputs(r)]
    if isinstance(result, symgrad.Tensor) and result.dtype.is_floating_point:
        return [result]
    return []


def _weighted_sum(case, weights):
    """A scalar loss of the op's float outputs, with fixed random weights per output."""

    def loss(*args):
        outputs = _float_outputs(case.fn(*args))
        total = 0.0
        for out, weight in zip(outputs, weights, strict=False):
            total = total + (out * weight.astype(out.dtype.numpy)).sum()
        return total

    return loss


def _leaves(inputs, dtype, requires_grad):
    return [
        symgrad.tensor(v, requires_grad=requires_grad and v.dtype.kind == "f")
        if isinstance(v, np.ndarray)
        else v
        for v in inputs
    ]


def _eager(case, inputs, weights):
    args = _leaves(inputs, None, True)
    loss = _weighted_sum(case, weights)(*args)
    grads = []
    if isinstance(loss, symgrad.Tensor) and loss.requires_grad:
        loss.backward()
        grads = [a.grad for a in args if isinstance(a, symgrad.Tensor) and a.requires_grad]
    return loss, grads


def _weights(case, inputs):
    outputs = _float_outputs(case.fn(*to_symgrad(inputs)))
    rng = np.random.default_rng(1)
    return [rng.standard_normal(tuple(o.shape)) for o in outputs]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case, variant", params())
def test_compiled_values_equal_eager(case, variant, dtype):
    inputs = case.sample(variant, dtype)
    if not case.compiles:
        with pytest.raises(TracingError):
            symgrad.compile(case.fn)(*inputs)
        return
    eager = flat_arrays(case.fn(*to_symgrad(inputs)))
    compiled = flat_arrays(symgrad.compile(case.fn)(*inputs))
    assert len(compiled) == len(eager)
    for c, e in zip(compiled, eager, strict=True):
        assert c.shape == e.shape
        np.testing.assert_allclose(c, e, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def _numba_params():
    """The backend="numba" run of the gradient comparison: the first variant of each case of
    an op with a scalar (loop) spelling. Each case compiles three Numba kernels (about a
    second), so the other cases, whose ops stay numpy calls there, run on numpy only."""
    from symgrad.ops.scalar import SCALAR

    def loop_op(name):
        return any(n in SCALAR for n in (name, name.split("_")[0], name.removeprefix("binary_")))

    numba = pytest.mark.skipif(not _has_numba(), reason="backend numba needs symgrad[numba]")
    return [
        pytest.param(case, 0, "numba", id=f"{case.name}-0-numba", marks=(*case.marks, numba))
        for case in ALL_CASES
        if case.grad and case.compiles and loop_op(case.name)
    ]


def _has_numba() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "case, variant, backend",
    [
        pytest.param(*p.values, "numpy", id=p.id, marks=p.marks)
        for p in params(differentiable_only=True, compiling_only=True)
    ]
    + _numba_params(),
)
def test_compiled_gradients_equal_eager(case, variant, backend, dtype):
    inputs = case.sample(variant, dtype)
    weights = _weights(case, inputs)
    assert weights, f"{case.name} is marked differentiable but has no float output"
    loss = _weighted_sum(case, weights)
    eager_loss, eager_grads = _eager(case, inputs, weights)

    args = _leaves(inputs, dtype, True)
    compiled_loss = symgrad.compile(loss, backend=backend)(*args)
    compiled_loss.backward()
    compiled_grads = [a.grad for a in args if isinstance(a, symgrad.Tensor) and a.requires_grad]
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(compiled_loss.item(), eager_loss.item(), rtol=tol, atol=tol)
    for c, e in zip(compiled_grads, eager_grads, strict=True):
        assert (c is None) == (e is None)  # an unused argument's .grad stays None
        if e is not None:
            assert c.dtype is e.dtype
            np.testing.assert_allclose(c.numpy(), e.numpy(), rtol=tol * 10, atol=tol * 10)

    float_positions = tuple(
        i for i, v in enumerate(inputs) if isinstance(v, np.ndarray) and v.dtype.kind == "f"
    )
    compiled = symgrad.value_and_grad(loss, argnums=float_positions, backend=backend)
    value, grads = compiled(*inputs)
    np.testing.assert_allclose(value, eager_loss.item(), rtol=tol, atol=tol)
    for g, e in zip(grads, eager_grads, strict=True):
        assert isinstance(g, np.ndarray)
        expected = np.zeros_like(g) if e is None else e.numpy()  # transforms give zeros
        assert g.dtype == expected.dtype
        np.testing.assert_allclose(g, expected, rtol=tol * 10, atol=tol * 10)
