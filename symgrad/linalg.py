"""symgrad.linalg: the torch.linalg functions symgrad implements."""

from .ops.linalg import LinAlgError, det, inv, solve
from .ops.reduce import vector_norm

__all__ = ["LinAlgError", "det", "inv", "solve", "vector_norm"]
