"""Kernels that ``array_api`` generated code calls for ops without a one-line spelling.

Each kernel takes the array namespace ``xp`` first and uses only the array API standard
(2023.12): functions instead of methods, no ``out=``, no ``take_along_axis`` (a one-hot
selection instead), no ``initial=``. Float constants stay weak Python scalars, so the
arrays' dtype decides. ``export()`` copies this module's source into an exported module, so
it imports nothing but the standard library and ``array_api_compat``.

The guards (``check_*``) raise torch's error for argument values an op cannot take. Reading
a value forces a lazy array (Dask) to compute, so on lazy arrays they do nothing: the
generated code never computes implicitly.
"""

from __future__ import annotations

import math

from array_api_compat import device as _device
from array_api_compat import is_lazy_array as _is_lazy_array

# ------------------------------------------------------------------------------ helpers


def _scalar_or_array(xp, value, like):
    """``value`` as an array of ``like``'s dtype and device (Python numbers included)."""
    return xp.asarray(value, dtype=like.dtype, device=_device(like))


def _reduce(xp, loss, reduction):
    if reduction == "mean":
        return xp.mean(loss)
    if reduction == "sum":
        return xp.sum(loss)
    return loss


def _max_or_minus_inf(xp, x, axis):
    """``max(x, axis, keepdims=True)``, -inf over an empty axis (numpy's ``initial=-inf``)."""
    if any(x.shape[a] == 0 for a in _axes(axis, x.ndim)):
        shape = tuple(1 if k in _axes(axis, x.ndim) else n for k, n in enumerate(x.shape))
        return xp.full(shape, -math.inf, dtype=x.dtype, device=_device(x))
    return xp.max(x, axis=axis, keepdims=True)


def _axes(axis, ndim) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes)


def _softplus_of_minus_abs(xp, x):
    """``log(1 + exp(-|x|))``: exp of a non-positive number only, so nothing overflows."""
    return xp.log1p(xp.exp(-xp.abs(x)))


def _one_hot_mask(xp, index, classes, axis, like):
    """Boolean mask, ``index`` broadcast against ``arange(classes)`` along ``axis``."""
    positions = xp.arange(classes, device=_device(like))
    shape = [1] * like.ndim
    shape[axis] = classes
    return xp.expand_dims(index, axis=axis) == xp.reshape(positions, tuple(shape))


# --------------------------------------------------------------------------- activations


def sigmoid(xp, x):
    # torch's own formula: exp(-x) overflows to inf for very negative x, giving exactly 0.
    return 1 / (1 + xp.exp(-x))


def softplus(xp, x, *, beta, threshold):
    z = x * beta
    smooth = (xp.maximum(z, xp.zeros_like(z)) + _softplus_of_minus_abs(xp, z)) / beta
    return xp.where(z > threshold, x, smooth)


def logsigmoid(xp, x):
    return -(xp.maximum(-x, xp.zeros_like(x)) + _softplus_of_minus_abs(xp, x))


def silu(xp, x):
    z = xp.exp(-xp.abs(x))
    return x * xp.where(x >= 0, 1 / (1 + z), z / (1 + z))


def elu(xp, x, *, alpha):
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, xp.zeros_like(x))))


def leaky_relu(xp, x, *, negative_slope):
    return xp.where(x > 0, x, x * negative_slope)


def mish(xp, x):
    return x * xp.tanh(xp.maximum(x, xp.zeros_like(x)) + _softplus_of_minus_abs(xp, x))


def gelu_tanh(xp, x):
    inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
    return 0.5 * x * (1 + xp.tanh(inner))


def softmax(xp, x, *, dim):
    e = xp.exp(x - _max_or_minus_inf(xp, x, dim))
    return e / xp.sum(e, axis=dim, keepdims=True)


def log_softmax(xp, x, *, dim):
    shifted = x - _max_or_minus_inf(xp, x, dim)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=dim, keepdims=True))


def logsumexp(xp, x, *, dim, keepdim):
    # Subtract the largest finite value so exp never overflows; a slice of -inf gives
    # log(0) = -inf and a slice holding +inf gives inf, as in torch.
    peak = _max_or_minus_inf(xp, x, dim)
    peak = xp.where(xp.isfinite(peak), peak, xp.zeros_like(peak))
    out = xp.log(xp.sum(xp.exp(x - peak), axis=dim, keepdims=True)) + peak
    return out if keepdim else xp.squeeze(out, axis=_axes(dim, x.ndim))


def layer_norm(xp, x, *params, dims, eps, has_weight, has_bias):
    mean = xp.mean(x, axis=dims, keepdims=True)
    centered = x - mean
    variance = xp.mean(centered * centered, axis=dims, keepdims=True)
    out = centered / xp.sqrt(variance + eps)
    if has_weight:
        out = out * params[0]
    if has_bias:
        out = out + params[-1]
    return out


# --------------------------------------------------------------------------------- losses


def mse_loss(xp, x, y, *, reduction):
    return _reduce(xp, xp.square(x - y), reduction)


def huber_loss(xp, x, y, *, reduction, delta):
    difference = xp.abs(x - y)
    quadratic = 0.5 * difference * difference
    loss = xp.where(difference < delta, quadratic, delta * (difference - 0.5 * delta))
    return _reduce(xp, loss, reduction)


def smooth_l1_loss(xp, x, y, *, reduction, beta):
    difference = xp.abs(x - y)
    quadratic = 0.5 * difference * difference / beta
    loss = xp.where(difference < beta, quadratic, difference - 0.5 * beta)
    return _reduce(xp, loss, reduction)


def binary_cross_entropy(xp, x, y, weight, *, reduction):
    # torch clamps each log at -100, so probabilities of exactly 0 or 1 give a finite loss.
    floor = xp.full_like(x, -100.0)
    log_x = xp.maximum(xp.log(x), floor)
    log_rest = xp.maximum(xp.log1p(-x), floor)
    return _reduce(xp, weight * ((y - 1) * log_rest - y * log_x), reduction)


def binary_cross_entropy_with_logits(xp, x, y, weight, pos_weight, *, reduction):
    zero = xp.zeros_like(x)
    log_term = _softplus_of_minus_abs(xp, x)
    if isinstance(pos_weight, (int, float)) and pos_weight == 1:
        loss = xp.maximum(x, zero) - x * y + log_term
    else:
        softplus_neg = xp.maximum(-x, zero) + log_term  # log(1 + exp(-x))
        loss = x - x * y + (1 + (pos_weight - 1) * y) * softplus_neg
    if not isinstance(weight, (int, float)) or weight != 1:
        loss = weight * loss
    return _reduce(xp, loss, reduction)


def nll_loss(xp, x, target, weight, *, reduction, ignore_index):
    """Picks ``x[i, target[i]]`` with a one-hot mask (the standard has no
    ``take_along_axis``); a mask, not a product, so -inf elsewhere in a row stays out."""
    class_dim = 0 if x.ndim == 1 else 1
    classes = x.shape[class_dim]
    valid = target != ignore_index
    chosen = _one_hot_mask(xp, target, classes, class_dim, x)
    zero = xp.zeros_like(x)
    picked = xp.sum(xp.where(chosen, x, zero), axis=class_dim)
    if isinstance(weight, (int, float)):
        weights = xp.astype(valid, x.dtype) * weight
    else:
        shape = [1] * x.ndim
        shape[class_dim] = classes
        class_weights = xp.reshape(xp.astype(weight, x.dtype), tuple(shape))
        weights = xp.sum(xp.where(chosen, class_weights, zero), axis=class_dim)
        weights = xp.where(valid, weights, xp.zeros_like(weights))
    losses = -weights * picked
    if reduction == "mean":
        return xp.sum(losses) / xp.sum(weights)
    if reduction == "sum":
        return xp.sum(losses)
    return losses


# ------------------------------------------------------------------------- shapes, index


def index_backward(xp, g, *, shape, key):
    """The gradient of ``x[key]`` for a basic key (ints, slices, None, Ellipsis): zeros with
    ``g`` written at ``key`` (a basic key repeats no element, so nothing accumulates)."""
    out = xp.zeros(shape, dtype=g.dtype, device=_device(g))
    key = tuple(k for k in key if k is not None)  # g has a size-1 axis for each None
    region = _shape_at(out, key)
    if 0 not in region:  # (Dask refuses to write an empty region)
        out[key] = xp.reshape(g, region)
    return out


def setitem(xp, x, value, *, key):
    """A copy of ``x`` with ``value`` (an array or a number) written at a basic ``key``."""
    out = xp.asarray(x, copy=True)
    key = tuple(k for k in key if k is not None)  # a new axis in the key: none in ``out``
    region = _shape_at(out, key)
    if 0 in region:
        return out
    if isinstance(value, (int, float)):
        value = xp.full(region, value, dtype=out.dtype, device=_device(out))
    else:
        value = xp.astype(value, out.dtype)
        while value.ndim > len(region) and value.shape[0] == 1:  # torch drops leading 1s
            value = xp.reshape(value, value.shape[1:])
        value = xp.broadcast_to(value, region)
    out[key] = value
    return out


def _shape_at(out, key) -> tuple[int, ...]:
    """The shape of ``out[key]`` for a key of ints, slices and Ellipsis."""
    items = list(key)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at : at + 1] = [slice(None)] * (out.ndim - (len(items) - 1))
    items += [slice(None)] * (out.ndim - len(items))
    return tuple(
        len(range(*item.indices(size)))
        for item, size in zip(items, out.shape, strict=True)
        if isinstance(item, slice)
    )


def one_hot(xp, x, *, num_classes):
    positions = xp.arange(num_classes, device=_device(x))
    return xp.astype(xp.expand_dims(x, axis=-1) == positions, xp.int64)


def cumsum(xp, x, *, dim, reverse):
    if x.ndim == 0:
        return x
    if reverse:
        return xp.flip(xp.cumulative_sum(xp.flip(x, axis=dim), axis=dim), axis=dim)
    return xp.cumulative_sum(x, axis=dim)


def triangle(xp, x, *, diagonal, upper):
    """``triu``/``tril``: keep entries on or above (below) the ``diagonal``-th diagonal."""
    rows, columns = x.shape[-2], x.shape[-1]
    device = _device(x)
    offset = xp.reshape(xp.arange(columns, device=device), (1, columns)) - xp.reshape(
        xp.arange(rows, device=device), (rows, 1)
    )
    keep = offset >= diagonal if upper else offset <= diagonal
    return xp.where(keep, x, xp.zeros_like(x))


def vector_norm(xp, x, *, ord, dim, keepdim):  # noqa: A002 - torch's name
    magnitude = xp.abs(x)
    if ord == "inf":
        return xp.max(magnitude, axis=dim, keepdims=keepdim)
    if ord == "-inf":
        return xp.min(magnitude, axis=dim, keepdims=keepdim)
    if ord == 0:
        return xp.sum(xp.astype(magnitude != 0, x.dtype), axis=dim, keepdims=keepdim)
    if ord == 1:
        return xp.sum(magnitude, axis=dim, keepdims=keepdim)
    if ord == 2:
        return xp.sqrt(xp.sum(magnitude * magnitude, axis=dim, keepdims=keepdim))
    return xp.sum(magnitude**ord, axis=dim, keepdims=keepdim) ** (1.0 / ord)


# --------------------------------------------------------------------------------- guards


def check_integer_divisor(xp, x, y):
    """torch's error for an integer division by zero (eager arrays only)."""
    if _is_lazy_array(y) or isinstance(y, float):
        return
    if isinstance(y, int):
        if y == 0:
            raise RuntimeError("ZeroDivisionError")
        return
    if xp.isdtype(y.dtype, ("integral", "bool")) and bool(xp.any(y == 0)):
        raise RuntimeError("ZeroDivisionError")


def check_targets(xp, x, target, weight, *, reduction, ignore_index):
    """torch's error for a class index outside [0, classes) that is not ignore_index
    (eager arrays only)."""
    if _is_lazy_array(target):
        return
    classes = x.shape[0 if x.ndim == 1 else 1]
    bad = (target != ignore_index) & ((target < 0) | (target >= classes))
    if bool(xp.any(bad)):
        flat = xp.reshape(target, (-1,))
        first = int(xp.argmax(xp.astype(xp.reshape(bad, (-1,)), xp.int8)))
        raise IndexError(f"Target {int(flat[first])} is out of bounds.")


def check_embedding_indices(xp, weight, indices):
    """torch's error for an index outside the table (eager arrays only)."""
    if _is_lazy_array(indices) or 0 in indices.shape:
        return
    if bool(xp.any((indices < 0) | (indices >= weight.shape[0]))):
        raise IndexError("index out of range in self")


def index_select_backward(xp, g, index, *, rows, dim):
    """The gradient of ``take(x, index, axis=dim)``: ``g`` summed into the rows it came
    from, as a one-hot product (the standard has no scatter-add; repeats accumulate)."""
    chosen = xp.astype(
        xp.reshape(index, (-1, 1)) == xp.reshape(xp.arange(rows, device=_device(g)), (1, rows)),
        g.dtype,
    )
    summed = xp.tensordot(chosen, g, axes=([0], [dim]))  # rows first
    if dim == 0:
        return summed
    axes = list(range(1, g.ndim))
    axes.insert(dim, 0)
    return xp.permute_dims(summed, tuple(axes))


def nan_to_num(xp, x, *, nan, posinf, neginf):
    info = xp.finfo(x.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    out = xp.where(xp.isnan(x), _scalar_or_array(xp, nan, x), x)
    out = xp.where(out == math.inf, _scalar_or_array(xp, posinf, x), out)
    return xp.where(out == -math.inf, _scalar_or_array(xp, neginf, x), out)


def check_select_index(xp, x, index, *, dim):
    """torch's error for an index outside [0, size) of ``dim`` (eager arrays only)."""
    if _is_lazy_array(index):
        return
    size = x.shape[dim] if x.ndim else 1
    outside = (index < 0) | (index >= size)
    if not bool(xp.any(outside)):
        return
    if dim == 0:
        raise IndexError("index out of range in self")
    flat = xp.reshape(index, (-1,))
    first = int(flat[int(xp.argmax(xp.astype(xp.reshape(outside, (-1,)), xp.int8)))])
    raise RuntimeError(f"INDICES element is out of DATA bounds, id={first} axis_dim={size}")


def check_probabilities(xp, x):
    """torch's error for a probability outside [0, 1] (eager arrays only)."""
    if not _is_lazy_array(x) and not bool(xp.all((x >= 0) & (x <= 1))):
        raise RuntimeError("all elements of input should be between 0 and 1")


def batch_norm_eval(xp, x, mean, var, *params, eps, has_weight, has_bias):
    out = (x - mean) / xp.sqrt(var + eps)
    if has_weight:
        out = out * params[0]
    if has_bias:
        out = out + params[-1]
    return out


def variance(xp, x, *, dim, correction, keepdim, root):
    """``var`` (``std`` with ``root``) for a fractional ``correction``, which not every
    namespace's own var takes (torch's)."""
    axes = _axes(dim, x.ndim)
    count = math.prod(x.shape[a] for a in axes)
    centered = x - xp.mean(x, axis=axes, keepdims=True)
    out = xp.sum(centered * centered, axis=axes, keepdims=keepdim) / max(count - correction, 0)
    return xp.sqrt(out) if root else out


def take(xp, x, index):
    """``x.flatten()[index]`` in ``index``'s shape (negative indices count from the end)."""
    flat = xp.reshape(x, (-1,))
    size = flat.shape[0]
    positions = xp.reshape(index, (-1,))
    positions = xp.where(positions < 0, positions + size, positions)
    return xp.reshape(xp.take(flat, positions, axis=0), index.shape)


def constant_pad(xp, x, *, pad, value):
    """``pad`` lists (before, after) pairs from the last dim backwards; negative entries crop."""
    crop = [slice(None)] * x.ndim
    for k in range(len(pad) // 2):
        d = x.ndim - 1 - k
        crop[d] = slice(max(-pad[2 * k], 0), x.shape[d] - max(-pad[2 * k + 1], 0))
    out = x[tuple(crop)]
    for k in range(len(pad) // 2):
        d = x.ndim - 1 - k
        before, after = max(pad[2 * k], 0), max(pad[2 * k + 1], 0)
        blocks = []
        for width in (before, after):
            shape = out.shape[:d] + (width,) + out.shape[d + 1 :]
            blocks.append(xp.full(shape, value, dtype=out.dtype, device=_device(out)))
        out = xp.concat([blocks[0], out, blocks[1]], axis=d)
    return out


def shift(xp, x, *, dim, offset, fill):
    """``x`` moved by ``offset`` along ``dim``, the emptied places filled with ``fill``."""
    n = x.shape[dim]
    if not -n < offset < n:
        return xp.full_like(x, fill)
    kept = [slice(None)] * x.ndim
    kept[dim] = slice(0, n - offset) if offset >= 0 else slice(-offset, n)
    gap = x.shape[:dim] + (abs(offset),) + x.shape[dim + 1 :]
    filler = xp.full(gap, fill, dtype=x.dtype, device=_device(x))
    parts = [filler, x[tuple(kept)]] if offset >= 0 else [x[tuple(kept)], filler]
    return xp.concat(parts, axis=dim)


def diagonal(xp, x, *, offset, dim1, dim2):
    """The ``offset`` diagonal of the (``dim1``, ``dim2``) matrices, as a last axis: the sum
    of each row masked to its diagonal element (the standard has no diagonal outside linalg)."""
    dim1, dim2 = dim1 % x.ndim, dim2 % x.ndim
    rest = [d for d in range(x.ndim) if d not in (dim1, dim2)]
    matrices = xp.permute_dims(x, (*rest, dim1, dim2))
    matrices = matrices[..., :, offset:] if offset >= 0 else matrices[..., -offset:, :]
    n = min(matrices.shape[-2], matrices.shape[-1])
    matrices = matrices[..., :n, :n]
    positions = xp.arange(n, device=_device(x))
    eye = xp.reshape(positions, (n, 1)) == xp.reshape(positions, (1, n))
    return xp.sum(xp.where(eye, matrices, xp.zeros_like(matrices)), axis=-1)


def solve(xp, A, B, *, left, vector):
    if vector:
        B = xp.expand_dims(B, axis=-1)
    if left:
        X = xp.linalg.solve(A, B)
    else:
        X = xp.matrix_transpose(xp.linalg.solve(xp.matrix_transpose(A), xp.matrix_transpose(B)))
    return X[..., 0] if vector else X


def linear_scan(xp, b, a, *, dim, reverse):
    """``h[i] = b[i] + a[i] * h[i - 1]`` along ``dim`` (from the end with ``reverse``), one
    step per position: the standard has no scan."""
    n = b.shape[dim]
    dtype = xp.result_type(b, a)

    def at(array, i):
        key = [slice(None)] * array.ndim
        key[dim] = i
        return xp.astype(array[tuple(key)], dtype)

    order = range(n - 1, -1, -1) if reverse else range(n)
    values = {}
    previous = None
    for i in order:
        previous = at(b, i) if previous is None else at(b, i) + at(a, i) * previous
        values[i] = previous
    return xp.stack([values[i] for i in range(n)], axis=dim)


def check_take_index(xp, x, index):
    """torch's error for an index outside the flattened input (eager arrays only)."""
    if _is_lazy_array(index):
        return
    size = math.prod(x.shape)
    outside = (index < -size) | (index >= size)
    if bool(xp.any(outside)):
        flat = xp.reshape(index, (-1,))
        first = int(flat[int(xp.argmax(xp.astype(xp.reshape(outside, (-1,)), xp.int8)))])
        raise IndexError(
            f"out of range: tried to access index {first} on a tensor of {size} elements."
        )
