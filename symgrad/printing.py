"""Tensor ``repr``/``str``, byte-identical to torch's ``torch/_tensor_str.py``.

The only difference from torch is the module name: ``dtype=symgrad.float64`` where torch writes
``dtype=torch.float64``. Every element is formatted with Python's ``format`` on the value as a
Python float or int, as torch does, so rounding matches digit for digit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator

import numpy as np

from . import dtypes


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTIONS = _PrintOptions()

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

# Dtypes that print no ``dtype=`` suffix besides the default float dtype: torch infers them
# from the printed values (``1`` is int64, ``True`` is bool).
_INFERRED_DTYPES = ("int64", "bool")


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the print options, as ``torch.set_printoptions``.

    ``profile`` (``'default'``, ``'short'`` or ``'full'``) is applied first and the other
    arguments override it. As in torch, ``sci_mode`` is always assigned, so leaving it out
    resets it to ``None`` (choose automatically).

    >>> set_printoptions(precision=2)
    >>> get_printoptions()["precision"]
    2
    >>> set_printoptions(profile="default")
    """
    if profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(_OPTIONS, name, value)
    overrides = {
        "precision": precision,
        "threshold": threshold,
        "edgeitems": edgeitems,
        "linewidth": linewidth,
    }
    for name, value in overrides.items():
        if value is not None:
            setattr(_OPTIONS, name, value)
    _OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options, as keyword arguments ``set_printoptions`` accepts."""
    return dataclasses.asdict(_OPTIONS)


@contextlib.contextmanager
def printoptions(**kwargs) -> Iterator[None]:
    """Temporarily change the print options; takes the arguments of ``set_printoptions``."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


class _Formatter:
    """One style and width for every element of a tensor, chosen as torch's ``_Formatter``.

    Floats use integer style (``1.``) when every nonzero finite value is a whole number, and
    scientific notation when their magnitudes span more than 1000x, exceed 1e8, or go below
    1e-4. ``nan`` and ``inf`` take no part in the choice or the width.
    """

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            self.max_width = max([1, *(len(str(value)) for value in flat.tolist())])
            return
        nonzero_finite = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero_finite.size == 0:
            return
        magnitudes = np.abs(nonzero_finite.astype(np.float64))
        smallest, largest = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(nonzero_finite == np.ceil(nonzero_finite)))
        self.sci_mode = _OPTIONS.sci_mode
        if self.sci_mode is None:
            self.sci_mode = bool(largest / smallest > 1000.0 or largest > 1e8 or smallest < 1e-4)
        self.max_width = max(self._width(value) for value in nonzero_finite.tolist())

    def _width(self, value: float) -> int:
        if self.sci_mode:
            return len(f"{value:.{_OPTIONS.precision}e}")
        if self.int_mode:
            return len(f"{value:.0f}") + 1
        return len(f"{value:.{_OPTIONS.precision}f}")

    def format(self, value) -> str:
        """``value`` (a Python float, int or bool) right-aligned to the common width."""
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{_OPTIONS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{_OPTIONS.precision}f}"
        return text.rjust(self.max_width)


def _summarized_data(values: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows, so the formatter sizes only those."""
    edgeitems = _OPTIONS.edgeitems
    if values.ndim == 0:
        return values
    if values.ndim == 1:
        if len(values) > 2 * edgeitems:
            # values[-0:] is everything, which is what torch shows for edgeitems=0 here too.
            return np.concatenate((values[:edgeitems], values[-edgeitems:]))
        return values
    if not edgeitems:
        return np.empty((0,) * values.ndim, dtype=values.dtype)
    rows = values
    if len(values) > 2 * edgeitems:
        rows = np.concatenate((values[:edgeitems], values[len(values) - edgeitems :]))
    return np.stack([_summarized_data(row) for row in rows])


def _vector_str(values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    edgeitems = _OPTIONS.edgeitems
    per_line = max(1, math.floor((_OPTIONS.linewidth - indent) / (formatter.max_width + 2)))
    if summarize and not edgeitems:
        items = ["..."]
    elif summarize and len(values) > 2 * edgeitems:
        head = [formatter.format(value) for value in values[:edgeitems].tolist()]
        tail = [formatter.format(value) for value in values[-edgeitems:].tolist()]
        items = [*head, " ...", *tail]
    else:
        items = [formatter.format(value) for value in values.tolist()]
    lines = [", ".join(items[start : start + per_line]) for start in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector_str(values, indent, summarize, formatter)
    edgeitems = _OPTIONS.edgeitems

    def block(row: np.ndarray) -> str:
        return _nested_str(row, indent + 1, summarize, formatter)

    if summarize and len(values) > 2 * edgeitems:
        blocks = [
            *(block(row) for row in values[:edgeitems]),
            "...",
            *(block(row) for row in values[len(values) - edgeitems :]),
        ]
    else:
        blocks = [block(row) for row in values]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(blocks) + "]"


def _values_str(values: np.ndarray, floating: bool, indent: int) -> str:
    summarize = values.size > _OPTIONS.threshold
    formatter = _Formatter(_summarized_data(values) if summarize else values, floating)
    return _nested_str(values, indent, summarize, formatter)


def _dtype_suffixes(values: np.ndarray, dtype) -> list[str]:
    """``size=`` and ``dtype=`` suffixes; empty tensors always name a non-default dtype."""
    suffixes = []
    default_name = dtypes.get_default_dtype().name
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={values.shape}")
        if dtype.name != default_name:
            suffixes.append(f"dtype={dtype!r}")
        return suffixes
    if not _OPTIONS.edgeitems:
        suffixes.append(f"size={values.shape}")
    if dtype.name not in (default_name, *_INFERRED_DTYPES):
        suffixes.append(f"dtype={dtype!r}")
    return suffixes


def _autograd_suffixes(tensor) -> list[str]:
    if tensor.grad_fn is not None:
        # As torch: the node's name without a C++ namespace (CopySlices, not torch::...).
        return [f"grad_fn=<{tensor.grad_fn.name().rsplit('::', 1)[-1]}>"]
    if tensor.requires_grad:
        return ["requires_grad=True"]
    return []


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``, suffix`` for each suffix, moving to a new line when it would pass linewidth."""
    parts = [text]
    # torch's measure of the last line, two more than its length when text has no newline.
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(tensor) -> str:
    """The text torch prints for a tensor, used for both ``repr`` and ``str``.

    ``tensor`` needs ``_data`` (a numpy array), ``dtype``, ``grad_fn`` and ``requires_grad``.
    A tensor of values 1, 2, 3 in the default dtype that requires grad prints as
    ``tensor([1., 2., 3.], requires_grad=True)``.
    """
    values = np.asarray(tensor._data)
    prefix = "tensor("
    indent = len(prefix)
    if values.size == 0:
        body = "[]"
    else:
        body = _values_str(values, tensor.dtype.is_floating_point, indent)
    suffixes = _dtype_suffixes(values, tensor.dtype) + _autograd_suffixes(tensor)
    return _add_suffixes(prefix + body, suffixes, indent)


def parameter_repr(tensor) -> str:
    """The text torch prints for an ``nn.Parameter``: a header line, then the tensor."""
    return "Parameter containing:\n" + tensor_repr(tensor)
