"""Op-table cases for symgrad/ops/normalization.py (F.batch_norm, training and eval)."""

import numpy as np
from op_table import Arg, OpCase

import symgrad
from symgrad.ops.normalization import batch_norm

RUNNING_MEAN = np.array([0.5, -0.25, 1.0])
RUNNING_VAR = np.array([1.5, 0.75, 2.0])


def _per_channel(value, ndim):
    return np.reshape(value, (-1,) + (1,) * (ndim - 2))


def _batch_norm_train(x, w=None, b=None, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    out = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    out = out if w is None else out * _per_channel(w, x.ndim)
    return out if b is None else out + _per_channel(b, x.ndim)


def _batch_norm_eval(x, w, b, eps=1e-5):
    mean = _per_channel(RUNNING_MEAN, x.ndim)
    std = np.sqrt(_per_channel(RUNNING_VAR, x.ndim) + eps)
    return (x - mean) / std * _per_channel(w, x.ndim) + _per_channel(b, x.ndim)


def _running(lib, like):
    return lib.tensor(RUNNING_MEAN).to(like.dtype), lib.tensor(RUNNING_VAR).to(like.dtype)


CASES = [
    OpCase(
        "batch_norm_train",
        lambda x: batch_norm(x, None, None, training=True),
        _batch_norm_train,
        [[Arg((4, 3))], [Arg((2, 3, 5))]],
        torch_fn=lambda torch, x: torch.nn.functional.batch_norm(x, None, None, training=True),
    ),
    OpCase(
        "batch_norm_train_affine",
        lambda x, w, b: batch_norm(x, None, None, w, b, training=True),
        _batch_norm_train,
        [[Arg((5, 3)), Arg((3,)), Arg((3,))], [Arg((2, 3, 4)), Arg((3,)), Arg((3,))]],
        torch_fn=lambda torch, x, w, b: torch.nn.functional.batch_norm(
            x, None, None, w, b, training=True
        ),
    ),
    OpCase(
        "batch_norm_eval",
        lambda x, w, b: batch_norm(x, *_running(symgrad, x), w, b, training=False),
        _batch_norm_eval,
        [[Arg((4, 3)), Arg((3,)), Arg((3,))], [Arg((2, 3, 4)), Arg((3,)), Arg((3,))]],
        torch_fn=lambda torch, x, w, b: torch.nn.functional.batch_norm(
            x, *_running(torch, x), w, b, training=False
        ),
    ),
]
