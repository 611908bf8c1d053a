"""symgrad.optim: torch's optimizers (SGD, Adam, AdamW, Adamax, RMSprop, Adagrad, Adadelta)
with their update formulas, param groups and state_dict; ``lr_scheduler`` for the rates.

Each optimizer follows torch's single-tensor implementation operation by operation (the order
of operations decides the rounding), runs under ``no_grad`` and updates parameters in place, so
version counters move and the engine's in-place rules hold. torch's switches between
implementations (``foreach``, ``fused``, ``capturable``, ``differentiable``) are accepted and
change nothing: there is one numpy implementation.

>>> import symgrad
>>> w = symgrad.tensor([1.0, -2.0], requires_grad=True)
>>> optimizer = symgrad.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()
>>> optimizer.step()
>>> w
tensor([ 0.8000, -1.6000], requires_grad=True)
"""

from . import lr_scheduler
from .adam import Adam, Adamax, AdamW
from .adaptive import Adadelta, Adagrad, RMSprop
from .optimizer import Optimizer, required
from .sgd import SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Optimizer",
    "RMSprop",
    "lr_scheduler",
    "required",
]
