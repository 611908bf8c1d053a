"""The command line: compile a function from a file on example inputs and show or export what
symgrad generates for it.

    python -m symgrad show model.py:loss --arg w=float32[784] --arg X=float32[128,784] \\
        --arg y=int64[128] --what explain
    python -m symgrad export model.py:loss --arg ... -o loss_module.py

Bad input (a missing file or function, an argument spec it cannot read, inputs the function
cannot take) prints one line on stderr and exits with status 2; a file that fails to import
exits with status 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import os
import re
import sys

import numpy as np

from . import dtypes
from .compiler.api import CompiledFunction
from .compiler.api import compile as compile_function
from .tensor import Tensor

WHAT = {
    "source": "the generated numpy module (default)",
    "explain": "how it was built: node counts per stage, rules applied, saved values, timings",
    "formula": "the output and its gradients as math (SymPy), common subexpressions named",
    "graph": "the simplified forward+backward graph, one node a line",
    "dot": "the same graph as Graphviz DOT (pipe into: dot -Tsvg -o graph.svg)",
}
BACKENDS = ("numpy",)
DTYPES = {d.name: d for d in dtypes.ALL}
_ARG = re.compile(r"(?P<name>[A-Za-z_]\w*)=(?P<dtype>\w+)\[(?P<shape>[^\]]*)\]")

EPILOG = """\
argument specs:
  --arg NAME=DTYPE[SHAPE] gives the function's parameter NAME an example input.
  DTYPE: {dtypes}.
  SHAPE: comma-separated sizes, [] for a scalar.
  Floating inputs are random normal numbers, differentiated unless --wrt names others; integer
  and bool inputs are zeros (the code depends on shapes and dtypes only, never on values).

examples:
  python -m symgrad show model.py:loss --arg w=float32[784,10] --arg X=float32[128,784] \\
      --arg y=int64[128] --wrt w
  python -m symgrad show model.py:loss --arg ... --what dot | dot -Tsvg -o loss.svg
  python -m symgrad export model.py:loss --arg ... -o loss_numpy.py

exit status: 0 done; 1 the file raised while being imported; 2 bad command line, including
inputs the function cannot be compiled for (say, shapes that do not fit): one line on stderr.
""".format(dtypes=", ".join(DTYPES))


class UsageError(Exception):
    """A bad command line: reported as one line, exit status 2."""


class UserCodeError(Exception):
    """The user's file or function raised: reported as one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (no usage dump) through ``UsageError``."""

    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m symgrad",
        description="Compile a Python function with symgrad on example inputs of given shapes, "
        "and show or export the forward and backward code it generates.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    commands = parser.add_subparsers(dest="command", metavar="{show,export}", required=True)
    show = commands.add_parser(
        "show",
        help="print what symgrad builds for the function",
        description="Compile the function on the example inputs and print what --what asks for.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    export = commands.add_parser(
        "export",
        help="write the generated module (needs only numpy) to a file",
        description="Compile the function on the example inputs and write the generated module, "
        "which imports only numpy, to -o.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    for sub in (show, export):
        sub.add_argument("target", metavar="FILE.py:FUNCTION", help="the function to compile")
        sub.add_argument(
            "--arg",
            action="append",
            default=[],
            metavar="NAME=DTYPE[SHAPE]",
            help="an example input for parameter NAME, e.g. x=float32[128,784]; repeat per "
            "parameter",
        )
        sub.add_argument(
            "--wrt",
            action="append",
            metavar="NAME",
            help="differentiate with respect to NAME only (repeatable; default: every "
            "floating-point argument)",
        )
        sub.add_argument(
            "--backend",
            choices=BACKENDS,
            default="numpy",
            help="code generator (default: numpy, the only one so far)",
        )
    show.add_argument(
        "--what",
        choices=list(WHAT),
        default="source",
        help="; ".join(f"{k}: {v}" for k, v in WHAT.items()),
    )
    export.add_argument("-o", "--output", required=True, metavar="PATH", help="file to write")
    return parser


def parse_arg(spec: str) -> tuple[str, dtypes.dtype, tuple[int, ...]]:
    """``x=float32[128,784]`` -> ("x", float32, (128, 784))."""
    match = _ARG.fullmatch(spec.strip())
    if match is None:
        raise UsageError(f"bad --arg {spec!r}: expected NAME=DTYPE[SHAPE], e.g. x=float32[128,784]")
    dtype = DTYPES.get(match["dtype"])
    if dtype is None:
        raise UsageError(
            f"unknown dtype {match['dtype']!r} in --arg {spec!r} (dtypes: {', '.join(DTYPES)})"
        )
    text = match["shape"].strip()
    sizes = [s.strip() for s in text.split(",")] if text else []
    if not all(s.isdigit() for s in sizes):
        raise UsageError(
            f"bad shape [{match['shape']}] in --arg {spec!r}: sizes are non-negative integers "
            "separated by commas, [] for a scalar"
        )
    return match["name"], dtype, tuple(int(s) for s in sizes)


def load_function(target: str):
    """The function named by ``FILE.py:FUNCTION`` (a dotted name reaches into classes)."""
    path, colon, name = target.rpartition(":")
    if not colon or not path or not name:
        raise UsageError(f"bad target {target!r}: expected FILE.py:FUNCTION")
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    module_name = "symgrad_cli_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))  # its own imports work
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise UserCodeError(f"importing {path} failed: {_one_line(error)}") from None
    value = module
    for part in name.split("."):
        value = getattr(value, part, None)
        if value is None:
            functions = sorted(
                k
                for k, v in vars(module).items()
                if callable(v) and getattr(v, "__module__", None) == module_name
            )
            raise UsageError(
                f"{path} has no function {name!r}"
                + (f" (functions there: {', '.join(functions)})" if functions else "")
            )
    if not callable(value):
        raise UsageError(f"{target} is a {type(value).__name__}, not a function")
    return value


def example_inputs(function, specs: list[str], wrt: list[str] | None):
    """Positional and keyword arguments of the example call, checked against the signature."""
    parameters = inspect.signature(function).parameters
    values = {}
    rng = np.random.default_rng(0)
    parsed = [parse_arg(s) for s in specs]
    for name, _, _ in parsed:
        if name not in parameters:
            raise UsageError(
                f"--arg {name}: {function.__name__} has no parameter {name!r} "
                f"(parameters: {', '.join(parameters)})"
            )
    for name in wrt or ():
        if name not in {n for n, _, _ in parsed}:
            raise UsageError(f"--wrt {name}: no --arg gives {name!r} an input")
    for name, dtype, shape in parsed:
        if dtype.is_floating_point:
            data = rng.standard_normal(shape).astype(dtype.numpy)
            differentiate = wrt is None or name in wrt
        else:
            data = np.zeros(shape, dtype=dtype.numpy)
            if wrt is not None and name in wrt:
                raise UsageError(f"--wrt {name}: only floating-point inputs have gradients")
            differentiate = False
        values[name] = Tensor._wrap(data, differentiate)
    try:
        bound = inspect.signature(function).bind(**values)
    except TypeError as error:
        message = f"{function.__name__}: {error} (give it with --arg NAME=DTYPE[SHAPE])"
        raise UsageError(message) from None
    return bound.args, bound.kwargs


def run(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    function = load_function(arguments.target)
    compiled = function if _is_compiled(function) else compile_function(function)
    args, kwargs = example_inputs(compiled._fn, arguments.arg, arguments.wrt)
    what = "source" if arguments.command == "export" else arguments.what
    try:
        if what == "dot":
            result = compiled.graph(*args, **kwargs).to_dot()
        else:
            result = getattr(compiled, what)(*args, **kwargs)
    except Exception as error:  # mostly inputs that do not fit the function: one line
        raise UsageError(
            f"cannot compile {arguments.target} for these inputs: {_one_line(error)}"
        ) from None
    if arguments.command == "export":
        try:
            compiled.export(arguments.output, *args, **kwargs)  # compiled above: a cache hit
        except OSError as error:
            raise UsageError(f"cannot write {arguments.output}: {error.strerror}") from None
        print(f"wrote {arguments.output}")
        return 0
    print(result)
    return 0


def _is_compiled(value) -> bool:
    """``symgrad.compile`` results and the transforms (``value_and_grad`` ...) are used as
    they are; a plain function is compiled."""
    return isinstance(value, CompiledFunction) or all(
        hasattr(value, name) for name in ("_fn", "source", "explain", "graph", "export")
    )


def _one_line(error: BaseException) -> str:
    text = str(error).splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m symgrad``: bad usage is one line on stderr and status 2."""
    try:
        return run(argv)
    except UsageError as error:
        print(f"symgrad: error: {error}", file=sys.stderr)
        return 2
    except UserCodeError as error:
        print(f"symgrad: error: {error}", file=sys.stderr)
        return 1
