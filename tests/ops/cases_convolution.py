"""Op-table cases for symgrad/ops/convolution.py: unfold/fold and what is built on them."""

import numpy as np
from op_table import Arg, OpCase

from symgrad.ops import convolution as C


def _conv2d_reference(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct cross-correlation with loops over output positions (slow, plainly right)."""
    stride, padding, dilation = (np.broadcast_to(v, 2) for v in (stride, padding, dilation))
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    n, c, height, width = x.shape
    o, cg, kh, kw = w.shape
    out_h = (height - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    out_w = (width - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, out_h, out_w))
    per_group = o // groups
    for k in range(o):
        g = k // per_group
        for i in range(out_h):
            for j in range(out_w):
                top, left = i * stride[0], j * stride[1]
                patch = x[
                    :,
                    g * cg : (g + 1) * cg,
                    top : top + dilation[0] * (kh - 1) + 1 : dilation[0],
                    left : left + dilation[1] * (kw - 1) + 1 : dilation[1],
                ]
                out[:, k, i, j] = np.sum(patch * w[k], axis=(1, 2, 3))
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def _pool_reference(x, k, stride, padding, reduce, pad_value):
    x = np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2), constant_values=pad_value)
    out_h = (x.shape[2] - k) // stride + 1
    out_w = (x.shape[3] - k) // stride + 1
    out = np.zeros(x.shape[:2] + (out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * stride : i * stride + k, j * stride : j * stride + k]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


def _unfold_reference(x, k, padding, stride):
    x = np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2))
    out_h = (x.shape[2] - k[0]) // stride + 1
    out_w = (x.shape[3] - k[1]) // stride + 1
    columns = [
        x[:, :, i * stride : i * stride + k[0], j * stride : j * stride + k[1]].reshape(
            x.shape[0], -1
        )
        for i in range(out_h)
        for j in range(out_w)
    ]
    return np.stack(columns, axis=-1)


def _fold_reference(cols, size, k, padding, stride):
    """fold is the adjoint of unfold: <fold(c), x> = <c, unfold(x)> for every x."""
    n, ck, _ = cols.shape
    channels = ck // (k[0] * k[1])
    out = np.zeros((n, channels) + size)
    for index in np.ndindex(out.shape):
        basis = np.zeros(out.shape)
        basis[index] = 1.0
        out[index] = np.sum(cols * _unfold_reference(basis, k, padding, stride))
    return out


def _adaptive_reference(x, out_h, out_w):
    height, width = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + (out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            rows = slice(i * height // out_h, -(-(i + 1) * height // out_h))
            columns = slice(j * width // out_w, -(-(j + 1) * width // out_w))
            out[..., i, j] = x[..., rows, columns].mean(axis=(-2, -1))
    return out


IMAGE = Arg((2, 4, 5, 6))

CASES = [
    OpCase(
        "unfold",
        lambda x: C.unfold(x, (2, 3), padding=1, stride=2),
        lambda x: _unfold_reference(x, (2, 3), 1, 2),
        [[IMAGE], [Arg((1, 1, 3, 3))]],
        torch_fn=lambda torch, x: torch.nn.functional.unfold(x, (2, 3), padding=1, stride=2),
    ),
    OpCase(
        "fold",
        lambda c: C.fold(c, (4, 5), (2, 3), padding=1, stride=2),
        lambda c: _fold_reference(c, (4, 5), (2, 3), 1, 2),
        [[Arg((2, 12, 9))]],
        torch_fn=lambda torch, c: torch.nn.functional.fold(c, (4, 5), (2, 3), padding=1, stride=2),
    ),
    OpCase(
        "conv2d",
        lambda x, w, b: C.conv2d(x, w, b),
        lambda x, w, b: _conv2d_reference(x, w, b),
        [[IMAGE, Arg((3, 4, 3, 2)), Arg((3,))], [Arg((1, 1, 3, 3)), Arg((2, 1, 3, 3)), Arg((2,))]],
        torch_fn=lambda torch, x, w, b: torch.nn.functional.conv2d(x, w, b),
    ),
    OpCase(
        "conv2d_strided_grouped",
        lambda x, w: C.conv2d(x, w, stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
        lambda x, w: _conv2d_reference(x, w, None, (2, 1), 1, (1, 2), 2),
        [[IMAGE, Arg((4, 2, 2, 2))]],
        torch_fn=lambda torch, x, w: torch.nn.functional.conv2d(
            x, w, stride=(2, 1), padding=1, dilation=(1, 2), groups=2
        ),
    ),
    OpCase(
        "conv1d",
        lambda x, w, b: C.conv1d(x, w, b, stride=2, padding=1),
        lambda x, w, b: _conv2d_reference(x[:, :, None], w[:, :, None], b, (1, 2), (0, 1))[:, :, 0],
        [[Arg((2, 3, 9)), Arg((5, 3, 3)), Arg((5,))]],
        torch_fn=lambda torch, x, w, b: torch.nn.functional.conv1d(x, w, b, stride=2, padding=1),
    ),
    OpCase(
        "max_pool2d",
        lambda x: C.max_pool2d(x, 3, stride=2, padding=1),
        lambda x: _pool_reference(x, 3, 2, 1, np.max, -np.inf),
        [[IMAGE]],
        torch_fn=lambda torch, x: torch.nn.functional.max_pool2d(x, 3, stride=2, padding=1),
    ),
    OpCase(
        "avg_pool2d",
        lambda x: C.avg_pool2d(x, 2),
        lambda x: _pool_reference(x, 2, 2, 0, np.mean, 0.0),
        [[IMAGE]],
        torch_fn=lambda torch, x: torch.nn.functional.avg_pool2d(x, 2),
    ),
    OpCase(
        "adaptive_avg_pool2d",
        lambda x: C.adaptive_avg_pool2d(x, (3, 2)),
        lambda x: _adaptive_reference(x, 3, 2),
        [[Arg((2, 3, 7, 5))], [Arg((3, 6, 4))]],
        torch_fn=lambda torch, x: torch.nn.functional.adaptive_avg_pool2d(x, (3, 2)),
    ),
]
