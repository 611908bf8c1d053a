"""Gradient checking: reverse-mode gradients against central finite differences.

``check_grads`` follows HIPS autograd and JAX: for a random input direction ``v`` and a random
output cotangent ``u``, ``u . (f(x + eps v) - f(x - eps v)) / (2 eps)`` must equal
``sum_i <vjp(u)_i, v_i>``; higher orders repeat the check on the gradient function itself.

``gradcheck`` and ``gradgradcheck`` are torch.autograd's: they build the full Jacobians (one
finite difference per input element, one backward per output element) and compare them with
``allclose``, so they suit small inputs; ``fast_mode=True`` compares ``v^T J u`` instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np

from .. import grad_mode
from ..creation import default_generator, tensor
from ..tensor import Tensor
from . import engine


class GradientCheckError(AssertionError):
    """A gradient disagreed with finite differences; the message names the input and order."""


def _as_tensors(args) -> list[Tensor]:
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a.detach())
        elif isinstance(a, (np.ndarray, list)):
            array = np.asarray(a)
            out.append(tensor(array.astype(np.float64) if array.dtype.kind == "f" else array))
        else:
            out.append(a)  # a static argument (a number, a dim, a flag) passes through
    return out


def _flat_outputs(result) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    return [r for r in result if isinstance(r, Tensor)]


def check_grads(
    fn: Callable[..., Tensor],
    args: Sequence,
    order: int = 2,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
) -> None:
    """Check the gradients of ``fn`` at ``args`` up to ``order``, in float64.

    Inputs of floating dtype are differentiated; others (indices, masks) pass through.
    Raises ``GradientCheckError`` naming the input and the order that failed.

    >>> import symgrad
    >>> x = symgrad.randn(3, dtype=symgrad.float64)
    >>> symgrad.testing.check_grads(lambda x: (x * x).sum(), [x])
    """
    rng = np.random.default_rng(seed)
    inputs = _as_tensors(args)
    for t in inputs:
        if isinstance(t, Tensor) and t.dtype.is_floating_point and t.dtype.name != "float64":
            raise ValueError(
                "check_grads needs float64 inputs (finite differences in float32 "
                "are too coarse to check anything)"
            )
    _check_order(fn, inputs, order, eps, rtol, atol, rng, level=1)


def _differentiable(inputs) -> list[int]:
    return [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.dtype.is_floating_point]


def _check_order(fn, inputs, order, eps, rtol, atol, rng, level):
    positions = _differentiable(inputs)
    if not positions:
        return
    leaves = [
        t.detach().requires_grad_(i in positions) if i in positions else t
        for i, t in enumerate(inputs)
    ]
    outputs = _flat_outputs(fn(*leaves))
    outputs = [o for o in outputs if o.dtype.is_floating_point]
    if not outputs:
        return
    cotangents = [Tensor._wrap(rng.standard_normal(o._data.shape)) for o in outputs]
    differentiable_outputs = [
        (o, u) for o, u in zip(outputs, cotangents, strict=True) if o._requires_grad
    ]
    if differentiable_outputs:
        grads = engine.grad(
            [o for o, _ in differentiable_outputs],
            [leaves[i] for i in positions],
            [u for _, u in differentiable_outputs],
            create_graph=False,
            allow_unused=True,
        )
    else:
        grads = [None] * len(positions)
    for slot, i in enumerate(positions):
        direction = rng.standard_normal(inputs[i]._data.shape)
        numeric = _directional_difference(fn, inputs, i, direction, cotangents, eps)
        g = grads[slot]
        analytic = 0.0 if g is None else float(np.sum(g._data * direction))
        if not np.isclose(analytic, numeric, rtol=rtol, atol=atol * max(1.0, abs(numeric))):
            raise GradientCheckError(
                f"order {level} gradient of input {i} disagrees with finite differences: "
                f"reverse mode gives {analytic!r}, central differences give {numeric!r}"
            )
    if order > 1:

        def gradient_fn(*xs):
            live = list(xs)
            outs = [o for o in _flat_outputs(fn(*live)) if o.dtype.is_floating_point]
            pairs = [(o, u) for o, u in zip(outs, cotangents, strict=True) if o._requires_grad]
            if not pairs:
                return []
            wrt = [live[k] for k in _differentiable(live)]
            gs = engine.grad(
                [o for o, _ in pairs],
                wrt,
                [u for _, u in pairs],
                create_graph=True,
                allow_unused=True,
            )
            return [g for g in gs if g is not None]

        _check_order(gradient_fn, inputs, order - 1, eps, rtol, atol, rng, level + 1)


def _directional_difference(fn, inputs, index, direction, cotangents, eps) -> float:
    """u . (f(x + eps v) - f(x - eps v)) / (2 eps), with grad mode off."""

    def evaluate(sign):
        shifted = list(inputs)
        shifted[index] = Tensor._wrap(inputs[index]._data + sign * eps * direction)
        with grad_mode.enable_grad():
            leaves = [
                t.detach().requires_grad_(True)
                if isinstance(t, Tensor) and t.dtype.is_floating_point
                else t
                for t in shifted
            ]
            outs = [o for o in _flat_outputs(fn(*leaves)) if o.dtype.is_floating_point]
        return sum(float(np.sum(o._data * u._data)) for o, u in zip(outs, cotangents, strict=True))

    return (evaluate(+1) - evaluate(-1)) / (2 * eps)


# ------------------------------------------------------------------ gradcheck, gradgradcheck
class GradcheckError(RuntimeError):
    """Error raised by :func:`gradcheck` and :func:`gradgradcheck`."""


def gradcheck(
    func: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Tensor | Sequence,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """torch.autograd.gradcheck: the Jacobian of ``func`` from backward against central finite
    differences, for every input that requires grad (float64 inputs recommended).

    Each pair (output i, input j) must satisfy ``|analytical - numerical| <= atol + rtol *
    |numerical|`` elementwise. Returns True, or raises ``GradcheckError`` (returns False when
    ``raise_exception=False``). Backward is run twice and must agree within ``nondet_tol``; zero
    output gradients must give zero input gradients. ``check_grad_dtypes`` and ``masked`` change
    nothing here: the engine always returns gradients of the input's dtype and symgrad has no
    sparse tensors.

    >>> import symgrad
    >>> x = symgrad.tensor([0.5, -1.0], dtype=symgrad.float64, requires_grad=True)
    >>> symgrad.autograd.gradcheck(symgrad.sin, (x,))
    True
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError(
            "Expected at least one of check_forward_ad or check_backward_ad to be True"
        )
    if check_batched_grad and not check_backward_ad:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_backward_ad to be True"
        )
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError(
            "Setting check_batched_forward_grad=True requires check_forward_ad to be True"
        )
    _refuse_unsupported(
        check_forward_ad=check_forward_ad,
        check_batched_grad=check_batched_grad,
        check_batched_forward_grad=check_batched_forward_grad,
    )
    try:
        return _gradcheck(
            func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, fast_mode
        )
    except GradcheckError:
        if raise_exception:
            raise
        return False


def gradgradcheck(
    func: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Tensor | Sequence,
    grad_outputs: Tensor | Sequence | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """torch.autograd.gradgradcheck: ``gradcheck`` of the function ``(inputs, grad_outputs) ->
    autograd.grad(func(inputs), inputs, grad_outputs, create_graph=True)``, i.e. of the
    second derivatives. Random ``grad_outputs`` in [-1, 1) are drawn from symgrad's generator
    (``symgrad.manual_seed``) unless given; given ones are differentiated if they require grad.

    >>> import symgrad
    >>> x = symgrad.tensor([0.5, -1.0], dtype=symgrad.float64, requires_grad=True)
    >>> symgrad.autograd.gradgradcheck(symgrad.tanh, (x,))
    True
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError(
            "Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True"
        )
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_undefined_grad=True requires check_rev_over_rev to be True"
        )
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_rev_over_rev to be True"
        )
    _refuse_unsupported(
        check_fwd_over_rev=check_fwd_over_rev, check_batched_grad=check_batched_grad
    )
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = tuple(
            _random_grad_output(o, gen_non_contig_grad_outputs)
            for o in _differentiable_outputs(func(*inputs))
        )
    else:
        grad_outputs = _as_tuple(grad_outputs)
    num_inputs = len(inputs)
    diff_inputs = [i for i, x in enumerate(inputs) if _requires_grad(x)]

    def gradient_function(*args):
        outputs = _differentiable_outputs(func(*args[:num_inputs]))
        wrt = tuple(args[i] for i in diff_inputs)
        grads = engine.grad(outputs, wrt, args[num_inputs:], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        gradient_function,
        inputs + grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes,
        fast_mode=fast_mode,
        masked=masked,
    )


def _refuse_unsupported(**flags: bool) -> None:
    for name, value in flags.items():
        if value:
            raise NotImplementedError(
                f"symgrad's gradcheck does not support {name}=True: symgrad has neither "
                "forward-mode AD nor vmap"
            )


def _as_tuple(value) -> tuple:
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        return tuple(value)
    return (value,)


def _requires_grad(value) -> bool:
    return isinstance(value, Tensor) and value.requires_grad


def _differentiable_outputs(result) -> tuple[Tensor, ...]:
    return tuple(o for o in _as_tuple(result) if _requires_grad(o))


def _random_grad_output(output: Tensor, noncontiguous: bool) -> Tensor:
    dtype = output.dtype.numpy if output.dtype.is_floating_point else np.float64
    values = default_generator().uniform(-1.0, 1.0, size=tuple(output.shape)).astype(dtype)
    if noncontiguous:
        # every other element of a twice-as-long buffer: same values, non-unit strides
        buffer = np.empty(values.shape + (2,), dtype=dtype)
        buffer[..., 0] = values
        values = buffer[..., 0]
    return Tensor._wrap(values).requires_grad_(True)


def _check_inputs(inputs: tuple) -> list[int]:
    """Positions of the inputs to differentiate (those that require grad), with torch's
    warning for non-float64 ones and its refusal of overlapping memory."""
    positions = []
    for i, x in enumerate(inputs):
        if not _requires_grad(x):
            continue
        if x.dtype.name != "float64":
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point "
                "or complex. This check will likely fail if all the inputs are not of double "
                "precision floating point or complex. ",
                stacklevel=4,
            )
        if not all(st > 0 or n <= 1 for st, n in zip(x.stride(), x.shape, strict=True)):
            raise RuntimeError(
                f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs "
                "that are non-overlapping to be able to compute the numerical gradients "
                "correctly. You should call .contiguous on the input before passing it to "
                "gradcheck."
            )
        positions.append(i)
    if not positions:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of "
            "them have requires_grad=True."
        )
    return positions


def _gradcheck(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, fast_mode):
    inputs = _as_tuple(inputs)
    positions = _check_inputs(inputs)
    func_out = _as_tuple(func(*inputs))
    float_outputs = [
        k for k, o in enumerate(func_out) if isinstance(o, Tensor) and o.is_floating_point()
    ]
    differentiable = [k for k in float_outputs if func_out[k].requires_grad]
    outputs = [func_out[k] for k in differentiable]
    if not outputs:
        _check_no_differentiable_outputs(func, inputs, positions, float_outputs, eps)
        return True
    if fast_mode:
        _fast_check(func, inputs, positions, differentiable, outputs, eps, atol, rtol, nondet_tol)
    else:
        _slow_check(func, inputs, positions, differentiable, outputs, eps, atol, rtol, nondet_tol)
    _check_backward_multiplies_by_grad_output(outputs, [inputs[j] for j in positions])
    if check_undefined_grad:
        _check_undefined_grad_outputs(func, inputs, positions)
    return True


def _evaluate(func, inputs, output_positions) -> list[np.ndarray]:
    """Copies of the chosen outputs (an output may alias an input that is being perturbed)."""
    result = _as_tuple(func(*inputs))
    return [np.array(result[k]._data, copy=True) for k in output_positions]


def _numerical_jacobians(func, inputs, position, output_positions, eps) -> list[np.ndarray]:
    """J[input element, output element] of each chosen output, by perturbing one element of
    ``inputs[position]`` at a time in place (restored afterwards), as torch does."""
    data = inputs[position]._data
    base = _evaluate(func, inputs, output_positions)
    jacobians = [np.zeros((data.size, b.size), dtype=b.dtype) for b in base]
    for row, index in enumerate(np.ndindex(data.shape)):
        original = data[index].copy()
        data[index] = original - eps
        below = _evaluate(func, inputs, output_positions)
        data[index] = original + eps
        above = _evaluate(func, inputs, output_positions)
        data[index] = original
        for jacobian, a, b in zip(jacobians, below, above, strict=True):
            if a.shape != b.shape:
                raise AssertionError(
                    "Expected `func` to return outputs with the same shape when inputs are "
                    f"perturbed on index {index} by {eps}, but got: shapes {a.shape} and "
                    f"{b.shape}."
                )
            jacobian[row] = ((b - a) / (2 * eps)).reshape(-1)
    return jacobians


def _analytical_jacobians(output: Tensor, diff_inputs: list[Tensor]) -> list[np.ndarray]:
    """J[input element, output element] for each input: one backward per output element."""
    jacobians = [np.zeros((x.numel(), output.numel()), dtype=x._data.dtype) for x in diff_inputs]
    for j in range(output.numel()):
        one_hot = np.zeros(output.numel(), dtype=output._data.dtype)
        one_hot[j] = 1.0
        grads = engine.grad(
            output,
            diff_inputs,
            Tensor._wrap(one_hot.reshape(output._data.shape)),
            retain_graph=True,
            allow_unused=True,
        )
        for jacobian, g in zip(jacobians, grads, strict=True):
            if g is not None:
                jacobian[:, j] = g._data.reshape(-1)
    return jacobians


def _reentrant_jacobians(output, diff_inputs, nondet_tol) -> list[np.ndarray]:
    """Run backward twice: the two Jacobians must agree within ``nondet_tol``."""
    first = _analytical_jacobians(output, diff_inputs)
    second = _analytical_jacobians(output, diff_inputs)
    for a, b in zip(first, second, strict=True):
        if a.size and np.max(np.abs(a - b)) > nondet_tol:
            raise GradcheckError(
                "Backward is not reentrant, i.e., running backward with same input and "
                "grad_output multiple times gives different values, although analytical "
                "gradient matches numerical gradient."
                f"The tolerance for nondeterminism was {nondet_tol}."
            )
    return first


def _mismatch_message(analytical, numerical, output_index, input_index) -> str:
    return (
        f"Jacobian mismatch for output {output_index:d} with respect to input "
        f"{input_index:d},\nnumerical:{Tensor._wrap(numerical)}\n"
        f"analytical:{Tensor._wrap(analytical)}\n"
    )


def _slow_check(func, inputs, positions, output_positions, outputs, eps, atol, rtol, nondet_tol):
    numerical = [
        _numerical_jacobians(func, inputs, position, output_positions, eps)
        for position in positions
    ]
    diff_inputs = [inputs[j] for j in positions]
    for i, output in enumerate(outputs):
        analytical = _reentrant_jacobians(output, diff_inputs, nondet_tol)
        for j, a in enumerate(analytical):
            n = numerical[j][i]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(_mismatch_message(a, n, i, j))


def _fast_check(func, inputs, positions, output_positions, outputs, eps, atol, rtol, nondet_tol):
    """torch's fast mode: compare ``v . (J u)`` (finite differences along u) with ``(v^T J) . u``
    (one backward) for random non-negative unit vectors u, v; on failure recompute slowly."""
    rng = np.random.default_rng(0)
    diff_inputs = [inputs[j] for j in positions]
    all_u = [_unit_vector(rng, x) for x in diff_inputs]
    all_v = [_unit_vector(rng, o) for o in outputs]
    for j, (position, u) in enumerate(zip(positions, all_u, strict=True)):
        data = inputs[position]._data
        original = data.copy()
        step = (eps * u).reshape(data.shape).astype(data.dtype)
        data[...] = original - step
        below = _evaluate(func, inputs, output_positions)
        data[...] = original + step
        above = _evaluate(func, inputs, output_positions)
        data[...] = original
        for i, (output, v) in enumerate(zip(outputs, all_v, strict=True)):
            numerical = np.dot(v, ((above[i] - below[i]) / (2 * eps)).reshape(-1))
            analytical = _fast_analytical(output, diff_inputs, v, all_u, nondet_tol)[j]
            tolerance = atol * float(u.sum()) * float(v.sum())
            if not np.allclose(analytical, numerical, rtol=rtol, atol=tolerance):
                slow_numerical = _numerical_jacobians(
                    func, inputs, position, [output_positions[i]], eps
                )[0]
                slow_analytical = _analytical_jacobians(output, [diff_inputs[j]])[0]
                raise GradcheckError(
                    _mismatch_message(np.asarray(analytical), np.asarray(numerical), i, j)
                    + _slow_mode_report(slow_numerical, slow_analytical, rtol, atol)
                )


def _unit_vector(rng, tensor: Tensor) -> np.ndarray:
    vector = rng.random(tensor.numel()).astype(tensor._data.dtype)
    return vector / np.linalg.norm(vector) if vector.size else vector


def _fast_analytical(output, diff_inputs, v, all_u, nondet_tol) -> list[float]:
    """``(v^T J) . u`` for each input, computed twice to check reentrancy."""
    results = []
    for _ in range(2):
        grads = engine.grad(
            output,
            diff_inputs,
            Tensor._wrap(v.reshape(output._data.shape)),
            retain_graph=True,
            allow_unused=True,
        )
        results.append(
            [
                0.0 if g is None else float(np.dot(g._data.reshape(-1), u))
                for g, u in zip(grads, all_u, strict=True)
            ]
        )
    if any(abs(a - b) > nondet_tol for a, b in zip(*results, strict=True)):
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with same input and grad_output "
            "multiple times gives different values, although analytical gradient matches "
            f"numerical gradient.The tolerance for nondeterminism was {nondet_tol}."
        )
    return results[0]


def _slow_mode_report(numerical, analytical, rtol, atol) -> str:
    text = (
        "\nThe above quantities relating the numerical and analytical jacobians are computed \n"
        "in fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more background "
        "\nabout fast mode. Below, we recompute numerical and analytical jacobians in slow "
        "mode:\n\n"
        f"Numerical:\n {Tensor._wrap(numerical)}\n"
        f"Analytical:\n{Tensor._wrap(analytical)}\n\n"
        "The max per-element difference (slow mode) is: "
        f"{Tensor._wrap(np.max(np.abs(numerical - analytical)))}.\n"
    )
    if np.allclose(analytical, numerical, rtol=rtol, atol=atol):
        text += (
            "Fast gradcheck failed but element-wise differences are small. This means that the\n"
            "test might've passed in slow_mode!"
        )
    return text


def _check_no_differentiable_outputs(func, inputs, positions, float_outputs, eps) -> None:
    """Without differentiable outputs the numerical gradient must be zero."""
    for position in positions:
        for jacobian in _numerical_jacobians(func, inputs, position, float_outputs, eps):
            if np.any(jacobian != 0):
                raise GradcheckError("Numerical gradient for function expected to be zero")


def _check_backward_multiplies_by_grad_output(outputs, diff_inputs) -> None:
    zeros = [Tensor._wrap(np.zeros_like(o._data)) for o in outputs]
    grads = engine.grad(outputs, diff_inputs, zeros, retain_graph=True, allow_unused=True)
    for g in grads:
        if g is not None and np.any(g._data != 0):
            raise GradcheckError("backward not multiplied by grad_output")


def _check_undefined_grad_outputs(func, inputs, positions) -> None:
    """Backward must accept undefined (None) output gradients and treat them as zeros: all
    outputs undefined at once, then, with several outputs, one at a time (the rest zero)."""
    diff_inputs = [inputs[j] for j in positions]
    outputs = _differentiable_outputs(func(*inputs))
    cases = [[None] * len(outputs)]
    if len(outputs) > 1:
        for k in range(len(outputs)):
            grads = [Tensor._wrap(np.zeros_like(o._data)) for o in outputs]
            grads[k] = None
            cases.append(grads)
    for grads in cases:
        try:
            results = engine.run(outputs, grads, True, False, inputs=diff_inputs, accumulate=False)
        except (RuntimeError, TypeError) as error:
            raise GradcheckError(
                "Expected backward function to handle undefined output grads. Please look at "
                '"Notes about undefined output gradients" in "tools/autograd/derivatives.yaml"'
            ) from error
        for g in results:
            if g is not None and np.any(g._data != 0):
                raise GradcheckError(
                    "Expected all input grads to be undefined or zero when all output grads are "
                    'undefined or zero. Please look at "Notes about undefined output gradients" '
                    'in "tools/autograd/derivatives.yaml"'
                )
