"""The eager hot path's shortcuts keep semantics: the dtype-promotion cache follows the default
dtype, floating-point warnings stay off inside ops and the caller's numpy error state is left
alone, lazily created node fields behave as before, and the engine's direct numpy summation of
gradients equals the op-by-op one."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import symgrad
import symgrad.testing
from symgrad import dtypes


@pytest.fixture
def default_float64():
    symgrad.set_default_dtype(symgrad.float64)
    yield
    symgrad.set_default_dtype(symgrad.float32)


def test_promotion_cache_follows_the_default_dtype(default_float64):
    i = symgrad.tensor([1, 2])
    assert (i * 0.5).dtype == symgrad.float64  # cached under the float64 default
    symgrad.set_default_dtype(symgrad.float32)
    assert (i * 0.5).dtype == symgrad.float32
    assert (i / i).dtype == symgrad.float32


def test_promotion_cache_keys_distinguish_zero_dim_and_scalar_types():
    f16 = symgrad.ones(2, dtype=symgrad.float16)
    assert (f16 + symgrad.tensor(1.0, dtype=symgrad.float64)).dtype == symgrad.float16
    assert (f16 + symgrad.ones(2, dtype=symgrad.float64)).dtype == symgrad.float64
    b = symgrad.tensor([True, False])
    assert (b + True).dtype == symgrad.bool
    assert (b + 1).dtype == symgrad.int64
    assert (b + 1.0).dtype == symgrad.float32
    assert all(isinstance(k, tuple) and isinstance(k[0], str) for k in dtypes.PROMOTION_CACHE)


def test_ops_do_not_warn_and_leave_numpy_error_state_alone():
    x = symgrad.tensor([0.0, 1.0, 1e38])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert symgrad.isinf((x * 1e10)[2]).item()
        assert np.isnan((x / x)[0].item())
        (x.log() * 2).sum()
    before = np.geterr()
    with np.errstate(over="raise"):
        assert np.geterr()["over"] == "raise"
        y = x * 1e10  # the op ignores it, the caller's state holds again afterwards
        assert np.geterr()["over"] == "raise"
        with pytest.raises(FloatingPointError):
            np.multiply(np.float32(1e38), np.float32(1e10))
    assert np.isinf(y[2].item())
    assert np.geterr() == before


def test_ops_in_threads_each_enter_their_own_ignoring_context():
    # Ops call numpy inside a Context that ignores floating-point errors; numpy lets other
    # threads run during large loops, and a Context is entered by one thread at a time, so
    # each thread has its own (sharing one raised "cannot enter context").
    import threading

    from symgrad import float_errors

    big = symgrad.full((2_000_000,), 3.0)
    small = symgrad.tensor([0.0, 1e38], requires_grad=True)
    errors = []

    def work():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                for _ in range(20):
                    (big * big + big).sum()
                    out = (small * 1e10 / small).sum()  # inf and nan, silently
                    out.backward()
        except Exception as error:  # noqa: BLE001 - any failure in a thread fails the test
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    mine = float_errors.ignoring_context(float_errors.STATE.get())
    seen = []
    other = threading.Thread(
        target=lambda: seen.append(float_errors.ignoring_context(float_errors.STATE.get()))
    )
    other.start()
    other.join()
    assert mine is not None and seen[0] is not None and seen[0] is not mine
    # under the ignoring state itself (the backward engine sets it), numpy is called directly
    ignoring = float_errors.ignoring_state(float_errors.STATE.get())
    token = float_errors.STATE.set(ignoring)
    try:
        assert float_errors.ignoring_context(ignoring) is None
    finally:
        float_errors.STATE.reset(token)


def test_node_fields_created_on_first_use():
    x = symgrad.ones(2, requires_grad=True)
    y = x * 2
    node = y.grad_fn
    assert node.metadata == {}
    node.metadata["tag"] = 1
    assert y.grad_fn.metadata == {"tag": 1}
    seen = []
    node.register_prehook(lambda grads: seen.append("pre"))
    node.register_hook(lambda grad_inputs, grad_outputs: seen.append("post"))
    y.sum().backward()
    assert seen == ["pre", "post"]
    assert x.grad.tolist() == [2.0, 2.0]


def test_leaf_fields_default_until_set():
    x = symgrad.ones(2, requires_grad=True)
    assert x.grad is None and x.is_leaf and x.output_nr == 0 and not x.retains_grad
    assert "_grad" not in x.__dict__
    x.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    # the AccumulateGrad node is shared within a graph
    z = x * x
    first, second = z.grad_fn.next_functions
    assert first[0] is second[0]


def test_engine_sums_gradients_like_the_add_op():
    # x reaches the loss through 50 paths: without create_graph the engine sums the float32
    # gradients in numpy, with it through the add op; the roundings must be the same
    rng = np.random.default_rng(3)
    x = symgrad.tensor(rng.normal(size=7).astype(np.float32), requires_grad=True)
    weights = [symgrad.tensor(w) for w in rng.normal(size=(50, 7)).astype(np.float32)]

    def loss():
        return sum(((x * w).sum() for w in weights), symgrad.tensor(0.0))

    (by_numpy,) = symgrad.autograd.grad(loss(), x)
    (by_ops,) = symgrad.autograd.grad(loss(), x, create_graph=True)
    np.testing.assert_array_equal(by_numpy.numpy(), by_ops.detach().numpy())
    np.testing.assert_allclose(by_numpy.numpy(), sum(w.numpy() for w in weights), rtol=1e-5)


def test_create_graph_keeps_summed_gradients_differentiable():
    x = symgrad.tensor([0.5, -1.0], dtype=symgrad.float64, requires_grad=True)
    y = (x * x).sum() + (x * x * x).sum()
    (g,) = symgrad.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    (gg,) = symgrad.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 2 + 6 * x.detach().numpy())


# ------------------------------------------------------------ binary arithmetic shortcut
# ``apply_binary`` computes add/sub/mul/div of same-dtype float tensors (or one and a Python
# number) without the generic dispatch. An active profiler sends every call down the general
# path, so each case below is computed both ways and compared bit for bit.
def _both_ways(fn):
    fast = fn()
    with symgrad.autograd.profiler.profile():
        general = fn()
    return fast, general


def _assert_same(fast, general):
    assert fast.dtype == general.dtype and fast.shape == general.shape
    assert fast.requires_grad == general.requires_grad
    assert type(fast.grad_fn).__name__ == type(general.grad_fn).__name__
    np.testing.assert_array_equal(fast.detach().numpy(), general.detach().numpy())
    assert fast.detach().numpy().dtype == general.detach().numpy().dtype


OPERATIONS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "add_alpha": lambda a, b: symgrad.add(a, b, alpha=2),
}


@pytest.mark.parametrize("dtype", [symgrad.float16, symgrad.float32, symgrad.float64])
@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_binary_shortcut_equals_general_path(dtype, name):
    rng = np.random.default_rng(0)
    op = OPERATIONS[name]
    x = symgrad.tensor(rng.normal(size=(3, 4)) * 1e3, dtype=dtype, requires_grad=True)
    y = symgrad.tensor(rng.normal(size=(4,)), dtype=dtype)
    zero_dim = symgrad.tensor(0.3, dtype=dtype, requires_grad=True)
    others = [y, zero_dim, 3, -2.5, 1e300, 7 * 10**20]
    warnings.simplefilter("ignore", RuntimeWarning)  # both paths warn casting 1e300 to float16
    for other in others:
        _assert_same(*_both_ways(lambda other=other: op(x, other)))
        if name != "add_alpha":
            _assert_same(*_both_ways(lambda other=other: op(other, x)))
    with symgrad.no_grad():
        _assert_same(*_both_ways(lambda: op(x, y)))


def test_binary_shortcut_leaves_other_calls_to_the_general_path():
    f32 = symgrad.ones(2, 3, requires_grad=True)
    cases = [
        lambda: f32 + symgrad.ones(3, dtype=symgrad.float64),  # promotes
        lambda: f32 * symgrad.tensor([1, 2, 3]),  # integer tensor
        lambda: f32 + True,  # bool scalar
        lambda: f32 * np.float64(2.0),  # numpy scalar
        lambda: f32[0] * 2.0,  # a view
        lambda: symgrad.tensor([1, 2]) + 1,  # integer arithmetic
        lambda: symgrad.tensor([1, 2]) / 2,  # true division of integers
    ]
    for case in cases:
        _assert_same(*_both_ways(case))


def test_binary_shortcut_errors_and_overflow_as_general_path():
    x = symgrad.ones(2, 3, requires_grad=True)
    with pytest.raises(Exception) as fast:
        x + symgrad.ones(4)
    with symgrad.autograd.profiler.profile(), pytest.raises(Exception) as general:
        x + symgrad.ones(4)
    assert fast.type is general.type and str(fast.value) == str(general.value)
    assert x.grad is None and x._version == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = symgrad.tensor([3e38]) * symgrad.tensor([10.0])
    assert np.isinf(big.item())


def test_backward_through_shortcut_equals_general_path():
    rng = np.random.default_rng(1)

    def grads():
        x = symgrad.tensor(rng.normal(size=5).astype(np.float32), requires_grad=True)
        w = symgrad.tensor(rng.normal(size=5).astype(np.float32), requires_grad=True)
        y = x
        for i in range(20):
            y = (y * w - 0.5) / (w * w + 1.0) if i % 2 else 2.0 - y * 1.5 + x
        y.sum().backward()
        return x.grad.numpy(), w.grad.numpy()

    state = rng.bit_generator.state
    fast = grads()
    rng.bit_generator.state = state
    with symgrad.autograd.profiler.profile():
        general = grads()
    for f, g in zip(fast, general, strict=True):
        np.testing.assert_array_equal(f, g)


def test_number_inputs_take_no_gradient_product():
    # mul and sub skip the gradient of a Python-number input; the tensor's gradient is right
    from symgrad.ops.elementwise import MUL, SUB

    g = symgrad.ones(2)
    x = symgrad.tensor([1.0, 2.0])
    assert MUL.vjp(g, None, x, 3.0)[1] is None and MUL.vjp(g, None, 3.0, x)[0] is None
    assert SUB.vjp(g, None, x, 3.0)[1] is None
    a = symgrad.tensor([0.5, -1.5, 2.0], dtype=symgrad.float64)
    symgrad.testing.check_grads(lambda a: (3.0 * a * 2 - 1.5 - a * a).sum(), [a])
    symgrad.testing.check_grads(lambda a: (2.0 - a * 4 + 7 / a).sum(), [a])


def _edges(tensor):
    return [
        (type(node).__name__ if node else None, nr) for node, nr in tensor.grad_fn.next_functions
    ]


def test_shortcut_node_has_the_general_paths_edges_and_inputs():
    # apply_binary records its node without the generic record(): same edges, same input
    # metadata, same saved values, for every placement of a number and of a grad-free tensor
    from symgrad.tape import InputMeta

    x = symgrad.ones(2, 3, requires_grad=True)
    h = x * 1.0  # a non-leaf: its edge is (MulBackward0, 0)
    plain = symgrad.full((3,), 2.0)
    for name, op in sorted(OPERATIONS.items()):
        for first, second in [(x, h), (h, 2.5), (3, h), (h, plain), (plain, x), (x, 7)]:
            if name == "add_alpha" and not isinstance(first, symgrad.Tensor):
                continue
            fast, general = _both_ways(lambda first=first, second=second, op=op: op(first, second))
            assert _edges(fast) == _edges(general), (name, first, second)
            assert fast.grad_fn.input_meta == general.grad_fn.input_meta
            for attribute in ("_saved_self", "_saved_other"):
                try:
                    saved = getattr(fast.grad_fn, attribute)
                except AttributeError:
                    assert not hasattr(general.grad_fn, attribute)
                    continue
                expected = getattr(general.grad_fn, attribute)
                assert type(saved) is type(expected)
                if isinstance(saved, symgrad.Tensor):
                    np.testing.assert_array_equal(
                        saved.numpy(force=True), expected.numpy(force=True)
                    )
                elif isinstance(saved, InputMeta):
                    assert (saved.shape, saved.dtype) == (expected.shape, expected.dtype)
                else:
                    assert saved == expected


def test_torch_edges_for_numbers_around_a_tensor():
    x = symgrad.ones(2, requires_grad=True)
    assert _edges(x + 2) == [("AccumulateGrad", 0), (None, 0)]
    assert _edges(2 * x) == [("AccumulateGrad", 0), (None, 0)]
    assert _edges(2 - x) == [("AccumulateGrad", 0)]
    assert type((2 - x).grad_fn).__name__ == "RsubBackward1"
    assert _edges(x * symgrad.ones(2)) == [("AccumulateGrad", 0), (None, 0)]


def test_unsaved_input_shows_its_size_and_dtype_to_rules():
    # an input a rule does not save reaches it as InputMeta: a symgrad.Size and a symgrad dtype
    from symgrad.tape import InputMeta

    x = symgrad.ones(2, 3, dtype=symgrad.float64, requires_grad=True)
    meta = InputMeta(x)
    assert meta.shape == symgrad.Size([2, 3]) and repr(meta.shape) == "symgrad.Size([2, 3])"
    assert meta.dtype is symgrad.float64 and meta.ndim == 2 and meta.dim() == 2
    y = x.sum()  # its rule reads the input's shape from InputMeta
    y.backward()
    assert x.grad.shape == (2, 3) and x.grad.dtype is symgrad.float64


def test_version_counters_start_at_zero_and_are_not_shared_by_new_tensors():
    x = symgrad.ones(2)
    y = x + 1
    assert x._version == 0 and y._version == 0
    y.add_(1)
    assert y._version == 1 and x._version == 0
    z = y.detach()
    z.add_(1)
    assert y._version == 2 and z._version == 2 and x._version == 0


def test_a_tensor_gets_its_own_counter_before_sharing_or_bumping_it():
    # New tensors start on the shared read-only UNSHARED counter; every alias, view, saved
    # output and bump first gives the tensor its own, so versions are never crossed.
    from symgrad.tensor import UNSHARED

    a, b = symgrad.ones(3), symgrad.ones(3)
    assert a._version_counter is UNSHARED and b._version_counter is UNSHARED
    with pytest.raises(AttributeError):
        UNSHARED.value += 1
    view = a[1:]  # shared before any bump: the base gets its own counter first
    view.add_(1)
    assert a._version == 1 and view._version == 1 and b._version == 0
    alias = b.detach()  # likewise for a detached alias
    b.add_(1)
    assert alias._version == 1
    w = symgrad.ones(3, requires_grad=True)
    out = w.exp()  # exp saves its output: the output's counter must be its own
    fresh = out._version_counter
    out.add_(1)
    assert out._version_counter is fresh and fresh is not UNSHARED
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


# ------------------------------------------------------------------ reductions' shortcuts
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64", "bool"])
def test_sum_equals_numpy_sum_for_every_dtype_and_dim(dtype):
    # sum evaluates with np.add.reduce (what np.sum calls), on inputs already promoted
    rng = np.random.default_rng(2)
    array = (rng.normal(size=(3, 4, 5)) * 100).astype(dtype)
    x = symgrad.tensor(array)
    for dim, keepdim in [(None, False), (1, False), ((0, 2), True), (-1, True)]:
        got = x.sum(dim, keepdim) if dim is not None else x.sum()
        axis = dim if dim is None or isinstance(dim, tuple) else (dim,)
        promoted = array if array.dtype.kind == "f" else array.astype(np.int64)
        expected = np.sum(promoted, axis=axis, keepdims=keepdim)
        assert got.numpy().dtype == expected.dtype
        np.testing.assert_array_equal(got.numpy(), expected)


def test_reduction_gradient_is_a_broadcast_view_as_in_torch():
    # sum's backward expands the incoming gradient without copying: a hook on the input sees
    # a view with zero strides (torch: grad._base is set, stride (0, 0))
    x = symgrad.ones(2, 3, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append((g._base is not None, tuple(g.stride()))))
    x.sum().backward()
    x.sum(1).sum().backward()
    assert seen == [(True, (0, 0)), (True, (0, 0))]
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))


def test_reduction_gradients_stay_differentiable():
    x = symgrad.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    for reduce in (
        lambda t: (t * t * t).sum(),
        lambda t: (t * t).sum(1).mean(),
        lambda t: (t * t * t).mean(0, keepdim=True).sum(),
    ):
        symgrad.testing.check_grads(reduce, [x], order=2)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_mean_equals_numpy_mean_bit_for_bit(dtype):
    # MEAN's numpy function repeats np.mean's steps for float32/float64 (a sum, then a
    # division by an np.intp count computed in float64); the compiler folds constants with it
    from symgrad.ops.reduce import MEAN

    rng = np.random.default_rng(4)
    for shape in [(3, 4, 5), (7,), (), (0, 3)]:
        array = (rng.normal(size=shape) * 100).astype(dtype)
        dims = [None] + [(i,) for i in range(len(shape))]
        for dim in dims + ([(0, len(shape) - 1)] if len(shape) > 1 else []):
            for keepdim in (False, True):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # empty means warn in both
                    expected = np.mean(array, axis=dim, keepdims=keepdim)
                    got = MEAN.eval(array, dim=dim, keepdim=keepdim)
                assert type(got) is type(expected)
                assert np.asarray(got).dtype == np.asarray(expected).dtype
                np.testing.assert_array_equal(got, expected)
        tensor_mean = symgrad.tensor(array).mean().numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            np.testing.assert_array_equal(tensor_mean, np.mean(array))


def test_node_defaults_for_fields_stored_only_when_set():
    # OpBackward stores positions, attrs and the saved output only when a call has them
    x = symgrad.ones(2, 3, requires_grad=True)
    added = x + 1
    assert dict(added.grad_fn.attrs) == {} and added.grad_fn._saved_out is None
    with pytest.raises(TypeError):
        added.grad_fn.attrs["dim"] = 0  # the shared default is read-only
    summed = x.sum(1)
    assert summed.grad_fn.attrs["dim"] == (1,) and (x + 1).grad_fn.attrs == {}
    exp = x.exp()
    np.testing.assert_array_equal(
        exp.grad_fn._saved_result.detach().numpy(), np.exp(np.ones((2, 3), np.float32))
    )
    (2 - x).sum().backward()  # rsub: one edge for two arguments (positions)
    assert x.grad.tolist() == [[-1.0] * 3] * 2


def test_backward_restores_grad_mode_after_an_error():
    x = symgrad.ones(2, requires_grad=True)
    y = x * x
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    assert symgrad.is_grad_enabled()
    with symgrad.no_grad():
        z = x * x
    with pytest.raises(RuntimeError):
        z.sum().backward()
    assert symgrad.is_grad_enabled()


# ------------------------------------------------------------- one-tensor and engine paths
@pytest.mark.parametrize("reduce", ["sum", "mean"])
@pytest.mark.parametrize("dtype", [symgrad.float16, symgrad.float32, symgrad.float64])
def test_reduction_shortcut_node_is_the_general_paths(reduce, dtype):
    # sum()/mean() of everything record their node without record(): same name, attributes,
    # edges and input metadata, same value and gradient
    x = (symgrad.arange(6, dtype=dtype).reshape(2, 3) * 0.3).requires_grad_()
    fast, general = _both_ways(lambda: getattr(x * 1.5, reduce)())
    _assert_same(fast, general)
    assert dict(fast.grad_fn.attrs) == dict(general.grad_fn.attrs)
    assert _edges(fast) == _edges(general) == [("MulBackward0", 0)]
    assert fast.grad_fn.input_meta == general.grad_fn.input_meta
    fast.backward()
    first = x.grad.numpy().copy()
    x.grad = None
    general.backward()
    np.testing.assert_array_equal(first, x.grad.numpy())


def test_a_node_whose_output_changes_shape_checks_its_gradients_again():
    # Found in review of the exact nodes: after ``h.data = `` (or an ``out=`` reallocation)
    # gives h another shape, the gradient reaching h's MulBackward0 has the new shape and its
    # rule's gradients no longer fit; torch 2.13 raises, and so does symgrad (it used to fill
    # x.grad with the wrong shape).
    message = (
        "Function MulBackward0 returned an invalid gradient at index 0 - got [3] but expected "
        "shape compatible with [2]"
    )

    def reassign(h):
        h.data = symgrad.ones(3)

    def write_out(h):
        with symgrad.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's "resized" warning
            symgrad.add(symgrad.ones(3), 1, out=h)

    for change in (reassign, write_out):
        x = symgrad.ones(2, requires_grad=True)
        h = x * 2
        assert h.grad_fn._exact
        change(h)
        with pytest.raises(RuntimeError, match=re.escape(message)):
            (h * 3).sum().backward()
        assert x.grad is None
    kept = symgrad.ones(2, requires_grad=True) * 2
    kept.data = symgrad.zeros(2)  # same shape and dtype: nothing to check again
    assert kept.grad_fn._exact


def test_sum_and_mean_are_their_shortcut_for_every_spelling():
    # symgrad.sum/mean (and the methods) are the shortcut itself, which hands any call but
    # f(t) to the general function: every spelling torch accepts gives the same result, and
    # introspection sees the general function's signature and docstring
    import inspect

    x = symgrad.tensor([[1.0, 2.0], [3.0, 4.5]], requires_grad=True)
    for name in ("sum", "mean"):
        fn = getattr(symgrad, name)
        expected = getattr(np, name)(x.detach().numpy())
        spellings = [
            fn(x),
            fn(input=x),
            getattr(x, name)(),
            getattr(x, name)(None),
            getattr(x, name)(dim=None),
            fn(x, (0, 1)),
            fn(x, dtype=symgrad.float64),
        ]
        for result in spellings:
            assert result.item() == pytest.approx(expected) and result.requires_grad
            assert result.grad_fn.name() == f"{name.capitalize()}Backward" + (
                "0" if result.grad_fn.attrs["dim"] is None else "1"
            )
        assert getattr(x, name)(keepdims=True).shape == (1, 1)
        assert list(inspect.signature(fn).parameters) == [
            "input",
            "dim",
            "keepdim",
            "keepdims",
            "dtype",
            "out",
        ]
        assert fn.__name__ == name and "all dims when None" in fn.__doc__
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        symgrad.tensor([1, 2]).mean()
    assert symgrad.tensor([1, 2]).sum().dtype == symgrad.int64


def test_backward_runs_user_code_under_the_callers_numpy_error_state():
    # the engine ignores float errors for its own ops only: hooks and a custom Function's
    # backward see the caller's state, and the caller's state holds again afterwards
    seen = []

    class Scale(symgrad.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, g):
            seen.append(("function", np.geterr()["over"]))
            return g * 2

    x = symgrad.tensor([1e30, 1.0], requires_grad=True)
    x.register_hook(lambda g: seen.append(("leaf", np.geterr()["over"])))
    y = Scale.apply(x) * x
    y.register_hook(lambda g: seen.append(("tensor", np.geterr()["over"])))
    y.grad_fn.register_hook(lambda gi, go: seen.append(("node", np.geterr()["over"])))
    with np.errstate(over="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        (y * 1e10).sum().backward()  # x's gradient overflows to inf inside the engine
        assert np.geterr()["over"] == "raise"
    assert sorted(seen) == [(w, "raise") for w in ("function", "leaf", "node", "tensor")]
    assert np.isinf(x.grad[0].item()) and x.grad[1].item() == pytest.approx(4e10)


def test_gradient_sums_made_in_place_are_not_seen_early():
    # a node's later gradients are added into the sum the engine made of its first two; a
    # hook sees the total once, and the leaf's grad is that total
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    (y + y + y * 2 + y).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [5.0, 5.0])
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_dispatch_gate_is_held_by_profilers_and_traces_and_released():
    from symgrad import dispatch_gate
    from symgrad.autograd import profiler

    x = symgrad.ones(2, requires_grad=True)
    assert not dispatch_gate.general
    with profiler.profile() as prof:
        assert dispatch_gate.general
        (x * x).sum()
    assert not dispatch_gate.general
    assert {"mul", "sum"} <= {e.key for e in prof.key_averages()}

    seen = []

    @symgrad.compile
    def f(t):
        seen.append(dispatch_gate.general)
        return (t * 2).sum()

    f(symgrad.ones(3))
    assert seen == [True] and not dispatch_gate.general

    @symgrad.compile
    def broken(t):
        raise ValueError("user error")

    with pytest.raises(ValueError):
        broken(symgrad.ones(3))
    assert not dispatch_gate.general  # released on the error path too


def test_a_trace_in_another_thread_sends_this_threads_ops_the_general_way():
    # The gate is process-wide: while another thread traces, ops here take the general path,
    # which reads this thread's own (empty) trace state and computes eagerly as before.
    import threading

    from symgrad import dispatch_gate

    started, finish = threading.Event(), threading.Event()

    @symgrad.compile
    def slow(t):
        started.set()
        finish.wait(10)
        return t + 1

    worker = threading.Thread(target=lambda: slow(symgrad.ones(2)))
    worker.start()
    try:
        assert started.wait(10) and dispatch_gate.general
        a = symgrad.tensor([1.0, 2.0], requires_grad=True)
        y = a * a + 1
        assert type(y.grad_fn).__name__ == "AddBackward0"
        y.sum().backward()
        assert a.grad.tolist() == [2.0, 4.0]
    finally:
        finish.set()
        worker.join()
    assert not dispatch_gate.general


@pytest.mark.parametrize("dtype", [symgrad.float32, symgrad.float64])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_exact_nodes_get_gradients_that_fit_without_the_engines_check(dtype, name):
    # The engine skips its shape and dtype check for nodes marked exact: the shortcut (and
    # record_binary, for a number first and for sub) marks only calls without broadcasting,
    # and each such rule's gradients fit their inputs, with and without create_graph.
    op = OPERATIONS[name]
    x = symgrad.full((2, 3), 1.5, dtype=dtype, requires_grad=True)
    y = symgrad.full((2, 3), -0.5, dtype=dtype, requires_grad=True)
    c = symgrad.full((2, 3), 2.0, dtype=dtype)
    for first, second in [(x, y), (x * 1.0, y), (x, c), (c, y), (x, 3), (0.25, y), (2, x * 1.0)]:
        if name == "div" and not isinstance(first, symgrad.Tensor):
            continue  # reciprocal(y) * 0.25, as torch: a composite's general nodes
        node = op(first, second).grad_fn
        assert node._exact, (name, first, second)
        assert not node.attrs and node._saved_out is None  # the engine's exact path skips them
        for create_graph in (False, True):
            g = symgrad.full((2, 3), 0.75, dtype=dtype, requires_grad=create_graph)
            with symgrad.set_grad_enabled(create_graph):
                grads = node.apply([g])
            for grad, (child, _), meta in zip(
                grads, node.next_functions, node.input_meta, strict=True
            ):
                if child is None or grad is None:
                    continue
                assert grad.__class__ is symgrad.Tensor
                assert (grad._data.shape, grad._data.dtype) == meta
    assert not op(x, symgrad.ones(3, dtype=dtype)).grad_fn._exact  # broadcasts: checked
    assert not op(x, symgrad.ones(1, 3, dtype=dtype)).grad_fn._exact
