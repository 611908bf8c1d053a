"""The torch.nn subset symgrad provides: ``functional`` and ``Parameter``."""

from . import functional
from .parameter import Parameter

__all__ = ["Parameter", "functional"]
