"""torch.device, the default device, and the errors for devices symgrad does not have.

symgrad computes with numpy on the CPU. Device objects for other types can be made (as in
torch, ``device("cuda")`` is only a name), but a tensor asked to live there raises the error
torch raises on a machine without that device.
"""

from __future__ import annotations

# torch 2.13's device types, in the order its parser lists them.
DEVICE_TYPES = (
    "cpu",
    "cuda",
    "ipu",
    "xpu",
    "mkldnn",
    "opengl",
    "opencl",
    "ideep",
    "hip",
    "ve",
    "fpga",
    "maia",
    "xla",
    "lazy",
    "vulkan",
    "mps",
    "meta",
    "hpu",
    "mtia",
    "privateuseone",
)
NO_CUDA = "Torch not compiled with CUDA enabled"


class device:  # noqa: N801 - torch spells it lower-case
    """A device name: ``device("cpu")``, ``device("cuda:1")``, ``device("cpu", 0)``.

    >>> import symgrad
    >>> symgrad.device("cpu")
    device(type='cpu')
    >>> symgrad.zeros(2).device == symgrad.device("cpu")
    True
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):  # noqa: A002 - torch's argument name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            # torch reads a bare integer as an index on the current accelerator.
            raise RuntimeError("Cannot access accelerator device when none is available.")
        elif not isinstance(type, str):
            raise TypeError(
                f"device() received an invalid combination of arguments - got ({type!r})"
            )
        else:
            type, index = _parse(type, index)
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        # As torch: equal to another device of the same type and index, never to a string.
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


def _parse(text: str, index: int | None) -> tuple[str, int | None]:
    name, colon, number = text.partition(":")
    if name not in DEVICE_TYPES:
        raise RuntimeError(
            f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: "
            f"{text}"
        )
    if colon:
        if index is not None:
            raise RuntimeError(
                "type (string) must not include an index because index was passed explicitly: "
                f"{text}"
            )
        if not number.isdigit():
            raise RuntimeError(f"Invalid device string: '{text}'")
        index = int(number)
    if index is not None and index < 0:
        raise RuntimeError(f"Device index must not be negative, got {index}")
    return name, index


CPU = device("cpu")
_default = CPU


def set_default_device(value) -> None:
    """Where factories put tensors when no ``device=`` is given; only the CPU works here
    (None restores it). A non-CPU default is accepted, and factories then raise as torch's."""
    global _default
    _default = CPU if value is None else device(value)


def get_default_device() -> device:
    return _default


def check(value) -> None:
    """Refuse a device symgrad cannot put tensors on; None means the default device."""
    if value is None:
        if _default is CPU:
            return
        value = _default
    if value == "cpu" or (isinstance(value, device) and value.type == "cpu"):
        return
    place = value if isinstance(value, device) else device(value)
    if place.type == "cpu":
        return
    raise unavailable(place)


def unavailable(place: device) -> BaseException:
    """The error torch gives (on a machine without it) for a tensor put on ``place``."""
    if place.type == "cuda":
        return AssertionError(NO_CUDA)
    if place.type == "mps":
        return RuntimeError("PyTorch is not linked with support for mps devices")
    return RuntimeError(
        f"symgrad computes on the CPU only; device '{place}' is not available\n"
        "symgrad hint: drop the device argument, or pass device='cpu'."
    )
