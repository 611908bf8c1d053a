"""Named regression tests: every compiled-vs-eager bug found (issue 7's reproducers, and what
the property tests found since) stays fixed. Expected values are eager symgrad's (= torch's)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from extras import need
from programs import Program, Step
from test_properties import check_program

import symgrad
import symgrad.nn.functional as F
from symgrad.compiler import rewrite, rules
from symgrad.ir.graph import Graph


def _eager_value_and_grad(fn, *arrays):
    inputs = [symgrad.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    out.backward()
    return out, [x.grad for x in inputs]


def _assert_matches_eager(fn, *arrays, rtol=1e-7):
    out, grads = _eager_value_and_grad(fn, *arrays)
    value, compiled_grads = symgrad.value_and_grad(fn, argnums=tuple(range(len(arrays))))(*arrays)
    assert value.dtype == out.dtype.numpy
    np.testing.assert_allclose(value, out.item(), rtol=rtol)
    for g, e in zip(compiled_grads, grads, strict=True):
        assert g.dtype == e.dtype.numpy
        np.testing.assert_allclose(g, e.numpy(), rtol=rtol, atol=rtol)


# ------------------------------------------------------------------ 1-2: buffer reuse (out=)


def test_reproducer_1_buffer_of_a_live_view_is_not_reused():
    """y = x * 2 - 1 reused x * 2's buffer, then the backward wrote into it while y.mT (a
    view of it) was still to be read: a silently wrong gradient."""
    x = np.random.default_rng(0).standard_normal((64, 24))
    _assert_matches_eager(lambda x: (lambda y: (y.mT @ y).sum())(x * 2.0 - 1.0), x)


def test_reproducer_2_out_never_writes_into_a_broadcast_view():
    """The gradient of x - x.mean(1, keepdim=True) wrote out= into np.broadcast_to's
    read-only view (ValueError)."""
    x = np.random.default_rng(0).standard_normal((2048, 4))
    _assert_matches_eager(lambda x: (x - x.mean(dim=1, keepdim=True)).sum(), x)


def test_out_is_only_written_into_a_whole_buffer_of_the_same_type():
    f = symgrad.value_and_grad(lambda x: (x - x.mean(dim=1, keepdim=True)).sum())
    source = f.source(np.zeros((2048, 4)))
    for line in source.splitlines():
        if "np.broadcast_to(" in line:
            view = line.split("=")[0].strip()
            assert f"out={view})" not in source


# -------------------------------------------------------------- 3-4: rules and constants


def test_reproducer_3_where_of_a_scaled_0d_input_compiles():
    """divide_by_constant after nan_safe_masked_gradient met a division of two constants and
    Builder.op raised a bare StopIteration."""
    _assert_matches_eager(lambda x: symgrad.where(x > 0, x / 4, 0.0), np.array(1.5))
    _assert_matches_eager(lambda x: symgrad.where(x > 0, x / 4, 0.0), np.array(-1.5))


def test_builder_op_of_constants_only_asks_for_a_dtype():
    builder = rewrite.Builder(Graph())
    one = builder.const(1.0, symgrad.float64)
    with pytest.raises(ValueError, match="needs dtype="):
        builder.op("mul", one, one)
    assert builder.op("mul", one, one, dtype=symgrad.float32).dtype is symgrad.float32
    assert rules.divide_by_constant is not None


def test_reproducer_4_indexing_a_constant_prints_an_array():
    """z = x - x folds to the constant 0.0, and z[None] was printed as 0.0[None]."""

    def f(x):
        z = x - x
        return z[None].sum()

    _assert_matches_eager(f, np.array(1.5))
    source = symgrad.value_and_grad(f).source(np.array(1.5))
    assert "0.0[None]" not in source


# ------------------------------------------------------------------------- 5: dtypes


def test_reproducer_5_relu_mean_gradient_stays_float32():
    x = np.array([-1.0, 2.0, 3.0], dtype=np.float32)
    value, grad = symgrad.value_and_grad(lambda x: symgrad.relu(x).mean())(x)
    assert value.dtype == np.float32 and grad.dtype == np.float32
    np.testing.assert_allclose(grad, [0, 1 / 3, 1 / 3], rtol=1e-6)


def test_reproducer_5_cancelled_value_stays_float32():
    x = np.array([1.0, 2.0], dtype=np.float32)
    value, grad = symgrad.value_and_grad(lambda x: ((x * x) - (x * x)).sum())(x)
    assert value.dtype == np.float32 and grad.dtype == np.float32
    np.testing.assert_array_equal(grad, [0, 0])


def test_reproducer_5_inplace_keeps_the_target_dtype():
    k = symgrad.tensor(2.0, dtype=symgrad.float64)

    def f(x):
        y = x.clone()
        y *= k
        return y

    x = symgrad.tensor(1.5)
    assert symgrad.compile(f)(x).dtype is f(x).dtype is symgrad.float32


def test_reproducer_5_bce_with_logits_has_the_target_dtype():
    def f(logits, target):
        return F.binary_cross_entropy_with_logits(logits, target)

    logits = symgrad.tensor([0.5, -1.0], dtype=symgrad.float64)
    target = symgrad.tensor([1.0, 0.0])
    eager, compiled = f(logits, target), symgrad.compile(f)(logits, target)
    assert compiled.dtype is eager.dtype is symgrad.float32
    np.testing.assert_allclose(compiled.item(), eager.item(), rtol=1e-6)


def test_reproducer_5_setitem_stores_the_float64_number():
    def f(x):
        y = x.clone()
        y[0] = 0.1
        return y

    x = symgrad.tensor([1.0, 2.0], dtype=symgrad.float64)
    assert symgrad.compile(f)(x)[0].item() == f(x)[0].item() == 0.1


def test_where_with_a_python_zero_keeps_float32():
    x = np.array([-1.0, 2.0], dtype=np.float32)
    f = symgrad.compile(lambda x: symgrad.where(x > 0, x, 0))
    assert f(x).dtype == np.float32


def test_constants_are_typed_where_numpy_would_widen_them():
    source = symgrad.value_and_grad(lambda x: symgrad.relu(x).mean()).source(
        np.ones(3, dtype=np.float32)
    )
    assert "np.reshape(np.float32(" in source


# ------------------------------------------------------------------ 6: requires_grad


def test_reproducer_6_cancelled_dependence_still_requires_grad():
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    out = symgrad.compile(lambda x: (x - x).sum())(x)
    assert out.requires_grad and out.grad_fn is not None
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_reproducer_6_dependence_through_a_comparison_does_not_require_grad():
    def f(c, x):
        return symgrad.where(c > 0, x, x * 2).sum()

    c = symgrad.tensor([1.0, -2.0], requires_grad=True)
    x = symgrad.tensor([1.0, 2.0])
    assert f(c, x).requires_grad is False
    out = symgrad.compile(f)(c, x)
    assert out.requires_grad is False and out.grad_fn is None


def test_unused_argument_gets_no_gradient():
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    unused = symgrad.tensor([1.0, 2.0], requires_grad=True)
    symgrad.compile(lambda x, y: (x * 2).sum())(x, unused).backward()
    assert unused.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


# -------------------------------------------------------------- 7: rebound globals


W = symgrad.tensor([1.0, 2.0], requires_grad=True)


def _uses_global(x):
    return (W * x).sum()


def test_reproducer_7_rebound_global_is_read_on_the_next_call():
    global W
    f = symgrad.compile(_uses_global)
    x = symgrad.tensor([3.0])
    f(x).backward()
    np.testing.assert_array_equal(W.grad.numpy(), [3.0, 3.0])
    W = (W - 0.1 * W.grad).detach().requires_grad_()
    out = f(x)
    np.testing.assert_allclose(out.item(), (W * x).sum().item())
    out.backward()
    np.testing.assert_array_equal(W.grad.numpy(), [3.0, 3.0])
    assert len(f.cache_info().entries) == 1
    W = symgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert f(x).item() == 18.0
    assert f.cache_info().recompile_reasons == ["'W' shape (2,) -> (3,)"]


def test_reproducer_7_rebound_closure_variable_is_read_on_the_next_call():
    scale = symgrad.tensor([2.0])

    @symgrad.compile
    def f(x):
        return (x * scale).sum()

    x = np.array([1.0, 2.0])
    assert f(x) == 6.0
    scale = symgrad.tensor([3.0])  # noqa: F841 - read by f through its closure
    assert f(x) == 9.0
    vg = symgrad.value_and_grad(lambda x: (x * scale).sum())
    np.testing.assert_array_equal(vg(x)[1], [3.0, 3.0])
    scale = symgrad.tensor([5.0])
    np.testing.assert_array_equal(vg(x)[1], [5.0, 5.0])


def test_view_of_a_concrete_tensor_while_tracing_leaves_it_untouched():
    global W
    W = symgrad.tensor([1.0, 2.0])
    symgrad.compile(lambda x: (W[0] * x).sum())(np.ones(2))
    assert W._view_fn is None


# ---------------------------------------------------------------- 8: in-place updates


def test_reproducer_8_writing_through_the_base_compiles():
    def f(x, v):
        y = x.clone()
        y[0] = y[0] + v
        return (y * y).sum()

    _assert_matches_eager(f, np.array([1.0, 2.0]), np.array(3.0))


def test_views_see_a_later_write_through_their_base():
    def f(x):
        y = x.clone()
        row = y[0]
        y[0] = y[1] + 3
        return (row + y).sum() + row.sin().sum()

    _assert_matches_eager(f, np.array([[1.0, 2.0], [3.0, 4.0]]))


def test_write_through_a_view_is_refused_while_tracing():
    def f(x):
        y = x.clone()
        row = y[0]
        row[0] = 5.0
        return y.sum()

    with pytest.raises(symgrad.ir.trace.TracingError, match="view of another tensor"):
        symgrad.compile(f)(np.ones((2, 2)))


def test_inplace_result_that_does_not_fit_raises_eagers_error():
    def f(x, z):
        y = x.clone()
        y += z
        return y.sum()

    x, z = symgrad.tensor([1.0, 2.0, 3.0]), symgrad.tensor(np.ones((2, 3)))
    with pytest.raises(RuntimeError) as eager:
        f(x, z)
    with pytest.raises(RuntimeError) as compiled:
        symgrad.compile(f)(x, z)
    assert str(compiled.value).splitlines()[0] == str(eager.value).splitlines()[0]


# ------------------------------------------------------ found by the property tests


def test_setitem_slice_from_its_own_base_large():
    """Large buffers: a slice written from another slice of the same clone."""
    program = Program((((64, 24), "float32"),), (Step("setitem_slice", (0,)),), 0)
    check_program(program)


def test_rule_reading_a_folded_constant_operand_as_a_tensor():
    """l1_loss(x, x) folds to the constant 0 before differentiating; smooth_l1_loss's gradient
    rule then met a Python float where eager mode gives it a tensor (found by the property
    tests: 'float' object has no attribute 'shape')."""

    def f(x):
        return F.smooth_l1_loss(x.sum(), F.l1_loss(x, x))

    _assert_matches_eager(f, np.array([0.2, -0.3, 0.4]))


def test_huber_loss_of_mixed_dtypes_has_the_first_dtype_and_a_gradient():
    """torch returns the first input's dtype (and fails in backward); symgrad gives the
    same dtype, compiled and eager, and a gradient for both inputs."""

    def f(a, b):
        return F.huber_loss(a, b)

    a = np.array([0.2, 1.5, -2.0], dtype=np.float32)
    b = np.array([0.1, 0.5, 0.3])
    _assert_matches_eager(f, a, b, rtol=1e-6)


def test_write_through_a_view_of_a_captured_tensor_is_refused():
    captured = symgrad.tensor([1.0, 2.0])

    def f(x):
        row = captured[0:1]
        row.add_(x)
        return row

    with pytest.raises(symgrad.ir.trace.TracingError, match="view of another tensor"):
        symgrad.compile(f)(np.ones(1))
    np.testing.assert_array_equal(captured.numpy(), [1.0, 2.0])


def test_compiled_output_is_not_its_argument():
    """x * 1 rewrites to x: the generated code returned the argument itself, so a later
    in-place update of x changed the output (eager gives a new tensor)."""
    x = symgrad.tensor([1.0, 2.0])
    out = symgrad.compile(lambda x: x * 1.0 + 0)(x)
    with symgrad.no_grad():
        x.add_(10.0)
    np.testing.assert_array_equal(out.numpy(), [1.0, 2.0])


def test_gradient_of_a_sum_is_a_writable_array():
    """The gradient of x.sum() is a broadcast of 1: returned as numpy's read-only view, an
    in-place update of it (g *= lr) raised."""
    _, grad = symgrad.value_and_grad(lambda x: x.sum())(np.array([1.0, 2.0]))
    grad *= 0.5
    np.testing.assert_array_equal(grad, [0.5, 0.5])


def test_reshape_chain_of_a_folded_constant():
    """x - x folds to a constant; reshape(reshape(constant)) made reshape_chain build a node
    from constants only without its dtype (found by the property tests)."""

    def f(x):
        return (x - x).reshape(1, 1).reshape(1).sum() + x

    _assert_matches_eager(f, np.array(0.7))
    _assert_matches_eager(lambda x: (x - x).unsqueeze(0).permute(0).sum() * x, np.array(0.7))


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_loss_of_a_0d_and_a_dimensioned_operand_promotes_as_torch(loss):
    """torch broadcasts the operands first, so a float64 0-dim target and a float32[3] input
    give float64 (symgrad gave float32; found by the property tests against torch)."""
    fn = getattr(F, loss)
    a = symgrad.tensor(0.5, dtype=symgrad.float64)
    b = symgrad.tensor([0.1, 0.9, 2.0])
    with pytest.warns(UserWarning, match="different to the input size"):
        assert fn(a, b).dtype is fn(b, a).dtype is symgrad.float64
    with pytest.warns(UserWarning, match="different to the input size"):
        _assert_matches_eager(fn, np.array(0.5), np.array([0.1, 0.9, 2.0], dtype=np.float32))


def test_compiled_bernoulli_has_the_probabilities_dtype_as_eagerly():
    """Found by test_op_coverage after the sampling ops joined the op table: the generated
    ``uniform < p`` was a bool array where eager casts to p's dtype."""
    p = symgrad.full((5,), 0.5, dtype=symgrad.float64)
    compiled = symgrad.compile(lambda p: symgrad.bernoulli(p))(p)
    assert compiled.dtype is symgrad.bernoulli(p).dtype is symgrad.float64


def test_logaddexp_of_a_value_with_itself_compiles():
    """Found by the 10,000-program run after the SymPy region phase landed: the gradient's
    ``sigmoid(x - x)`` became ``Sigmoid(0)``, a number SymPy could not print as a constant."""
    x = np.array([0.1, -0.2, 0.6], dtype=np.float32)
    value, grad = symgrad.value_and_grad(lambda x: symgrad.logaddexp(x, x).sum())(x)
    t = symgrad.tensor(x, requires_grad=True)
    eager = symgrad.logaddexp(t, t).sum()
    eager.backward()
    np.testing.assert_allclose(value, eager.item(), rtol=1e-6)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-6)


def test_logsigmoid_of_logsigmoid_of_zero_compiles():
    """Found by the 10,000-program run after the fix above: ``x - x`` folded to 0 leaves
    ``softplus(log 2)``, a number that is not a SymPy Number; opaque functions now evaluate
    numerically for any numeric argument."""
    F = symgrad.nn.functional

    def f(x):
        return F.logsigmoid(F.logsigmoid(x - x)).sum()

    x = np.ones(3, dtype=np.float32)
    value, grad = symgrad.value_and_grad(f)(x)
    t = symgrad.tensor(x, requires_grad=True)
    eager = f(t)
    eager.backward()
    np.testing.assert_allclose(value, eager.item(), rtol=1e-6)
    np.testing.assert_array_equal(grad, t.grad.numpy())


def test_setitem_value_with_leading_ones_is_written_as_torch_writes_it():
    """Found by the 3,000-program run on array-api-strict: ``y[0] = y[0] - v`` with ``v`` of
    shape (1,) raised numpy 2's "setting an array element with a sequence" eagerly and in
    numpy-backend code; torch drops a value's leading 1s (tensor([0.]) here)."""

    def f(x, v):
        y = x.clone()
        y[0] = y[0] - v
        return y

    x = np.array([0.5], np.float32)
    eager = f(symgrad.tensor(x), symgrad.tensor(x))
    np.testing.assert_array_equal(eager.numpy(), [0.0])
    np.testing.assert_array_equal(symgrad.compile(f)(x, x), [0.0])

    def g(x, v):
        z = x.clone()
        z[0] = v * 2
        return z.sum()

    value, (d_x, d_v) = symgrad.value_and_grad(g, argnums=(0, 1))(
        np.zeros(3, np.float32), np.ones((1, 1), np.float32)
    )
    assert value == 2.0 and d_v.shape == (1, 1) and d_v[0, 0] == 2.0
    np.testing.assert_array_equal(d_x, [0.0, 1.0, 1.0])
    y = symgrad.zeros(3)
    with pytest.raises(RuntimeError, match=r"^expand\(torch.FloatTensor\{\[2\]\}, size=\[\]\)"):
        y[0] = symgrad.ones(2)


def test_logits_cross_entropy_of_a_folded_constant_compiles():
    """Found by the 3,000-program run on array-api-strict (any backend): in
    ``binary_cross_entropy_with_logits(x - x, x)`` the logits fold to the constant 0, and the
    stabilize rule built ``neg`` of that constant without saying its dtype."""

    def f(x):
        return F.binary_cross_entropy_with_logits(x - x, x)

    x = np.array(0.3, np.float32)
    value, grad = symgrad.value_and_grad(f)(x)
    eager_x = symgrad.tensor(x, requires_grad=True)
    eager = f(eager_x)
    eager.backward()
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, eager.item(), rtol=1e-6)
    np.testing.assert_allclose(grad, eager_x.grad.numpy(), atol=1e-7)


def test_mean_over_an_empty_axis_compiles_and_stays_silent():
    """Found by the numba loops' tests (any backend): the mean's ``1 / 0`` reached SymPy as a
    non-finite constant and compiling raised ``NotImplementedError``; eager leaked numpy's
    "Mean of empty slice" RuntimeWarning, which torch does not give."""

    def f(x, b):
        return (x * (x * b).tanh()).mean(0, keepdim=True).sum()

    _assert_matches_eager(f, np.zeros((0, 3)), np.ones(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(symgrad.zeros(0, 3).mean(0).numpy()).all()


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_compiled_code_runs_under_numpy_ignoring_error_state(backend):
    """Found in review: generated code ran under the caller's numpy error state, so with
    ``np.seterr(all="raise")`` a compiled ``1 / x`` at 0 raised FloatingPointError (and under
    a warnings-as-errors filter, RuntimeWarning) where eager gives inf and NaN, as torch."""
    if backend == "numba":
        need("numba")

    def f(x):
        return (1.0 / x).sum() + x.log().sum()

    x = np.array([1.0, -2.0, 0.0])
    eager_x = symgrad.tensor(x, requires_grad=True)
    eager = f(eager_x)
    eager.backward()
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = symgrad.value_and_grad(f, backend=backend)(x)
        compiled_x = symgrad.tensor(x, requires_grad=True)
        out = symgrad.compile(f, backend=backend)(compiled_x)
        out.backward()
        assert np.geterr()["divide"] == "raise"  # the caller's state is back
    np.testing.assert_array_equal(value, eager.detach().numpy())
    np.testing.assert_array_equal(out.detach().numpy(), eager.detach().numpy())
    np.testing.assert_array_equal(compiled_x.grad.numpy(), eager_x.grad.numpy())
    np.testing.assert_array_equal(grad, eager_x.grad.numpy())


def test_division_by_a_folded_zero_compiles():
    """Found in review: ``x / (x * 0)`` folds the divisor to the constant 0, SymPy turned the
    region into complex infinity (``zoo``), and rebuilding it raised ``TypeError: Cannot
    convert complex to float``. Such a region is now left as written."""
    _assert_matches_eager(lambda x: (x / (x * 0)).sum(), np.ones(3))


def test_a_captured_tensor_replaced_in_a_dict_is_read_anew():
    """Found in review: a captured tensor read through a container (``params["w"]``) was
    frozen at trace time, so replacing the dict entry left compiled code on the old tensor
    (wrong values and gradients to a tensor no longer used); closure variables and globals
    were already read on each call."""
    params = {"w": symgrad.tensor([1.0, 2.0], requires_grad=True)}

    def f(x):
        return (x * params["w"]).sum()

    compiled = symgrad.compile(f)
    x = symgrad.tensor([1.0, 1.0])
    assert compiled(x).item() == 3.0
    params["w"] = symgrad.tensor([3.0, 4.0], requires_grad=True)
    out = compiled(x)
    out.backward()
    assert out.item() == 7.0
    np.testing.assert_array_equal(params["w"].grad.numpy(), [1.0, 1.0])
    params["w"] = symgrad.tensor([1.0, 2.0, 3.0])  # another shape: recompiled
    assert compiled(symgrad.ones(3)).item() == 6.0
    value, grad = symgrad.value_and_grad(f)(np.array([2.0, 2.0, 2.0], np.float32))
    assert value == 12.0


def test_a_replaced_submodule_is_read_anew():
    """Found in review: ``compile(model)`` and a compiled function calling a global model
    kept the parameters of a submodule the user had replaced (``model.fc = nn.Linear(...)``,
    ``seq[0] = ...``)."""

    class Net(symgrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = symgrad.nn.Linear(2, 1)

        def forward(self, x):
            return self.fc(x).sum()

    x = symgrad.tensor([[1.0, 2.0]])
    model = Net()
    compiled = symgrad.compile(model)
    compiled(x)
    model.fc = symgrad.nn.Linear(2, 1)
    out = compiled(x)
    out.backward()
    np.testing.assert_allclose(out.item(), model(x).item(), rtol=1e-6)
    np.testing.assert_array_equal(model.fc.weight.grad.numpy(), [[1.0, 2.0]])

    seq = symgrad.nn.Sequential(symgrad.nn.Linear(2, 1))
    g = symgrad.compile(lambda x: seq(x).sum())
    g(x)
    seq[0] = symgrad.nn.Linear(2, 1)
    np.testing.assert_allclose(g(x).item(), seq(x).sum().item(), rtol=1e-6)
