"""symgrad.autograd: backward, autograd.grad, custom Functions, gradcheck and grad modes.

The grad-mode flags (``grad_mode``), the profiler (``profiler``) and the tape of backward nodes
that ops record into sit below the ops (``symgrad/grad_mode.py``, ``profiling.py``, ``tape.py``);
this package is the engine that runs the tape and the public names.
"""

from .. import grad_mode
from .. import profiling as profiler
from ..grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from . import functional
from .engine import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .gradcheck import gradcheck, gradgradcheck
from .variable import Variable

__all__ = [
    "Function",
    "FunctionCtx",
    "Variable",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "once_differentiable",
    "set_grad_enabled",
]
