"""Regenerate ``torch_repr_cases.json``: PyTorch's own repr of tensors that the tests rebuild.

Run with a Python that has torch installed, from the repository root:

    /work/torchenv/bin/python tests/data/make_repr_cases.py

Each case's ``build`` says how to make the tensor with numpy alone (see ``case_values``), so
``tests/test_printing.py`` can rebuild it without torch. The expected text is torch's, with
``dtype=torch.`` spelled ``dtype=symgrad.`` (see ``add_renamed_suffixes``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

OUTPUT = Path(__file__).with_name("torch_repr_cases.json")

NAN, INF = math.nan, math.inf


def case_values(build: dict) -> np.ndarray:
    """The numpy array a case describes: ``values`` as given, or the ``pattern`` formula.

    The formula uses only exactly rounded arithmetic, so every machine gets the same bits.
    """
    if "pattern" in build:
        count, multiplier, modulus, offset, divisor = build["pattern"]
        flat = ((np.arange(count, dtype=np.float64) * multiplier) % modulus - offset) / divisor
        values = flat.reshape(build["shape"])
    else:
        values = np.array(build["values"], dtype=np.float64).reshape(build["shape"])
    return values.astype(build["dtype"])


def random_values(seed: int, shape: tuple[int, ...], scale: float = 1.0) -> list[float]:
    """Normal float32 samples, listed as the doubles that hold them exactly."""
    generator = torch.Generator().manual_seed(seed)
    samples = torch.randn(shape, generator=generator, dtype=torch.float32) * scale
    return samples.reshape(-1).tolist()


def spec(values, shape=None, dtype="float32", **extra) -> dict:
    """A case built from listed values; ``shape`` defaults to a flat list."""
    if shape is None:
        shape = [len(values)]
    return {"values": values, "shape": list(shape), "dtype": dtype, **extra}


def pattern(shape, multiplier, modulus, offset, divisor, dtype="float32", **extra) -> dict:
    """A large case built from the ``case_values`` formula."""
    count = math.prod(shape)
    parameters = [count, multiplier, modulus, offset, divisor]
    return {"pattern": parameters, "shape": list(shape), "dtype": dtype, **extra}


def float_cases() -> dict[str, dict]:
    return {
        "random_1d": spec(random_values(0, (5,))),
        "random_2d": spec(random_values(1, (3, 4)), [3, 4]),
        "random_mixed_magnitudes": spec(random_values(2, (6,), scale=40.0)),
        "mixed_magnitudes_fixed": spec([0.5, -12.25, 123.4567, -0.3125]),
        "mixed_magnitudes_sci": spec([0.001, 12.5, -300.25, 7.0]),
        "negatives": spec([-1.5, 2.25, -3.125]),
        "point_one_third": spec([0.1, 1 / 3, 2 / 3]),
        "tiny_1e-5": spec([1e-5, 2e-5, 3.5e-5]),
        "tiny_and_one": spec([1e-5, 1.0]),
        "huge_1e8": spec([1.5e8, 2.0e8]),
        "int_valued": spec([1.0, 2.0, 3.0]),
        "int_valued_negative": spec([-10.0, 2.0, 300.0]),
        "int_valued_ratio_sci": spec([1.0, 2000.0]),
        "int_valued_huge_sci": spec([123456789.0, 1.0]),
        "all_zero_1d": spec([0.0, 0.0, 0.0]),
        "all_zero_2d": spec([0.0] * 6, [2, 3]),
        "nan_one_inf": spec([NAN, 1.0, INF]),
        "nan_half_neg_inf": spec([NAN, 0.5, -INF]),
        "only_nan": spec([NAN, NAN]),
        "inf_neg_inf_zero": spec([INF, -INF, 0.0]),
        "sci_with_nan_inf": spec([1e-5, NAN, INF, 3.0]),
        "int_sci_with_nan": spec([1.0, 2000.0, NAN]),
        "negative_zero": spec([-0.0, 1.0]),
        "negative_zero_only": spec([-0.0, 0.0]),
        "nd_2d_int_valued": spec([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [2, 3]),
        "nd_3d": spec([float(i) for i in range(8)], [2, 2, 2]),
        "nd_3d_random": spec(random_values(3, (2, 3, 4)), [2, 3, 4]),
        "nd_4d": spec(random_values(4, (2, 2, 2, 3)), [2, 2, 2, 3]),
        "nd_2d_one_row": spec([1.5, 2.5], [1, 2]),
        "wrap_1d": pattern([30], 1, 1000, 0, 29),
        "wrap_1d_sci": pattern([25], 7919, 1000, 500, 1e6),
    }


def scalar_cases() -> dict[str, dict]:
    return {
        "scalar_float32_whole": spec(3.0, []),
        "scalar_float32": spec(5.656854152679443, []),
        "scalar_float32_nan": spec(NAN, []),
        "scalar_float32_tiny": spec(-1.25e-6, []),
        "scalar_float64": spec(2.5, [], "float64"),
        "scalar_float16": spec(0.333251953125, [], "float16"),
        "scalar_int64": spec(3, [], "int64"),
        "scalar_int32": spec(-7, [], "int32"),
        "scalar_bool": spec(1, [], "bool"),
        "scalar_requires_grad": spec(2.0, [], requires_grad=True),
    }


def dtype_cases() -> dict[str, dict]:
    return {
        "bool_1d": spec([1, 0, 1], dtype="bool"),
        "bool_2d": spec([1, 0, 0, 1], [2, 2], "bool"),
        "int64_1d": spec([1, -20, 300], dtype="int64"),
        "int64_wrap": pattern([50], 37, 1000, 500, 1, "int64"),
        "int32_2d": spec([1, 2, 3, 40], [2, 2], "int32"),
        "int16_1d": spec([5, -6], dtype="int16"),
        "uint8_1d": spec([0, 255], dtype="uint8"),
        "float16_1d": spec([0.5, 1.0009765625, -2.0], dtype="float16"),
        "float16_ratio_sci": spec([60000.0, 1.0], dtype="float16"),
        "float64_1d": spec([0.1, 0.2, 0.3], dtype="float64"),
        "float64_2d_requires_grad": spec(
            [1.0, 2.0, 3.0, 4.0], [2, 2], "float64", requires_grad=True
        ),
    }


def empty_cases() -> dict[str, dict]:
    return {
        "empty_float32": spec([], [0]),
        "empty_float32_0x3": spec([], [0, 3]),
        "empty_int64": spec([], [0], "int64"),
        "empty_int64_2x0": spec([], [2, 0], "int64"),
        "empty_bool": spec([], [0], "bool"),
        "empty_float64": spec([], [0], "float64"),
        "empty_float16_0x2x3": spec([], [0, 2, 3], "float16"),
        "empty_requires_grad": spec([], [0], requires_grad=True),
    }


def summarised_cases() -> dict[str, dict]:
    return {
        "summarised_1d_2000": pattern([2000], 7919, 1000, 500, 7),
        "summarised_1d_2000_int64": pattern([2000], 1, 1e9, 0, 1, "int64"),
        "summarised_2d_100x100": pattern([100, 100], 7919, 10007, 5000, 3),
        "summarised_3d": pattern([10, 12, 15], 31, 97, 48, 1),
        "summarised_2d_wide": pattern([5, 300], 13, 101, 50, 4),
        "summarised_2d_grad_fn": pattern([40, 40], 7, 23, 11, 5, grad_fn="Mul"),
    }


def autograd_cases() -> dict[str, dict]:
    return {
        "requires_grad_1d": spec([1.0, 2.0, 3.0], requires_grad=True),
        "grad_fn_2d_add": spec([1.0, 2.0, 3.0, 4.0], [2, 2], grad_fn="Add"),
        "grad_fn_wrap_mul": pattern([30], 1, 1000, 0, 29, grad_fn="Mul"),
        "parameter": spec([0.5, -1.5], requires_grad=True, parameter=True),
        **{
            f"suffix_wrap_{count}": pattern([count], 7919, 1000, 500, 7, "float64", grad_fn="Add")
            for count in (6, 7, 8, 9)
        },
        **{
            f"suffix_wrap_int_mode_{count}": pattern([count], 7919, 1000, 500, 1, grad_fn="Mul")
            for count in (14, 15, 16, 17)
        },
    }


def printoption_cases() -> dict[str, dict]:
    def with_options(build: dict, **options) -> dict:
        return {**build, "printoptions": options}

    randoms = spec(random_values(5, (6,)))
    return {
        "precision_2": with_options(randoms, precision=2),
        "precision_6": with_options(randoms, precision=6),
        "sci_mode_true": with_options(randoms, sci_mode=True),
        "sci_mode_true_int_valued": with_options(spec([1.0, 2.0]), sci_mode=True),
        "sci_mode_true_zeros": with_options(spec([0.0, 0.0]), sci_mode=True),
        "sci_mode_false_tiny": with_options(spec([1e-5, 1.0]), sci_mode=False),
        "sci_mode_false_huge": with_options(spec([1.5e9, 1.0]), sci_mode=False),
        "linewidth_40": with_options(pattern([20], 1, 1000, 0, 19), linewidth=40),
        "linewidth_40_grad_fn": with_options(
            pattern([9], 1, 1000, 0, 8, "float64", grad_fn="Add"), linewidth=40
        ),
        "threshold_5_arange": with_options(pattern([10], 1, 100, 0, 1, "int64"), threshold=5),
        "threshold_10_edgeitems_2": with_options(
            pattern([6, 7], 1, 100, 0, 4), threshold=10, edgeitems=2
        ),
        "edgeitems_0_1d": with_options(
            pattern([20], 1, 100, 0, 1, "int64"), threshold=5, edgeitems=0
        ),
        "edgeitems_0_2d": with_options(pattern([4, 5], 1, 100, 0, 1), threshold=5, edgeitems=0),
        "edgeitems_0_unsummarised": with_options(spec([1.0, 2.0]), edgeitems=0),
        "profile_short": with_options(pattern([2000], 7919, 1000, 500, 7), profile="short"),
        "profile_full": with_options(pattern([1200], 7919, 1000, 500, 1, "int64"), profile="full"),
    }


def default_float64_cases() -> dict[str, dict]:
    def with_float64_default(build: dict) -> dict:
        return {**build, "default_dtype": "float64"}

    return {
        "default64_float32": with_float64_default(spec([1.5, 2.5])),
        "default64_float64": with_float64_default(spec([1.5, 2.5], dtype="float64")),
        "default64_empty_float64": with_float64_default(spec([], [0], "float64")),
        "default64_empty_float32": with_float64_default(spec([], [0])),
        "default64_float32_grad_fn": with_float64_default(
            pattern([12], 7919, 1000, 500, 7, grad_fn="Add")
        ),
    }


def torch_tensor(build: dict) -> torch.Tensor:
    """The torch tensor a case describes, with its autograd history when asked."""
    values = torch.from_numpy(case_values(build))
    if build.get("parameter"):
        return torch.nn.Parameter(values)
    if build.get("requires_grad"):
        return values.requires_grad_()
    grad_fn = build.get("grad_fn")
    if grad_fn == "Add":
        return torch.zeros_like(values, requires_grad=True) + values
    if grad_fn == "Mul":
        return torch.ones_like(values, requires_grad=True) * values
    return values


TORCH_ADD_SUFFIXES = torch._tensor_str._add_suffixes


def add_renamed_suffixes(tensor_str, suffixes, indent, force_newline):
    """torch's ``_add_suffixes``, measuring ``dtype=symgrad.*`` rather than ``dtype=torch.*``.

    The longer name can move a suffix onto the next line, so the rename has to happen before
    torch decides where the suffixes go, not in the finished text.
    """
    renamed = [suffix.replace("dtype=torch.", "dtype=symgrad.") for suffix in suffixes]
    return TORCH_ADD_SUFFIXES(tensor_str, renamed, indent, force_newline)


def torch_repr(build: dict) -> tuple[str, str | None]:
    """Torch's repr of the case, and the name of the tensor's grad_fn."""
    torch.set_default_dtype(getattr(torch, build.get("default_dtype", "float32")))
    torch.set_printoptions(**build.get("printoptions", {}))
    torch._tensor_str._add_suffixes = add_renamed_suffixes
    try:
        tensor = torch_tensor(build)
        grad_fn = tensor.grad_fn.name() if tensor.grad_fn is not None else None
        return repr(tensor), grad_fn
    finally:
        torch._tensor_str._add_suffixes = TORCH_ADD_SUFFIXES
        torch.set_printoptions(profile="default")
        torch.set_default_dtype(torch.float32)


def main() -> None:
    groups = (
        float_cases,
        scalar_cases,
        dtype_cases,
        empty_cases,
        summarised_cases,
        autograd_cases,
        printoption_cases,
        default_float64_cases,
    )
    cases = []
    for group in groups:
        for name, build in group().items():
            expected, grad_fn = torch_repr(build)
            if grad_fn is not None:
                build = {**build, "grad_fn": grad_fn}
            assert "torch" not in expected, expected
            cases.append({"name": name, "build": build, "expected": expected})
    OUTPUT.write_text(json.dumps(cases, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUTPUT}")


if __name__ == "__main__":
    main()
