"""symgrad.autograd.functional: jacobian, hessian, vjp, jvp, vhp, hvp against central finite
differences in float64, against each other, and against torch (when installed): values,
result structure, create_graph, strict mode and torch's error messages."""

from __future__ import annotations

import numpy as np
import pytest
from extras import need

import symgrad
from symgrad.autograd import functional as F

RNG = np.random.default_rng(8)


def t(values):
    return symgrad.tensor(np.asarray(values, dtype=np.float64))


def f_two_inputs(x, y):
    """R^3 x R^2 -> R^(2x3): every entry depends on both inputs."""
    return (x.sin()[None, :] * y.exp()[:, None]) + (x * x).sum() * y[:, None]


def f_two_outputs(x, y):
    return x.tanh() * y.sum(), (x * x).sum() + y.prod()


def scalar(x, y):
    return (x.sin() * x).sum() * y.exp().sum() + (x**3).sum() * y[0]


def numeric_jacobian(fn, inputs, eps=1e-6):
    """d fn / d inputs[j] by central differences: shape out.shape + in.shape."""
    arrays = [np.array(v.numpy(), dtype=np.float64) for v in inputs]

    def call(values):
        return fn(*[t(v) for v in values]).numpy()

    out = call(arrays)
    blocks = []
    for j, a in enumerate(arrays):
        block = np.zeros(out.shape + a.shape)
        for index in np.ndindex(a.shape):
            plus = [v.copy() for v in arrays]
            minus = [v.copy() for v in arrays]
            plus[j][index] += eps
            minus[j][index] -= eps
            block[(...,) + index] = (call(plus) - call(minus)) / (2 * eps)
        blocks.append(block)
    return blocks


X = t(RNG.normal(size=3))
Y = t(RNG.normal(size=2))


def test_jacobian_matches_finite_differences_with_tuple_structure():
    jac = F.jacobian(f_two_inputs, (X, Y))
    assert isinstance(jac, tuple) and len(jac) == 2
    assert jac[0].shape == (2, 3, 3) and jac[1].shape == (2, 3, 2)
    for ours, numeric in zip(jac, numeric_jacobian(f_two_inputs, [X, Y]), strict=True):
        np.testing.assert_allclose(ours.numpy(), numeric, rtol=1e-6, atol=1e-8)
    assert not jac[0].requires_grad and not X.requires_grad


def test_jacobian_of_several_outputs_is_a_tuple_of_tuples():
    jac = F.jacobian(f_two_outputs, (X, Y))
    assert [[b.shape for b in row] for row in jac] == [[(3, 3), (3, 2)], [(3,), (2,)]]
    first = numeric_jacobian(lambda x, y: f_two_outputs(x, y)[0], [X, Y])
    second = numeric_jacobian(lambda x, y: f_two_outputs(x, y)[1], [X, Y])
    for row, numeric in zip(jac, [first, second], strict=True):
        for ours, expected in zip(row, numeric, strict=True):
            np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6, atol=1e-8)


def test_jacobian_of_a_single_input_and_output_is_a_tensor():
    jac = F.jacobian(lambda x: x.exp() * x.sum(), X)
    assert isinstance(jac, symgrad.Tensor) and jac.shape == (3, 3)
    (numeric,) = numeric_jacobian(lambda x: x.exp() * x.sum(), [X])
    np.testing.assert_allclose(jac.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_jacobian_of_an_unused_input_is_zeros_and_strict_refuses_it():
    jac = F.jacobian(lambda x, y: x * 2, (X, Y))
    np.testing.assert_array_equal(jac[1].numpy(), np.zeros((3, 2)))
    with pytest.raises(RuntimeError, match="^Output 0 of the user-provided function is "
                       "independent of input 1. This is not allowed in strict mode.$"):  # fmt: skip
        F.jacobian(lambda x, y: x * 2, (X, Y), strict=True)


def test_jacobian_vectorize_and_forward_mode_give_the_same_numbers():
    expected = F.jacobian(f_two_inputs, (X, Y))
    for options in ({"vectorize": True}, {"vectorize": True, "strategy": "forward-mode"}):
        got = F.jacobian(f_two_inputs, (X, Y), **options)
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_hessian_matches_finite_differences_of_the_gradient():
    hess = F.hessian(scalar, (X, Y))
    for i, inp in enumerate((X, Y)):
        numeric = numeric_jacobian(lambda x, y, i=i: _gradient(x, y)[i], [X, Y])
        for j in range(2):
            assert hess[i][j].shape == tuple(inp.shape) + tuple((X, Y)[j].shape)
            np.testing.assert_allclose(hess[i][j].numpy(), numeric[j], rtol=1e-6, atol=1e-7)
    # symmetric: block (0, 1) is the transpose of block (1, 0)
    np.testing.assert_allclose(hess[0][1].numpy(), hess[1][0].numpy().T, rtol=1e-12)


def _gradient(x, y):
    x = x.detach().requires_grad_()
    y = y.detach().requires_grad_()
    return [g.detach() for g in symgrad.autograd.grad(scalar(x, y), (x, y))]


def test_hessian_of_one_input_is_a_matrix():
    hess = F.hessian(lambda x: (x**4).sum(), X)
    np.testing.assert_allclose(hess.numpy(), np.diag(12 * X.numpy() ** 2), rtol=1e-12)


def test_vjp_jvp_agree_with_the_jacobian():
    jac = F.jacobian(f_two_inputs, (X, Y))
    v_out = t(RNG.normal(size=(2, 3)))
    v_in = (t(RNG.normal(size=3)), t(RNG.normal(size=2)))
    out, vjp = F.vjp(f_two_inputs, (X, Y), v_out)
    np.testing.assert_allclose(out.numpy(), f_two_inputs(X, Y).numpy())
    for block, got in zip(jac, vjp, strict=True):
        expected = np.tensordot(v_out.numpy(), block.numpy(), axes=2)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    out, jvp = F.jvp(f_two_inputs, (X, Y), v_in)
    expected = sum(
        np.tensordot(block.numpy(), v.numpy(), axes=1) for block, v in zip(jac, v_in, strict=True)
    )
    np.testing.assert_allclose(jvp.numpy(), expected, rtol=1e-12)


def test_vhp_and_hvp_agree_with_the_hessian():
    hess = F.hessian(scalar, (X, Y))
    v = (t(RNG.normal(size=3)), t(RNG.normal(size=2)))
    value, hv = F.hvp(scalar, (X, Y), v)
    _, vh = F.vhp(scalar, (X, Y), v)
    assert value.item() == pytest.approx(scalar(X, Y).item(), rel=1e-15)
    for i in range(2):
        expected = sum(hess[i][j].numpy() @ v[j].numpy() for j in range(2))
        np.testing.assert_allclose(hv[i].numpy(), expected, rtol=1e-11)
        np.testing.assert_allclose(vh[i].numpy(), expected, rtol=1e-11)


def test_v_may_be_omitted_only_for_one_element():
    out, g = F.vjp(lambda x: (x**2).sum(), X)
    np.testing.assert_allclose(g.numpy(), 2 * X.numpy())
    one = t([0.5])
    _, d = F.jvp(lambda x: x.exp() * 3, one)
    np.testing.assert_allclose(d.numpy(), 3 * np.exp([0.5]))
    with pytest.raises(RuntimeError, match="^The vector v can only be None if the user-provided "
                       "function returns a single Tensor with a single element.$"):  # fmt: skip
        F.vjp(lambda x: x * 2, X)
    message = "^The vector v can only be None if the input to the user-provided function is a"
    with pytest.raises(RuntimeError, match=message):
        F.hvp(lambda x: (x**3).sum(), X)


def test_create_graph_results_are_differentiable():
    x = X.detach().requires_grad_()
    # d/dx of sum(J) for f = x^3 (J = diag(3 x^2)) is 6 x
    jac = F.jacobian(lambda v: v**3, x, create_graph=True)
    assert jac.requires_grad
    (g,) = symgrad.autograd.grad(jac.sum(), x)
    np.testing.assert_allclose(g.numpy(), 6 * X.numpy(), rtol=1e-12)
    # third derivative through hessian(create_graph=True)
    hess = F.hessian(lambda v: (v**4).sum(), x, create_graph=True)
    (g3,) = symgrad.autograd.grad(hess.sum(), x)
    np.testing.assert_allclose(g3.numpy(), 24 * X.numpy(), rtol=1e-12)
    _, hv = F.hvp(lambda v: (v**4).sum(), x, symgrad.ones_like(x), create_graph=True)
    (g3,) = symgrad.autograd.grad(hv.sum(), x)
    np.testing.assert_allclose(g3.numpy(), 24 * X.numpy(), rtol=1e-12)
    # without create_graph the results are detached
    assert not F.jacobian(lambda v: v**3, x).requires_grad


def test_strict_mode_errors():
    with pytest.raises(RuntimeError, match="^Output 0 of the user-provided function does not "
                       "require gradients"):  # fmt: skip
        F.vjp(lambda x: symgrad.ones(3), X, t(np.ones(3)), strict=True)
    with pytest.raises(RuntimeError, match="^The output of the user-provided function is "
                       "independent of input 1. This is not allowed in strict mode.$"):  # fmt: skip
        F.vjp(lambda x, y: x * 2, (X, Y), t(np.ones(3)), strict=True)
    message = "^While computing the hessian, found that the jacobian of the user-provided"
    with pytest.raises(RuntimeError, match=message):
        F.hessian(lambda x: (x * 2).sum(), X, strict=True)
    # as torch: a linear function passes strict jvp (its vjp depends on the cotangent)
    _, d = F.jvp(lambda x: x * 2, X, t(np.ones(3)), strict=True)
    np.testing.assert_array_equal(d.numpy(), [2.0, 2.0, 2.0])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: F.jacobian(lambda x: x, [X]), TypeError,
         "The inputs given to jacobian must be either a Tensor or a tuple of Tensors but the "
         "given inputs has type <class 'list'>."),
        (lambda: F.vjp(lambda x: x, (X, 1.0)), TypeError,
         "The inputs given to vjp must be either a Tensor or a tuple of Tensors but the value "
         "at index 1 has type <class 'float'>."),
        (lambda: F.jacobian(lambda x: 1.0, X), TypeError,
         "The outputs of the user-provided function given to jacobian must be either a Tensor "
         "or a tuple of Tensors but the given outputs of the user-provided function has type "
         "<class 'float'>."),
        (lambda: F.vjp(lambda x: x, X, t([1.0])), RuntimeError,
         "v has invalid size: should be torch.Size([3]) but got torch.Size([1])."),
        (lambda: F.jvp(lambda x, y: x, (X, Y), (X,)), RuntimeError,
         "v is a tuple of invalid length: should be 2 but got 1."),
        (lambda: F.jvp(lambda x, y: x, (X, Y), (X, X)), RuntimeError,
         "Entry 1 in v has invalid size: should be torch.Size([2]) but got torch.Size([3])."),
        (lambda: F.hessian(lambda x: x, X), RuntimeError,
         "The Tensor returned by the function given to hessian should contain a single element"),
        (lambda: F.hvp(lambda x: (x, x), X, X), RuntimeError,
         "The function given to hvp should return a single Tensor"),
        (lambda: F.jacobian(lambda x: x, X, strategy="fast"), AssertionError,
         'Expected strategy to be either "forward-mode" or "reverse-mode".'),
        (lambda: F.jacobian(lambda x: x, X, strategy="forward-mode"), NotImplementedError,
         "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"),
        (lambda: F.jacobian(lambda x: x, X, vectorize=True, strict=True), RuntimeError,
         "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True`"),
    ],
)  # fmt: skip
def test_errors_are_torchs(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value).startswith(message)


# --------------------------------------------------------------------- torch oracle
def _both(name, fn_source, inputs, v=None, **kwargs):
    torch = need("torch")
    namespace_ours = {"m": symgrad}
    namespace_theirs = {"m": torch}
    fn_ours = eval(fn_source, namespace_ours)  # noqa: S307 - test-local source text
    fn_theirs = eval(fn_source, namespace_theirs)  # noqa: S307
    ours_in = tuple(symgrad.tensor(a) for a in inputs)
    theirs_in = tuple(torch.tensor(a) for a in inputs)
    args_ours, args_theirs = [fn_ours, ours_in], [fn_theirs, theirs_in]
    if v is not None:
        args_ours.append(tuple(symgrad.tensor(a) for a in v))
        args_theirs.append(tuple(torch.tensor(a) for a in v))
    ours = getattr(F, name)(*args_ours, **kwargs)
    theirs = getattr(torch.autograd.functional, name)(*args_theirs, **kwargs)
    return ours, theirs


def _assert_same(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _assert_same(a, b)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)


SOURCE = (
    "lambda x, y: ((x.sin()[None, :] * y.exp()[:, None]) + (x * x).sum() * y[:, None], y.tanh())"
)
SCALAR = "lambda x, y: (x.sin() * x).sum() * y.exp().sum() + (x**3).sum() * y[0]"
A = [RNG.normal(size=3), RNG.normal(size=2)]


@pytest.mark.parametrize("create_graph", [False, True])
def test_against_torch(create_graph):
    kw = {"create_graph": create_graph}
    _assert_same(*_both("jacobian", SOURCE, A, **kw))
    _assert_same(*_both("hessian", SCALAR, A, **kw))
    _assert_same(*_both("vjp", SOURCE, A, v=[RNG.normal(size=(2, 3)), RNG.normal(size=2)], **kw))
    _assert_same(*_both("jvp", SOURCE, A, v=[RNG.normal(size=3), RNG.normal(size=2)], **kw))
    _assert_same(*_both("hvp", SCALAR, A, v=[RNG.normal(size=3), RNG.normal(size=2)], **kw))
    _assert_same(*_both("vhp", SCALAR, A, v=[RNG.normal(size=3), RNG.normal(size=2)], **kw))
