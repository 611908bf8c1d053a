"""symgrad.testing: gradient checks for tests (``check_grads``, torch's ``gradcheck``).

They live in ``symgrad.autograd.gradcheck``, beside the engine they check (``gradcheck`` is
``symgrad.autograd.gradcheck``, as in torch); this module is their name for test code.
"""

from .autograd.gradcheck import (
    GradcheckError,
    GradientCheckError,
    check_grads,
    gradcheck,
    gradgradcheck,
)

__all__ = ["GradcheckError", "GradientCheckError", "check_grads", "gradcheck", "gradgradcheck"]
