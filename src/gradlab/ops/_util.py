"""Helpers shared by the op families: turning operands into tensors of a
common dtype on a common device, and normalising ``dim`` arguments."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend, dtypes
from gradlab.tensor import Tensor, _wrap_dim

_NUMBER = (int, float, bool, np.number, np.bool_)


def constant(value: Any, like: Tensor, dtype: np.dtype | None = None) -> Tensor:
    """A Python number or array as a tensor on ``like``'s device that does
    not require grad."""
    xp = backend.array_module(like.array)
    if dtype is None:
        if isinstance(value, (int, float, bool)):
            dtype = dtypes.scalar_dtype(value, like.array.dtype)
        else:
            dtype = getattr(value, "dtype", None)
    try:
        array = xp.asarray(value, dtype=dtype)
    except OverflowError:
        # PyTorch wraps a Python int that does not fit an integer tensor's
        # dtype (uint8 tensor + -3 adds 253); NumPy 2 refuses it
        array = xp.asarray(value).astype(dtype)
    if array.dtype not in dtypes.SUPPORTED:
        raise TypeError(f"unsupported operand of dtype {array.dtype}: {value!r}")
    return Tensor._make(array)


def operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Two operands as tensors of one dtype on one device (PyTorch's type
    promotion; see :mod:`gradlab.dtypes`)."""
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError(f"{op} expects at least one Tensor operand")
        a = _other(a, b, op)
    elif not isinstance(b, Tensor):
        b = _other(b, a, op)
    elif type(a.array) is not type(b.array) or (
        type(a.array) is not np.ndarray and a.array.device != b.array.device
    ):
        raise RuntimeError(
            f"{op}: expected all tensors to be on the same device, but found "
            f"at least two devices, {a.device} and {b.device}"
        )
    da, db = a.array.dtype, b.array.dtype
    if da != db:
        common = dtypes.promote(da, a.array.ndim, db, b.array.ndim)
        if da != common:
            a = a.to(common)
        if db != common:
            b = b.to(common)
    return a, b


def _other(value: Any, like: Tensor, op: str) -> Tensor:
    if isinstance(value, _NUMBER) or isinstance(value, (np.ndarray, list, tuple)):
        if isinstance(value, (list, tuple)):
            value = np.asarray(value)
            if value.dtype == np.float64:
                value = value.astype(dtypes.get_default_dtype())
        return constant(value, like)
    raise TypeError(
        f"{op}: unsupported operand type {type(value).__name__} (expected a "
        "Tensor, a number or an array)"
    )


def floating(x: Tensor) -> Tensor:
    """``x`` itself if floating, else cast to the default float dtype (as
    PyTorch does for exp, log, sqrt, ... of integer tensors)."""
    if x.array.dtype.kind == "f":
        return x
    return x.to(dtypes.get_default_dtype())


def dims(dim: Any, ndim: int) -> tuple[int, ...]:
    """``dim`` (None, an int or a sequence of ints, possibly negative) as a
    sorted tuple of distinct non-negative dimensions; None means all."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool):
        d = _wrap_dim(dim, ndim)  # checks it: a 0-d tensor takes 0 and -1 only
        return (d,) if ndim else ()
    try:
        items = list(dim)
    except TypeError:
        raise TypeError(f"dim must be an int or a sequence of ints, got {dim!r}") from None
    if not items:  # PyTorch reduces over every dimension for dim=[]
        return tuple(range(ndim))
    wrapped = [_wrap_dim(d, ndim) for d in items]
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(sorted(wrapped)) if ndim else ()


def keepdim_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` kept as size 1."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))
