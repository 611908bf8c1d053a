"""grad, value_and_grad, vjp, jacrev/jacobian and hessian, alone and composed with compile."""

import numpy as np
import pytest

import symgrad
from symgrad.testing import check_grads


def f(x, y):
    return (x.sin() * y + x * x).sum()


def test_grad_and_value_and_grad_with_numpy():
    x, y = np.array([0.1, 0.2]), np.array([1.0, 2.0])
    value, grads = symgrad.value_and_grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(value, (np.sin(x) * y + x * x).sum())
    np.testing.assert_allclose(grads[0], np.cos(x) * y + 2 * x)
    np.testing.assert_allclose(grads[1], np.sin(x))
    np.testing.assert_allclose(symgrad.grad(f)(x, y), np.cos(x) * y + 2 * x)


def test_grad_with_tensors_returns_tensors():
    g = symgrad.grad(f)(symgrad.tensor([0.1, 0.2]), symgrad.tensor([1.0, 2.0]))
    assert isinstance(g, symgrad.Tensor) and g.grad_fn is None


def test_has_aux():
    def loss(w):
        out = w * 3
        return out.sum(), {"out": out}

    (value, aux), grad = symgrad.value_and_grad(loss, has_aux=True)(np.ones(2))
    assert value == 6.0
    np.testing.assert_array_equal(aux["out"], [3.0, 3.0])
    np.testing.assert_array_equal(grad, [3.0, 3.0])


def test_pytree_argument_gradients_keep_structure():
    def loss(params, x):
        return ((x @ params["w"] + params["b"]) ** 2).sum()

    params = {"w": np.ones((3, 2)), "b": np.zeros(2)}
    grads = symgrad.grad(loss)(params, np.ones((4, 3)))
    assert set(grads) == {"w", "b"}
    np.testing.assert_allclose(grads["b"], [24.0, 24.0])


def test_non_scalar_output_error():
    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions"):
        symgrad.grad(lambda x: x * 2)(np.ones(3))


def test_vjp():
    out, vjp_fn = symgrad.vjp(lambda x: x * x, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(out, [1.0, 4.0])
    (grad,) = vjp_fn(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(grad, [2.0, 40.0])


def test_jacrev():
    def g(x):
        return x.sin() * x[0]

    x = np.array([0.3, 0.7, 1.1])
    jac = symgrad.jacrev(g)(x)
    expected = np.diag(np.cos(x) * x[0])
    expected[:, 0] += np.sin(x)
    np.testing.assert_allclose(jac, expected, rtol=1e-12)
    assert symgrad.jacobian is symgrad.jacrev


def test_hessian_of_rosenbrock():
    def rosenbrock(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    x = np.array([1.2, 0.8, -0.5])
    hess = symgrad.hessian(rosenbrock)(x)
    step = 1e-5
    numeric = np.stack(
        [
            (symgrad.grad(rosenbrock)(x + step * e) - symgrad.grad(rosenbrock)(x - step * e))
            / (2 * step)
            for e in np.eye(3)
        ]
    )
    np.testing.assert_allclose(hess, numeric, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12)


def test_grad_composes_with_compile_both_ways():
    x, y = np.array([0.1, 0.2]), np.array([1.0, 2.0])
    expected = np.cos(x) * y + 2 * x
    np.testing.assert_allclose(symgrad.compile(symgrad.grad(f))(x, y), expected)
    np.testing.assert_allclose(symgrad.grad(symgrad.compile(f))(x, y), expected)


def test_check_grads_through_compiled_grad():
    check_grads(
        lambda x: symgrad.compile(lambda v: (v.tanh() ** 3).sum())(x), [np.random.rand(4)], order=2
    )


def test_python_float_argument_and_integer_error():
    assert float(symgrad.grad(lambda x: x * x)(3.0)) == 6.0
    with pytest.raises(TypeError, match="grad requires real-valued inputs"):
        symgrad.grad(lambda x: (x * 2).sum())(np.arange(3))


def test_vjp_gives_none_for_integer_primals():
    out, vjp_fn = symgrad.vjp(lambda x, i: x[i] * 2, np.arange(4.0), np.array([0, 0, 3]))
    grad_x, grad_i = vjp_fn(np.ones(3))
    np.testing.assert_array_equal(out, [0.0, 0.0, 6.0])
    np.testing.assert_array_equal(grad_x, [4.0, 0.0, 0.0, 2.0])
    assert grad_i is None


def test_numpy_float_scalars_are_differentiated_in_their_own_dtype():
    """np.float32(0.1) is a 0-d array to users (JAX accepts it); np.float64 is a Python float
    subclass and must keep float64."""

    def f(w, x):
        return (w * x * x).sum()

    x = np.array([1.0, 2.0, 3.0], np.float32)
    value, grad = symgrad.value_and_grad(f)(np.float32(0.1), x)
    assert grad.dtype == np.float32 and grad.shape == ()
    np.testing.assert_allclose(value, 1.4, rtol=1e-6)
    np.testing.assert_allclose(grad, 14.0)
    grad64 = symgrad.grad(f)(np.float64(2.0), x.astype(np.float64))
    assert grad64.dtype == np.float64 and float(grad64) == 14.0
    with pytest.raises(TypeError, match="grad requires real-valued inputs"):
        symgrad.grad(f)(np.int64(2), x)
