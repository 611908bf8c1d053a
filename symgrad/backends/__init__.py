"""torch.backends: the accelerator libraries symgrad does not have (``mps``, ``cudnn``)."""

from . import cudnn, mps

__all__ = ["cudnn", "mps"]
