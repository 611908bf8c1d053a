"""torch.cuda on a machine without CUDA: what scripts ask before choosing a device.

``is_available()`` is False and ``device_count()`` is 0, so ``"cuda" if
torch.cuda.is_available() else "cpu"`` picks the CPU. Seeding is accepted and does nothing,
as torch's is on such a machine; anything that needs a GPU raises torch's error.
"""

from __future__ import annotations

from .devices import NO_CUDA


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """No CUDA generator to seed: ignored, as torch ignores it without CUDA."""


def manual_seed_all(seed: int) -> None:
    """No CUDA generators to seed: ignored, as torch ignores it without CUDA."""


def empty_cache() -> None:
    """Nothing cached: nothing to free."""


def _no_cuda(*args, **kwargs):
    raise AssertionError(NO_CUDA)


current_device = synchronize = get_device_name = set_device = _no_cuda
