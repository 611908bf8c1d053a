"""The numpy runtime: kernels of the ops that have no one-line numpy spelling.

Each function here is the op's one implementation: its OpDef's ``eval`` (eager mode runs it)
and what the numpy backend's generated code calls as ``rt.<name>(...)``; ``check_*``
functions raise eager mode's errors for argument values an op cannot take, before the op,
in both. It sits with the ops (below the compiler) because eager mode runs it. Only numpy
(and math) are used, so that ``export()`` can copy the kernels a module calls into it and
the exported module needs only numpy. Sections follow the op modules that use them.
"""

from __future__ import annotations

import math

import numpy as np

# ---------------------------------------------------------------- binary


def addcdiv(input, tensor1, tensor2, *, value):
    return input + np.asarray(input).dtype.type(value) * tensor1 / tensor2


def addcmul(input, tensor1, tensor2, *, value):
    # value is cast to the tensors' dtype first, as torch does (0.5 is 0 for integers).
    return input + np.asarray(input).dtype.type(value) * tensor1 * tensor2


def lerp(input, end, weight):
    # torch's two-sided formula: exact at weight 0 and at weight 1.
    diff = end - input
    return np.where(np.abs(weight) < 0.5, input + weight * diff, end - diff * (1 - weight))


# ----------------------------------------------------------- elementwise


def sigmoid(x):
    # torch's own formula: exp(-x) overflows to inf for very negative x, giving exactly 0.
    return 1 / (1 + np.exp(-x))


def erf(x):
    # math.erf is exact to the last bit; numpy has no erf of its own.
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=x.dtype)


def erfc(x):
    return np.asarray(np.frompyfunc(math.erfc, 1, 1)(x), dtype=x.dtype)


def rounded_div(x, y, *, rounding_mode):
    integral = np.asarray(x).dtype.kind in "iub"
    if rounding_mode == "floor":
        return np.floor_divide(x, y)
    if integral:
        # x - fmod(x, y) is an exact multiple of y: no float rounding for large integers.
        return (x - np.fmod(x, y)) // y
    return np.trunc(x / y)


def check_integer_divisor(x, y, **_attrs):
    """torch's error for an integer division by zero, where numpy would warn and give 0."""
    if np.result_type(x, y).kind in "iub" and np.any(np.asarray(y) == 0):
        raise RuntimeError("ZeroDivisionError")


# ------------------------------------------------------------ activation


def softmax(x, *, dim):
    shifted = x - np.max(x, axis=dim, keepdims=True, initial=-np.inf)
    e = np.exp(shifted)
    return e / np.sum(e, axis=dim, keepdims=True)


def log_softmax(x, *, dim):
    shifted = x - np.max(x, axis=dim, keepdims=True, initial=-np.inf)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def logsigmoid(x):
    return -(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))


def softplus(x, *, beta, threshold):
    z = x * beta
    smooth = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta
    return np.where(z > threshold, x, smooth)


def elu(x, *, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def leaky_relu(x, *, negative_slope):
    return np.where(x > 0, x, x * negative_slope)


def gelu(x, *, approximate):
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1 + np.tanh(inner))
    erf_values = np.frompyfunc(math.erf, 1, 1)(x / math.sqrt(2))
    return 0.5 * x * (1 + np.asarray(erf_values, dtype=x.dtype))


def silu(x):
    z = np.exp(-np.abs(x))
    return x * np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def mish(x):
    return x * np.tanh(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))


def one_hot(x, *, num_classes):
    return (x[..., None] == np.arange(num_classes)).astype(np.int64)


def layer_norm(x, *params, dims, eps, has_weight, has_bias):
    mean = np.mean(x, axis=dims, keepdims=True)
    centered = x - mean
    variance = np.mean(centered * centered, axis=dims, keepdims=True)
    out = centered / np.sqrt(variance + eps)
    if has_weight:
        out = out * params[0]
    if has_bias:
        out = out + params[-1]
    return out


# --------------------------------------------------------- normalization


def batch_norm_eval(x, mean, var, *params, eps, has_weight, has_bias):
    out = (x - mean) / np.sqrt(var + eps)
    if has_weight:
        out = out * params[0]
    if has_bias:
        out = out + params[-1]
    return out


# ---------------------------------------------------------------- reduce


def logsumexp(x, *, dim, keepdim):
    # Subtract the largest finite value so exp never overflows; a slice of -inf gives
    # log(0) = -inf and a slice holding +inf gives inf, as in torch.
    peak = np.max(x, axis=dim, keepdims=True, initial=-np.inf)
    peak = np.where(np.isfinite(peak), peak, 0)
    out = np.log(np.sum(np.exp(x - peak), axis=dim, keepdims=True)) + peak
    return out if keepdim else np.squeeze(out, axis=dim)


def vector_norm(x, *, ord, dim, keepdim, dtype=None):  # noqa: A002 - torch's name
    magnitude = np.abs(x)
    if ord == "inf":
        return np.max(magnitude, axis=dim, keepdims=keepdim)
    if ord == "-inf":
        return np.min(magnitude, axis=dim, keepdims=keepdim)
    if ord == 0:
        return np.sum(magnitude != 0, axis=dim, keepdims=keepdim).astype(x.dtype)
    if ord == 1:
        return np.sum(magnitude, axis=dim, keepdims=keepdim)
    if ord == 2:
        return np.sqrt(np.sum(magnitude * magnitude, axis=dim, keepdims=keepdim))
    return np.sum(magnitude**ord, axis=dim, keepdims=keepdim) ** (1.0 / ord)


def cumsum(x, *, dim, reverse, dtype=None):
    if x.ndim == 0:
        return x.copy()
    if reverse:
        return np.flip(np.cumsum(np.flip(x, dim), axis=dim), dim)
    return np.cumsum(x, axis=dim)


def cumprod(x, *, dim, reverse, dtype=None):
    if x.ndim == 0:
        return x.copy()
    if reverse:
        return np.flip(np.cumprod(np.flip(x, dim), axis=dim), dim)
    return np.cumprod(x, axis=dim)


def linear_scan(b, a, *, dim, reverse):
    h = np.array(np.moveaxis(b, dim, 0), dtype=np.result_type(b, a))
    a = np.moveaxis(a, dim, 0)
    if reverse:
        for i in range(h.shape[0] - 2, -1, -1):
            h[i] += a[i] * h[i + 1]
    else:
        for i in range(1, h.shape[0]):
            h[i] += a[i] * h[i - 1]
    return np.moveaxis(h, 0, dim)


def shift(x, *, dim, offset, fill):
    out = np.full_like(x, fill)
    n = x.shape[dim]
    if -n < offset < n:
        source = [slice(None)] * x.ndim
        target = [slice(None)] * x.ndim
        source[dim] = slice(0, n - offset) if offset >= 0 else slice(-offset, n)
        target[dim] = slice(offset, n) if offset >= 0 else slice(0, n + offset)
        out[tuple(target)] = x[tuple(source)]
    return out


# ------------------------------------------------------------------ loss


def mse_loss(x, y, *, reduction):
    loss = np.square(x - y)
    if reduction == "mean":
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    return loss


def huber_loss(x, y, *, reduction, delta):
    difference = np.abs(x - y)
    loss = np.where(
        difference < delta, 0.5 * difference * difference, delta * (difference - 0.5 * delta)
    )
    loss = loss.astype(difference.dtype)
    if reduction == "mean":
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    return loss


def smooth_l1_loss(x, y, *, reduction, beta):
    difference = np.abs(x - y)
    loss = np.where(
        difference < beta, 0.5 * difference * difference / beta, difference - 0.5 * beta
    )
    loss = loss.astype(difference.dtype)
    if reduction == "mean":
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    return loss


def binary_cross_entropy(x, y, weight, *, reduction):
    # torch clamps each log at -100, so probabilities of exactly 0 or 1 give a finite loss.
    log_x = np.maximum(np.log(x), -100)
    log_rest = np.maximum(np.log1p(-x), -100)
    loss = (weight * ((y - 1) * log_rest - y * log_x)).astype(x.dtype)
    if reduction == "mean":
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    return loss


def check_probabilities(x, y, weight, *, reduction):
    if not np.all((x >= 0) & (x <= 1)):
        raise RuntimeError("all elements of input should be between 0 and 1")


def binary_cross_entropy_with_logits(x, y, weight, pos_weight, *, reduction):
    # log(1 + exp(-|x|)): exp of a non-positive number only, so nothing overflows.
    log_term = np.log1p(np.exp(-np.abs(x)))
    # Unit weights (the default, passed as numbers) cost no passes over the data.
    if not isinstance(pos_weight, np.ndarray) and pos_weight == 1:
        loss = np.maximum(x, 0) - x * y + log_term
    else:
        softplus_neg = np.maximum(-x, 0) + log_term  # log(1 + exp(-x))
        loss = x - x * y + (1 + (pos_weight - 1) * y) * softplus_neg
    if isinstance(weight, np.ndarray) or weight != 1:
        loss = weight * loss
    loss = loss.astype(x.dtype, copy=False)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def nll_loss(x, target, weight, *, reduction, ignore_index):
    class_dim = 0 if x.ndim == 1 else 1
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    if x.ndim == 2:  # a gather by row: several times faster than take_along_axis
        picked = x[np.arange(x.shape[0]), safe]
    else:
        picked = np.take_along_axis(x, np.expand_dims(safe, class_dim), axis=class_dim)
        picked = np.squeeze(picked, axis=class_dim)
    if np.ndim(weight) == 0 and weight == 1:  # the weight left out: no gather, no product
        weights = valid.astype(x.dtype)
        losses = np.where(valid, -picked, 0).astype(x.dtype)
    else:
        class_weights = np.broadcast_to(weight, (x.shape[class_dim],))
        weights = np.where(valid, class_weights[safe], 0).astype(x.dtype)
        losses = np.where(valid, -weights * picked, 0).astype(x.dtype)
    if reduction == "mean":
        return losses.sum() / weights.sum()
    if reduction == "sum":
        return losses.sum()
    return losses


def check_targets(x, target, weight, *, reduction, ignore_index):
    """torch's error for a class index outside [0, classes) that is not ignore_index."""
    classes = x.shape[0 if x.ndim == 1 else 1]
    counted = target[target != ignore_index]
    bad = counted[(counted < 0) | (counted >= classes)]
    if bad.size:
        raise IndexError(f"Target {bad[0]} is out of bounds.")


# ------------------------------------------------------------------ join


def cat(*arrays, dim):
    return np.concatenate(arrays, axis=dim)


def stack(*arrays, dim):
    return np.stack(arrays, axis=dim)


# ----------------------------------------------------------------- shape


def constant_pad(x, *, pad, value):
    # pad lists (before, after) pairs from the last dim backwards; negative entries crop.
    crop = [slice(None)] * x.ndim
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        d = x.ndim - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        crop[d] = slice(max(-before, 0), x.shape[d] - max(-after, 0))
        widths[d] = (max(before, 0), max(after, 0))
    return np.pad(x[tuple(crop)], widths, constant_values=value)


def diag_embed(x, *, shape, offset, dim1, dim2):
    out = np.zeros(shape, dtype=x.dtype)
    matrices = np.moveaxis(out, (dim1, dim2), (-2, -1))
    matrices = matrices[..., :, offset:] if offset >= 0 else matrices[..., -offset:, :]
    n = min(matrices.shape[-2], matrices.shape[-1])
    np.einsum("...ii->...i", matrices[..., :n, :n])[...] = x
    return out


def squeeze(x, *, dim):
    dims = range(x.ndim) if dim is None else (dim,) if isinstance(dim, int) else dim
    return np.squeeze(x, axis=tuple(d for d in dims if d < x.ndim and x.shape[d] == 1))


# ---------------------------------------------------------------- linalg


def einsum(*operands, subscripts, output):
    return np.einsum(",".join(subscripts) + "->" + output, *operands)


def solve(A, B, *, left, vector):
    if vector:
        B = B[..., None]
    if left:
        X = np.linalg.solve(A, B)
    else:
        X = np.swapaxes(np.linalg.solve(np.swapaxes(A, -1, -2), np.swapaxes(B, -1, -2)), -1, -2)
    return X[..., 0] if vector else X


# ----------------------------------------------------------- convolution


def unfold(x, *, kernel_size, dilation, padding, stride, pad_value):
    n, c = x.shape[:2]
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = np.lib.stride_tricks.sliding_window_view(x, span, axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw]  # (N, C, out_h, out_w, kh, kw)
    out_h, out_w = windows.shape[2:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, out_h * out_w)


def fold(cols, *, output_size, kernel_size, dilation, padding, stride):
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    height, width = output_size
    out_h = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    patches = cols.reshape(n, c, kh, kw, out_h, out_w)
    image = np.zeros((n, c, height + 2 * ph, width + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (out_h - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (out_w - 1) + 1, sw)
            image[:, :, rows, columns] += patches[:, :, i, j]
    return image[:, :, ph : ph + height, pw : pw + width]


# ------------------------------------------------------------- embedding


def check_embedding_indices(weight, indices, *, padding_idx):
    """torch's error for an index outside the table, eagerly and as a guard in compiled code."""
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise IndexError("index out of range in self")


# -------------------------------------------------------------- indexing


def check_gather_index(x, index, *, dim):
    """torch's error for an index outside [0, size) of ``dim``."""
    size = x.shape[dim] if x.ndim else 1
    outside = index[(index < 0) | (index >= size)]
    if outside.size:
        raise RuntimeError(
            f"index {outside.flat[0]} is out of bounds for dimension {dim} with size {size}"
        )


def gather(x, index, *, dim):
    if x.ndim == 0:
        return x.copy()
    # A 0-d index (of a 1-D input) has no positions of its own.
    positions = list(np.indices(index.shape, sparse=True)) or [index]
    positions[dim] = index
    return x[tuple(positions)]


def gather_backward(g, index, *, shape, dim):
    out = np.zeros(shape, dtype=g.dtype)
    if not shape:
        return out + g
    positions = list(np.indices(index.shape, sparse=True)) or [index]
    positions[dim] = index
    np.add.at(out, tuple(positions), g)
    return out


def scatter(x, index, src, *, dim):
    out = np.array(x)  # a copy, and an array even if generated code passes a numpy scalar
    if x.ndim == 0:  # its one element is written
        out[...] = src
        return out
    positions = list(np.indices(index.shape, sparse=True))
    positions[dim] = index
    if np.ndim(src) == 0:
        out[tuple(positions)] = src
    else:
        out[tuple(positions)] = src[tuple(slice(0, n) for n in index.shape)]
    return out


def check_scatter_index(x, index, src, *, dim):
    check_gather_index(x, index, dim=dim)


def scatter_add(x, index, src, *, dim):
    if x.ndim == 0:
        return x + src
    out = np.array(x)  # a copy, and an array even if generated code passes a numpy scalar
    positions = list(np.indices(index.shape, sparse=True))
    positions[dim] = index
    np.add.at(out, tuple(positions), src[tuple(slice(0, n) for n in index.shape)])
    return out


def index(x, *indices, index):
    rest = iter(indices)
    return x[tuple(next(rest) if isinstance(k, str) else k for k in getattr(index, "items", index))]


def check_index_tensors(x, *indices, index):
    """torch's error for an index tensor entry outside its dim (masks are in bounds)."""
    items = getattr(index, "items", index)
    used = sum(0 if k is None or k is Ellipsis or isinstance(k, bool) else 1 for k in items)
    rest = iter(indices)
    dim = label = 0
    for item in items:
        if item is Ellipsis:
            dim += x.ndim - used
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, str):
            values = next(rest)
            if values.dtype != np.bool_:
                size = x.shape[dim]
                outside = values[(values < -size) | (values >= size)]
                if outside.size:
                    raise IndexError(
                        f"index {outside.flat[0]} is out of bounds for dimension {label} with "
                        f"size {size}"
                    )
            label += 1
            dim += 1
        else:
            dim += 1


def index_backward(g, *indices, shape, index):
    rest = iter(indices)
    key = tuple(next(rest) if isinstance(k, str) else k for k in getattr(index, "items", index))
    out = np.zeros(shape, dtype=g.dtype)
    if indices:
        np.add.at(out, key, g)  # repeated indices accumulate
    else:
        out[key] = g
    return out


def index_put(x, value, *indices, index):
    rest = iter(indices)
    key = tuple(next(rest) if isinstance(k, str) else k for k in getattr(index, "items", index))
    out = np.array(x)  # a copy, and an array even if generated code passes a numpy scalar
    out[key] = value
    return out


def index_add(x, index, source, *, dim, alpha):
    if x.ndim == 0:
        return x + (source if alpha == 1 else source * alpha)
    out = np.array(x)  # a copy, and an array even if generated code passes a numpy scalar
    np.add.at(out, (slice(None),) * dim + (index,), source if alpha == 1 else source * alpha)
    return out


def check_index_add_index(x, index, source, *, dim, alpha):
    """torch's error for an index outside ``dim`` (its kernel for vectors words it apart)."""
    if x.ndim > 1:
        check_gather_index(x, index, dim=dim)
    elif np.any((index < 0) | (index >= (x.shape[dim] if x.ndim else 1))):
        raise IndexError("index out of range in self")


def index_select(x, index, *, dim):
    return np.take(x, index, axis=dim) if x.ndim else x.copy()


def check_select_index(x, index, *, dim):
    """torch's error for an index outside [0, size) of ``dim`` (its text differs past dim 0)."""
    size = x.shape[dim] if x.ndim else 1
    outside = index[(index < 0) | (index >= size)]
    if not outside.size:
        return
    if dim == 0:
        raise IndexError("index out of range in self")
    raise RuntimeError(f"INDICES element is out of DATA bounds, id={outside[0]} axis_dim={size}")


def index_select_backward(g, index, *, shape, dim):
    out = np.zeros(shape, dtype=g.dtype)
    if not shape:
        return out + g
    np.add.at(out, (slice(None),) * dim + (index,), g)
    return out


def check_take_index(x, index):
    """torch's error for an index outside the flattened input (negatives count from the end)."""
    outside = index[(index < -x.size) | (index >= x.size)]
    if outside.size:
        raise IndexError(
            f"out of range: tried to access index {outside.flat[0]} on a tensor of {x.size} "
            "elements."
        )


def masked_fill(x, mask, value):
    return np.where(mask, value, x).astype(x.dtype, copy=False)


def setitem(x, value, *, index):
    out = np.array(x)  # a copy, and an array even if generated code passes a numpy scalar
    shape = np.shape(value)
    ones = 0
    while ones < len(shape) and shape[ones] == 1:
        ones += 1
    if ones:  # torch drops a value's leading 1s (numpy 2 refuses a [1] into a 0-d place)
        value = np.reshape(value, shape[ones:])
    out[getattr(index, "items", index)] = value
    return out
