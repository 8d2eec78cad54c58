"""The one place where data turns an engine Tensor back into a host array."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.tensor import Tensor


def to_host(value: Any) -> np.ndarray:
    """A NumPy array from an array-like or a gradlab Tensor (copied to the
    host if it lives on a GPU, detached from any graph)."""
    if isinstance(value, Tensor):
        return value.detach().numpy(force=True)
    return np.asarray(value)
