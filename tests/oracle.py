"""Where the PyTorch oracle runs: this interpreter when it has torch (CI installs the local
torch 2.13.0 CPU wheel), else the interpreter named by SYMGRAD_TORCH_PYTHON, else nowhere."""

import importlib.util
import os
import sys


def torch_python() -> str | None:
    if importlib.util.find_spec("torch") is not None:
        return sys.executable
    candidate = os.environ.get("SYMGRAD_TORCH_PYTHON")
    return candidate if candidate and os.path.exists(candidate) else None


TORCH_PYTHON = torch_python()
