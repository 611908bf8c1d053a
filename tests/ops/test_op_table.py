"""Every op of the table: eager values against numpy, gradients against finite differences."""

import numpy as np
import pytest
from op_table import flat_arrays, params, to_symgrad

from symgrad.testing import check_grads


@pytest.mark.parametrize("case, variant", params())
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_match_numpy(case, variant, dtype):
    inputs = case.sample(variant, dtype)
    got = flat_arrays(case.fn(*to_symgrad(inputs)))
    expected = flat_arrays(case.reference(*inputs))
    rtol = case.rtol if dtype == np.float64 else max(case.rtol, 1e-4)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=rtol, atol=case.atol * 10)


@pytest.mark.parametrize("case, variant", params(differentiable_only=True))
def test_gradients_match_finite_differences(case, variant):
    inputs = case.sample(variant, np.float64)
    check_grads(case.fn, to_symgrad(inputs), order=case.order)
