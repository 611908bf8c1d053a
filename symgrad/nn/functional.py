"""torch.nn.functional: activations, normalization and losses, under torch's names.

Every function is defined with its op (``symgrad/ops/activation.py``, ``ops/loss.py``,
``ops/shape.py``, ``ops/embedding.py``, ``ops/normalization.py``); this module gathers them,
so ``import symgrad.nn.functional as F`` reads like PyTorch code, and holds the compositions
that have no op of their own (``bilinear``).
"""

from ..ops.activation import (
    dropout,
    elu,
    gelu,
    hardtanh,
    layer_norm,
    leaky_relu,
    linear,
    log_softmax,
    logsigmoid,
    mish,
    normalize,
    one_hot,
    relu,
    relu6,
    silu,
    softmax,
    softplus,
)
from ..ops.convolution import (
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    fold,
    max_pool2d,
    unfold,
)
from ..ops.elementwise import sigmoid, tanh
from ..ops.embedding import embedding
from ..ops.linalg import einsum
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..ops.normalization import batch_norm
from ..ops.shape import pad
from ..tensor import Tensor

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "fold",
    "gelu",
    "hardtanh",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool2d",
    "mish",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "relu",
    "relu6",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
    "unfold",
]


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = input1 @ weight[k] @ input2 + bias[k], over any leading batch dims."""
    output = einsum("...i,kij,...j->...k", input1, weight, input2)
    return output if bias is None else output + bias
