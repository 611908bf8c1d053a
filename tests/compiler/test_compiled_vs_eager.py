"""Every op of the op table, compiled, equals eager mode: values and gradients, float32 and
float64, through ``compile`` (+ ``.backward()``) and through ``value_and_grad``.

Each comparison runs on targets (``array_targets.py``): the numpy backend (every variant, both
dtypes), and the array_api backend on array-api-strict arrays (every variant in float64, the
first in float32) and on numpy, torch and Dask arrays (the first variant, float64); the
gradient comparison also runs on the numba backend (the first variant of each op with a loop
spelling, both dtypes). On an
array_api target an op the 2023.12 standard cannot write must fail to compile with the error
that names it (and the backend documents why); an op a library's namespace lacks must fail
with that library's error (``array_targets.LIBRARY_GAPS``).
"""

import numpy as np
import pytest
from array_targets import (
    ARRAY_API_TARGETS,
    NUMBA,
    NUMPY,
    STRICT,
    assert_not_in_the_standard,
    is_library_gap,
)
from array_targets import param as target_param
from op_table import ALL_CASES, flat_arrays, params, to_symgrad

import symgrad
from symgrad.compiler import codegen
from symgrad.ir.trace import TracingError

TOLERANCE = {np.float64: 1e-6, np.float32: 1e-5}
# (dtype, target): the numpy backend on every variant of every op in both dtypes, the
# conformance target (array-api-strict) on every variant in float64; the rest on variant 0.
FULL_TARGETS = [(np.float64, NUMPY), (np.float32, NUMPY), (np.float64, STRICT)]
FIRST_VARIANT_TARGETS = [(np.float32, STRICT)] + [
    (np.float64, t) for t in ARRAY_API_TARGETS if t is not STRICT
]


def _combined(case_params):
    """(case, variant, dtype, target) parameters: the full targets on every (case, variant),
    the other targets on variant 0."""
    combined = []
    for p in case_params:
        case, variant = p.values
        for dtype, target in FULL_TARGETS + (FIRST_VARIANT_TARGETS if variant == 0 else []):
            marked = target_param(target, dtype=dtype)
            combined.append(
                pytest.param(
                    case,
                    variant,
                    dtype,
                    target,
                    id=f"{p.id}-{marked.id}",
                    marks=[*p.marks, *marked.marks],
                )
            )
    return combined


def _numba_params():
    """(case, 0, dtype, NUMBA) for each case of an op with a scalar (loop) spelling: each case
    compiles about three Numba kernels (a second), so the ops that stay numpy calls on that
    backend are left to the numpy target."""
    from symgrad.ops.scalar import SCALAR

    def loop_op(name):
        return any(n in SCALAR for n in (name, name.split("_")[0], name.removeprefix("binary_")))

    combined = []
    for case in ALL_CASES:
        if not (case.grad and case.compiles and loop_op(case.name)):
            continue
        for dtype in (np.float64, np.float32):
            marked = target_param(NUMBA, dtype=dtype)
            combined.append(
                pytest.param(
                    case,
                    0,
                    dtype,
                    NUMBA,
                    id=f"{case.name}-0-{marked.id}",
                    marks=[*case.marks, *marked.marks],
                )
            )
    return combined


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


def _target_outputs(result, target) -> list:
    """A compiled result on a target as float64 numpy arrays (each checked to be of the
    target's array type)."""
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in _target_outputs(r, target)]
    if isinstance(result, (int, float, bool)):
        return [np.asarray(result, dtype=np.float64)]
    assert target.is_native(result), f"{type(result)} returned on {target.name}"
    return [target.to_numpy(result).astype(np.float64)]


@pytest.mark.parametrize("case, variant, dtype, target", _combined(params()))
def test_compiled_values_equal_eager(case, variant, dtype, target):
    inputs = case.sample(variant, dtype)
    if target is not NUMPY:
        return _values_on_target(case, inputs, dtype, target)
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


def _values_on_target(case, inputs, dtype, target):
    arrays = [target.to_array(v) for v in inputs]
    compiled = symgrad.compile(case.fn, backend=target.backend)
    if not case.compiles:
        with pytest.raises(TracingError):
            compiled(*arrays)
        return
    eager = flat_arrays(case.fn(*to_symgrad(inputs)))
    try:
        result = compiled(*arrays)
    except codegen.CodegenError as error:
        assert_not_in_the_standard(error)
        return
    except Exception as error:
        if is_library_gap(target, error):
            return
        raise
    outputs = _target_outputs(result, target)
    assert len(outputs) == len(eager)
    for c, e in zip(outputs, eager, strict=True):
        assert c.shape == e.shape
        np.testing.assert_allclose(c, e, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize(
    "case, variant, dtype, target",
    _combined(params(differentiable_only=True, compiling_only=True)) + _numba_params(),
)
def test_compiled_gradients_equal_eager(case, variant, dtype, target):
    inputs = case.sample(variant, dtype)
    weights = _weights(case, inputs)
    assert weights, f"{case.name} is marked differentiable but has no float output"
    loss = _weighted_sum(case, weights)
    eager_loss, eager_grads = _eager(case, inputs, weights)
    if target.library is not None:
        return _gradients_on_target(inputs, loss, eager_loss, eager_grads, dtype, target)

    args = _leaves(inputs, dtype, True)
    compiled_loss = symgrad.compile(loss, backend=target.backend)(*args)
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
    step = symgrad.value_and_grad(loss, argnums=float_positions, backend=target.backend)
    value, grads = step(*inputs)
    np.testing.assert_allclose(value, eager_loss.item(), rtol=tol, atol=tol)
    for g, e in zip(grads, eager_grads, strict=True):
        assert isinstance(g, np.ndarray)
        expected = np.zeros_like(g) if e is None else e.numpy()  # transforms give zeros
        assert g.dtype == expected.dtype
        np.testing.assert_allclose(g, expected, rtol=tol * 10, atol=tol * 10)


def _float_positions(inputs) -> tuple[int, ...]:
    return tuple(
        i for i, v in enumerate(inputs) if isinstance(v, np.ndarray) and v.dtype.kind == "f"
    )


def _gradients_on_target(inputs, loss, eager_loss, eager_grads, dtype, target):
    """value_and_grad on the target's arrays equals eager mode's loss and gradients."""
    arrays = [target.to_array(v) for v in inputs]
    step = symgrad.value_and_grad(loss, argnums=_float_positions(inputs), backend=target.backend)
    try:
        value, grads = step(*arrays)
    except codegen.CodegenError as error:
        assert_not_in_the_standard(error)
        return
    except Exception as error:
        if is_library_gap(target, error):
            return
        raise
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(
        _target_outputs(value, target)[0], eager_loss.item(), rtol=tol, atol=tol
    )
    for g, e in zip(grads, eager_grads, strict=True):
        (g,) = _target_outputs(g, target)
        expected = np.zeros_like(g) if e is None else e.numpy()
        np.testing.assert_allclose(g, expected, rtol=tol * 10, atol=tol * 10)
