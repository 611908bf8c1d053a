"""Code generation backends: the registry of backends by name.

A backend is one object (``base.Backend``) in one module of this package: how generated code
spells each op, which ops write into existing buffers, which array types it takes, its
template, its runtime kernels and how the generated module is loaded. The compiler's passes
ask the backend given to ``symgrad.compile(fn, backend=...)``; adding a backend touches no op
definition and no pass.

Backends are imported when first asked for, so an optional one costs nothing until used and
its missing package is reported in one line naming the extra to install.
"""

from __future__ import annotations

import importlib

DEFAULT = "numpy"

# name -> (module under this package (or a full module path), class name, pip extra or None)
_KNOWN: dict[str, tuple[str, str, str | None]] = {
    "numpy": ("numpy", "NumpyBackend", None),
    "array_api": ("array_api", "ArrayApiBackend", "array-api"),
    "numba": ("numba", "NumbaBackend", "numba"),
}
_INSTANCES: dict[str, object] = {}


def register(name: str, module: str, class_name: str, extra: str | None = None) -> None:
    """Make ``backend=name`` find ``class_name`` in ``module`` (a module of this package, or a
    full module path), imported on first use; ``extra``: the ``symgrad[extra]`` that installs
    what it needs."""
    _KNOWN[name] = (module, class_name, extra)
    _INSTANCES.pop(name, None)


def add(backend) -> None:
    """Register an already built backend object under its ``name`` (tests, plugins)."""
    _KNOWN[backend.name] = ("", type(backend).__name__, getattr(backend, "extra", None))
    _INSTANCES[backend.name] = backend


def remove(name: str) -> None:
    """Forget a backend registered with ``add`` or ``register``."""
    _KNOWN.pop(name, None)
    _INSTANCES.pop(name, None)


def names() -> list[str]:
    """The names ``backend=`` accepts."""
    return sorted(_KNOWN)


def get(backend="numpy"):
    """The backend object for a name (or the object itself): ValueError for an unknown name,
    ImportError naming the extra to install when an optional backend's package is missing."""
    if not isinstance(backend, str):
        return backend
    found = _INSTANCES.get(backend)
    if found is not None:
        return found
    if backend not in _KNOWN:
        known = ", ".join(repr(n) for n in names())
        raise ValueError(f"unknown symgrad.compile backend {backend!r}; known backends: {known}")
    module_name, class_name, extra = _KNOWN[backend]
    path = module_name if "." in module_name else f"{__name__}.{module_name}"
    try:
        module = importlib.import_module(path)
    except ImportError as error:
        hint = f"pip install 'symgrad[{extra}]'" if extra else "check the installation"
        raise ImportError(
            f"symgrad.compile backend {backend!r} needs {error.name or 'a missing package'}, "
            f"which is not installed: {hint}"
        ) from error
    found = _INSTANCES[backend] = getattr(module, class_name)()
    return found
