"""The op library: every op is one OpDef in one of these modules (see registry.py)."""

from . import elementwise, indexing, inplace, linalg, reduce, shape  # noqa: F401  (registers ops)
from .registry import FUNCTIONS, REGISTRY, OpDef, apply

__all__ = ["FUNCTIONS", "REGISTRY", "OpDef", "apply"]
