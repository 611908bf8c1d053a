"""torch.Generator and the default generator: numpy PCG64 streams behind torch's interface.

A ``Generator`` is seeded with ``manual_seed`` (a fresh one with torch's default seed,
67280421310721), reports ``initial_seed()``, reseeds itself from the OS with ``seed()``, and
saves and restores its exact position with ``get_state()``/``set_state()`` (a uint8 tensor;
its bytes are symgrad's, not torch's). The numbers drawn are numpy's, not torch's: the same
distributions and the same determinism under a seed, not the same values.
"""

from __future__ import annotations

import secrets

import numpy as np

from . import devices
from .tensor import Tensor

DEFAULT_SEED = 67280421310721
_SEED_RANGE = (-(2**63), 2**64 - 1)
# get_state layout: initial seed, PCG64 state, increment, (has_uint32, uinteger).
_STATE_BYTES = 8 + 16 + 16 + 1 + 4


class Generator:
    """A random number generator for ``generator=`` arguments.

    >>> import symgrad
    >>> g = symgrad.Generator().manual_seed(42)
    >>> a = symgrad.rand(3, generator=g)
    >>> b = symgrad.rand(3, generator=symgrad.Generator().manual_seed(42))
    >>> bool((a == b).all())
    True
    """

    def __init__(self, device="cpu"):
        devices.check(devices.CPU if device is None else device)
        self.device = devices.CPU
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed) -> Generator:
        """Restart the stream from ``seed`` (an int in [-2**63, 2**64); negative seeds are
        taken modulo 2**64, as torch takes them). Returns the generator."""
        seed = _seed_value(seed)
        self._initial_seed = seed
        self._numpy = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = secrets.randbits(64)
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed this stream started from."""
        return self._initial_seed

    def get_state(self) -> Tensor:
        """The exact position in the stream, as a uint8 tensor for ``set_state``."""
        state = self._numpy.bit_generator.state
        raw = (
            self._initial_seed.to_bytes(8, "little")
            + state["state"]["state"].to_bytes(16, "little")
            + state["state"]["inc"].to_bytes(16, "little")
            + bytes([state["has_uint32"]])
            + state["uinteger"].to_bytes(4, "little")
        )
        return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state: Tensor) -> Generator:
        """Return to a position saved by ``get_state``. Returns the generator."""
        if not isinstance(new_state, Tensor) or new_state.dtype.name != "uint8":
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = bytes(new_state._data.reshape(-1))
        if len(raw) != _STATE_BYTES:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {_STATE_BYTES} but found the input "
                f"RNG state size to be {len(raw)}\n"
                f"symgrad hint: symgrad's generator states are {_STATE_BYTES} bytes; pass one "
                "that get_state() returned."
            )
        bit_generator = np.random.PCG64()
        bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {
                "state": int.from_bytes(raw[8:24], "little"),
                "inc": int.from_bytes(raw[24:40], "little"),
            },
            "has_uint32": raw[40],
            "uinteger": int.from_bytes(raw[41:45], "little"),
        }
        self._initial_seed = int.from_bytes(raw[:8], "little")
        self._numpy = np.random.Generator(bit_generator)
        return self

    def __repr__(self) -> str:
        return f"<symgrad.Generator object at {id(self):#x}>"


def _seed_value(seed) -> int:
    if isinstance(seed, Tensor):
        seed = seed.item()
    if isinstance(seed, float) and seed.is_integer():
        seed = int(seed)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not _SEED_RANGE[0] <= seed <= _SEED_RANGE[1]:
        raise RuntimeError(
            f"Overflow when unpacking long long\nsymgrad hint: a seed is an integer in "
            f"[-2**63, 2**64), got {seed}"
        )
    return seed % 2**64


default_generator = Generator()
default_generator.seed()  # as torch's: a fresh stream in each process until manual_seed


def manual_seed(seed) -> Generator:
    """Seed symgrad's default generator (rand, randn, randint, randperm, multinomial,
    dropout, nn.init ...). Returns it, as torch returns its default generator."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Reseed the default generator from the operating system; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


def numpy_generator(generator) -> np.random.Generator:
    """The numpy stream behind ``generator`` (the default generator's for None)."""
    if generator is None:
        return default_generator._numpy
    if isinstance(generator, Generator):
        return generator._numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a symgrad.Generator, not {type(generator).__name__}")


class _DefaultGenerator:
    """Stands for symgrad's default generator, looked up at call time (``manual_seed`` makes a
    new one, so the object itself cannot be kept)."""

    def __repr__(self) -> str:
        return "symgrad.default_generator()"


DEFAULT_GENERATOR = _DefaultGenerator()


def is_generator(value) -> bool:
    return value is DEFAULT_GENERATOR or isinstance(value, (Generator, np.random.Generator))
