"""symgrad/ops/elementwise.py beyond the op table: dtypes, errors, stability, torch's gradient
conventions at special points, and the torch oracle for the table's elementwise cases."""

import math

import numpy as np
import pytest
from extras import need
from op_table import OpCase, to_symgrad

import symgrad
from symgrad.testing import check_grads

from . import cases_elementwise

# ------------------------------------------------------------------------- torch oracle


def _torch_dtype_name(t) -> str:
    return str(t.dtype).replace("torch.", "")


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _torch_grads(torch, outputs, leaves, cotangents, create_graph):
    pairs = [(o, u) for o, u in zip(outputs, cotangents, strict=True) if o.requires_grad]
    if not pairs or not leaves:
        return [None] * len(leaves)
    return torch.autograd.grad(
        [o for o, _ in pairs],
        leaves,
        [u for _, u in pairs],
        create_graph=create_graph,
        allow_unused=True,
    )


def _our_grads(outputs, leaves, cotangents, create_graph):
    pairs = [(o, u) for o, u in zip(outputs, cotangents, strict=True) if o.requires_grad]
    if not pairs or not leaves:
        return [None] * len(leaves)
    return symgrad.autograd.grad(
        [o for o, _ in pairs],
        leaves,
        [u for _, u in pairs],
        create_graph=create_graph,
        allow_unused=True,
    )


def _close(ours, theirs, what, rtol=1e-7, atol=1e-10):
    ours = np.zeros(()) if ours is None else ours
    theirs = np.zeros(()) if theirs is None else theirs
    np.testing.assert_allclose(
        np.broadcast_to(ours, np.shape(theirs)), theirs, rtol=rtol, atol=atol, err_msg=what
    )


def _numpy(t):
    # (torch returns some zero gradients as ZeroTensors, readable only with force=True)
    return None if t is None else t.detach().numpy(force=True).astype(np.float64)


def check_against_torch(case: OpCase, variant: int) -> None:
    """Values, dtypes, backward-node names and gradients (order 1 and, unless the case says
    otherwise, order 2) of ``case.fn`` against ``case.torch_fn`` in float64."""
    torch = need("torch")
    inputs = case.sample(variant, np.float64)
    ours_in = to_symgrad(inputs)
    theirs_in = [torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v for v in inputs]
    float_positions = [
        i for i, v in enumerate(inputs) if isinstance(v, np.ndarray) and v.dtype.kind == "f"
    ]
    differentiate = case.grad and float_positions
    if differentiate:
        for i in float_positions:
            ours_in[i].requires_grad_(True)
            theirs_in[i].requires_grad_(True)
    ours = _outputs(case.fn(*ours_in))
    theirs = _outputs(case.torch_fn(torch, *theirs_in))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs, strict=True):
        assert o.dtype.name == _torch_dtype_name(t)
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(
            o.detach().numpy().astype(np.float64), t.detach().numpy().astype(np.float64), 1e-7
        )
        if t.grad_fn is not None and differentiate:
            assert o.grad_fn is not None and o.grad_fn.name() == t.grad_fn.name()
    if not differentiate:
        return
    rng = np.random.default_rng(1)
    cotangents = [rng.standard_normal(tuple(t.shape)) for t in theirs]
    our_leaves = [ours_in[i] for i in float_positions]
    their_leaves = [theirs_in[i] for i in float_positions]
    our_first = _our_grads(ours, our_leaves, [symgrad.tensor(u) for u in cotangents], True)
    their_first = _torch_grads(
        torch, theirs, their_leaves, [torch.from_numpy(u) for u in cotangents], True
    )
    for k, (g, h) in enumerate(zip(our_first, their_first, strict=True)):
        _close(_numpy(g), _numpy(h), f"order 1 gradient of input {float_positions[k]}")
    if case.order < 2:
        return
    directions = [rng.standard_normal(tuple(leaf.shape)) for leaf in our_leaves]
    our_second = _second_order(symgrad, our_first, directions, our_leaves)
    their_second = _second_order(torch, their_first, directions, their_leaves)
    for k, (g, h) in enumerate(zip(our_second, their_second, strict=True)):
        _close(_numpy(g), _numpy(h), f"order 2 gradient of input {float_positions[k]}")


def _second_order(library, first, directions, leaves):
    """Gradients of sum_i <first_i, direction_i> (None where nothing depends on a leaf)."""
    total = None
    for g, v in zip(first, directions, strict=True):
        if g is not None:
            term = (g * library.tensor(v)).sum()
            total = term if total is None else total + term
    if total is None or not total.requires_grad:
        return [None] * len(leaves)
    return library.autograd.grad(total, leaves, allow_unused=True)


def oracle_params(cases):
    return [
        pytest.param(case, v, id=f"{case.name}-{v}")
        for case in cases
        if case.torch_fn is not None
        for v in range(len(case.variants))
    ]


@pytest.mark.parametrize("case, variant", oracle_params(cases_elementwise.CASES))
def test_matches_torch(case, variant):
    check_against_torch(case, variant)


# ---------------------------------------------------------------------------- dtypes

INTEGER_INPUT = symgrad.tensor([-3, 0, 2])
BOOL_INPUT = symgrad.tensor([True, False])

FLOAT_OPS = (
    "exp exp2 expm1 log log2 log10 log1p sqrt rsqrt reciprocal sin cos tan asin acos atan "
    "sinh cosh tanh asinh acosh atanh sigmoid erf erfc"
).split()
INTEGER_KEEPING_OPS = "neg abs sign square relu floor ceil round trunc nan_to_num".split()


@pytest.mark.parametrize("name", FLOAT_OPS)
def test_float_ops_turn_integers_into_the_default_float(name):
    fn = getattr(symgrad, name)
    assert fn(INTEGER_INPUT).dtype is symgrad.float32
    assert fn(BOOL_INPUT).dtype is symgrad.float32
    symgrad.set_default_dtype(symgrad.float64)
    assert fn(INTEGER_INPUT).dtype is symgrad.float64
    assert fn(symgrad.tensor([1.0, 2.0], dtype=symgrad.float16)).dtype is symgrad.float16


@pytest.mark.parametrize("name", INTEGER_KEEPING_OPS)
def test_integer_inputs_keep_their_dtype(name):
    fn = getattr(symgrad, name)
    for d in (symgrad.int64, symgrad.int32, symgrad.uint8):
        x = symgrad.tensor([3, 0, 2], dtype=d)
        assert fn(x).dtype is d


def test_integer_results_are_exact():
    x = symgrad.tensor([-3, 0, 2, 2**60 + 1])
    assert symgrad.neg(x).tolist() == [3, 0, -2, -(2**60) - 1]
    assert symgrad.abs(x).tolist() == [3, 0, 2, 2**60 + 1]
    assert symgrad.sign(x).tolist() == [-1, 0, 1, 1]
    assert symgrad.floor(x).tolist() == [-3, 0, 2, 2**60 + 1]
    assert symgrad.relu(x).tolist() == [0, 0, 2, 2**60 + 1]
    assert symgrad.square(symgrad.tensor([-3, 4], dtype=symgrad.int32)).tolist() == [9, 16]


def test_bool_inputs_follow_torch():
    assert symgrad.sign(BOOL_INPUT).dtype is symgrad.bool
    assert symgrad.sign(BOOL_INPUT).tolist() == [True, False]
    assert symgrad.square(BOOL_INPUT).dtype is symgrad.int64
    assert symgrad.nan_to_num(BOOL_INPUT).dtype is symgrad.bool
    for classify in (symgrad.isnan, symgrad.isinf, symgrad.isfinite, symgrad.logical_not):
        assert classify(BOOL_INPUT).dtype is symgrad.bool
        assert classify(INTEGER_INPUT).dtype is symgrad.bool
    assert symgrad.isfinite(INTEGER_INPUT).tolist() == [True, True, True]


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: -BOOL_INPUT, RuntimeError, "Negation, the `-` operator, on a bool tensor"),
        (
            lambda: symgrad.abs(BOOL_INPUT),
            NotImplementedError,
            "\"abs_cpu\" not implemented for 'Bool'",
        ),
        (lambda: symgrad.floor(BOOL_INPUT), NotImplementedError, '"floor_vml_cpu" not implemented'),
        (lambda: symgrad.round(BOOL_INPUT), NotImplementedError, '"round_vml_cpu" not implemented'),
        (
            lambda: symgrad.frac(INTEGER_INPUT),
            NotImplementedError,
            "\"frac_cpu\" not implemented for 'Long'",
        ),
        (lambda: symgrad.relu(BOOL_INPUT), RuntimeError, "Boolean inputs not supported for relu"),
        (
            lambda: symgrad.round(INTEGER_INPUT, decimals=1),
            NotImplementedError,
            "\"round_cpu\" not implemented for 'Long'",
        ),
        (lambda: symgrad.clamp(INTEGER_INPUT), RuntimeError, "torch.clamp: At least one of 'min'"),
        (
            lambda: symgrad.div(INTEGER_INPUT, 2, rounding_mode="up"),
            RuntimeError,
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found 'up'",
        ),
        (
            lambda: symgrad.where(INTEGER_INPUT, 1.0, 2.0),
            RuntimeError,
            "where expected condition to be a boolean tensor, but got a tensor with dtype Long",
        ),
        (lambda: INTEGER_INPUT**-1, RuntimeError, "Integers to negative integer powers"),
        (
            lambda: symgrad.div(INTEGER_INPUT, 0, rounding_mode="floor"),
            RuntimeError,
            "ZeroDivisionError",
        ),
    ],
)
def test_errors_are_torchs(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value).startswith(message)


# ------------------------------------------------------------------------- stability


@pytest.mark.parametrize("dtype", [symgrad.float32, symgrad.float64])
def test_sigmoid_is_finite_at_large_inputs(dtype):
    x = symgrad.tensor([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=dtype, requires_grad=True)
    y = symgrad.sigmoid(x)
    assert y.tolist()[0] == 0.0 and y.tolist()[-1] == 1.0 and y.tolist()[2] == 0.5
    (g,) = symgrad.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = symgrad.autograd.grad(g.sum(), x)
    for value in (y, g, gg):
        assert np.isfinite(value.detach().numpy()).all()
    assert g.tolist()[2] == 0.25 and g.tolist()[0] == 0.0


def test_erf_is_exact():
    values = np.linspace(-4, 4, 41)
    x = symgrad.tensor(values)
    np.testing.assert_array_equal(symgrad.erf(x).numpy(), [math.erf(v) for v in values])
    np.testing.assert_array_equal(symgrad.erfc(x).numpy(), [math.erfc(v) for v in values])
    assert symgrad.erf(symgrad.tensor(0.5)).dtype is symgrad.float32


def test_float64_gradient_constants_keep_full_precision():
    # d exp2 = ln 2 exp2, d log10 = 1 / (x ln 10), d erf = 2/sqrt(pi) exp(-x^2), exactly
    x = symgrad.tensor([0.0, 1.0], dtype=symgrad.float64, requires_grad=True)
    for fn, expected in [
        (symgrad.exp2, [math.log(2), 2 * math.log(2)]),
        (symgrad.log10, [math.inf, 1 / math.log(10)]),
        (symgrad.erf, [2 / math.sqrt(math.pi), 2 / math.sqrt(math.pi) * math.exp(-1)]),
    ]:
        (g,) = symgrad.autograd.grad(fn(x).sum(), x)
        np.testing.assert_allclose(g.numpy(), expected, rtol=1e-15)


# ------------------------------------------------- rounding, clamp, nan_to_num, where


def test_rounding_gradients_are_zero_not_nan():
    x = symgrad.tensor([1.5, -0.5, 2.0], requires_grad=True)
    for fn in (symgrad.floor, symgrad.ceil, symgrad.round, symgrad.trunc, symgrad.sign):
        y = fn(x)
        y.backward(symgrad.tensor([math.nan, 1.0, math.inf]))
        assert x.grad.tolist() == [0.0, 0.0, 0.0]
        x.grad = None
    assert symgrad.round(x, decimals=1).grad_fn.name() == "RoundBackward1"
    assert symgrad.square(x).grad_fn.name() == "PowBackward0"
    assert symgrad.log1p(x).grad_fn.name() == "Log1PBackward0"


def test_round_half_to_even_and_decimals():
    x = symgrad.tensor([0.5, 1.5, 2.5, -0.5, 1.2345, 0.125])
    assert symgrad.round(x).tolist() == [0.0, 2.0, 2.0, -0.0, 1.0, 0.0]
    np.testing.assert_allclose(
        symgrad.round(x, decimals=2).numpy(), [0.5, 1.5, 2.5, -0.5, 1.23, 0.12], rtol=1e-6
    )
    assert symgrad.round(symgrad.tensor([1234.5, 2.5]), decimals=-2).tolist() == [1200.0, 0.0]


def test_clamp_gradient_rules_are_torchs():
    x = symgrad.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    lo = symgrad.tensor([0.0] * 5, requires_grad=True)
    hi = symgrad.tensor([1.0] * 5, requires_grad=True)
    y = symgrad.clamp(x, lo, hi)
    assert y.grad_fn.name() == "ClampBackward0"
    gx, glo, ghi = symgrad.autograd.grad(y.sum(), (x, lo, hi))
    # the input keeps the gradient on both edges of [min, max]
    assert gx.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert glo.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert ghi.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]
    # min > max: the result and its gradient are max's
    lo2 = symgrad.tensor([2.0] * 5, requires_grad=True)
    y = symgrad.clamp(x, lo2, hi)
    assert y.tolist() == [1.0] * 5
    gx, glo, ghi = symgrad.autograd.grad(y.sum(), (x, lo2, hi))
    assert (gx.tolist(), glo.tolist(), ghi.tolist()) == ([0.0] * 5, [0.0] * 5, [1.0] * 5)
    assert symgrad.clamp(x, 0.0, 1.0).grad_fn.name() == "ClampBackward1"


def test_clamp_promotes_like_torch_and_propagates_nan():
    ints = symgrad.tensor([-3, 0, 2])
    assert symgrad.clamp(ints, min=0).dtype is symgrad.int64
    assert symgrad.clamp(ints, min=0.5).tolist() == [0.5, 0.5, 2.0]
    assert symgrad.clamp(ints, min=0.5).dtype is symgrad.float32
    x = symgrad.tensor([1.0, 2.0])
    assert symgrad.clamp(x, min=symgrad.tensor([1.5], dtype=symgrad.float64)).dtype is (
        symgrad.float64
    )
    nan = symgrad.tensor([math.nan, 1.0])
    assert np.isnan(symgrad.clamp(nan, 0.0, 0.5).numpy()[0])
    assert np.isnan(symgrad.clamp(x, min=math.nan).numpy()).all()
    x.clamp_(max=1.5)
    assert x.tolist() == [1.0, 1.5]
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        ints.clamp_(min=0.5)


def test_nan_to_num_replaces_and_blocks_gradients():
    x = symgrad.tensor([math.nan, math.inf, -math.inf, 1.5], requires_grad=True)
    y = symgrad.nan_to_num(x)
    assert y.tolist()[0] == 0.0 and y.tolist()[3] == 1.5
    assert y.tolist()[1] == np.finfo(np.float32).max and y.tolist()[2] == -np.finfo(np.float32).max
    assert symgrad.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0).tolist() == [1, 2, -2, 1.5]
    (g,) = symgrad.autograd.grad(y.sum(), x)
    assert g.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert y.grad_fn.name() == "NanToNumBackward0"


def _grad(fn, values, dtype=symgrad.float64):
    x = symgrad.tensor(values, dtype=dtype, requires_grad=True)
    (g,) = symgrad.autograd.grad(fn(x).sum(), x)
    return g.numpy()


def test_where_gradient_is_not_nan_for_a_nan_or_inf_branch_not_taken():
    # the branch not taken is NaN (log of a negative) or inf: its share of the gradient is 0
    np.testing.assert_array_equal(
        _grad(lambda x: symgrad.where(x > 0, x, symgrad.log(x)), [-1.0, 2.0]), [-1.0, 1.0]
    )
    np.testing.assert_array_equal(
        _grad(lambda x: symgrad.where(x > 0, symgrad.log(x), x), [-1.0, 2.0]), [1.0, 0.5]
    )
    np.testing.assert_array_equal(
        _grad(lambda x: symgrad.where(x > 0, x, math.inf), [-1.0, 2.0]), [0.0, 1.0]
    )
    np.testing.assert_array_equal(
        _grad(lambda x: symgrad.where(x < 0, x, -math.inf), [-1.0, 2.0]), [1.0, 0.0]
    )
    masked = symgrad.tensor([math.nan, math.inf], requires_grad=True)
    x = symgrad.tensor([1.0, 2.0], requires_grad=True)
    gx, gm = symgrad.autograd.grad(
        symgrad.where(symgrad.tensor([True, True]), x, masked).sum(), (x, masked)
    )
    assert gx.tolist() == [1.0, 1.0] and gm.tolist() == [0.0, 0.0]
    # second order stays finite too
    x = symgrad.tensor([-1.0, 2.0], dtype=symgrad.float64, requires_grad=True)
    y = symgrad.where(x > 0, x * x, symgrad.log(x))
    (g,) = symgrad.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = symgrad.autograd.grad(g.sum(), x)
    assert g.tolist() == [-1.0, 4.0] and gg.tolist() == [-1.0, 2.0]


# ---------------------------------------------------------------------------- pow


@pytest.mark.parametrize("exponent", [1, 1.0, 2, 3, 1.5, 2.5])
def test_pow_gradient_is_finite_at_zero_for_exponents_from_one(exponent):
    expected = 1.0 if exponent == 1 else 0.0
    assert _grad(lambda x: x**exponent, [0.0]).tolist() == [expected]
    y = symgrad.tensor([float(exponent)], dtype=symgrad.float64, requires_grad=True)
    x = symgrad.tensor([0.0], dtype=symgrad.float64, requires_grad=True)
    gx, gy = symgrad.autograd.grad((x**y).sum(), (x, y), create_graph=True)
    assert gx.tolist() == [expected] and gy.tolist() == [0.0]
    if float(exponent).is_integer():  # (finite differences at 0 need x < 0 too)
        check_grads(lambda x: x**exponent, [symgrad.tensor([0.0, 0.5], dtype=symgrad.float64)])


def test_pow_scalar_base_follows_torch_at_zero_and_negative_bases():
    y = [1.0, 2.0, 0.0, -1.0]
    assert _grad(lambda t: 0.0**t, y).tolist() == [0.0, 0.0, 0.0, -math.inf]
    assert np.isnan(_grad(lambda t: (-2.0) ** t, y)).all()
    np.testing.assert_allclose(_grad(lambda t: 2.0**t, [1.0]), [2 * math.log(2)])


def test_pow_dtypes_follow_torch():
    ints = symgrad.tensor([2, 3])
    assert (ints**2).dtype is symgrad.int64 and (ints**2).tolist() == [4, 9]
    assert (ints**0.5).dtype is symgrad.float32
    assert (ints ** symgrad.tensor(2.0)).dtype is symgrad.float32
    assert (2**ints).dtype is symgrad.int64 and (2**ints).tolist() == [4, 8]
    assert (2.5**ints).dtype is symgrad.float32
    assert (ints ** symgrad.tensor([-1, -2])).tolist() == [0, 0]
    x = symgrad.tensor([2.0], requires_grad=True)
    assert (x**2).grad_fn.name() == "PowBackward0"
    assert (x**x).grad_fn.name() == "PowBackward1"
    assert (2**x).grad_fn.name() == "PowBackward2"
    assert (x ** symgrad.tensor(3.0)).tolist() == [8.0]


# ----------------------------------------------------------------- rounding division


def test_rounded_division_matches_torch():
    a = symgrad.tensor([-7, 7, -7, 7])
    b = symgrad.tensor([2, -2, -2, 2])
    assert symgrad.div(a, b, rounding_mode="trunc").tolist() == [-3, -3, 3, 3]
    assert symgrad.div(a, b, rounding_mode="floor").tolist() == [-4, -4, 3, 3]
    assert symgrad.div(a, b, rounding_mode="floor").dtype is symgrad.int64
    assert symgrad.div(a, 2.5, rounding_mode="floor").dtype is symgrad.float32
    assert symgrad.div(a, b).dtype is symgrad.float32
    big = symgrad.tensor([2**62 + 3])
    assert symgrad.div(big, 3, rounding_mode="trunc").tolist() == [(2**62 + 3) // 3]
    floats = symgrad.tensor([1.0, -1.0, 0.0])
    assert symgrad.div(floats, 0.0, rounding_mode="floor").tolist()[:2] == [math.inf, -math.inf]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        symgrad.div(a, symgrad.tensor([1, 0, 1, 1]), rounding_mode="trunc")


def test_rounded_division_gradient_is_zero_for_both_inputs():
    x = symgrad.tensor([3.0, -4.0], requires_grad=True)
    y = symgrad.tensor([2.0, 3.0], requires_grad=True)
    out = symgrad.div(x, y, rounding_mode="floor")
    assert out.grad_fn.name() == "DivBackward2"
    gx, gy = symgrad.autograd.grad(out.sum(), (x, y))
    assert gx.tolist() == [0.0, 0.0] and gy.tolist() == [0.0, 0.0]
    x.detach().div_(2.0, rounding_mode="trunc")


# --------------------------------------------------------------------- methods, aliases


def test_methods_aliases_and_inplace_variants():
    x = symgrad.tensor([0.25, 0.5], dtype=symgrad.float64)
    assert symgrad.arcsin(x).tolist() == symgrad.asin(x).tolist() == x.arcsin().tolist()
    assert symgrad.absolute(-x).tolist() == abs(-x).tolist() == [0.25, 0.5]
    assert symgrad.negative(x).tolist() == [-0.25, -0.5]
    assert symgrad.clip(x, max=0.3).tolist() == [0.25, 0.3]
    assert symgrad.fix(symgrad.tensor([-1.5])).tolist() == [-1.0]
    assert symgrad.greater(x, 0.3).tolist() == [False, True]
    y = x.clone()
    assert y.exp_() is y and np.allclose(y.numpy(), np.exp([0.25, 0.5]))
    y.round_(decimals=1)
    np.testing.assert_allclose(y.numpy(), [1.3, 1.6], rtol=1e-6)
    z = symgrad.tensor([math.nan, 2.0])
    z.nan_to_num_(nan=-1.0)
    assert z.tolist() == [-1.0, 2.0]
    ints = symgrad.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        ints.exp_()
    with pytest.raises(RuntimeError, match="Negation"):
        symgrad.tensor([True]).neg_()
