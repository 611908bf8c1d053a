"""The op library: every op is one OpDef in one of these modules (see registry.py)."""

# Importing the op modules registers their OpDefs and Tensor methods.
from . import (
    activation,
    binary,
    constant,
    convolution,
    elementwise,
    embedding,
    indexing,
    inplace,
    join,
    linalg,
    loss,
    normalization,
    random,
    reduce,
    scalar,
    shape,
)
from .registry import FUNCTIONS, REGISTRY, OpDef, apply

__all__ = ["FUNCTIONS", "REGISTRY", "OpDef", "apply"]
