"""symgrad.autograd.functional: jacobian, hessian, vjp, jvp, vhp and hvp of a Python function.

Same signatures, results, structure (a Tensor for Tensor inputs, tuples for tuples) and error
messages as torch.autograd.functional, computed eagerly with ``autograd.grad``: forward-mode
products use the double-backward trick, as torch does. ``vectorize=True`` and
``strategy="forward-mode"`` are accepted and give the same numbers as the default loop.

>>> import symgrad
>>> from symgrad.autograd.functional import jacobian
>>> jacobian(lambda x: x**2, symgrad.tensor([1.0, 2.0]))
tensor([[2., 0.],
        [0., 4.]])
"""

from __future__ import annotations

from .. import grad_mode
from ..creation import zeros_like
from ..ops.join import stack
from ..tensor import Tensor
from .engine import grad as _autograd_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


# ------------------------------------------------------------------------------ plumbing
def _tupled(value, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """(was it a tuple, the tensors as a tuple); torch's TypeError for anything else."""
    was_tuple = isinstance(value, tuple)
    values = value if was_tuple else (value,)
    for i, item in enumerate(values):
        if not isinstance(item, Tensor):
            where = f"the value at index {i}" if was_tuple else f"the given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but {where} has type {type(item)}."
            )
    return was_tuple, values


def _prepare(tensors, create_graph: bool, need_graph: bool) -> tuple:
    """Fresh leaves to differentiate against; under create_graph, inputs that require grad
    stay connected to their graph (through a view), so higher derivatives reach them."""
    return tuple(
        t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(need_graph)
        for t in tensors
    )


def _finish(values, create_graph: bool):
    """Detach results unless the caller asked for a differentiable graph (nested tuples too)."""
    if create_graph:
        return values
    return tuple(v.detach() if isinstance(v, Tensor) else _finish(v, False) for v in values)


def _unpack(values, was_tuple: bool):
    return values if was_tuple else values[0]


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad; all None when none does."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    kept = [
        (o, g)
        for o, g in zip(outputs, grad_outputs, strict=True)
        if o is not None and o.requires_grad
    ]
    if not kept:
        return (None,) * len(inputs)
    return _autograd_grad(
        tuple(o for o, _ in kept),
        inputs,
        tuple(g for _, g in kept),
        retain_graph=retain_graph,
        create_graph=create_graph,
        allow_unused=True,
    )


_STRICT_NONE = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
    "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
    "grad_outputs when using the double backward trick to compute forward mode gradients. "
    "This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
    "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
    "{i} in the grad_jacobian. This is not allowed in strict mode as it prevents from using "
    "the double backward trick to replace forward mode AD.",
}


def _zeros_for_missing(grads, refs, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Unused inputs get zeros (strict mode refuses them, and constant gradients under
    create_graph), with torch's message for each stage."""
    result = []
    for i, (g, ref) in enumerate(zip(grads, refs, strict=True)):
        if g is None:
            if strict:
                raise RuntimeError(_STRICT_NONE[stage].format(i=i))
            g = zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. This "
                "is not allowed in strict mode when create_graph=True."
            )
        result.append(g)
    return tuple(result)


_STRICT_CONSTANT = {
    "outputs": "Output {i} of the user-provided function does not require gradients. The "
    "outputs must be computed in a differentiable manner from the input when running in "
    "strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of "
    "the user-provided function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
    "function with respect to input {i} is independent of the input. This is not allowed in "
    "strict mode. You should ensure that your function is twice differentiable and that the "
    "jacobian depends on the inputs (this would be violated by a linear function for example).",
    "hessian": "The hessian of the user-provided function with respect to input {i} is "
    "independent of the input. This is not allowed in strict mode. You should ensure that "
    "your function is thrice differentiable and that the hessian depends on the inputs.",
}


def _check_depends(values, kind: str, strict: bool) -> None:
    """Strict mode: every value must exist and be differentiable."""
    if not strict:
        return
    for i, value in enumerate(values):
        if value is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. This "
                "is not allowed in strict mode."
            )
        if not value.requires_grad:
            raise RuntimeError(_STRICT_CONSTANT[kind].format(i=i))


def _check_v(v, like, like_is_tuple: bool) -> None:
    if len(v) != len(like):
        if like_is_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(like)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, like, strict=True)):
        if a.shape != b.shape:
            prefix = f"Entry {i} in " if like_is_tuple else ""
            raise RuntimeError(
                f"{prefix}v has invalid size: should be {_size(b)} but got {_size(a)}."
            )


def _size(t: Tensor) -> str:
    return f"torch.Size({list(t.shape)})"


def _vector(v, like, like_is_tuple: bool, fn_name: str, create_graph: bool, which: str):
    """The user's ``v`` as a tuple matching ``like``; None only for one one-element tensor."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(_V_NONE[which])
        return None
    _, v = _tupled(v, "v", fn_name)
    v = _prepare(v, create_graph, need_graph=False)
    _check_v(v, like, like_is_tuple)
    return v


_V_NONE = {
    "output": "The vector v can only be None if the user-provided function returns a single "
    "Tensor with a single element.",
    "input": "The vector v can only be None if the input to the user-provided function is a "
    "single Tensor with a single element.",
}


def _call(func, inputs, fn_name: str, strict: bool) -> tuple[bool, tuple]:
    was_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function", fn_name)
    _check_depends(outputs, "outputs", strict)
    return was_tuple, outputs


def _scalar_output(was_tuple: bool, outputs, fn_name: str) -> None:
    if was_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {fn_name} should contain a single "
            "element"
        )


# ------------------------------------------------------------------------------ products
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _tupled(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _call(func, inputs, "vjp", strict)
        v = _vector(v, outputs, outputs_tuple, "vjp", create_graph, "output")
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _grad(outputs, inputs, v, create_graph=create_graph)
        result = _zeros_for_missing(grads, inputs, strict, create_graph, "back")
    return (
        _unpack(_finish(outputs, create_graph), outputs_tuple),
        _unpack(_finish(result, create_graph), inputs_tuple),
    )


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-backward trick
    (the vjp is linear in its cotangent ``u``; differentiating it with respect to ``u``
    gives ``J v``)."""
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _tupled(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _vector(v, inputs, inputs_tuple, "jvp", create_graph, "input")
        outputs_tuple, outputs = _call(func, inputs, "jvp", strict)
        cotangents = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        vjps = _grad(outputs, inputs, cotangents, create_graph=True)
        _check_depends(vjps, "grad_inputs", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _grad(vjps, cotangents, v, create_graph=create_graph)
        result = _zeros_for_missing(grads, outputs, strict, create_graph, "back_trick")
    return (
        _unpack(_finish(outputs, create_graph), outputs_tuple),
        _unpack(_finish(result, create_graph), outputs_tuple),
    )


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a function with one one-element output."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a function with one one-element output (by the
    double-backward trick, as torch; equal to ``vhp`` for twice-differentiable functions)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, fn_name):
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _tupled(inputs, "inputs", fn_name)
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _vector(v, inputs, inputs_tuple, fn_name, create_graph, "input")
        outputs_tuple, outputs = _call(func, inputs, fn_name, strict)
        _scalar_output(outputs_tuple, outputs, fn_name)
        jac = _grad(outputs, inputs, create_graph=True)
        _check_depends(jac, "jacobian", strict)
        if fn_name == "hvp":
            cotangents = tuple(zeros_like(t, requires_grad=True) for t in inputs)
            back = _grad(jac, inputs, cotangents, create_graph=True)
            _check_depends(jac, "hessian", strict)
            sources, targets, stage = back, cotangents, "double_back_trick"
        else:
            sources, targets, stage = jac, inputs, "double_back"
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = _grad(sources, targets, v, create_graph=create_graph)
        result = _zeros_for_missing(grads, inputs, strict, create_graph, stage)
    return (
        _unpack(_finish(outputs, create_graph), outputs_tuple),
        _unpack(_finish(result, create_graph), inputs_tuple),
    )


# ------------------------------------------------------------------------------ matrices
def jacobian(
    func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"
):
    """The Jacobian of ``func`` at ``inputs``: for output i and input j a tensor of shape
    ``outputs[i].shape + inputs[j].shape`` (nested tuples when either side is a tuple)."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more '
            'performant. Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        _check_forward_mode(create_graph, strict, vectorize)
    elif vectorize and strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
            "supported together. Please either set `strict=False` or `vectorize=False`."
        )
    with grad_mode.enable_grad():
        inputs_tuple, inputs = _tupled(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _call(func, inputs, "jacobian", strict)
        blocks = tuple(
            _jacobian_rows(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs)
        )
    blocks = _finish(blocks, create_graph)
    if not inputs_tuple:
        blocks = tuple(row[0] for row in blocks)
    return _unpack(blocks, outputs_tuple)


def _jacobian_rows(i, out, inputs, create_graph, strict) -> tuple:
    """d out / d inputs[j] for every j: one backward per element of ``out``."""
    columns = [[] for _ in inputs]
    flat = out.reshape(-1)
    for k in range(out.numel()):
        grads = _grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
        for j, (g, inp) in enumerate(zip(grads, inputs, strict=True)):
            if g is None:
                if strict:
                    raise RuntimeError(
                        f"Output {i} of the user-provided function is independent of input "
                        f"{j}. This is not allowed in strict mode."
                    )
                g = zeros_like(inp)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(
                    f"The jacobian of the user-provided function is independent of input {i}. "
                    "This is not allowed in strict mode when create_graph=True."
                )
            columns[j].append(g)
    return tuple(
        _stacked(column, inp).reshape(tuple(out.shape) + tuple(inp.shape))
        for column, inp in zip(columns, inputs, strict=True)
    )


def _stacked(rows, like):
    # a function with an empty output has an empty Jacobian
    return stack(rows) if rows else like.new_zeros((0,) + tuple(like.shape))


def _check_forward_mode(create_graph, strict, vectorize) -> None:
    if create_graph:
        raise NotImplementedError(
            "torch.autograd.functional.jacobian: `create_graph=True` and "
            '`strategy="forward-mode"` are not supported together (yet). Please either set '
            '`create_graph=False` or `strategy="reverse-mode"`.'
        )
    if strict:
        raise RuntimeError(
            'torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
            "are not supported together (yet). Please either set `strict=False` or "
            '`strategy="reverse-mode"`.'
        )
    if not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
            "only implemented for `vectorize=True`."
        )


def hessian(
    func,
    inputs,
    create_graph=False,
    strict=False,
    vectorize=False,
    outer_jacobian_strategy="reverse-mode",
):
    """The Hessian of a function with one one-element output: the Jacobian of its gradient
    (for tuple inputs, a tuple of tuples: block (i, j) has shape ``inputs[i].shape +
    inputs[j].shape``)."""
    inputs_tuple, inputs = _tupled(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*args):
        out = func(*args)
        was_tuple, outs = _tupled(out, "outputs of the user-provided function", "hessian")
        _check_depends(outs, "outputs", strict)
        if was_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                "element"
            )
        return out.squeeze()

    def gradient(*args):
        jac = jacobian(single_output, args, create_graph=True)
        _check_depends(jac, "jacobian", strict)
        return jac

    blocks = jacobian(
        gradient,
        inputs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    if inputs_tuple:
        return blocks
    return blocks[0][0]
