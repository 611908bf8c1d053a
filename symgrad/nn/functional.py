"""torch.nn.functional: activations, normalization and losses, under torch's names.

Every function is defined with its op (``symgrad/ops/activation.py``, ``ops/loss.py``,
``ops/shape.py``); this module only gathers them, so ``import symgrad.nn.functional as F``
reads like PyTorch code.
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
from ..ops.elementwise import sigmoid, tanh
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
from ..ops.shape import pad

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "elu",
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
]
