"""Thread-local grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode."""

from __future__ import annotations

import functools
import inspect
import threading


class _State(threading.local):
    # class-level defaults: every thread starts with grad mode on, inference mode off
    enabled = True
    inference = False
    # Derived, for the op shortcuts (one thread-local read per op call): ops record the graph,
    # grad mode on and inference mode off (as in torch, enable_grad inside inference_mode
    # records nothing). ``_set_modes`` keeps it.
    recording = True


_state = _State()


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward (the default)."""
    return _state.enabled


def is_recording() -> bool:
    """True when ops record the graph: grad mode on and inference mode off. (Inside
    ``inference_mode``, ``enable_grad`` turns grad mode on but ops still record nothing,
    as in torch; custom Functions follow grad mode alone, as torch's do.)"""
    return _state.recording


def _set_modes(enabled: bool, inference: bool) -> None:
    """Set this thread's grad and inference modes (the only writer of ``_state``)."""
    _state.enabled = enabled = bool(enabled)
    _state.inference = inference = bool(inference)
    _state.recording = enabled and not inference


def _set_enabled(mode: bool) -> None:
    _set_modes(mode, _state.inference)


def _swap_enabled(mode: bool) -> bool:
    """``_set_enabled(mode)``, returning the grad mode it replaces: the backward engine's
    ``set_grad_enabled`` around its loop, without a context manager."""
    previous = _state.enabled
    _set_modes(mode, _state.inference)
    return previous


def is_inference_mode_enabled() -> bool:
    return _state.inference


class _DecoratorContextManager:
    """Usable as ``with mode():`` and as ``@mode()`` (also ``@no_grad`` without parentheses)."""

    def __new__(cls, orig_func=None, *args, **kwargs):
        if cls in (no_grad, enable_grad) and callable(orig_func):
            return cls()(orig_func)
        return super().__new__(cls)

    def __call__(self, func):
        if inspect.isgeneratorfunction(func):
            return self._wrap_generator(func)

        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return decorated

    def _wrap_generator(self, func):
        """The mode holds while the generator body runs, not while its caller does."""

        @functools.wraps(func)
        def generator(*args, **kwargs):
            gen = func(*args, **kwargs)
            try:
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as error:
                        with self.clone():
                            response = gen.throw(error)
                    else:
                        with self.clone():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value

        return generator

    def clone(self):
        return self.__class__()


class no_grad(_DecoratorContextManager):  # noqa: N801 - torch's name
    """Disable gradient recording: results of ops are leaves with ``requires_grad=False``.

    >>> import symgrad
    >>> x = symgrad.ones(2, requires_grad=True)
    >>> with symgrad.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __init__(self, orig_func=None):
        self.prev = None

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_enabled(False)

    def __exit__(self, *exc):
        _set_enabled(self.prev)


class enable_grad(_DecoratorContextManager):  # noqa: N801
    """Enable gradient recording inside a ``no_grad`` block."""

    def __init__(self, orig_func=None):
        self.prev = None

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_enabled(True)

    def __exit__(self, *exc):
        _set_enabled(self.prev)


class set_grad_enabled(_DecoratorContextManager):  # noqa: N801
    """Set grad mode on or off: as a plain call, a context manager, or a decorator."""

    def __init__(self, mode: bool):
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _set_enabled(self.mode)

    def __call__(self, func):
        _set_enabled(self.prev)
        return super().__call__(func)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set_enabled(self.prev)

    def clone(self):
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):  # noqa: N801
    """Like ``no_grad``; tensors made inside are inference tensors (no version counter)."""

    def __new__(cls, mode=True):
        if callable(mode):
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self.prev = None

    def __enter__(self):
        self.prev = (is_grad_enabled(), is_inference_mode_enabled())
        # inference_mode(False) is a normal mode: grad recording on, as in torch.
        _set_modes(not self.mode, self.mode)

    def __exit__(self, *exc):
        _set_modes(*self.prev)

    def clone(self):
        return self.__class__(self.mode)
