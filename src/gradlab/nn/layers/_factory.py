"""How layers make their parameters: ``device``/``dtype`` arguments as
PyTorch's, the default float dtype otherwise."""

from __future__ import annotations

from typing import Any

from gradlab import dtypes
from gradlab.creation import empty
from gradlab.nn.parameter import Parameter


def new_parameter(*shape: int, device: Any = None, dtype: Any = None) -> Parameter:
    """An uninitialized Parameter (layers fill it in ``reset_parameters``)."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if dt.kind != "f":
        raise TypeError(f"parameters must have a floating dtype, got dtype={dt}")
    return Parameter(empty(*shape, dtype=dt, device=device))


def check_positive(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


__all__ = ["check_positive", "new_parameter"]
