"""symgrad/ops/binary.py beyond the op table: torch's gradients at ties, NaNs and zeros,
stability of logaddexp, dtypes and errors, and the torch oracle for the table's cases."""

import math

import numpy as np
import op_table  # noqa: F401 - the table loads its case modules: import it before cases_binary
import pytest

import symgrad

from . import cases_binary
from .test_elementwise import check_against_torch, oracle_params


@pytest.mark.parametrize("case, variant", oracle_params(cases_binary.CASES))
def test_matches_torch(case, variant):
    check_against_torch(case, variant)


def _grads(fn, *values, dtype=symgrad.float64):
    leaves = [symgrad.tensor(v, dtype=dtype, requires_grad=True) for v in values]
    out = fn(*leaves)
    return out, [g.tolist() for g in symgrad.autograd.grad(out.sum(), leaves)]


NAN = math.nan

# ------------------------------------------------------------- maximum, minimum, fmax, fmin


def test_maximum_and_minimum_split_the_gradient_on_ties():
    out, (gx, gy) = _grads(symgrad.maximum, [1.0, 2.0, 5.0], [1.0, 3.0, 4.0])
    assert out.grad_fn.name() == "MaximumBackward0"
    assert (gx, gy) == ([0.5, 0.0, 1.0], [0.5, 1.0, 0.0])
    out, (gx, gy) = _grads(symgrad.minimum, [1.0, 2.0, 5.0], [1.0, 3.0, 4.0])
    assert (gx, gy) == ([0.5, 1.0, 0.0], [0.5, 0.0, 1.0])


def test_maximum_propagates_nan_and_gives_both_inputs_the_gradient():
    out, (gx, gy) = _grads(symgrad.maximum, [NAN, 1.0, NAN], [1.0, NAN, NAN])
    assert np.isnan(out.detach().numpy()).all()
    assert gx == [1.0, 1.0, 1.0] and gy == [1.0, 1.0, 1.0]


def test_fmax_and_fmin_ignore_nan_and_send_the_gradient_to_the_result():
    for fn in (symgrad.fmax, symgrad.fmin):
        out, (gx, gy) = _grads(fn, [NAN, 1.0, NAN, 2.0], [1.0, NAN, NAN, 2.0])
        assert out.tolist()[:2] == [1.0, 1.0] and out.tolist()[3] == 2.0
        assert np.isnan(out.tolist()[2])
        # ties and NaN-NaN go to the first input
        assert gx == [0.0, 1.0, 1.0, 1.0] and gy == [1.0, 0.0, 0.0, 0.0]


def test_maximum_family_takes_tensors_only():
    x = symgrad.tensor([1.0])
    for name in ("maximum", "minimum", "fmax", "fmin", "atan2", "hypot", "logaddexp"):
        with pytest.raises(TypeError, match=rf"{name}\(\): argument 'other' \(position 2\)"):
            getattr(symgrad, name)(x, 1)
        with pytest.raises(TypeError, match=r"argument 'input' \(position 1\) must be Tensor"):
            getattr(symgrad, name)(1.5, x)
    assert symgrad.maximum(symgrad.tensor([1, 5]), symgrad.tensor(2.5)).dtype is symgrad.float32
    assert symgrad.maximum(symgrad.tensor([True]), symgrad.tensor([False])).dtype is symgrad.bool


# --------------------------------------------------------------------------- logaddexp


@pytest.mark.parametrize("dtype", [symgrad.float32, symgrad.float64])
def test_logaddexp_is_finite_at_large_inputs(dtype):
    big = [1e4, -1e4, 1e4, -1e4, 0.0]
    other = [1e4, -1e4, -1e4, 1e4, 1e4]
    x = symgrad.tensor(big, dtype=dtype, requires_grad=True)
    y = symgrad.tensor(other, dtype=dtype, requires_grad=True)
    out = symgrad.logaddexp(x, y)
    np.testing.assert_allclose(
        out.detach().numpy(), [1e4 + math.log(2), -1e4 + math.log(2), 1e4, 1e4, 1e4], rtol=1e-6
    )
    gx, gy = symgrad.autograd.grad(out.sum(), (x, y), create_graph=True)
    assert gx.tolist() == [0.5, 0.5, 1.0, 0.0, 0.0]
    assert gy.tolist() == [0.5, 0.5, 0.0, 1.0, 1.0]
    second = symgrad.autograd.grad((gx * gx).sum() + gy.sum(), (x, y))
    for g in (gx, gy, *second):
        assert np.isfinite(g.detach().numpy()).all()
    assert out.grad_fn.name() == "LogaddexpBackward0"


def test_float_only_kernels_refuse_integers():
    ints = symgrad.tensor([1, 2])
    with pytest.raises(NotImplementedError, match="\"logaddexp_cpu\" not implemented for 'Long'"):
        symgrad.logaddexp(ints, ints)
    with pytest.raises(NotImplementedError, match="\"hypot_cpu\" not implemented for 'Long'"):
        symgrad.hypot(ints, ints)
    assert symgrad.hypot(ints, symgrad.tensor([1.0, 1.0])).dtype is symgrad.float32


# ------------------------------------------------------------ atan2, hypot, copysign


def test_atan2_promotes_to_float_and_has_a_zero_gradient_at_the_origin():
    ints = symgrad.tensor([1, -1])
    assert symgrad.atan2(ints, ints).dtype is symgrad.float32
    assert symgrad.arctan2(symgrad.tensor([True]), symgrad.tensor([True])).dtype is symgrad.float32
    out, (gy, gx) = _grads(symgrad.atan2, [0.0, 1.0], [0.0, 1.0])
    assert gy == [0.0, 0.5] and gx == [0.0, -0.5]
    y = symgrad.tensor([0.0], dtype=symgrad.float64, requires_grad=True)
    x = symgrad.tensor([0.0], dtype=symgrad.float64, requires_grad=True)
    first = symgrad.autograd.grad(symgrad.atan2(y, x).sum(), (y, x), create_graph=True)
    second = symgrad.autograd.grad(first[0].sum() + first[1].sum(), (y, x))
    assert all(np.isfinite(g.numpy()).all() for g in second)


def test_hypot_gradient_is_the_unit_vector():
    out, (gx, gy) = _grads(symgrad.hypot, [3.0, -3.0], [4.0, 4.0])
    assert out.tolist() == [5.0, 5.0]
    assert gx == [0.6, -0.6] and gy == [0.8, 0.8]


def test_copysign_sign_rules_and_gradients():
    out, (gx, gy) = _grads(symgrad.copysign, [0.0, -0.0, 2.0, -3.0], [-1.0, 1.0, -0.0, 5.0])
    assert [math.copysign(1, v) for v in out.tolist()] == [-1, 1, -1, 1]
    assert out.tolist()[2:] == [-2.0, 3.0]
    # slope +-1 away from 0 and 0 at x = 0 (torch masks it); other gets zeros
    assert gx == [0.0, 0.0, -1.0, -1.0] and gy == [0.0] * 4
    assert out.grad_fn.name() == "CopysignBackward0"
    assert symgrad.copysign(symgrad.tensor([1, -2]), -1.0).tolist() == [-1.0, -2.0]
    assert symgrad.copysign(symgrad.tensor([1, -2]), 1).dtype is symgrad.float32
    with pytest.raises(TypeError, match=r"copysign\(\) received an invalid combination"):
        symgrad.copysign(1.0, symgrad.tensor([1.0]))


# ------------------------------------------------------ floor_divide, remainder, fmod


def test_sign_conventions():
    a = symgrad.tensor([-7, 7, -7, 7])
    b = symgrad.tensor([2, -2, -2, 2])
    assert symgrad.floor_divide(a, b).tolist() == [-4, -4, 3, 3]
    assert (a // b).tolist() == [-4, -4, 3, 3]
    assert symgrad.remainder(a, b).tolist() == [1, -1, -1, 1]
    assert (a % b).tolist() == [1, -1, -1, 1]
    assert symgrad.fmod(a, b).tolist() == [-1, 1, -1, 1]
    assert symgrad.remainder(a, 2).dtype is symgrad.int64
    assert symgrad.remainder(a, 2.5).dtype is symgrad.float32
    assert (7 // symgrad.tensor([2])).tolist() == [3]
    assert (7.5 % symgrad.tensor([2])).tolist() == [1.5]
    floats = symgrad.tensor([-7.5, 7.5])
    assert symgrad.remainder(floats, 2.0).tolist() == [0.5, 1.5]
    assert symgrad.fmod(floats, 2.0).tolist() == [-1.5, 1.5]


def test_integer_division_by_zero_raises_and_float_division_does_not():
    a = symgrad.tensor([3, -3])
    zero = symgrad.tensor([0, 0])
    for fn in (symgrad.floor_divide, symgrad.remainder, symgrad.fmod):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(a, zero)
    floats = symgrad.tensor([1.0, -1.0])
    assert symgrad.floor_divide(floats, 0.0).tolist() == [math.inf, -math.inf]
    assert np.isnan(symgrad.remainder(floats, 0.0).numpy()).all()


def test_remainder_and_fmod_gradients_are_torchs():
    x, y = [-7.0, 7.0, -7.0, 7.0, 0.5], [2.0, -2.0, -2.0, 2.0, 3.0]
    out, (gx, gy) = _grads(symgrad.remainder, x, y)
    assert out.grad_fn.name() == "RemainderBackward1"
    assert gx == [1.0] * 5 and gy == [4.0, 4.0, -3.0, -3.0, -0.0]
    out, (gx, gy) = _grads(symgrad.fmod, x, y)
    assert out.grad_fn.name() == "FmodBackward1"
    assert gx == [1.0] * 5 and gy == [3.0, 3.0, -3.0, -3.0, -0.0]
    assert symgrad.remainder(out, 2.0).grad_fn.name() == "RemainderBackward0"
    assert symgrad.fmod(out, 2.0).grad_fn.name() == "FmodBackward0"
    # a number divided by a tensor: torch has no derivative, symgrad has the true one
    _, (gy,) = _grads(lambda t: 7.0 % t, [2.0, -2.0])
    assert gy == [-3.0, 4.0]


def test_floor_divide_has_no_derivative_as_in_torch():
    x = symgrad.tensor([3.0, -4.0], requires_grad=True)
    y = symgrad.floor_divide(x, 2.0)
    assert y.requires_grad and y.tolist() == [1.0, -2.0]
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
        y.sum().backward()
    with pytest.raises(NotImplementedError, match="\"div_floor_cpu\" not implemented for 'Bool'"):
        symgrad.floor_divide(symgrad.tensor([True]), symgrad.tensor([True]))
    with pytest.raises(TypeError, match=r"fmod\(\) received an invalid combination"):
        symgrad.fmod(2, x)


# -------------------------------------------------------------------------------- lerp


def test_lerp_gradients_and_names():
    out, (gs, ge) = _grads(lambda s, e: symgrad.lerp(s, e, 0.25), [0.0, 4.0], [8.0, 0.0])
    assert out.tolist() == [2.0, 3.0] and out.grad_fn.name() == "LerpBackward0"
    assert gs == [0.75, 0.75] and ge == [0.25, 0.25]
    out, (gs, ge, gw) = _grads(symgrad.lerp, [0.0, 4.0], [8.0, 0.0], [0.25, 1.0])
    assert out.tolist() == [2.0, 0.0] and out.grad_fn.name() == "LerpBackward1"
    assert gs == [0.75, 0.0] and ge == [0.25, 1.0] and gw == [8.0, -4.0]


def test_lerp_dtype_checks_are_torchs():
    x = symgrad.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        symgrad.lerp(x, x.double(), 0.5)
    with pytest.raises(RuntimeError, match="expected dtype float for `weight` but got dtype c10"):
        symgrad.lerp(x, x, x.half())
    with pytest.raises(NotImplementedError, match='"lerp_kernel_scalar" not implemented'):
        symgrad.lerp(symgrad.tensor([1]), symgrad.tensor([2]), 0.5)
    with pytest.raises(TypeError, match=r"lerp\(\) received an invalid combination"):
        symgrad.lerp(x, 2.0, 0.5)
    # a 0-dim weight reads as a number
    assert symgrad.lerp(x, x, symgrad.tensor(0.5, dtype=symgrad.float64)).dtype is symgrad.float32
    y = x.clone()
    assert y.lerp_(symgrad.tensor([3.0, 4.0]), 0.5) is y and y.tolist() == [2.0, 3.0]


# --------------------------------------------------------------------- addcmul, addcdiv


def test_addcmul_and_addcdiv():
    out, grads = _grads(
        lambda x, a, b: symgrad.addcdiv(x, a, b, value=0.5), [1.0, 1.0], [2.0, 4.0], [4.0, -2.0]
    )
    assert out.tolist() == [1.25, 0.0] and out.grad_fn.name() == "AddcdivBackward0"
    assert grads == [[1.0, 1.0], [0.125, -0.25], [-0.0625, -0.5]]
    out, grads = _grads(
        lambda x, a, b: symgrad.addcmul(x, a, b, value=2), [1.0, 1.0], [2.0, 4.0], [4.0, -2.0]
    )
    assert out.tolist() == [17.0, -15.0] and out.grad_fn.name() == "AddcmulBackward0"
    assert grads == [[1.0, 1.0], [8.0, -4.0], [4.0, 8.0]]
    ints = symgrad.tensor([3, -3])
    # torch casts value to the integer dtype first: 0.5 becomes 0
    assert symgrad.addcmul(ints, ints, ints, value=0.5).tolist() == [3, -3]
    assert symgrad.addcmul(ints, ints, ints, value=2).tolist() == [21, 15]
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        symgrad.addcdiv(symgrad.tensor([1.0, 1.0]), ints, ints)
    assert symgrad.addcdiv(ints, symgrad.tensor([1.0]), symgrad.tensor([2.0])).dtype is (
        symgrad.float32
    )
    x = symgrad.tensor([1.0, 2.0])
    x.addcmul_(x, x, value=-1).addcdiv_(symgrad.tensor([1.0]), symgrad.tensor([2.0]))
    assert x.tolist() == [0.5, -1.5]


# ----------------------------------------------------------------------------- bitwise


def test_bitwise_operators_are_bitwise_on_integers_and_logical_on_bools():
    a, b = symgrad.tensor([1, 2, 6]), symgrad.tensor([3, 1, 5])
    assert (a & b).tolist() == [1, 0, 4] and (a & b).dtype is symgrad.int64
    assert (a | b).tolist() == [3, 3, 7] and (a ^ b).tolist() == [2, 3, 3]
    assert (~a).tolist() == [-2, -3, -7] and (6 & a).tolist() == [0, 2, 6]
    m = symgrad.tensor([True, False])
    assert (~m).tolist() == [False, True] and (m & True).tolist() == [True, False]
    assert (m ^ symgrad.tensor([1, 1])).dtype is symgrad.int64
    a &= 3
    assert a.tolist() == [1, 2, 2]
    x = symgrad.tensor([1.0])
    with pytest.raises(
        NotImplementedError, match="\"bitwise_and_cpu\" not implemented for 'Float'"
    ):
        _ = x & x
    with pytest.raises(TypeError, match=r"~ \(operator.invert\) is only implemented on integer"):
        _ = ~x


def test_inplace_binary_methods():
    x = symgrad.tensor([-7.0, 7.5])
    x.remainder_(2.0)
    assert x.tolist() == [1.0, 1.5]
    x.fmod_(symgrad.tensor([0.75, 1.0]))
    assert x.tolist() == [0.25, 0.5]
    x.copysign_(-1.0)
    assert x.tolist() == [-0.25, -0.5]
    x //= 0.2
    assert x.tolist() == [-2.0, -3.0]
    x.hypot_(symgrad.tensor([0.0, 4.0]))
    assert x.tolist() == [2.0, 5.0]
