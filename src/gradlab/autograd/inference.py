"""``inference_mode`` and the switch for deterministic algorithms.

PyTorch's inference mode is ``no_grad`` plus bookkeeping that makes tensors
made inside it cheaper and refuses them in a later backward. gradlab has no
such bookkeeping to save: here inference mode is ``no_grad``, usable as a
context manager and as a decorator, with or without parentheses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from gradlab.autograd.grad_mode import _state


class inference_mode:
    """Run without recording the graph (``mode=False``: record as usual).

    Example:
        >>> import gradlab
        >>> w = gradlab.ones(2, requires_grad=True)
        >>> with gradlab.inference_mode():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)
        self._prev: list[bool] = []

    def __enter__(self) -> None:
        self._prev.append(_state.enabled)
        if self.mode:
            _state.enabled = False

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self._prev.pop()

    def __call__(self, func: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return func(*args, **kwargs)

        return wrapper

    def clone(self) -> inference_mode:
        return inference_mode(self.mode)



def is_inference_mode_enabled() -> bool:
    """Whether recording is off (gradlab's inference mode is ``no_grad``)."""
    return not _state.enabled


class _Deterministic:
    enabled = False
    warn_only = False


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms. gradlab's ops are deterministic on
    the CPU (the same inputs give the same bits); on the GPU, CuPy's
    atomic scatter-adds may sum in a different order, which this flag does
    not change. It is remembered and read back, as PyTorch's."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms expects a bool, got {type(mode).__name__}")
    _Deterministic.enabled = mode
    _Deterministic.warn_only = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _Deterministic.enabled


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _Deterministic.warn_only
