"""The op library: every op is one OpDef in one of these modules (see registry.py)."""

from . import activation, binary, elementwise, indexing, inplace, join, linalg, loss, reduce, shape  # noqa: F401  (registers ops)
from . import constant
from .registry import FUNCTIONS, REGISTRY, OpDef, apply

__all__ = ["FUNCTIONS", "REGISTRY", "OpDef", "apply"]
