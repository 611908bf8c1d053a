"""Convolution and pooling over 2-D images, built on one pair of ops: ``unfold`` (im2col:
every kernel-sized patch as a column) and its adjoint ``fold`` (col2im: columns added back
into the image).

``unfold``'s gradient is ``fold`` and ``fold``'s is ``unfold`` (both are linear), so every
order of derivative exists. Then ``conv2d`` is ``unfold`` and one batched matmul with the
flattened kernels, ``max_pool2d`` and ``avg_pool2d`` are a max and a mean over each column,
and the 1-D forms add a height-1 dim: all of them differentiate through ops that already have
their rules, eagerly and in compiled code.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from . import numpy_runtime as rt
from .join import stack
from .registry import OpDef, apply
from .shape import constant_pad_nd

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "fold",
    "max_pool2d",
    "unfold",
]


def _output_sizes(size, *, kernel_size, dilation, padding, stride):
    return [
        (s + 2 * p - d * (k - 1) - 1) // st + 1
        for s, k, d, p, st in zip(size, kernel_size, dilation, padding, stride, strict=True)
    ]


def _unfold_shape(shape, *, kernel_size, dilation, padding, stride, pad_value):
    geometry = dict(kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride)
    out = _output_sizes(shape[2:], **geometry)
    return (shape[0], shape[1] * math.prod(kernel_size), math.prod(out))


def _unfold_vjp(g, out, x, *, kernel_size, dilation, padding, stride, pad_value):
    geometry = dict(kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride)
    return (apply(FOLD, g, output_size=tuple(x.shape[2:]), **geometry),)


def _fold_vjp(g, out, cols, *, output_size, kernel_size, dilation, padding, stride):
    geometry = dict(kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride)
    return (apply(UNFOLD, g, pad_value=0.0, **geometry),)


UNFOLD = OpDef(
    "unfold",
    rt.unfold,
    vjp=_unfold_vjp,
    shape=_unfold_shape,
    promote="first",
    backward_name="Im2ColBackward0",
)
FOLD = OpDef(
    "fold",
    rt.fold,
    vjp=_fold_vjp,
    shape=lambda shape, *, output_size, kernel_size, **_: (
        shape[0],
        shape[1] // math.prod(kernel_size),
        *output_size,
    ),
    promote="first",
    saves="none",
    backward_name="Col2ImBackward0",
)


def _pair(value, name: str, length: int = 2) -> tuple[int, ...]:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * length
    if len(values) != length or not all(isinstance(v, (int, np.integer)) for v in values):
        raise TypeError(f"{name} must be an int or a tuple of {length} ints, got {value!r}")
    return tuple(int(v) for v in values)


def _geometry(kernel_size, dilation, padding, stride) -> dict:
    return dict(
        kernel_size=_pair(kernel_size, "kernel_size"),
        dilation=_pair(dilation, "dilation"),
        padding=_pair(padding, "padding"),
        stride=_pair(stride, "stride"),
    )


def _check_image(input: Tensor, name: str) -> None:
    if input.ndim != 4:
        raise RuntimeError(
            f"{name}: expected a 4-D (N, C, H, W) input, got {input.ndim}-D input of size "
            f"{list(input.shape)}"
        )


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Every kernel-sized patch of an (N, C, H, W) image as a column: (N, C*kh*kw, L).

    >>> import symgrad
    >>> import symgrad.nn.functional as F
    >>> F.unfold(symgrad.arange(4.0).reshape(1, 1, 2, 2), kernel_size=(1, 2))
    tensor([[[0., 2.],
             [1., 3.]]])
    """
    _check_image(input, "unfold")
    geometry = _geometry(kernel_size, dilation, padding, stride)
    if min(_output_sizes(input.shape[2:], **geometry)) < 1:
        raise RuntimeError(
            f"unfold: the kernel {geometry['kernel_size']} (dilation {geometry['dilation']}) "
            f"does not fit the padded input of size {list(input.shape)}"
        )
    return apply(UNFOLD, input, pad_value=0.0, **geometry)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The adjoint of ``unfold``: columns (N, C*kh*kw, L) summed back into (N, C, H, W)."""
    if input.ndim != 3:
        raise RuntimeError(f"fold: expected a 3-D (N, C*kh*kw, L) input, got {input.ndim}-D")
    geometry = _geometry(kernel_size, dilation, padding, stride)
    output_size = _pair(output_size, "output_size")
    blocks = math.prod(_output_sizes(output_size, **geometry))
    if input.shape[1] % math.prod(geometry["kernel_size"]) or input.shape[2] != blocks:
        raise RuntimeError(
            f"fold: input of size {list(input.shape)} does not hold the blocks of kernel "
            f"{geometry['kernel_size']} over output size {list(output_size)}"
        )
    return apply(FOLD, input, output_size=output_size, **geometry)


def _same_padding(input: Tensor, geometry: dict) -> tuple[Tensor, tuple[int, int]]:
    """torch's padding='same' for stride 1: total d*(k-1) per dim, the odd one on the right."""
    pads, extra = [], []
    for k, d in zip(geometry["kernel_size"], geometry["dilation"], strict=True):
        total = d * (k - 1)
        pads.append(total // 2)
        extra.append(total - 2 * (total // 2))
    if any(extra):
        input = constant_pad_nd(input, (0, extra[1], 0, extra[0]))
    return input, tuple(pads)


def conv2d(input: Tensor, weight: Tensor, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of (N, C, H, W) input (or unbatched (C, H, W)) with
    (O, C/groups, kh, kw) kernels, as torch.nn.functional.conv2d: im2col and one matmul."""
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups)[0]
    _check_image(input, "conv2d")
    if weight.ndim != 4:
        raise RuntimeError(
            f"Expected 4-dimensional weight for 4-dimensional input {list(input.shape)}, but "
            f"got {weight.ndim}-dimensional weight of size {list(weight.shape)} instead"
        )
    out_channels, group_channels, kh, kw = weight.shape
    if input.shape[1] != group_channels * groups or out_channels % groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {group_channels * groups} channels, but got "
            f"{input.shape[1]} channels instead"
        )
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if _pair(stride, "stride") != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            geometry = _geometry((kh, kw), dilation, 0, 1)
            input, padding = _same_padding(input, geometry)
        else:
            raise ValueError(
                f"Invalid padding string '{padding}', should be one of ['valid', 'same']"
            )
    geometry = _geometry((kh, kw), dilation, padding, stride)
    n = input.shape[0]
    out_h, out_w = _output_sizes(input.shape[2:], **geometry)
    if min(out_h, out_w) < 1:
        raise RuntimeError(
            f"Calculated output size: ({out_channels}x{out_h}x{out_w}). Output size is too small"
        )
    cols = apply(UNFOLD, input, pad_value=0.0, **geometry)  # (N, C*kh*kw, L)
    cols = cols.reshape(n, groups, group_channels * kh * kw, out_h * out_w)
    kernels = weight.reshape(groups, out_channels // groups, group_channels * kh * kw)
    out = (kernels @ cols).reshape(n, out_channels, out_h, out_w)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def conv1d(input: Tensor, weight: Tensor, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of (N, C, L) input with (O, C/groups, k) kernels: ``conv2d``
    over a height-1 image."""
    if input.ndim == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups)[0]
    if input.ndim != 3 or weight.ndim != 3:
        raise RuntimeError(
            f"Expected 3-dimensional input and weight for conv1d, but got input of size "
            f"{list(input.shape)} and weight of size {list(weight.shape)}"
        )

    def widen(value, name):
        if isinstance(value, str):
            return value
        return (1 if name == "dilation" or name == "stride" else 0, _pair(value, name, 1)[0])

    out = conv2d(
        input.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        widen(stride, "stride"),
        widen(padding, "padding"),
        widen(dilation, "dilation"),
        groups,
    )
    return out.squeeze(2)


def _pool_geometry(kernel_size, stride, padding, dilation) -> dict:
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else stride
    geometry = _geometry(kernel, dilation, padding, stride)
    for k, p in zip(geometry["kernel_size"], geometry["padding"], strict=True):
        if p > k // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation=1"
            )
    return geometry


def _pooled(input: Tensor, geometry: dict, pad_value: float, reduce) -> Tensor:
    if input.ndim == 3:
        return _pooled(input.unsqueeze(0), geometry, pad_value, reduce)[0]
    _check_image(input, "pool2d")
    n, c = input.shape[:2]
    out_h, out_w = _output_sizes(input.shape[2:], **geometry)
    cols = apply(UNFOLD, input, pad_value=pad_value, **geometry)
    windows = cols.reshape(n, c, math.prod(geometry["kernel_size"]), out_h * out_w)
    return reduce(windows).reshape(n, c, out_h, out_w)


def _unsupported(name: str, **flags) -> None:
    for flag, value in flags.items():
        if value:
            raise NotImplementedError(f"symgrad's {name} does not support {flag}=True")


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """The maximum of each kernel-sized window (padding never wins: it is -inf)."""
    _unsupported("max_pool2d", ceil_mode=ceil_mode, return_indices=return_indices)
    geometry = _pool_geometry(kernel_size, stride, padding, dilation)
    return _pooled(input, geometry, -np.inf, lambda w: w.max(dim=2).values)


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each kernel-sized window; padded zeros count unless
    ``count_include_pad=False``; ``divisor_override`` replaces the divisor."""
    _unsupported("avg_pool2d", ceil_mode=ceil_mode)
    geometry = _pool_geometry(kernel_size, stride, padding, 1)
    sums = _pooled(input, geometry, 0.0, lambda w: w.sum(dim=2))
    if divisor_override is not None:
        return sums / divisor_override
    if count_include_pad or geometry["padding"] == (0, 0):
        return sums / math.prod(geometry["kernel_size"])
    ones = np.ones((1, 1) + tuple(input.shape[-2:]), dtype=np.float64)
    counts = rt.unfold(ones, pad_value=0.0, **geometry).sum(axis=1)
    counts = Tensor._wrap(counts.reshape(_output_sizes(input.shape[-2:], **geometry)))
    return sums / counts.to(input.dtype)


def _adaptive_mean(input: Tensor, dim: int, size: int) -> Tensor:
    """Means over torch's adaptive windows along ``dim``: window i covers
    [floor(i * n / size), ceil((i + 1) * n / size))."""
    n = input.shape[dim]
    if n % size == 0:
        return input.unflatten(dim, (size, n // size)).mean(dim + 1)
    windows = [
        input.narrow(dim, i * n // size, -(-(i + 1) * n // size) - i * n // size).mean(dim)
        for i in range(size)
    ]
    return stack(windows, dim)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed (out_h, out_w) output whatever the input size (an int is
    square; None keeps that dim's size). Rectangle means are separable: rows, then columns."""
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input.shape)}"
        )
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    height, width = (
        input.shape[-2 + k] if size is None else int(size) for k, size in enumerate(sizes)
    )
    out = _adaptive_mean(input, input.ndim - 2, height)
    return _adaptive_mean(out, input.ndim - 1, width)
