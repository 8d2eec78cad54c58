"""Switching graph recording on and off: ``no_grad``, ``enable_grad``,
``set_grad_enabled``, each usable as a context manager or a decorator."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    # Grad mode is per thread, as in PyTorch: a data-loading thread that
    # turns it off does not turn it off for the training thread.
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for backpropagation."""
    return _state.enabled


class set_grad_enabled:
    """Turn recording on or off, inside a ``with`` block or for the rest of
    the thread when called plainly (as ``torch.set_grad_enabled``)."""

    def __init__(self, mode: bool) -> None:
        self.prev = _state.enabled
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self.prev


class _Mode:
    mode = True

    def __enter__(self) -> None:
        self.prev = _state.enabled
        _state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self.prev

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_Mode):
    """Do not record operations: results have ``requires_grad=False``.

    Example:
        >>> import gradlab
        >>> w = gradlab.ones(2, requires_grad=True)
        >>> with gradlab.no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    mode = False


class enable_grad(_Mode):
    """Record operations, also inside a ``no_grad`` block."""

    mode = True
