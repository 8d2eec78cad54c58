"""How every CPU kernel is compiled: Numba's ``njit`` with ``parallel=True``
(``prange`` loops spread over gradlab's threads) and ``cache=True`` (the
machine code is kept on disk, so only the first use after an install pays
for compilation; Numba falls back to a per-user cache folder when the
installed package is read-only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit, prange

__all__ = ["cpu_kernel", "prange"]


def cpu_kernel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Compile ``fn`` lazily (at its first call) as a parallel, cached kernel."""
    return njit(parallel=True, cache=True)(fn)
