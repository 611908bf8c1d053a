"""In-place ops: values, version counters, the no_grad exemption, and gradients through
in-place changes of non-leaf tensors and of their views (CopySlices), against PyTorch 2.13.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as torch


def assert_close(tensor, expected):
    np.testing.assert_allclose(np.array(tensor.tolist()), np.array(expected), rtol=1e-6, atol=1e-6)


def node_name(tensor) -> str:
    return type(tensor.grad_fn).__name__


# ----------------------------------------------------------------------------------- values


def test_each_in_place_method_returns_self():
    a = torch.tensor([1.0, 2.0, 3.0])
    results = [
        a.add_(1),
        a.sub_(1),
        a.mul_(2),
        a.div_(2),
        a.zero_(),
        a.fill_(1),
        a.copy_(torch.ones(3)),
        a.clamp_(0, 1),
    ]
    assert all(r is a for r in results)


def test_augmented_assignment_keeps_the_object():
    a = torch.tensor([1.0, 2.0, 3.0])
    b = a
    a += 1
    a -= 0.5
    a *= 4
    a /= 2
    assert a is b
    assert a.tolist() == [3.0, 5.0, 7.0]


def test_in_place_values():
    a = torch.tensor([1.0, 2.0, 3.0])
    a.add_(torch.tensor([1.0, 1.0, 1.0]), alpha=3)
    a.sub_(1, alpha=2)
    assert a.tolist() == [2.0, 3.0, 4.0]
    a.copy_(torch.tensor(5))
    assert a.tolist() == [5.0, 5.0, 5.0]
    b = torch.zeros(2, 3)
    b.copy_(torch.tensor([1.0, 2.0, 3.0]))  # broadcast
    assert b.tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    c = torch.zeros(2, dtype=torch.int64)
    c.copy_(torch.tensor([1.7, -2.7]))  # cast, truncating
    assert c.tolist() == [1, -2] and c.dtype is torch.int64
    d = torch.zeros(3)
    d.fill_(torch.tensor(2.5))
    assert d.tolist() == [2.5, 2.5, 2.5]
    e = torch.tensor([1, 2, 3])
    e.mul_(2)
    e.add_(True)
    assert e.tolist() == [3, 5, 7] and e.dtype is torch.int64
    f = torch.tensor([1.0, -2.0, 3.0])
    f.clamp_(min=0)
    assert f.tolist() == [1.0, 0.0, 3.0]
    f.clamp_(max=2)
    assert f.tolist() == [1.0, 0.0, 2.0]


def test_setitem_values():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    a[0, 1] = 9
    a[:, 0] = torch.tensor([7.0, 8.0])
    a[a > 8] = 0
    a[1] = 5
    assert a.tolist() == [[7.0, 0.0], [5.0, 5.0]]
    assert a._version == 4


def test_in_place_errors():
    with pytest.raises(
        RuntimeError, match=r"^result type Float can't be cast to the desired output type Long$"
    ):
        torch.tensor([1, 2, 3]).add_(1.5)
    with pytest.raises(
        RuntimeError, match=r"^result type Float can't be cast to the desired output type Long$"
    ):
        a = torch.tensor([1, 2, 3])
        a /= 2
    with pytest.raises(
        RuntimeError, match=r"^output with shape \[3\] doesn't match the broadcast shape \[2, 3\]$"
    ):
        torch.ones(3).add_(torch.ones(2, 3))
    with pytest.raises(
        RuntimeError,
        match="^fill_ only supports 0-dimension value tensor but got tensor with 1 dimensions.$",
    ):
        torch.ones(3).fill_(torch.ones(1))


# ------------------------------------------------------------------------- version counter


def test_version_counter_values():
    a = torch.tensor([1.0, 2.0, 3.0])
    versions = [a._version]
    a.add_(1)
    versions.append(a._version)
    a += 1
    versions.append(a._version)
    a.mul_(2)
    versions.append(a._version)
    a *= 2
    versions.append(a._version)
    a.sub_(1)
    versions.append(a._version)
    a -= 1
    versions.append(a._version)
    a.div_(2)
    versions.append(a._version)
    a /= 2
    versions.append(a._version)
    a.zero_()
    versions.append(a._version)
    a.fill_(3)
    versions.append(a._version)
    a.copy_(torch.ones(3))
    versions.append(a._version)
    a.clamp_(0, 0.5)
    versions.append(a._version)
    a[0] = 5
    versions.append(a._version)
    a[1:] = torch.tensor([7.0, 8.0])
    versions.append(a._version)
    assert versions == list(range(15))


def test_views_share_the_version_counter():
    a = torch.tensor([1.0, 2.0, 3.0])
    b = a.view(3)
    c = a[1:]
    assert b._version == 0
    b.add_(1)
    assert a._version == c._version == b._version == 1
    c.mul_(2)
    assert a._version == 2
    assert a.tolist() == [2.0, 6.0, 8.0]  # the views share memory too


def test_detach_shares_the_version_counter_data_does_not():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = a.detach()
    d.zero_()
    assert a.tolist() == [0.0, 0.0, 0.0]
    assert (a._version, d._version) == (1, 1)
    b = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    data = b.data
    data.zero_()
    assert b.tolist() == [0.0, 0.0, 0.0]  # same memory ...
    assert (b._version, data._version) == (0, 1)  # ... but not the same counter
    assert not data.requires_grad and data.is_leaf


def test_out_of_place_ops_do_not_bump_versions():
    a = torch.tensor([1.0, 2.0])
    _ = a + 1, a.view(2), a.clone(), a.detach()
    assert a._version == 0


# --------------------------------------------------------------------------------- no_grad


def test_in_place_on_leaf_is_allowed_under_no_grad():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with torch.no_grad():
        a.add_(1)
        a.mul_(2)
        a[0] = 0.5
    assert repr(a) == "tensor([0.5000, 6.0000, 8.0000], requires_grad=True)"
    assert a._version == 3
    assert a.requires_grad and a.is_leaf and a.grad_fn is None


def test_optimizer_style_update():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with torch.no_grad():
            w -= 0.25 * w.grad
        w.grad.zero_()
    assert w.tolist() == [0.125, 0.25]
    assert w.is_leaf and w.requires_grad


# ------------------------------------------------------------------- gradients: non-leaves


def test_gradients_through_a_chain_of_in_place_ops():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2
    b.add_(a)
    b.mul_(a)
    b.sub_(1)
    b.div_(a + 1)
    b.clamp_(0, 5)
    b += a
    b *= a
    b -= a
    b /= 2
    assert node_name(b) == "DivBackward0" and b._version == 9
    b.sum().backward()
    assert_close(b, [0.5, 4.6666669845581055, 10.5])
    assert_close(a.grad, [2.25, 6.111111164093018, 5.0])


def test_repeated_in_place_multiply():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    for _ in range(3):
        b.mul_(a)
    b.sum().backward()
    assert a.grad.tolist() == [4.0, 32.0]  # d(a^4)/da
    assert b._version == 3


def test_copy_fill_zero_and_their_nodes():
    a = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = torch.tensor([0.5, 0.5, 0.5], requires_grad=True)
    b = a * 1
    b.copy_(w * 4)
    c = a * 1
    c.fill_(2.0)
    d = a.sin()
    d.zero_()
    assert [node_name(t) for t in (b, c, d)] == [
        "CopyBackwards",
        "FillBackward2",
        "ZeroBackward0",
    ]
    (b + c + d + a).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0]  # only through `+ a`
    assert w.grad.tolist() == [4.0, 4.0, 4.0]


def test_clamp_in_place_gradient():
    a = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    b = a * 1
    b.clamp_(-1, 2)
    c = a * 1
    c.clamp_(min=0)
    (b * 3 + c).sum().backward()
    assert b.tolist() == [1.0, -1.0, 2.0]
    assert c.tolist() == [1.0, 0.0, 3.0]
    assert a.grad.tolist() == [4.0, 0.0, 1.0]


def test_in_place_with_an_argument_requiring_grad_on_a_plain_tensor():
    a = torch.tensor([1.0, 2.0, 3.0])
    c = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a.mul_(c)
    assert repr(a) == "tensor([1., 4., 9.], grad_fn=<MulBackward0>)"
    assert not a.is_leaf
    a.sum().backward()
    assert c.grad.tolist() == [1.0, 2.0, 3.0]


# -------------------------------------------------------- gradients: views of non-leaves


def test_in_place_through_views_of_a_non_leaf():
    a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = a * 1
    v = b[:, 1]
    v.mul_(a[:, 0])
    w = b.t()
    w[0].add_(10)
    assert node_name(b) == "CopySlices"
    assert node_name(v) == "AsStridedBackward0"
    assert b._version == 2
    weights = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    (b * weights).sum().backward()
    assert b.tolist() == [[11.0, 2.0, 3.0], [14.0, 20.0, 6.0]]
    assert a.grad.tolist() == [[5.0, 2.0, 3.0], [29.0, 20.0, 6.0]]


def test_in_place_on_a_flat_view():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = a.sin()
    flat = b.view(4)
    flat.mul_(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert node_name(flat) == "AsStridedBackward0"
    row = b[1]
    (b.sum() + (row * row).sum()).backward()
    assert_close(
        b, [[0.8414709568023682, 1.8185948133468628], [0.4233599901199341, -3.027209997177124]]
    )
    assert_close(
        a.grad, [[0.5403023362159729, -0.832293689250946], [-5.484716892242432, 13.215157508850098]]
    )


def test_setitem_on_a_non_leaf():
    a = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    b = a.sin()
    b[1:3] = a[:2] * 3
    b[0] = 7.0
    b[[3]] = a[[0]] ** 2
    assert node_name(b) == "IndexPutBackward0"
    assert b._version == 3
    (b * b).sum().backward()
    assert_close(b, [7.0, 3.0, 6.0, 1.0])
    assert_close(a.grad, [22.0, 36.0, 0.0, 0.0])


def test_setitem_of_values_requiring_grad_into_a_plain_tensor():
    x = torch.zeros(3)
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    x[1:] = w * 3
    assert x.requires_grad and not x.is_leaf
    assert node_name(x) == "CopySlices"
    x.sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_other_views_see_the_new_history():
    # v1 was made before v2 was changed in place: its grad_fn is rebuilt from the base.
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    v1 = b[0:2]
    v2 = b[1:3]
    v2.mul_(a[0:2] + 1)
    assert node_name(v1) == "AsStridedBackward0"
    v1.sum().backward()
    assert a.grad.tolist() == [3.0, 2.0, 0.0]


def test_view_of_base_changed_in_place():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    v = b[:2]
    b.mul_(3)
    (v * v).sum().backward()
    assert a.grad.tolist() == [18.0, 36.0, 0.0]


def test_view_of_plain_tensor_filled_with_a_tracked_value():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    buf = torch.zeros(3)
    v = buf[1:]
    assert (v.requires_grad, v.grad_fn, v.is_leaf) == (False, None, True)
    buf.copy_(a * 2)
    assert v.requires_grad and not v.is_leaf
    assert node_name(v) == "AsStridedBackward0"
    v.sum().backward()
    assert a.grad.tolist() == [0.0, 2.0, 2.0]


def test_view_made_under_no_grad_has_no_history():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    with torch.no_grad():
        v = y[0:2]
    assert v.grad_fn is None and v.is_leaf  # also when read again later
    assert v.tolist() == [2.0, 4.0]


def test_a_product_saves_an_input_only_for_the_other_inputs_gradient():
    """torch saves ``y`` of ``y * c`` only when ``c`` requires grad: writing into ``y`` after
    ``y[0] * 0.5`` is fine (found by the property suite; torch gives x.grad [0.5, 1, 1])."""
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.clone()
    y[0] = y[0] * 0.5 + 1
    y.sum().backward()
    assert x.grad.tolist() == [0.5, 1.0, 1.0]

    w = torch.tensor(2.0, requires_grad=True)
    y = x.clone()
    product = y * w  # w needs y for its gradient: y is saved, and the write is caught
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        product.sum().backward()
