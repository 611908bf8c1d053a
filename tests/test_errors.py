"""PyTorch's autograd error and warning messages (reference/torch-semantics.md §1.1).

Each expected text was checked against PyTorch 2.13, whose wording wins where the reference
table is older. Only the first line is compared: symgrad may add a ``symgrad hint:`` line.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import warnings
import weakref

import numpy as np
import pytest

import symgrad as torch
from symgrad.autograd import engine

BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)
MODIFIED = (
    "one of the variables needed for gradient computation has been modified by an inplace "
    "operation: {what} is at version {now}; expected version {then} instead. Hint: enable "
    "anomaly detection to find the operation that failed to compute its gradient, with "
    "torch.autograd.set_detect_anomaly(True, check_nan=False)."
)
NUMPY_REQUIRES_GRAD = (
    "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
)
DETACH_VIEW = (
    "Can't detach views in-place. Use detach() instead. If you are using "
    "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, "
    "gradients are views of DDP buckets, and hence detach_() cannot be called on these "
    "gradients. To fix this error, please refer to the Optimizer.zero_grad() function in "
    "torch/optim/optimizer.py as the solution."
)
INFERENCE_SAVED = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`."
)
CREATE_GRAPH = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using autograd.grad "
    "when creating the graph to avoid this. If you have to use this function, make sure to "
    "reset the .grad fields of your parameters to None after use to break the cycle and avoid "
    "the leak."
)
LEAF_ONLY = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
)


@contextlib.contextmanager
def warnings_as_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def first_line(excinfo) -> str:
    return str(excinfo.value).split("\n")[0]


def raises(exc_type, expected: str, fn) -> None:
    with pytest.raises(exc_type) as excinfo:
        fn()
    assert first_line(excinfo) == expected


def leaf(*values, dtype=None):
    return torch.tensor(list(values), dtype=dtype, requires_grad=True)


# ------------------------------------------------------------------ gradients given to backward


def test_implicit_gradient_needs_one_element():
    x = leaf(1.0, 2.0, 3.0)
    raises(
        RuntimeError,
        "grad can be implicitly created only for scalar outputs",
        lambda: (x * 2).backward(),
    )


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_implicit_gradient_is_about_numel_not_ndim(shape):
    x = torch.ones(shape, requires_grad=True)
    (x * 3).backward()
    assert x.grad.tolist() == np.full(shape, 3.0).tolist()


def test_output_not_requiring_grad():
    raises(
        RuntimeError,
        "element 0 of tensors does not require grad and does not have a grad_fn",
        lambda: torch.ones(3).sum().backward(),
    )
    x = leaf(1.0, 2.0)
    raises(
        RuntimeError,
        "element 1 of tensors does not require grad and does not have a grad_fn",
        lambda: torch.autograd.backward([(x * 2).sum(), torch.ones(())]),
    )
    raises(
        RuntimeError,
        "element 0 of tensors does not require grad and does not have a grad_fn",
        lambda: torch.autograd.grad(torch.ones(()), [x]),
    )


def test_wrong_gradient_shape():
    x = leaf(1.0, 2.0, 3.0)
    raises(
        RuntimeError,
        "Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] has a "
        "shape of torch.Size([3]).",
        lambda: (x * 2).backward(torch.ones(2)),
    )
    assert x.grad is None  # nothing half-done


def test_non_tensor_gradient():
    x = leaf(1.0, 2.0, 3.0)
    raises(
        TypeError,
        "gradients can be either Tensors or None, but got float",
        lambda: (x * 2).backward([1.0, 2.0, 3.0]),
    )
    raises(TypeError, "'float' object is not iterable", lambda: (x * 2).sum().backward(1.0))


def test_gradient_count_mismatch():
    x = leaf(1.0, 2.0)
    raises(
        RuntimeError,
        "got 2 tensors and 1 gradients",
        lambda: torch.autograd.backward([x.sum(), (x * 2).sum()], [torch.tensor(1.0)]),
    )


def test_integer_gradient_is_cast_not_refused():
    x = leaf(1.0, 2.0)
    (x * 2).backward(torch.tensor([1, 2]))
    assert x.grad.dtype is torch.float32
    assert x.grad.tolist() == [2.0, 4.0]


# ------------------------------------------------------------------------ backward twice


def test_backward_twice_through_saved_values():
    x = leaf(1.0, 2.0)
    out = (x.exp() * x).sum()
    out.backward()
    raises(RuntimeError, BACKWARD_TWICE, out.backward)
    assert x.grad.tolist() == pytest.approx([2 * np.e, 3 * np.e**2])  # not accumulated twice


def test_saved_values_are_really_released():
    x = leaf(1.0, 2.0)
    hidden = x * 2
    out = hidden.sin()  # saves `hidden`
    gone = weakref.ref(hidden)
    node = out.grad_fn
    del hidden
    gc.collect()
    assert gone() is not None  # kept alive by the node
    assert node._saved_self is gone()
    out.sum().backward()
    gc.collect()
    assert gone() is None  # released by backward
    raises(RuntimeError, BACKWARD_TWICE, lambda: node._saved_self)


def test_retain_graph_keeps_saved_values():
    x = leaf(1.0, 2.0)
    out = (x * x).sum()
    out.backward(retain_graph=True)
    out.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_nodes_without_saved_values_can_run_twice():
    # torch: add, views and reductions save nothing, so a second backward works.
    x = leaf(1.0, 2.0, 3.0)
    out = (x + x).view(3, 1).t().sum()
    out.backward()
    out.backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]
    y = (x * 2).sum()  # saves the Python number 2, as torch saves it as a tensor
    y.backward()
    raises(RuntimeError, BACKWARD_TWICE, y.backward)


# ------------------------------------------------------------------------- requires_grad


def test_requires_grad_on_integer_tensors():
    raises(
        RuntimeError,
        "Only Tensors of floating point and complex dtype can require gradients",
        lambda: torch.tensor([1, 2], requires_grad=True),
    )
    raises(
        RuntimeError,
        "Only Tensors of floating point and complex dtype can require gradients",
        lambda: torch.zeros(2, dtype=torch.int64, requires_grad=True),
    )
    raises(
        RuntimeError,
        "Only Tensors of floating point and complex dtype can require gradients",
        lambda: torch.arange(3, requires_grad=True),
    )
    # The method and the property setter word it differently (torch 2.13).
    raises(
        RuntimeError,
        "only Tensors of floating point dtype can require gradients",
        lambda: torch.tensor([1, 2]).requires_grad_(),
    )

    def set_flag():
        torch.tensor([True]).requires_grad = True

    raises(
        RuntimeError,
        "only Tensors of floating point and complex dtype can require gradients",
        set_flag,
    )


def test_changing_requires_grad_of_non_leaf():
    y = leaf(1.0) * 2

    def set_flag(value):
        y.requires_grad = value

    raises(RuntimeError, LEAF_ONLY, lambda: set_flag(False))
    raises(RuntimeError, LEAF_ONLY, lambda: y.requires_grad_(False))
    raises(
        RuntimeError,
        "you can only change requires_grad flags of leaf variables.",
        lambda: set_flag(True),
    )
    assert y.requires_grad_(True) is y  # the method only refuses False


# ------------------------------------------------------------------------------ hooks


def test_hooks_need_requires_grad():
    raises(
        RuntimeError,
        "cannot register a hook on a tensor that doesn't require gradient",
        lambda: torch.ones(2).register_hook(lambda g: g),
    )
    raises(
        RuntimeError,
        "cannot register a hook on a tensor that doesn't require gradient",
        lambda: torch.ones(2).register_post_accumulate_grad_hook(lambda t: None),
    )


def test_post_accumulate_hook_on_non_leaf():
    raises(
        RuntimeError,
        "post accumulate grad hooks cannot be registered on non-leaf tensors",
        lambda: (leaf(1.0) * 2).register_post_accumulate_grad_hook(lambda t: None),
    )


def test_retain_grad_without_requires_grad():
    raises(
        RuntimeError,
        "can't retain_grad on Tensor that has requires_grad=False",
        lambda: torch.ones(2).retain_grad(),
    )
    x = leaf(1.0)
    x.retain_grad()  # a silent no-op on a leaf
    assert not x.retains_grad


# ------------------------------------------------------------------------- autograd.grad


def test_grad_of_unused_input():
    x, w = leaf(1.0, 2.0), leaf(3.0)
    raises(
        RuntimeError,
        "The differentiated Tensor at index 1 appears to not have been used in the graph. "
        "Set allow_unused=True if this is the desired behavior.",
        lambda: torch.autograd.grad((x * 2).sum(), [x, w]),
    )
    raises(
        RuntimeError,
        "The differentiated Tensor at index 0 appears to not have been used in the graph. "
        "Set allow_unused=True if this is the desired behavior.",
        lambda: torch.autograd.grad((x * 2).sum(), w),
    )


def test_grad_of_input_not_requiring_grad():
    x = leaf(1.0, 2.0)
    raises(
        RuntimeError,
        "One of the differentiated Tensors does not require grad",
        lambda: torch.autograd.grad((x * 2).sum(), [x, torch.ones(2)]),
    )


def test_empty_inputs():
    x = leaf(1.0, 2.0)
    raises(
        RuntimeError,
        "`inputs` argument to `backward()` cannot be empty.",
        lambda: (x * 2).sum().backward(inputs=[]),
    )
    raises(
        RuntimeError,
        "`inputs` argument to `grad()` cannot be empty.",
        lambda: torch.autograd.grad((x * 2).sum(), []),
    )


def test_backward_inputs_must_require_grad():
    x = leaf(1.0, 2.0)
    raises(
        RuntimeError,
        "can't retain_grad on Tensor that has requires_grad=False",
        lambda: (x * 2).sum().backward(inputs=[torch.ones(2)]),
    )


def test_materialize_grads_with_allow_unused_false():
    x = leaf(1.0)
    raises(
        ValueError,
        "Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
        "allow_unused=False.",
        lambda: torch.autograd.grad(x * 2, x, materialize_grads=True, allow_unused=False),
    )


# ------------------------------------------------------------------------ custom Function


class WrongCount(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad):
        return grad


class GradForNumber(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, k):
        return a * k

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class BadShape(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a * 1

    @staticmethod
    def backward(ctx, grad):
        return torch.ones(3)


def test_custom_function_wrong_number_of_gradients():
    x = leaf(1.0, 2.0)
    raises(
        RuntimeError,
        "function WrongCountBackward returned an incorrect number of gradients (expected 2, got 1)",
        lambda: WrongCount.apply(x, x).sum().backward(),
    )


def test_custom_function_gradient_for_a_non_tensor():
    x = leaf(1.0, 2.0)
    raises(
        RuntimeError,
        "function GradForNumberBackward returned a gradient different than None at position 2, "
        "but the corresponding forward input was not a Variable",
        lambda: GradForNumber.apply(x, 2.0).sum().backward(),
    )


def test_backward_node_returns_wrong_gradient_shape():
    x = leaf(1.0, 2.0)
    raises(
        RuntimeError,
        "Function BadShapeBackward returned an invalid gradient at index 0 - got [3] but expected "
        "shape compatible with [2]",
        lambda: BadShape.apply(x).sum().backward(),
    )


# ------------------------------------------------------------------- numpy and detach_


def test_numpy_on_tensor_requiring_grad():
    x = leaf(1.0, 2.0)
    raises(RuntimeError, NUMPY_REQUIRES_GRAD, x.numpy)
    raises(RuntimeError, NUMPY_REQUIRES_GRAD, lambda: np.asarray(x))
    raises(RuntimeError, NUMPY_REQUIRES_GRAD, lambda: np.asarray(x * 2))
    assert x.detach().numpy().tolist() == [1.0, 2.0]


def test_detach_in_place_on_a_view():
    base = leaf(1.0, 2.0, 3.0, 4.0) * 2
    raises(RuntimeError, DETACH_VIEW, lambda: base.view(2, 2).detach_())
    raises(RuntimeError, DETACH_VIEW, lambda: base[1:].detach_())
    assert base.detach_() is base  # not a view: fine
    assert base.grad_fn is None and not base.requires_grad


def test_saved_tensor_detached_in_place():
    x = leaf(1.0, 2.0)
    y = x * 2
    out = y * y
    y.detach_()
    raises(
        RuntimeError,
        "Trying to use a saved tensor that has been detached in-place, i.e. with .detach_().This "
        "is not supported, please use out-of-place `.detach()` instead",
        lambda: out.sum().backward(),
    )


def test_saved_tensor_detached_in_place_through_the_general_path():
    a = leaf(1.0, 2.0)
    m = leaf(3.0, 4.0)
    y = a * 2
    out = y @ m  # matmul saves its inputs through OpBackward, not the operator shortcut
    y.detach_()
    raises(
        RuntimeError,
        "Trying to use a saved tensor that has been detached in-place, i.e. with .detach_().This "
        "is not supported, please use out-of-place `.detach()` instead",
        lambda: out.backward(),
    )


def test_saved_attribute_checks_only_its_own_input():
    # Regression: _saved_other once went through every saved input's check, so an in-place
    # change of self made it raise too. torch: _saved_other reads, _saved_self raises.
    x = leaf(1.0, 2.0) * 1
    y = leaf(3.0, 4.0) * 1
    out = x * y
    x.add_(1)
    assert out.grad_fn._saved_other is y
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _ = out.grad_fn._saved_self


def test_detached_before_it_was_saved_is_fine():
    # Regression: saved inputs are kept as they are, and detach_ stamps when it ran; a tensor
    # detached before the op saved it is a plain leaf there (torch: m.grad == [2, 4]).
    a = leaf(1.0, 2.0)
    y = a * 2
    y.detach_()
    m = leaf(3.0, 4.0)
    (y * m).sum().backward()
    assert m.grad.tolist() == [2.0, 4.0]


def test_leaf_detached_in_place_after_it_was_saved():
    # torch: the saved leaf is still usable, and its AccumulateGrad skips a leaf that no
    # longer requires grad (x.grad stays None).
    x = leaf(1.0, 2.0)
    w = leaf(3.0, 4.0)
    out = x * w
    x.detach_()
    out.sum().backward()
    assert w.grad.tolist() == [1.0, 2.0] and x.grad is None


# ------------------------------------------------------------------------ in-place checks


def test_in_place_on_leaf_requiring_grad():
    x = leaf(1.0, 2.0, 3.0)
    message = "a leaf Variable that requires grad is being used in an in-place operation."
    raises(RuntimeError, message, lambda: x.add_(1))
    raises(RuntimeError, message, lambda: x.zero_())

    def augmented():
        nonlocal x
        x += 1

    raises(RuntimeError, message, augmented)
    assert x.tolist() == [1.0, 2.0, 3.0] and x._version == 0  # refused before any change


def test_in_place_on_view_of_leaf_requiring_grad():
    x = leaf(1.0, 2.0, 3.0, 4.0)
    message = "a view of a leaf Variable that requires grad is being used in an in-place operation."
    raises(RuntimeError, message, lambda: x.view(2, 2).mul_(2))
    raises(RuntimeError, message, lambda: x[1:].add_(1))
    raises(RuntimeError, message, lambda: x.view(4).t().fill_(0))
    assert x.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_saved_tensor_modified_in_place():
    a = torch.ones(10, 49, requires_grad=True)
    b = a - 1
    c = b * b
    b.add_(1)
    what = "[torch.FloatTensor [10, 49]], which is output 0 of Add,"
    raises(RuntimeError, MODIFIED.format(what=what, now=1, then=0), lambda: c.sum().backward())


def test_saved_output_modified_in_place():
    a = leaf(1.0, 2.0, 3.0)
    b = a.sigmoid()  # saves its output
    b.mul_(2)
    what = "[torch.FloatTensor [3]], which is output 0 of Sigmoid,"
    raises(RuntimeError, MODIFIED.format(what=what, now=1, then=0), lambda: b.sum().backward())


def test_saved_leaf_modified_in_place():
    a = leaf(1.0, 2.0, 3.0)
    b = torch.ones(3)
    c = a * b
    b.add_(1)
    b.mul_(3)
    what = "[torch.FloatTensor [3]]"
    raises(RuntimeError, MODIFIED.format(what=what, now=2, then=0), lambda: c.sum().backward())


def test_saved_tensor_modified_through_detached_alias():
    a = torch.ones(3, dtype=torch.float64, requires_grad=True)
    b = a.sin()
    c = b.sin()
    b.detach().add_(1)  # detach() shares the version counter
    what = "[torch.DoubleTensor [3]], which is output 0 of Sin,"
    raises(RuntimeError, MODIFIED.format(what=what, now=1, then=0), lambda: c.sum().backward())


def test_dot_data_does_not_share_the_version_counter():
    a = leaf(1.0, 2.0, 3.0)
    b = torch.ones(3)
    c = a * b
    b.data.add_(1)  # no error: and the gradient silently uses the new values, as in torch
    c.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0, 2.0]


# ------------------------------------------------------------------------ inference mode


def test_inference_tensors_saved_for_backward():
    x = leaf(1.0, 2.0, 3.0)
    with torch.inference_mode():
        t = torch.ones(3)
    raises(RuntimeError, INFERENCE_SAVED, lambda: t * x)
    raises(RuntimeError, INFERENCE_SAVED, lambda: x * t)
    assert (x + t).sum().item() == 9.0  # add saves nothing: allowed


def test_inference_tensors_have_no_version_counter():
    with torch.inference_mode():
        t = torch.ones(3)
    raises(RuntimeError, "Inference tensors do not track version counter.", lambda: t._version)


def test_in_place_on_inference_tensor_outside_inference_mode():
    with torch.inference_mode():
        t = torch.ones(3)
        t.add_(1)  # fine inside
    raises(
        RuntimeError,
        "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
        "clone to get a normal tensor before doing inplace update.See "
        "https://github.com/pytorch/rfcs/pull/17 for more details.",
        lambda: t.add_(1),
    )


# ----------------------------------------------------------------------------- warnings


def test_create_graph_warning_is_emitted_once(monkeypatch):
    monkeypatch.setattr(engine, "_warned_create_graph", False)
    x = leaf(1.0, 2.0)
    with pytest.warns(UserWarning) as record:
        (x * x).sum().backward(create_graph=True)
    assert [str(w.message) for w in record] == [CREATE_GRAPH]
    with warnings_as_errors():
        (x * x).sum().backward(create_graph=True)  # TORCH_WARN_ONCE: not again
    assert x.grad.tolist() == [4.0, 8.0]


def test_no_warning_for_autograd_grad_with_create_graph(monkeypatch):
    monkeypatch.setattr(engine, "_warned_create_graph", False)
    x = leaf(1.0, 2.0)
    with warnings_as_errors():
        torch.autograd.grad((x * x).sum(), x, create_graph=True)


def test_non_leaf_grad_warning_only_when_grad_is_missing():
    y = leaf(1.0, 2.0) * 2
    with pytest.warns(UserWarning, match="^The .grad attribute of a Tensor that is not a leaf"):
        assert y.grad is None
    y.retain_grad()
    with warnings_as_errors():
        assert y.grad is None


TENSOR_MODULE = importlib.import_module("symgrad.tensor")  # symgrad.tensor is the factory


@pytest.mark.parametrize("convert", [float, complex])
def test_scalar_conversion_of_tensor_requiring_grad_warns_once(convert, monkeypatch):
    # torch 2.13 warns with TORCH_WARN_ONCE: the first float()/complex() in a process only.
    monkeypatch.setitem(TENSOR_MODULE._scalar_warning, "given", False)
    x = torch.tensor(2.5, requires_grad=True)
    with pytest.warns(UserWarning) as record:
        assert convert(x) == 2.5
    assert str(record[0].message) == (
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
        "behavior.\nConsider using tensor.detach() first."
    )
    with warnings_as_errors():
        assert float(x * 2) == 5.0 and complex(x) == 2.5
    monkeypatch.setitem(TENSOR_MODULE._scalar_warning, "given", False)
    with warnings_as_errors():
        assert x.item() == 2.5 and int(x) == 2 and bool(x) and f"{x:.1f}" == "2.5"
        assert x.tolist() == 2.5


# --------------------------------------------------------------------------- .grad setter


def test_assigning_grad_of_wrong_size_or_dtype():
    x = leaf(1.0, 2.0)

    def assign(value):
        x.grad = value

    raises(
        RuntimeError,
        "attempting to assign a gradient of size '[3]' to a tensor of size '[2]'. Please ensure "
        "that the gradient and the tensor are the same size",
        lambda: assign(torch.ones(3)),
    )
    raises(
        RuntimeError,
        "attempting to assign a gradient with dtype 'double' to a tensor with grad_dtype 'Float'. "
        "The gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You "
        "can set the tensor's grad_dtype attribute with a specific dtype, or None to allow any "
        "dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient "
        "may break downstream systems that assume they match.",
        lambda: assign(torch.ones(2, dtype=torch.float64)),
    )
    raises(
        TypeError,
        "assigned grad expected to be a Tensor or None but got grad of type list",
        lambda: assign([1.0]),
    )
    assert x.grad is None
